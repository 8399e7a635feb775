"""What the kamailio-made failure lab captures hold, with tshark as the oracle.

430 Flow Failed (RFC 5626), 423 Interval Too Brief, 422 Session Interval Too
Small (RFC 4028), 408 from a proxy's timer, 483 from a forwarding loop and from
a too low Max-Forwards, stale and mismatched digest authentication, and a SIP
scanner: each capture was recorded by captures/lab/run.py from SIPp and
kamailio on the loopback interface. These tests read the story back from the
SIP and TCP fields tshark dissects, independently of the analyzer; each check is
also run on a capture of another scenario, where it must fail, so that none of
them passes vacuously.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest

from tests.conftest import CAPTURES
from tests.tshark import require_tshark

pytestmark = pytest.mark.tshark

# The lab's ports (captures/lab/README.md).
UAC, PROXY, EDGE, REGISTRAR, UAS, CALLER = 5060, 5062, 5064, 5068, 5070, 5076

_FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "udp.srcport",
    "udp.dstport",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags.syn",
    "tcp.flags.fin",
    "tcp.flags.reset",
    "sip.Call-ID",
    "sip.Method",
    "sip.Status-Code",
    "sip.Status-Line",
    "sip.r-uri.user",
    "sip.CSeq.seq",
    "sip.CSeq.method",
    "sip.Via.branch",
    "sip.to.user",
    "sip.Max-Forwards",
    "sip.Expires",
    "sip.Min-Expires",
    "sip.Session-Expires",
    "sip.Min-SE",
    "sip.Supported",
    "sip.Require",
    "sip.Contact",
    "sip.Path",
    "sip.Route",
    "sip.User-Agent",
    "sip.WWW-Authenticate",
    "sip.Authorization",
)


@dataclass(frozen=True)
class Frame:
    """One frame: its TCP flags, and the SIP message it carries if any."""

    number: int
    time: float
    src: int
    dst: int
    syn: bool
    fin: bool
    rst: bool
    h: dict[str, str]  # first occurrence of each SIP field, "" when absent

    @property
    def call_id(self) -> str:
        return self.h["sip.Call-ID"]

    @property
    def method(self) -> str:
        return self.h["sip.Method"]

    @property
    def status(self) -> int:
        return int(self.h["sip.Status-Code"] or 0)

    @property
    def reason(self) -> str:
        """The reason phrase of a response."""
        return self.h["sip.Status-Line"].split(" ", 2)[-1] if self.status else ""

    @property
    def cseq(self) -> int:
        return int(self.h["sip.CSeq.seq"] or 0)

    @property
    def cseq_method(self) -> str:
        return self.h["sip.CSeq.method"]

    def int_header(self, name: str) -> int | None:
        """The leading number of a header (Expires, Min-SE, Session-Expires...)."""
        match = re.match(r"\s*(\d+)", self.h[f"sip.{name}"])
        return int(match.group(1)) if match else None

    def nonce(self, header: str) -> str:
        match = re.search(r'(?<![a-z])nonce="([^"]*)"', self.h[f"sip.{header}"])
        return match.group(1) if match else ""


@dataclass(frozen=True)
class Capture:
    name: str
    frames: list[Frame]  # every frame, SIP or not
    size: int

    @property
    def sip(self) -> list[Frame]:
        return [f for f in self.frames if f.call_id]

    def calls(self) -> dict[str, list[Frame]]:
        by_call: dict[str, list[Frame]] = defaultdict(list)
        for f in self.sip:
            by_call[f.call_id].append(f)
        return dict(by_call)


@cache
def _capture(name: str) -> Capture:
    pcap = CAPTURES / f"{name}.pcap"
    assert pcap.is_file(), f"{pcap} missing: python3 captures/lab/run.py {name}"
    truth = json.loads((CAPTURES / f"{name}.sipp.json").read_text())
    cmd = [require_tshark(), "-n", "-r", str(pcap)]
    for port in truth["sip_ports"]:
        cmd += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for name_ in _FIELDS:
        cmd += ["-e", name_]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    frames = []
    for line in out.splitlines():
        values = dict(zip(_FIELDS, line.split("\t") + [""] * len(_FIELDS), strict=False))
        frames.append(
            Frame(
                number=int(values["frame.number"]),
                time=float(values["frame.time_epoch"]),
                src=int(values["udp.srcport"] or values["tcp.srcport"]),
                dst=int(values["udp.dstport"] or values["tcp.dstport"]),
                syn=values["tcp.flags.syn"] in ("1", "True"),
                fin=values["tcp.flags.fin"] in ("1", "True"),
                rst=values["tcp.flags.reset"] in ("1", "True"),
                h={k: v for k, v in values.items() if k.startswith("sip.")},
            )
        )
    assert any(f.call_id for f in frames), f"tshark finds no SIP in {pcap.name}"
    return Capture(name, frames, pcap.stat().st_size)


def _answers(msgs: list[Frame], request: Frame) -> list[Frame]:
    """Responses to `request`: same transaction (top Via branch, CSeq), back on its hop."""
    return [
        m
        for m in msgs
        if m.status
        and m.h["sip.Via.branch"] == request.h["sip.Via.branch"]
        and m.call_id == request.call_id
        and m.cseq == request.cseq
        and m.cseq_method == request.method
        and (m.src, m.dst) == (request.dst, request.src)
    ]


def _acked(msgs: list[Frame], response: Frame) -> bool:
    """An ACK for the INVITE transaction of `response`, on its hop, after it (a non-2xx
    ACK has the INVITE's top Via branch)."""
    return any(
        m.method == "ACK"
        and m.h["sip.Via.branch"] == response.h["sip.Via.branch"]
        and m.call_id == response.call_id
        and m.cseq == response.cseq
        and (m.src, m.dst) == (response.dst, response.src)
        and m.number > response.number
        for m in msgs
    )


# --------------------------------------------------------------------------
# The checks: one per scenario


def check_flow_failed(cap: Capture) -> None:
    """An outbound registration over TCP through the edge (reg-id, +sip.instance,
    Path with a flow token and ;ob); the UA's connection closes; an INVITE routed
    along the Path gets 430 Flow Failed from the edge, which never tries to reconnect;
    the 430 reaches the caller, who ACKs; the UA registers again on a new connection."""
    registers = [f for f in cap.sip if f.method == "REGISTER" and f.src == UAC]
    assert len(registers) == 2, f"REGISTERs from the UA: {registers}"
    first, again = registers
    for reg in registers:
        assert reg.dst == EDGE, f"frame {reg.number}: REGISTER not sent to the edge"
        assert "outbound" in reg.h["sip.Supported"], f"frame {reg.number}: no outbound"
        contact = reg.h["sip.Contact"]
        assert "reg-id=1" in contact, contact
        assert "+sip.instance=" in contact, contact
    assert first.h["sip.Contact"] == again.h["sip.Contact"], "another instance registered"
    relayed = [
        f
        for f in cap.sip
        if f.method == "REGISTER" and f.dst == REGISTRAR and f.call_id == first.call_id
    ]
    assert len(relayed) == 1, f"REGISTER relayed by the edge: {relayed}"
    path = relayed[0].h["sip.Path"]
    assert re.match(r"<sip:[^@>]+@[^>]*;lr;ob>", path), f"Path with flow token and ;ob: {path}"
    ok = [f for f in cap.sip if f.call_id == first.call_id and f.status == 200 and f.dst == UAC]
    assert ok, "no 200 to the UA's REGISTER"
    assert "outbound" in ok[0].h["sip.Require"], f"200 to the UA: {ok}"
    # The flow goes away: the UA's connection is closed before the INVITE.
    invites = [f for f in cap.sip if f.method == "INVITE"]
    caller_invite = next(f for f in invites if f.src == CALLER)
    assert caller_invite.dst == REGISTRAR, "the caller's INVITE does not go to the registrar"
    closed = [f for f in cap.frames if f.fin and f.src == UAC and f.number < caller_invite.number]
    assert closed, "the UA's TCP connection was not closed before the INVITE"
    to_edge = [f for f in invites if f.dst == EDGE]
    assert len(to_edge) == 1, f"INVITEs to the edge: {to_edge}"
    assert to_edge[0].h["sip.Route"] == path, "the INVITE is not routed along the Path"
    # The edge answers 430 itself, without opening a connection to the UA.
    failed = [f for f in _answers(cap.sip, to_edge[0]) if f.status == 430]
    assert len(failed) == 1, f"430s to the registrar: {failed}"
    assert failed[0].src == EDGE, f"430 not from the edge: {failed}"
    assert failed[0].reason == "Flow Failed", failed[0].reason
    between = [
        f
        for f in cap.frames
        if to_edge[0].number < f.number < failed[0].number and UAC in (f.src, f.dst)
    ]
    assert not between, f"the edge tried to reach the UA: {between}"
    final = [f for f in _answers(cap.sip, caller_invite) if f.status >= 200]
    assert [f.status for f in final] == [430], f"final responses to the caller: {final}"
    assert _acked(cap.sip, final[0]), "the caller did not ACK the 430"
    # The UA comes back on a new connection: a SYN from it after the 430.
    assert again.number > final[0].number, "the second REGISTER is not after the 430"
    assert any(
        f.syn and f.src == UAC and final[0].number < f.number < again.number for f in cap.frames
    ), "the second REGISTER does not open a new TCP connection"
    assert any(f.call_id == again.call_id and f.status == 200 and f.dst == UAC for f in cap.sip), (
        "the second registration is not accepted"
    )


def check_interval_too_brief(cap: Capture) -> None:
    """REGISTER asking less than the registrar's minimum, 423 with Min-Expires, the
    retry asks at least that much and is accepted."""
    for call_id, msgs in cap.calls().items():
        registers = [m for m in msgs if m.method == "REGISTER"]
        assert len(registers) == 2, f"{call_id}: {len(registers)} REGISTERs"
        first, retry = registers
        brief = [m for m in _answers(msgs, first) if m.status == 423]
        assert brief, f"{call_id}: no 423 to the first REGISTER"
        minimum = brief[0].int_header("Min-Expires")
        assert minimum == 60, f"{call_id}: Min-Expires {minimum}"
        asked = first.int_header("Expires")
        assert asked is not None, f"{call_id}: first REGISTER without Expires"
        assert asked < minimum, f"{call_id}: first REGISTER asked {asked}"
        again = retry.int_header("Expires")
        assert (again or 0) >= minimum, f"{call_id}: retry asked {again}"
        assert retry.cseq == first.cseq + 1, f"{call_id}: CSeq {first.cseq} then {retry.cseq}"
        assert [m.status for m in _answers(msgs, retry)] == [200], f"{call_id}: retry not 200"


def check_session_interval_too_small(cap: Capture) -> None:
    """INVITE with a Session-Expires below the proxy's minimum: 422 with Min-SE from the
    proxy (never reaching the UAS), ACK; the retry with Session-Expires and Min-SE at
    least Min-SE is relayed to the UAS and answered 200 with Require: timer."""
    for call_id, msgs in cap.calls().items():
        invites = [m for m in msgs if m.method == "INVITE" and m.src == UAC]
        assert len(invites) == 2, f"{call_id}: {len(invites)} INVITEs from the UAC"
        first, retry = invites
        assert "timer" in first.h["sip.Supported"], f"{call_id}: no Supported: timer"
        rejected = [m for m in _answers(msgs, first) if m.status == 422]
        assert rejected, f"{call_id}: no 422"
        assert rejected[0].src == PROXY, f"{call_id}: 422 not from the proxy"
        min_se = rejected[0].int_header("Min-SE")
        asked = first.int_header("Session-Expires")
        assert min_se is not None, f"{call_id}: 422 without Min-SE"
        assert asked is not None, f"{call_id}: INVITE without Session-Expires"
        assert asked < min_se, f"{call_id}: Session-Expires {asked} >= Min-SE {min_se}"
        assert _acked(msgs, rejected[0]), f"{call_id}: 422 not ACKed"
        assert not [m for m in msgs if m.dst == UAS and m.cseq == first.cseq], (
            f"{call_id}: the rejected INVITE reached the UAS"
        )
        assert retry.cseq > first.cseq, f"{call_id}: the retry's CSeq"
        se = retry.int_header("Session-Expires")
        assert (se or 0) >= min_se, f"{call_id}: retry Session-Expires {se}"
        assert retry.int_header("Min-SE") == min_se, f"{call_id}: retry Min-SE"
        relayed = [m for m in msgs if m.method == "INVITE" and m.dst == UAS]
        assert [m.cseq for m in relayed] == [retry.cseq], f"{call_id}: {relayed}"
        ok = [m for m in _answers(msgs, retry) if m.status == 200]
        assert ok, f"{call_id}: the retry is not answered 200"
        assert "timer" in ok[0].h["sip.Require"], f"{call_id}: 200 without Require: timer"
        assert ok[0].int_header("Session-Expires") == se, f"{call_id}: 200's Session-Expires"


def check_timeout_via_proxy(cap: Capture) -> None:
    """The proxy relays the INVITE to a UAS that sends nothing back; it retransmits the
    INVITE and, 4 s (its fr_timer) after the INVITE, answers 408 itself; ACK."""
    for call_id, msgs in cap.calls().items():
        invite = next(m for m in msgs if m.method == "INVITE" and m.src == UAC)
        assert invite.dst == PROXY, f"{call_id}: the INVITE does not go to the proxy"
        to_uas = [m for m in msgs if m.method == "INVITE" and m.dst == UAS]
        assert len(to_uas) >= 3, f"{call_id}: INVITE sent {len(to_uas)} times to the UAS"
        assert not [m for m in msgs if m.src == UAS], f"{call_id}: the UAS answered"
        timeouts = [m for m in _answers(msgs, invite) if m.status == 408]
        assert [m.src for m in timeouts] == [PROXY], f"{call_id}: {timeouts}"
        waited = timeouts[0].time - invite.time
        assert 3.9 <= waited <= 4.5, f"{call_id}: 408 {waited:.2f} s after the INVITE"
        assert all(m.time < timeouts[0].time for m in to_uas), f"{call_id}: INVITE after 408"
        assert _acked(msgs, timeouts[0]), f"{call_id}: 408 not ACKed"


def check_loop(cap: Capture) -> None:
    """The INVITE goes back and forth between the proxy and the edge, Max-Forwards
    going down by one at each hop, until a hop receives it with Max-Forwards: 0 and
    answers 483, which travels back along every hop to the UAC."""
    for call_id, msgs in cap.calls().items():
        invites = [m for m in msgs if m.method == "INVITE"]
        assert len(invites) >= 4, f"{call_id}: {len(invites)} INVITEs: no loop"
        assert invites[0].src == UAC, f"{call_id}: first INVITE not from the UAC"
        hops = [m.dst for m in invites]
        assert set(hops) == {PROXY, EDGE}, f"{call_id}: INVITEs sent to {hops}"
        assert all(a != b for a, b in itertools.pairwise(hops)), f"{call_id}: {hops}"
        forwards = [m.int_header("Max-Forwards") for m in invites]
        first = forwards[0]
        assert first is not None, f"{call_id}: no Max-Forwards"
        assert forwards == list(range(first, first - len(invites), -1)), f"{call_id}: {forwards}"
        assert forwards[-1] == 0, f"{call_id}: the last INVITE has Max-Forwards {forwards[-1]}"
        too_many = [m for m in msgs if m.status == 483]
        assert len(too_many) == len(invites), f"{call_id}: {len(too_many)} 483s"
        assert _answers(msgs, invites[-1])[0].status == 483, f"{call_id}: last hop's answer"
        assert [m.status for m in _answers(msgs, invites[0]) if m.status >= 200] == [483]
        assert _acked(msgs, _answers(msgs, invites[0])[-1]), f"{call_id}: UAC did not ACK"


def check_max_forwards(cap: Capture) -> None:
    """The UAC's INVITE has Max-Forwards: 1; the edge relays it with 0 to the proxy,
    which answers 483; the edge relays the 483; no loop."""
    for call_id, msgs in cap.calls().items():
        invites = [m for m in msgs if m.method == "INVITE"]
        assert len(invites) == 2, f"{call_id}: {len(invites)} INVITEs"
        first, relayed = invites
        assert (first.src, first.dst) == (UAC, EDGE), f"{call_id}: first INVITE {first}"
        assert first.int_header("Max-Forwards") == 1, f"{call_id}: UAC's Max-Forwards"
        assert (relayed.src, relayed.dst) == (EDGE, PROXY), f"{call_id}: relayed {relayed}"
        assert relayed.int_header("Max-Forwards") == 0, f"{call_id}: relayed Max-Forwards"
        assert [m.status for m in _answers(msgs, relayed)] == [483], f"{call_id}: proxy's answer"
        final = [m for m in _answers(msgs, first) if m.status >= 200]
        assert [m.status for m in final] == [483], f"{call_id}: UAC's final {final}"
        assert _acked(msgs, final[0]), f"{call_id}: 483 not ACKed"


def _challenges(msgs: list[Frame]) -> list[tuple[Frame, Frame]]:
    """(REGISTER, its final response) in order."""
    pairs = []
    for reg in (m for m in msgs if m.method == "REGISTER"):
        finals = [m for m in _answers(msgs, reg) if m.status >= 200]
        assert finals, f"REGISTER frame {reg.number} unanswered"
        pairs.append((reg, finals[0]))
    return pairs


def check_auth_stale(cap: Capture) -> None:
    """401; after the nonce's lifetime, credentials for that nonce get a 401 with
    stale=true and a new nonce; credentials for the new nonce get 200."""
    for call_id, msgs in cap.calls().items():
        pairs = _challenges(msgs)
        assert [res.status for _, res in pairs] == [401, 401, 200], f"{call_id}: {pairs}"
        (_, first), (stale_req, stale), (last_req, _) = pairs
        assert "stale=true" not in first.h["sip.WWW-Authenticate"], f"{call_id}: first 401"
        assert stale_req.nonce("Authorization") == first.nonce("WWW-Authenticate")
        assert stale_req.time - first.time >= 3, f"{call_id}: the nonce was not 3 s old"
        assert "stale=true" in stale.h["sip.WWW-Authenticate"], f"{call_id}: no stale=true"
        assert stale.nonce("WWW-Authenticate") != first.nonce("WWW-Authenticate")
        assert last_req.nonce("Authorization") == stale.nonce("WWW-Authenticate")


def check_auth_realm_mismatch(cap: Capture) -> None:
    """401 for one realm; credentials for another realm; 401 again; nothing accepted."""
    for call_id, msgs in cap.calls().items():
        pairs = _challenges(msgs)
        assert [res.status for _, res in pairs] == [401, 401], f"{call_id}: {pairs}"
        (_, first), (retry, again) = pairs
        realm = re.search(r'realm="([^"]*)"', first.h["sip.WWW-Authenticate"])
        sent = re.search(r'realm="([^"]*)"', retry.h["sip.Authorization"])
        assert realm, f"{call_id}: challenge without realm"
        assert sent, f"{call_id}: credentials without realm"
        assert sent.group(1) != realm.group(1), f"{call_id}: same realm {realm.group(1)}"
        assert "stale=true" not in again.h["sip.WWW-Authenticate"], f"{call_id}: stale"


def check_auth_nonce_reuse(cap: Capture) -> None:
    """Credentials for a nonce accepted once (200); a later REGISTER reusing that nonce
    gets 401 with stale=true; credentials for the new nonce get 200."""
    for call_id, msgs in cap.calls().items():
        pairs = _challenges(msgs)
        assert [res.status for _, res in pairs] == [401, 200, 401, 200], f"{call_id}: {pairs}"
        (_, challenge), (used, _), (reused, refused), (last, _) = pairs
        nonce = challenge.nonce("WWW-Authenticate")
        assert used.nonce("Authorization") == nonce == reused.nonce("Authorization")
        assert "stale=true" in refused.h["sip.WWW-Authenticate"], f"{call_id}: no stale=true"
        assert last.nonce("Authorization") == refused.nonce("WWW-Authenticate") != nonce


def check_scanner(cap: Capture) -> None:
    """Many REGISTERs from one friendly-scanner UA, each for another user and Call-ID,
    fast, all answered 404, in a small capture."""
    calls = cap.calls()
    assert len(calls) >= 50, f"{len(calls)} Call-IDs"
    registers = [m for m in cap.sip if m.method == "REGISTER"]
    assert len(registers) == len(calls), "one REGISTER per Call-ID"
    assert {m.h["sip.User-Agent"] for m in registers} == {"friendly-scanner"}
    assert len({m.h["sip.to.user"] for m in registers}) == len(registers), "users repeat"
    assert {m.src for m in registers} == {UAC}, "more than one scanner"
    rate = len(registers) / (registers[-1].time - registers[0].time)
    assert rate >= 30, f"{rate:.0f} REGISTERs per second"
    for reg in registers:
        assert [m.status for m in _answers(cap.sip, reg)] == [404], f"frame {reg.number}"
    assert cap.size < 60_000, f"{cap.size} bytes"


# --------------------------------------------------------------------------
# Each check on its own capture, and on one where it must fail

CHECKS: dict[str, Callable[[Capture], None]] = {
    "tcp4-flow-failed": check_flow_failed,
    "udp4-interval-too-brief": check_interval_too_brief,
    "udp4-session-interval-too-small": check_session_interval_too_small,
    "udp4-timeout-via-proxy": check_timeout_via_proxy,
    "udp4-loop": check_loop,
    "udp4-max-forwards": check_max_forwards,
    "udp4-auth-stale": check_auth_stale,
    "udp4-auth-realm-mismatch": check_auth_realm_mismatch,
    "udp4-auth-nonce-reuse": check_auth_nonce_reuse,
    "udp4-scanner": check_scanner,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_capture_holds_its_story(name: str) -> None:
    CHECKS[name](_capture(name))


def test_430_sent_by_the_edge_relayed_by_the_registrar() -> None:
    flow_failed = [f for f in _capture("tcp4-flow-failed").sip if f.status == 430]
    assert len(flow_failed) == 2
    assert flow_failed[0].src == EDGE  # to the registrar's ephemeral TCP port
    assert (flow_failed[1].src, flow_failed[1].dst) == (REGISTRAR, CALLER)


@pytest.mark.parametrize(
    ("check", "other"),
    [
        (check_flow_failed, "tcp4-outbound-439"),  # no Path, 439 from the registrar
        (check_interval_too_brief, "udp4-register"),  # accepted at once
        (check_session_interval_too_small, "udp4-proxy-auth"),  # 407, then answered
        (check_timeout_via_proxy, "udp4-unavailable-via-proxy"),  # the UAS answers 503
        (check_loop, "udp4-max-forwards"),  # 483 at the second hop, no loop
        (check_max_forwards, "udp4-loop"),  # a loop
        (check_auth_stale, "udp4-register-auth"),  # fresh nonce accepted
        (check_auth_stale, "udp4-auth-nonce-reuse"),  # stale=true, but for a reused nonce
        (check_auth_realm_mismatch, "udp4-register-wrong-password"),  # same realm
        (check_auth_nonce_reuse, "udp4-auth-stale"),  # the nonce was never accepted
        (check_scanner, "udp4-register"),  # three REGISTERs from a SIPp UAC
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_check_fails_on_another_scenario(check: Callable[[Capture], None], other: str) -> None:
    with pytest.raises(AssertionError):
        check(_capture(other))
