"""Transaction checks, each shown firing on a capture with the fault and silent on one
without it.

Captures: the lab's (SIPp and kamailio, their behaviour checked by SIPp's own
counts), ../shared/corpus, and where neither holds the fault, a lab capture
with one header edited (said so at the test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Packet, Raw
from scapy.utils import rdpcap, wrpcap

from analyzer import analyze
from tests.conftest import CAPTURES, corpus_file
from tests.data.rfc3665 import flow_to_pcap
from tests.e2e.test_lab_captures import _analyze as analyze_lab

LAB = sorted(CAPTURES.glob("*.sipp.json"))

# Lab scenarios made to show a fault, and the checks they must raise; every other lab
# scenario is a well-behaved exchange and must raise none.
EXPECTED_CHECKS: dict[str, set[str]] = {
    "no-response": {"txn.unanswered"},
    "lost-ack": {"txn.2xx-without-ack"},
    "glare": {"txn.glare"},
    "non2xx-no-ack": {"txn.non2xx-without-ack"},
    "bye-481": {"txn.481-after-bye"},
    "cancel-481": {"txn.481-after-cancel"},
    "cseq-backwards": {"txn.cseq-backwards"},
    "storm": {"txn.unanswered", "txn.retransmission-storm"},
    "loop": {"txn.max-forwards-zero"},
    "max-forwards": {"txn.max-forwards-zero"},
}


@pytest.mark.parametrize("truth", LAB, ids=lambda p: p.name.removesuffix(".sipp.json"))
def test_lab_capture_raises_exactly_the_checks_of_its_scenario(truth: Path) -> None:
    facts = json.loads(truth.read_text())
    a = analyze_lab(truth.parent / facts["capture"], facts)
    got = {c.id for c in a.correlation.checks}
    assert got == EXPECTED_CHECKS.get(facts["scenario"], set())


def test_unanswered_register_is_timer_f() -> None:
    # webex.pcap: a REGISTER sent 11 times over 31.5 s, never answered, twice.
    a = analyze(str(corpus_file("ndpi/webex.pcap")))
    found = [c for c in a.correlation.checks if c.id == "txn.unanswered"]
    assert len(found) == 2
    assert all("Timer F" in c.title for c in found)
    assert all("sent 11 time(s)" in c.detail for c in found)
    assert all(len(c.frames) == 11 for c in found)
    assert {c.rfc for c in found} == {"RFC 3261 §17.1.2.2"}


def test_2xx_never_acked_is_found_and_an_acked_call_is_not() -> None:
    # ipip.pcap: INVITE, 183, 200 OK, and 32 s later a BYE from the caller; no ACK.
    a = analyze(str(corpus_file("sngrep/ipip.pcap")))
    (check,) = [c for c in a.correlation.checks if c.id == "txn.2xx-without-ack"]
    assert check.severity == "error"
    assert check.status == 200
    assert check.frames == (1, 3)
    answered = analyze(str(CAPTURES / "udp4-answered.pcap"))
    assert not answered.correlation.checks


def test_max_forwards_zero_and_the_483_it_earns() -> None:
    # pcap2sipp example.pcap: an INVITE with Max-Forwards: 0, answered 483 Too Many Hops.
    a = analyze(str(corpus_file("pcap2sipp/example.pcap")))
    (check,) = [c for c in a.correlation.checks if c.id == "txn.max-forwards-zero"]
    assert check.status == 483
    assert check.frames[:2] == (37, 38)
    assert "Max-Forwards" in check.title


def test_cseq_backwards_per_dialog_on_a_forked_call() -> None:
    # ipv6frag.pcap (SIPp through a proxy, forked): early dialog 1 runs PRACK 2, UPDATE 3;
    # early dialog 2 starts again at PRACK 2, which is right (each dialog counts on its
    # own, RFC 3261 §12.1). Then the caller's BYE in dialog 1 has CSeq 2 after its
    # UPDATE 3 (frames 12 -> 31): a real fault of that SIPp scenario.
    a = analyze(str(corpus_file("sngrep/ipv6frag.pcap")))
    (check,) = [c for c in a.correlation.checks if c.id == "txn.cseq-backwards"]
    assert check.frames == (12, 31)
    assert "BYE with CSeq 2 after UPDATE with CSeq 3" in check.detail
    assert check.severity == "error"


def _edit(src: Path, dst: Path, old: bytes, new: bytes, method: bytes) -> int:
    """Copy `src` with `old` replaced by `new` in every UDP payload that also holds `method`
    (lengths and checksums recomputed); returns the number of packets edited."""
    packets = rdpcap(str(src))
    edited = 0
    for p in packets:
        payload = bytes(p[UDP].payload) if UDP in p else b""
        if old in payload and method in payload:
            p[UDP].remove_payload()
            p[UDP].add_payload(Raw(payload.replace(old, new)))
            del p[UDP].chksum, p[UDP].len
            if IP in p:
                del p[IP].len, p[IP].chksum
            edited += 1
    wrpcap(str(dst), packets)
    return edited


def test_481_to_a_bye(tmp_path: Path) -> None:
    # The lab's answered calls with the 200 to each BYE edited into a 481.
    out = tmp_path / "bye481.pcap"
    status = b"SIP/2.0 481 Call/Transaction Does Not Exist"
    assert _edit(CAPTURES / "udp4-answered.pcap", out, b"SIP/2.0 200 OK", status, b" BYE\r\n") == 3
    a = analyze(str(out))
    found = [c for c in a.correlation.checks if c.id == "txn.481-after-bye"]
    assert len(found) == 3
    assert all("no earlier BYE" in c.detail and c.status == 481 for c in found)
    assert all(len(c.frames) == 2 for c in found)


def test_481_to_a_cancel(tmp_path: Path) -> None:
    # The lab's cancelled calls with the 200 to each CANCEL edited into a 481.
    out = tmp_path / "cancel481.pcap"
    status = b"SIP/2.0 481 Call/Transaction Does Not Exist"
    assert _edit(CAPTURES / "udp4-cancel.pcap", out, b"SIP/2.0 200 OK", status, b" CANCEL\r\n") == 3
    a = analyze(str(out))
    found = [c for c in a.correlation.checks if c.id == "txn.481-after-cancel"]
    assert len(found) == 3
    assert all("unknown to the far end" in c.detail for c in found)


def test_non_2xx_never_acked(tmp_path: Path) -> None:
    # The lab's busy calls with every ACK dropped and each 486 sent again 500 ms later, as
    # the UAS's Timer G does when no ACK comes (RFC 3261 §17.2.1).
    packets = [p for p in rdpcap(str(CAPTURES / "udp4-busy.pcap")) if b"ACK sip:" not in bytes(p)]
    out: list[Packet] = []
    for p in packets:
        out.append(p)
        if b"SIP/2.0 486" in bytes(p):
            again = p.copy()
            again.time = float(p.time) + 0.5
            out.append(again)
    out.sort(key=lambda p: float(p.time))
    wrpcap(str(tmp_path / "noack.pcap"), out)
    a = analyze(str(tmp_path / "noack.pcap"))
    found = [c for c in a.correlation.checks if c.id == "txn.non2xx-without-ack"]
    assert len(found) == 3
    assert all(c.status == 486 and "sent 2 time(s)" in c.detail for c in found)
    assert not analyze(str(CAPTURES / "udp4-busy.pcap")).correlation.checks


def test_cseq_going_backwards_in_a_dialog(tmp_path: Path) -> None:
    # The lab's re-INVITE call (INVITE 1, re-INVITE 2, BYE 3) with the BYE's CSeq edited
    # to 1: the caller's in-dialog sequence goes 2 -> 1.
    out = tmp_path / "cseq.pcap"
    assert _edit(CAPTURES / "udp4-reinvite.pcap", out, b"CSeq: 3 BYE", b"CSeq: 1 BYE", b"BYE") == 6
    a = analyze(str(out))
    found = [c for c in a.correlation.checks if c.id == "txn.cseq-backwards"]
    assert len(found) == len(a.call_records) == 3
    assert all("CSeq 1 after INVITE with CSeq 2" in c.detail for c in found)
    untouched = analyze(str(CAPTURES / "udp4-reinvite.pcap"))
    assert not untouched.correlation.checks


def test_a_storm_is_more_copies_than_the_timers_allow(tmp_path: Path) -> None:
    # 3.10 of RFC 3665 has 7 copies of Proxy 2's INVITE: the most Timer A allows in 64*T1,
    # so no storm; with 3 more copies inserted (every 0.2 s), there is one.
    src = tmp_path / "310.pcap"
    flow_to_pcap(
        corpus_file("rfc3665-callflows/3.10_unsuccessful-no-response-from-user-agent.yaml"), src
    )
    assert "txn.retransmission-storm" not in {c.id for c in analyze(str(src)).correlation.checks}
    packets = rdpcap(str(src))
    fourth = packets[3]  # F4, Proxy 2's first INVITE to Bob
    extra = []
    for k in range(1, 4):
        copy = fourth.copy()
        copy.time = fourth.time + 0.1 * k
        extra.append(copy)
    wrpcap(str(tmp_path / "storm.pcap"), [*packets[:4], *extra, *packets[4:]])
    a = analyze(str(tmp_path / "storm.pcap"))
    (storm,) = [c for c in a.correlation.checks if c.id == "txn.retransmission-storm"]
    assert "sent 10 times" in storm.detail
    assert len(storm.frames) == 10
