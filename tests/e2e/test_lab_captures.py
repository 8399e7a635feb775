"""Every committed lab capture analysed end to end against what SIPp itself counted.

Beside each capture, `<name>.sipp.json` holds SIPp's own statistics and the
outcomes derived from them by captures/lab/run.py (see captures/lab/README.md).
A capture of SIP over TLS (captures/lab/tls.py) names its TLS key log
(`tls_keylog`) and is read with tshark and that key log.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analyzer import Analysis, Options, analyze
from analyzer.correlate import OUTCOMES
from analyzer.report import Format, render
from tests.conftest import CAPTURES
from tests.report.test_json_report import schema
from tests.tshark import require_tshark

EXPECTED = sorted(CAPTURES.glob("*.sipp.json"))
# The benchmark's load capture (1000 concurrent calls through kamailio, gzip).
LOAD = CAPTURES / "load" / "udp4-load.sipp.json"


def _capture(expected: Path) -> tuple[Path, dict[str, Any]]:
    truth: dict[str, Any] = json.loads(expected.read_text())
    return expected.parent / truth["capture"], truth


def _analyze(capture: Path, truth: dict[str, Any]) -> Analysis:
    """The capture analysed; SIP over TLS with tshark and the capture's key log."""
    keylog = truth.get("tls_keylog")
    if keylog is None:
        return analyze(str(capture))
    require_tshark()
    return analyze(str(capture), Options(engine="tshark", tls_keylog=str(capture.parent / keylog)))


def test_lab_captures_are_committed_and_small() -> None:
    captures = [CAPTURES / json.loads(p.read_text())["capture"] for p in EXPECTED]
    assert len(captures) >= 20
    assert all(c.is_file() for c in captures)
    assert (CAPTURES / "demo.pcapng").is_file()
    total = sum(p.stat().st_size for p in CAPTURES.glob("*.pcap*"))
    assert total < 5 * 1024 * 1024
    # Both container formats, and every transport/IP combination.
    assert {c.suffix for c in captures} == {".pcap", ".pcapng"}
    combos = {(t["transport"], t["ip"]) for t in (json.loads(p.read_text()) for p in EXPECTED)}
    assert {("udp", 4), ("udp", 6), ("tcp", 4), ("tcp", 6)} <= combos


def test_lab_covers_the_scenarios_of_the_issue() -> None:
    statuses: Counter[int] = Counter()
    for p in EXPECTED:
        statuses.update(
            {int(k): v for k, v in json.loads(p.read_text())["expected"]["final_status"].items()}
        )
    for code in (200, 486, 480, 487, 404, 503, 500, 439, 420, 421):
        assert statuses[code] > 0, code


@pytest.mark.parametrize(
    "expected", [*EXPECTED, LOAD], ids=lambda p: p.name.removesuffix(".sipp.json")
)
def test_outcomes_equal_sipp_statistics(expected: Path) -> None:
    capture, truth = _capture(expected)
    analysis = _analyze(capture, truth)
    want = truth["expected"]
    # The expected outcomes were derived from SIPp's own successful-call counts.
    uac_success = sum(s["stats"]["SuccessfulCall(C)"] for s in truth["sipp"] if s["role"] == "uac")
    assert sum(want["outcomes"].values()) == uac_success
    got = analysis.outcome_counts()
    assert got == {o: want["outcomes"].get(o, 0) for o in OUTCOMES}
    assert len(analysis.call_records) == want["calls"]
    # A call with no final response (no-response) has none in the truth either.
    finals = Counter(
        str(c.final_status) for c in analysis.call_records if c.final_status is not None
    )
    assert dict(finals) == want["final_status"]
    acc = analysis.captures[0]
    assert acc.balanced
    assert not acc.skipped
    assert not acc.sip_errors


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name.removesuffix(".sipp.json"))
def test_json_report_of_each_lab_capture_is_valid(expected: Path) -> None:
    capture, truth = _capture(expected)
    doc = json.loads(render(_analyze(capture, truth), Format.JSON))
    jsonschema.validate(doc, schema())
    assert all(r["meaning"] and r["fix"] for r in doc["responses"])
