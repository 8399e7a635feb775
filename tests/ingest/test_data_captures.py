"""The small captures of tests/data/ (issue 4): each yields exactly what MANIFEST.json says.

`tests/data/make_data.py` writes every capture and derives the manifest from
what it built, so these tests only compare: regenerating must reproduce the
committed files byte for byte, and reading each capture must give its messages
(order, transport, endpoints, first line, bytes, frame, time) and accounting.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict, cast

import pytest

from analyzer import analyze
from analyzer.ingest import Accounting, CaptureError, SipPacket, read_sip
from tests.conftest import ROOT
from tests.data import make_data

DATA = ROOT / "tests" / "data"
SIZE_LIMIT = 300 * 1024


class ExpectedMessage(TypedDict):
    """One message of MANIFEST.json (see `Capture._message` in make_data.py)."""

    frame: int | None
    time: float | None
    transport: str
    src: str
    sport: int
    dst: str
    dport: int
    first_line: str
    call_id: str | None
    cseq: str | None
    sha256: str


class Entry(TypedDict, total=False):
    """One file of MANIFEST.json."""

    kind: str  # capture | robustness | not_capture
    description: str
    format: str
    packets: int
    messages: list[ExpectedMessage]
    skipped: dict[str, int] | None
    partial: int | None
    tcp_gaps_min: int
    truncated: bool
    error: list[str]


def _load_manifest() -> dict[str, Entry]:
    data = json.loads((DATA / make_data.MANIFEST).read_text(encoding="utf-8"))
    return cast(dict[str, Entry], data["captures"])


MANIFEST = _load_manifest()
CAPTURES = sorted(name for name, e in MANIFEST.items() if e["kind"] != "not_capture")
NOT_CAPTURES = sorted(name for name, e in MANIFEST.items() if e["kind"] == "not_capture")


def _read(name: str) -> tuple[Accounting, list[SipPacket]]:
    path = str(DATA / name)
    acc = Accounting(path)
    return acc, list(read_sip(path, acc))


def _header(head: str, name: str) -> str | None:
    found = re.search(rf"(?m)^{name}: ([^\r\n]*)", head)
    return found.group(1) if found else None


def _observed(pkt: SipPacket, with_frame: bool = True) -> dict[str, object]:
    """A yielded packet in the manifest's terms (time compared separately)."""
    head = pkt.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return {
        "frame": pkt.frame if with_frame else None,
        "transport": pkt.transport,
        "src": pkt.src,
        "sport": pkt.sport,
        "dst": pkt.dst,
        "dport": pkt.dport,
        "first_line": head.split("\r\n", 1)[0],
        "call_id": _header(head, "Call-ID"),
        "cseq": _header(head, "CSeq"),
        "sha256": hashlib.sha256(pkt.data).hexdigest()[:16],
    }


def _expected(msg: ExpectedMessage) -> dict[str, object]:
    return {key: value for key, value in msg.items() if key != "time"}


def _is_subsequence(wanted: Sequence[object], seen: Sequence[object]) -> bool:
    rest = iter(seen)
    return all(any(item == want for item in rest) for want in wanted)


# -- the generator stays the source of truth -------------------------------------------


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    make_data.write_all(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DATA.iterdir() if p.is_file() and p.suffix != ".py")
    assert made == committed, "tests/data/ is stale: run python -m tests.data.make_data"
    changed = [n for n in made if (tmp_path / n).read_bytes() != (DATA / n).read_bytes()]
    assert changed == [], "tests/data/ is stale: run python -m tests.data.make_data"


def test_data_directory_is_small() -> None:
    files = [p for p in DATA.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < SIZE_LIMIT


def test_messages_can_be_told_apart() -> None:
    keys = [
        (m["call_id"], m["cseq"], m["first_line"])
        for entry in MANIFEST.values()
        for m in entry.get("messages", [])
    ]
    assert len(keys) == len(set(keys))
    assert all(call_id and cseq for call_id, cseq, _line in keys)


# -- every capture yields what it holds -------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_capture_yields_expected_messages(name: str) -> None:
    entry = MANIFEST[name]
    expected = entry["messages"]
    _acc, got = _read(name)
    if entry["kind"] == "robustness":
        # Garbage headers: the clean frames' messages must all come out, in order.
        assert _is_subsequence([_expected(m) for m in expected], [_observed(p) for p in got])
        return
    frames = [m["frame"] is not None for m in expected]
    frames += [True] * (len(got) - len(expected))
    observed = [_observed(p, f) for p, f in zip(got, frames, strict=False)]
    assert observed == [_expected(m) for m in expected]
    for pkt, msg in zip(got, expected, strict=True):
        if msg["time"] is not None:
            assert pkt.time == pytest.approx(msg["time"], abs=1e-6), msg["first_line"]


@pytest.mark.parametrize("name", CAPTURES)
def test_capture_accounting(name: str) -> None:
    entry = MANIFEST[name]
    acc, _got = _read(name)
    assert acc.balanced, acc
    assert acc.packets == entry["packets"]
    assert acc.format == entry["format"]
    if entry["skipped"] is not None:
        assert {k: v for k, v in acc.skipped.items() if v} == entry["skipped"]
    if entry["partial"] is not None:
        assert acc.partial == entry["partial"]
    assert acc.truncated is entry["truncated"]
    if entry["truncated"]:
        assert acc.warnings
    assert acc.tcp_gaps >= entry["tcp_gaps_min"]


@pytest.mark.parametrize("name", CAPTURES)
def test_pipeline_parses_every_message(name: str) -> None:
    entry = MANIFEST[name]
    acc = analyze(str(DATA / name)).captures[0]
    assert acc.balanced
    assert sum(acc.non_sip_kinds.values()) == acc.non_sip
    if entry["kind"] == "capture":
        assert acc.sip_messages == len(entry["messages"])


# -- files that are not captures -----------------------------------------------------


@pytest.mark.parametrize("name", NOT_CAPTURES)
def test_non_capture_is_a_named_error(name: str) -> None:
    path = str(DATA / name)
    with pytest.raises(CaptureError) as info:
        list(read_sip(path, Accounting(path)))
    message = str(info.value)
    assert path in message
    for word in MANIFEST[name]["error"]:
        assert word in message


@pytest.mark.parametrize("name", NOT_CAPTURES)
def test_cli_exits_3_naming_the_file_and_its_format(name: str) -> None:
    path = str(DATA / name)
    run = subprocess.run(
        [sys.executable, "-m", "analyzer", "analyze", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 3, run.stderr
    assert path in run.stderr
    assert all(word in run.stderr for word in MANIFEST[name]["error"])
