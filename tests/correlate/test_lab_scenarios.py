"""What the fork, lost-ack, no-response and glare lab captures hold, with tshark as the oracle.

These check the captures themselves (captures/lab/run.py recorded them from SIPp
and kamailio), independently of the analyzer: each story is read from the SIP
fields tshark dissects. Each check is also run on a capture of another
scenario, where it must fail, so that none of them can pass vacuously.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CAPTURES
from tests.tshark import require_tshark

# RFC 3261 17.1.1.2 / 13.3.1.4: T1 = 500 ms, Timer B and the 2xx give-up time are 64*T1.
TIMER_B = 64 * 0.5

_FIELDS = (
    "frame.time_epoch",
    "udp.srcport",
    "udp.dstport",
    "sip.Call-ID",
    "sip.Method",
    "sip.Status-Code",
    "sip.CSeq.method",
    "sip.CSeq.seq",
    "sip.to.tag",
    "sip.Via.branch",
    "sip.r-uri",
)


@dataclass(frozen=True)
class Sip:
    """One SIP message as tshark dissects it (first occurrence of each field)."""

    time: float
    src: int
    dst: int
    call_id: str
    method: str  # "" for a response
    status: int  # 0 for a request
    cseq_method: str
    cseq: int
    to_tag: str
    branch: str  # top Via
    ruri: str

    def answers(self, request: Sip) -> bool:
        """A response to `request`: same transaction (top Via branch and CSeq), back again."""
        return (
            self.status > 0
            and self.branch == request.branch
            and self.cseq == request.cseq
            and self.cseq_method == request.cseq_method
            and (self.src, self.dst) == (request.dst, request.src)
        )


@dataclass(frozen=True)
class Capture:
    messages: list[Sip]
    end: float  # time of the last frame, SIP or not

    def calls(self) -> dict[str, list[Sip]]:
        by_call: dict[str, list[Sip]] = defaultdict(list)
        for m in self.messages:
            by_call[m.call_id].append(m)
        return dict(by_call)


def _read(pcap: Path) -> Capture:
    truth = json.loads(pcap.with_name(pcap.name.removesuffix(".pcap") + ".sipp.json").read_text())
    cmd = [require_tshark(), "-n", "-r", str(pcap)]
    for port in truth["sip_ports"]:
        cmd += ["-d", f"udp.port=={port},sip"]
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for name in _FIELDS:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    messages: list[Sip] = []
    end = 0.0
    for line in out.splitlines():
        t, src, dst, call_id, method, status, cseq_method, cseq, tag, branch, ruri = (
            line.split("\t") + [""] * len(_FIELDS)
        )[: len(_FIELDS)]
        end = max(end, float(t))
        if call_id:
            messages.append(
                Sip(
                    float(t),
                    int(src),
                    int(dst),
                    call_id,
                    method,
                    int(status or 0),
                    cseq_method,
                    int(cseq or 0),
                    tag,
                    branch,
                    ruri,
                )
            )
    assert messages, f"tshark finds no SIP in {pcap.name}"
    return Capture(messages, end)


def _capture(name: str) -> Capture:
    pcap = CAPTURES / f"{name}.pcap"
    assert pcap.is_file(), f"{pcap} missing: python3 captures/lab/run.py {name}"
    return _read(pcap)


# --------------------------------------------------------------------------
# The checks: one per scenario, on every call of the capture


def check_fork(cap: Capture) -> None:
    """Two early dialogs (To tags on 18x) for one Call-ID, one confirmed; the other
    branch CANCELled by the proxy and answered 487."""
    calls = cap.calls()
    for call_id, msgs in calls.items():
        invite = next(m for m in msgs if m.method == "INVITE")
        caller = invite.src
        to_caller = [m for m in msgs if m.dst == caller and m.cseq_method == "INVITE"]
        early = {m.to_tag for m in to_caller if 180 <= m.status < 190 and m.to_tag}
        assert len(early) == 2, f"{call_id}: To tags on 18x to the caller: {early}"
        confirmed = {m.to_tag for m in to_caller if m.status == 200}
        assert len(confirmed) == 1, f"{call_id}: To tags on 200 to the caller: {confirmed}"
        assert confirmed < early, f"{call_id}: the 200's To tag rang first: {confirmed} {early}"
        # The branches: the proxy's INVITEs, each to its own UAS.
        branches = [m for m in msgs if m.method == "INVITE" and m.src != caller]
        assert len({b.dst for b in branches}) == 2, f"{call_id}: INVITE branches {branches}"
        cancels = [m for m in msgs if m.method == "CANCEL"]
        assert len(cancels) == 1, f"{call_id}: {len(cancels)} CANCELs"
        cancel = cancels[0]
        assert cancel.src != caller, f"{call_id}: the caller sent the CANCEL"
        cancelled = next(b for b in branches if b.dst == cancel.dst)
        assert cancel.branch == cancelled.branch, f"{call_id}: CANCEL not for the branch INVITE"
        lost_tag = next(iter(early - confirmed))
        ringing = [m for m in msgs if m.answers(cancelled) and 180 <= m.status < 190]
        assert {m.to_tag for m in ringing} == {lost_tag}, f"{call_id}: cancelled branch's 18x"
        assert any(m.answers(cancel) and m.status == 200 for m in msgs), f"{call_id}: 200/CANCEL"
        assert any(m.answers(cancelled) and m.status == 487 for m in msgs), f"{call_id}: no 487"
        # The answered branch was not cancelled.
        answered = next(b for b in branches if b.dst != cancel.dst)
        assert any(m.answers(answered) and m.status == 200 for m in msgs), f"{call_id}: no 200"


def check_lost_ack(cap: Capture) -> None:
    """The callee's 200 is retransmitted (5 times or more), never ACKed, and the callee
    sends BYE 64*T1 = 32 s or more after its first 200."""
    for call_id, msgs in cap.calls().items():
        invite = next(m for m in msgs if m.method == "INVITE")
        oks = [m for m in msgs if m.answers(invite) and m.status == 200]
        assert len(oks) >= 6, f"{call_id}: 200 sent {len(oks)} times (5 retransmissions wanted)"
        assert len({m.to_tag for m in oks}) == 1, f"{call_id}: one 200, retransmitted"
        assert not [m for m in msgs if m.method == "ACK"], f"{call_id}: an ACK was sent"
        byes = [m for m in msgs if m.method == "BYE" and m.src == invite.dst]
        assert byes, f"{call_id}: no BYE from the callee"
        waited = byes[0].time - oks[0].time
        assert waited >= TIMER_B, f"{call_id}: BYE {waited:.2f} s after the first 200"
        assert all(m.time < byes[0].time for m in oks), f"{call_id}: 200 after the BYE"
        assert any(m.answers(byes[0]) and m.status == 200 for m in msgs), f"{call_id}: 200/BYE"


def check_no_response(cap: Capture) -> None:
    """The INVITE is sent 6 times or more (Timer A), nothing answers it, and the capture
    goes on 32 s (Timer B) or more after the first copy."""
    for call_id, msgs in cap.calls().items():
        invite = msgs[0]
        assert invite.method == "INVITE", f"{call_id}: first message {invite}"
        copies = [m for m in msgs if m.method == "INVITE" and m.branch == invite.branch]
        assert len(copies) >= 6, f"{call_id}: INVITE sent {len(copies)} times"
        assert len(copies) == len(msgs), f"{call_id}: more than the INVITE: {msgs}"
        recorded = cap.end - invite.time
        assert recorded >= TIMER_B, f"{call_id}: capture ends {recorded:.2f} s after the INVITE"


def check_glare(cap: Capture) -> None:
    """Two in-dialog re-INVITEs that cross (each sent before the other got its answer),
    each answered 491 Request Pending, the two 491s going in opposite directions."""
    for call_id, msgs in cap.calls().items():
        pending = [
            (req, res)
            for res in msgs
            if res.status == 491
            for req in msgs
            if req.method == "INVITE" and req.to_tag and res.answers(req)
        ]
        assert len(pending) == 2, f"{call_id}: {len(pending)} re-INVITEs answered 491"
        (inv_a, res_a), (inv_b, res_b) = pending
        assert (res_a.src, res_a.dst) == (res_b.dst, res_b.src), f"{call_id}: same direction"
        assert inv_a.time < res_b.time, f"{call_id}: no crossing"
        assert inv_b.time < res_a.time, f"{call_id}: no crossing"
        for inv, res in pending:
            acks = [m for m in msgs if m.method == "ACK" and m.branch == inv.branch]
            assert acks, f"{call_id}: 491 to {inv} not ACKed"
            assert acks[0].time > res.time, f"{call_id}: ACK before the 491 to {inv}"


# --------------------------------------------------------------------------
# Each check on its own capture, and on one where it must fail


def test_fork_two_early_dialogs_and_a_cancelled_branch() -> None:
    check_fork(_capture("udp4-fork"))


def test_lost_ack_200_retransmitted_then_bye_after_64_t1() -> None:
    check_lost_ack(_capture("udp4-lost-ack"))


def test_no_response_invite_retransmitted_past_timer_b() -> None:
    check_no_response(_capture("udp4-no-response"))


def test_glare_crossing_reinvites_both_491() -> None:
    check_glare(_capture("udp4-glare"))


@pytest.mark.parametrize(
    ("check", "other"),
    [
        (check_fork, "udp4-proxy-auth"),  # one branch, nothing cancelled
        (check_fork, "udp4-cancel"),  # the caller's own CANCEL
        (check_lost_ack, "udp4-answered"),  # ACKed at once
        (check_no_response, "udp4-busy"),  # answered 486
        (check_no_response, "udp4-lost-ack"),  # answered
        (check_glare, "udp4-reinvite"),  # a re-INVITE answered 200
        (check_glare, "udp4-fork"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_check_fails_on_another_scenario(check: Callable[[Capture], None], other: str) -> None:
    with pytest.raises(AssertionError):
        check(_capture(other))
