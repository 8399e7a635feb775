"""RFC 6076 metrics on lab captures whose counts are known, against values computed by
hand here: the ratios from the scenario counts (3 calls per capture, SIPp-checked),
the delays from tshark's timestamps (the reference dissector, not our parser)."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from statistics import mean

import pytest

from analyzer import Analysis, analyze
from analyzer.correlate.metrics import Delay, Ratio
from tests.conftest import CAPTURES
from tests.tshark import require_tshark

# 3 calls each: answered, busy (486), redirected (302 not followed), 503, no answer (480),
# and 3 registrations challenged then accepted, 3 refused (wrong password).
FILES = [
    "udp4-answered.pcap",
    "udp4-busy.pcap",
    "udp4-redirect.pcap",
    "udp4-unavailable.pcap",
    "udp4-no-answer.pcap",
    "udp4-register-auth.pcap",
    "udp4-register-wrong-password.pcap",
]


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analyze([str(CAPTURES / f) for f in FILES])


def test_ratios_equal_the_hand_count(analysis: Analysis) -> None:
    m = analysis.metrics
    # 15 INVITE session requests; the 3 redirected leave the SER/SEER denominator (§4.6).
    assert m.session_requests == 15
    assert m.ser == Ratio(3, 12)  # the 3 answered
    assert m.ser.value == pytest.approx(25.0)
    assert m.seer == Ratio(3 + 3 + 3, 12)  # answered, 486, 480 (§4.7)
    assert m.seer.value == pytest.approx(75.0)
    assert m.isa == Ratio(3, 15)  # the 503s (§4.8)
    assert m.scr == Ratio(3, 15)  # answered and ended by an answered BYE (§4.9)
    # 6 registration attempts (each challenge retry inside its attempt), 3 refused (§4.2).
    assert m.ira == Ratio(3, 6)
    assert m.ira.value == pytest.approx(50.0)


def _tshark_rows(name: str) -> list[tuple[float, str, str, str, int | None]]:
    """(time, Call-ID, CSeq method, request method, status) per SIP frame, from tshark."""
    exe = require_tshark()
    out = subprocess.run(
        [
            exe,
            "-r",
            str(CAPTURES / name),
            "-Y",
            "sip",
            "-T",
            "fields",
            "-E",
            "separator=\t",
            "-e",
            "frame.time_epoch",
            "-e",
            "sip.Call-ID",
            "-e",
            "sip.CSeq.method",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = []
    for line in out.splitlines():
        t, cid, cseq_method, method, status = line.split("\t")
        rows.append((float(t), cid, cseq_method, method, int(status) if status else None))
    return rows


def _hand_delays() -> dict[str, list[float]]:
    """Each delay by its RFC 6076 definition, from tshark's frames, per Call-ID."""
    out: dict[str, list[float]] = defaultdict(list)
    for name in FILES:
        calls: dict[str, list[tuple[float, str, str, int | None]]] = defaultdict(list)
        for t, cid, cseq_method, method, status in _tshark_rows(name):
            calls[cid].append((t, cseq_method, method, status))
        for rows in calls.values():
            first = rows[0]
            if first[2] == "REGISTER":
                ok = [t for t, cm, _, s in rows if cm == "REGISTER" and s == 200]
                if ok:
                    out["rrd"].append(ok[0] - first[0])  # §4.1, challenge included
                continue
            invite = first[0]
            for t, cm, _, s in rows:
                if cm != "INVITE" or s is None or s == 100 or 300 <= s < 400:
                    continue
                if s in (401, 402, 407):
                    continue
                out["srd_failed" if s >= 400 else "srd"].append(t - invite)  # §4.3
                break
            answer = next((t for t, cm, _, s in rows if cm == "INVITE" and s == 200), None)
            bye = next((t for t, _, m, _ in rows if m == "BYE"), None)
            bye_ok = next((t for t, cm, _, s in rows if cm == "BYE" and s == 200), None)
            if answer is not None:
                out["setup"].append(answer - invite)
            if answer is not None and bye is not None:
                out["sdt"].append(bye - answer)  # §4.5
            if bye is not None and bye_ok is not None:
                out["sdd"].append(bye_ok - bye)  # §4.4
    return out


@pytest.mark.parametrize("metric", ["rrd", "srd", "srd_failed", "sdd", "sdt", "setup"])
def test_delays_equal_the_hand_computation_from_tshark(analysis: Analysis, metric: str) -> None:
    want = sorted(_hand_delays()[metric])
    got: Delay = getattr(analysis.metrics, metric)
    assert got.count == len(want) > 0
    assert sorted(got.samples) == pytest.approx(want, abs=2e-6)
    assert got.mean == pytest.approx(mean(want), abs=2e-6)


def test_sample_counts_follow_the_scenarios(analysis: Analysis) -> None:
    m = analysis.metrics
    # Successful SRD: answered and 480-after-ringing calls; failed SRD: 486 and 503 with
    # no provisional before them. Neither for the redirected calls (§4.3, 3xx excluded).
    assert (m.rrd.count, m.sdd.count, m.sdt.count, m.setup.count) == (3, 3, 3, 3)
    assert m.srd.count + m.srd_failed.count == 12
    assert m.sdd_failed == 0


def test_a_call_carries_its_own_metrics_with_frames(analysis: Analysis) -> None:
    answered = [
        c for c in analysis.call_records if c.outcome == "answered" and c.method == "INVITE"
    ]
    assert len(answered) == 3
    for c in answered:
        assert c.srd is not None
        assert c.sdt is not None
        assert c.sdd is not None
        assert c.completed
        # The frames bound the interval: the INVITE opens SRD, the BYE closes SDT and opens SDD.
        by_frame = {analysis.store[i].frame: analysis.store[i] for i in c.messages}
        assert by_frame[c.srd.start_frame].method == "INVITE"
        assert by_frame[c.sdt.frames[-1]].method == "BYE"
        assert c.sdd.start_frame == c.sdt.end_frame
        assert by_frame[c.sdd.frames[-1]].status == 200


def test_empty_denominators_are_undefined_not_zero() -> None:
    a = analyze(str(CAPTURES / "udp4-options.pcap"))
    m = a.metrics
    assert m.session_requests == 0
    assert m.ser.value is None
    assert m.srd.mean is None
    assert m.ira.value is None
