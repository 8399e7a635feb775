"""Requests per method and responses per status equal tshark's, capture by capture.

Run over every lab capture in captures/ and every capture in ../shared/corpus/
(skipped cleanly when ../shared is absent). tshark finds SIP by port and we by
start line, so tshark is told (-d) to decode as SIP every port that carried SIP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import Analysis, analyze
from tests.conftest import CAPTURES, CORPUS
from tests.tshark import frame_cseqs, sip_counts


def _corpus_captures() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    exts = {".pcap", ".pcapng", ".cap"}
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in exts)


def _lab_captures() -> list[Path]:
    return sorted(p for p in CAPTURES.glob("*.pcap*") if p.suffix in (".pcap", ".pcapng"))


def _ports(analysis: Analysis) -> set[int]:
    # Not WebSocket ports: tshark finds SIP there itself, after the HTTP upgrade.
    return {
        int(end.rsplit(":", 1)[1])
        for m in analysis.store
        if m.transport in ("udp", "tcp")
        for end in (m.src, m.dst)
    }


def _manifest_counts(rel: str) -> tuple[dict[str, int], dict[int, int]]:
    """Requests per method and responses per status from the corpus MANIFEST's table."""
    rows = [
        [cell.strip(" `") for cell in line.strip().strip("|").split("|")]
        for line in (CORPUS / "MANIFEST.md").read_text().splitlines()
        if line.startswith("|")
    ]
    header = next(r for r in rows if "requests" in r and "responses" in r)
    row = next(r for r in rows if r[0] == rel)
    cells = dict(zip(header, row, strict=False))

    def counts(text: str) -> dict[str, int]:
        pairs = (item.rsplit(":", 1) for item in text.split() if ":" in item)
        return {k: int(v) for k, v in pairs}

    statuses = {int(k): v for k, v in counts(cells["responses"]).items()}
    return dict(sorted(counts(cells["requests"]).items())), dict(sorted(statuses.items()))


def _check(path: Path) -> None:
    analysis = analyze(str(path))
    if path.parent.name == "hep-wireshark":
        # tshark 4.0 has no HEP dissector: the MANIFEST counts are the reference.
        methods, statuses = _manifest_counts(path.relative_to(CORPUS).as_posix())
        assert sum(methods.values()) + sum(statuses.values()) > 0
    else:
        methods, statuses = sip_counts(path, _ports(analysis))
    assert analysis.requests_by_method() == methods
    assert analysis.responses_by_status() == statuses


@pytest.mark.tshark
@pytest.mark.parametrize("path", _corpus_captures(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_corpus_capture_matches_tshark(path: Path) -> None:
    _check(path)


@pytest.mark.tshark
@pytest.mark.parametrize("path", _lab_captures(), ids=lambda p: p.name)
def test_lab_capture_matches_tshark(path: Path) -> None:
    _check(path)


def test_corpus_cross_check_covers_the_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not present")
    assert len(_corpus_captures()) >= 30


@pytest.mark.tshark
@pytest.mark.parametrize(
    "rel",
    ["demo.pcapng", "tcp4-proxy-auth.pcap", "tcp6-answered.pcap", "udp6-cancel.pcap"],
)
def test_frame_numbers_equal_wiresharks(rel: str) -> None:
    # Each message's frame (the one where a TCP message completes) and its CSeq
    # number, as a multiset, equal tshark's frame.number per SIP message.
    path = CAPTURES / rel
    analysis = analyze(str(path))
    ours = sorted(
        (m.frame, str(m.sip.cseq.number)) for m in analysis.store if m.sip.cseq is not None
    )
    assert ours == frame_cseqs(path, _ports(analysis))
    assert len(ours) == len(analysis.store)
