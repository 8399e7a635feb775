"""The pipeline owns the accounting: every packet read is in exactly one bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import analyze
from tests.conftest import CAPTURES, CORPUS
from tests.ingest import pcapgen
from tests.ingest.test_capture import udp4


def _all_captures() -> list[Path]:
    found = sorted(CAPTURES.glob("*.pcap*"))
    if CORPUS.is_dir():
        found += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap"))
    return found


@pytest.mark.parametrize("path", _all_captures(), ids=lambda p: p.name)
def test_accounting_adds_up(path: Path) -> None:
    analysis = analyze(str(path))
    for acc in analysis.captures:
        assert acc.balanced
        assert acc.packets == acc.sip + acc.non_sip + sum(acc.skipped.values())
        assert sum(acc.non_sip_kinds.values()) == acc.non_sip
        assert acc.sip_messages == len(analysis.store)


def test_several_files_in_one_run_keep_their_own_accounting() -> None:
    a, b = CAPTURES / "udp4-busy.pcap", CAPTURES / "tcp4-cancel.pcap"
    both = analyze([str(a), str(b)])
    assert [c.path for c in both.captures] == [str(a), str(b)]
    assert len(both.calls) == len(analyze(str(a)).calls) + len(analyze(str(b)).calls)
    assert {m.capture for m in both.store} == {0, 1}


def test_unparseable_sip_is_a_counted_skip_and_warnings_are_bounded(tmp_path: Path) -> None:
    bad = b"SIP/2.0 200 \x00bad\r\n\r\n"  # control character in the start line
    f = tmp_path / "many.pcap"
    f.write_bytes(pcapgen.pcap([(float(i), udp4(bad)) for i in range(250)]))
    acc = analyze(str(f)).captures[0]
    assert acc.skipped == {"malformed_sip:control_character_in_start_line": 250}
    assert acc.sip_errors == {"control_character_in_start_line": 250}
    assert len(acc.warnings) == 200
    assert acc.warnings_suppressed == 50
    assert "frame 1:" in acc.warnings[0]
    assert acc.balanced
