"""Selection: which calls a report and an exported pcap keep, checked against tshark."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from analyzer import analyze
from analyzer.analysis import Analysis
from analyzer.cli import main
from analyzer.findings import Finding
from analyzer.select import (
    FAILED_OUTCOMES,
    Selection,
    capture_day,
    missing_call_ids,
    parse_status,
    parse_time,
    select,
)
from tests.conftest import CAPTURES
from tests.report.test_json_report import schema
from tests.tshark import require_tshark

DEMO = CAPTURES / "demo.pcapng"


@cache
def _demo() -> Analysis:
    return analyze(DEMO)


@dataclass
class _Seen:
    """One Call-ID as tshark sees it."""

    methods: set[str] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    times: list[float] = field(default_factory=list)


@cache
def _tshark_calls(path: Path) -> dict[str, _Seen]:
    """Per Call-ID as tshark sees it: methods, statuses, times."""
    fields = ["sip.Call-ID", "sip.Method", "sip.Status-Code", "frame.time_epoch"]
    cmd = [require_tshark(), "-n", "-r", str(path), "-Y", "sip", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    calls: dict[str, _Seen] = defaultdict(_Seen)
    for line in out.splitlines():
        call_id, method, status, t = line.split("\t")
        c = calls[call_id]
        if method:
            c.methods.add(method)
        if status:
            c.statuses.add(int(status))
        c.times.append(float(t))
    return dict(calls)


def test_no_selection_is_the_same_analysis() -> None:
    a = _demo()
    assert select(a, Selection()) is a
    assert Selection().everything
    assert not Selection(calls="failed").everything


def test_failed_calls() -> None:
    a = _demo()
    s = select(a, Selection(calls="failed"))
    kept = {c.call_id for c in s.call_records}
    # The demo's calls: 4 answered INVITEs, busy, no answer, cancelled, not found,
    # 3 failed INVITEs, answered OPTIONS, 5 REGISTERs of which 4 fail.
    assert len(kept) == 10
    assert "1-15952@127.0.0.1" in kept  # 486 busy
    assert "1-15956@127.0.0.1" not in kept  # cancelled by the caller: not a failure
    assert all(c.outcome != "answered" for c in s.call_records)
    assert {c.call_id for c in a.call_records if c.outcome in FAILED_OUTCOMES} == kept
    # Findings follow the calls; summary counts still cover the whole capture.
    assert s.finding_records
    assert all(f.call_id in kept for f in s.finding_records if f.call_id)
    assert len(s.finding_records) < len(a.finding_records)
    assert s.outcome_counts() == a.outcome_counts()
    assert len(s.all_call_records) == len(a.call_records) == 17
    assert {r.call_id for r in s.registration_records} <= kept
    assert len(s.registration_records) == 4


def test_status_and_method_match_tshark() -> None:
    a = _demo()
    s = select(a, Selection(statuses=("4xx",), methods=("INVITE",)))
    expected = {
        cid
        for cid, c in _tshark_calls(DEMO).items()
        if "INVITE" in c.methods and any(400 <= x < 500 for x in c.statuses)
    }
    assert {c.call_id for c in s.call_records} == expected
    assert len(expected) == 6
    exact = select(a, Selection(statuses=("486",)))
    assert [c.call_id for c in exact.call_records] == ["1-15952@127.0.0.1"]


def test_time_window_matches_tshark() -> None:
    a = _demo()
    calls = _tshark_calls(DEMO)
    starts = sorted(min(c.times) for c in calls.values())
    since, until = starts[3] - 0.001, starts[8] + 0.001
    s = select(a, Selection(since=since, until=until))
    expected = {cid for cid, c in calls.items() if max(c.times) >= since and min(c.times) <= until}
    assert {c.call_id for c in s.call_records} == expected
    assert 5 <= len(expected) < len(calls)


def test_messages_follow_the_selection() -> None:
    a = _demo()
    s = select(a, Selection(calls=("1-15952@127.0.0.1", "no-such-call")))
    assert [m.frame for m in s.message_records()] == [22, 23, 24]
    assert [m.status for m in s.response_records()] == [486]
    assert missing_call_ids(a, s.selection or Selection()) == ["no-such-call"]
    assert len(s.calls) == 1
    assert set(s.messages.frame) == {22, 23, 24}


def test_parse_status() -> None:
    assert parse_status("486") == "486"
    assert parse_status("5XX") == "5xx"
    for bad in ("48", "4x", "700", "abc", "4xxx"):
        with pytest.raises(ValueError, match="--status"):
            parse_status(bad)


def test_parse_time() -> None:
    assert parse_time("1700000000.5") == 1700000000.5
    assert (
        parse_time("2026-11-21T16:39:13Z")
        == datetime(2026, 11, 21, 16, 39, 13, tzinfo=UTC).timestamp()
    )
    assert parse_time("2026-11-21T17:39:13+01:00") == parse_time("2026-11-21 16:39:13")
    day = date(2026, 11, 21)
    assert parse_time("16:39:13.5", day) == parse_time("2026-11-21T16:39:13.5Z")
    with pytest.raises(ValueError, match="capture"):
        parse_time("16:39:13")
    with pytest.raises(ValueError, match="expected"):
        parse_time("yesterday")
    assert capture_day(_demo()) is not None


def test_cli_selection_in_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert (
        main(["analyze", str(DEMO), "--format", "json", "--calls", "failed", "-o", str(out)]) == 0
    )
    doc = json.loads(out.read_text())
    kept = {c["call_id"] for c in doc["calls"]}
    assert len(kept) == 10
    assert {m["call_id"] for m in doc["messages"]} == kept
    assert {r["call_id"] for r in doc["responses"]} <= kept
    assert doc["summary"]["calls"] == 17  # the summary covers the whole capture
    assert doc["selection"] == {"options": "--calls failed", "calls": 10, "of": 17}
    jsonschema.validate(doc, schema())
    doc["selection"]["calls"] = "ten"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema())


def test_cli_rejects_bad_selection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(DEMO), "--status", "4x"]) == 2
    assert "--status" in capsys.readouterr().err
    assert main(["analyze", str(DEMO), "--since", "tomorrow"]) == 2
    assert main(["analyze", str(DEMO), "--calls", "nope", "-o", "/dev/null"]) == 0
    assert "no call has Call-ID 'nope'" in capsys.readouterr().err


def test_a_capture_wide_finding_follows_the_frames_it_cites() -> None:
    # No lab capture has a finding without a Call-ID today, so add one citing frame 22
    # (the busy call's INVITE).
    a = _demo()
    wide = Finding("traffic.flood", "warning", "t", "d", "f", (22, 40))
    a = dataclasses.replace(a, finding_records=(*a.finding_records, wide))
    kept = select(a, Selection(calls=("1-15952@127.0.0.1",))).finding_records
    assert wide in kept
    other = select(a, Selection(calls=("1-15950@127.0.0.1",))).finding_records
    assert wide not in other
