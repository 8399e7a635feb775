"""What the SIPp-to-SIPp failure lab captures hold, with tshark as the oracle.

codec mismatch (488, 606), 405, 415, 503 retries (too early, honoured), a 302 not
followed and one followed, a large INVITE over UDP (plain, IP-fragmented, answered
513), Q.850 Reason headers (BYE, 503, CANCEL) and 482: each capture was recorded by
captures/lab/run.py from SIPp (and kamailio) on the loopback interface. These
tests read the story back from the SIP, SDP and IP fields tshark dissects,
independently of the analyzer; each check is also run on a capture of another
scenario, where it must fail, so that none of them passes vacuously.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import CAPTURES
from tests.tshark import require_tshark

pytestmark = pytest.mark.tshark

# RFC 3261 18.1.1: a request within 200 bytes of a 1500-byte path MTU, i.e. larger
# than 1300 bytes, MUST go over a congestion-controlled transport (TCP).
UDP_SIZE_LIMIT = 1300

_FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "ip.src",
    "ip.flags.mf",
    "ip.frag_offset",
    "ip.fragment",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "sip.Call-ID",
    "sip.Method",
    "sip.Status-Code",
    "sip.r-uri",
    "sip.CSeq.seq",
    "sip.CSeq.method",
    "sip.Via",
    "sip.Via.branch",
    "sip.from.tag",
    "sip.to.tag",
    "sip.Contact",
    "sip.contact.user",
    "sip.contact.port",
    "sip.contact.uri",
    "sip.Content-Type",
    "sip.Content-Length",
    "sip.Warning",
    "sip.Retry-After",
    "sip.Allow",
    "sip.Accept",
    "sip.Accept-Encoding",
    "sip.Reason",
    "sip.reason_protocols",
    "sip.reason_cause_q850",
    "sip.reason_text",
    "sdp.media",
    "sdp.media_attr",
)


@dataclass(frozen=True)
class Frame:
    """One frame as tshark dissects it: every occurrence of each field."""

    number: int
    fields: dict[str, list[str]]

    def one(self, name: str) -> str:
        """The first occurrence of a field ("" when absent)."""
        values = self.fields.get(name, [])
        return values[0] if values else ""

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    @property
    def time(self) -> float:
        return float(self.one("frame.time_epoch"))

    @property
    def is_sip(self) -> bool:
        return bool(self.one("sip.Call-ID"))

    @property
    def method(self) -> str:
        return self.one("sip.Method")

    @property
    def status(self) -> int:
        return int(self.one("sip.Status-Code") or 0)

    @property
    def src(self) -> int:
        return int(self.one("udp.srcport") or 0)

    @property
    def dst(self) -> int:
        return int(self.one("udp.dstport") or 0)

    @property
    def branch(self) -> str:
        """The top Via's branch."""
        return self.one("sip.Via.branch")

    @property
    def cseq(self) -> tuple[int, str]:
        return int(self.one("sip.CSeq.seq") or 0), self.one("sip.CSeq.method")

    @property
    def sip_size(self) -> int:
        """Bytes of the SIP message: the UDP payload (the reassembled one if fragmented)."""
        return int(self.one("udp.length")) - 8

    @property
    def media(self) -> list[str]:
        """The SDP m= lines, e.g. "audio 6000 RTP/AVP 18"."""
        return self.all("sdp.media")

    @property
    def rtpmaps(self) -> dict[str, str]:
        """SDP payload type -> encoding (a=rtpmap), e.g. {"18": "G729/8000"}."""
        maps = {}
        for attr in self.all("sdp.media_attr"):
            if attr.startswith("rtpmap:"):
                pt, _, encoding = attr.removeprefix("rtpmap:").partition(" ")
                maps[pt] = encoding
        return maps

    def answers(self, request: Frame) -> bool:
        """A response to `request`: same transaction (top Via branch, CSeq), back again."""
        return (
            self.status > 0
            and self.branch == request.branch
            and self.cseq == request.cseq
            and (self.src, self.dst) == (request.dst, request.src)
        )

    def __repr__(self) -> str:
        what = self.method or str(self.status)
        return f"<frame {self.number} {what} {self.src}->{self.dst}>"


@dataclass(frozen=True)
class Capture:
    name: str
    frames: list[Frame]  # every frame, SIP or not (IP fragments)

    @property
    def sip(self) -> list[Frame]:
        return [f for f in self.frames if f.is_sip]

    def calls(self) -> dict[str, list[Frame]]:
        by_call: dict[str, list[Frame]] = defaultdict(list)
        for f in self.sip:
            by_call[f.one("sip.Call-ID")].append(f)
        assert by_call, f"tshark finds no SIP in {self.name}"
        return dict(by_call)


@cache
def _capture(name: str) -> Capture:
    pcap = CAPTURES / f"{name}.pcap"
    assert pcap.is_file(), f"{pcap} missing: python3 captures/lab/run.py {name}"
    truth = json.loads(pcap.with_name(f"{name}.sipp.json").read_text())
    return _read(pcap, truth["sip_ports"])


def _read(pcap: Path, ports: list[int]) -> Capture:
    cmd = [require_tshark(), "-n", "-r", str(pcap)]
    for port in ports:
        cmd += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    cmd += ["-T", "json"]
    for name in _FIELDS:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    frames = []
    for packet in json.loads(out):
        layers: dict[str, list[str]] = packet["_source"]["layers"]
        frames.append(Frame(int(layers["frame.number"][0]), layers))
    return Capture(pcap.name, frames)


def _invite(msgs: list[Frame], src: int | None = None) -> Frame:
    """The first INVITE of a call (from port `src` when given)."""
    invites = [m for m in msgs if m.method == "INVITE" and src in (None, m.src)]
    assert invites, f"no INVITE in {msgs}"
    return invites[0]


def _final(msgs: list[Frame], request: Frame) -> Frame:
    finals = [m for m in msgs if m.answers(request) and m.status >= 200]
    assert finals, f"no final response to {request}"
    return finals[0]


def _acked(msgs: list[Frame], invite: Frame, response: Frame) -> None:
    """The non-2xx final `response` to `invite` is ACKed in its transaction (RFC 3261 17.1.1.3)."""
    acks = [m for m in msgs if m.method == "ACK" and m.branch == invite.branch]
    assert acks, f"{response} not ACKed"
    assert acks[0].time >= response.time, f"ACK before {response}"
    assert acks[0].cseq == (invite.cseq[0], "ACK")


def _no_fragments(cap: Capture) -> None:
    fragmented = [f for f in cap.frames if f.one("ip.flags.mf") == "1" or f.all("ip.fragment")]
    assert not fragmented, f"{cap.name}: IP fragments {fragmented}"


# --------------------------------------------------------------------------
# The checks: one per scenario, on every call of the capture


def _check_not_acceptable(cap: Capture, status: int, warn_code: int, warn_text: str) -> None:
    """The INVITE offers only G.729 (payload 18); the callee answers `status` with
    Warning `warn_code` from its own address and an SDP body listing PCMU, PCMA and
    telephone-event (port 0: a capability description); ACK."""
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        assert invite.media == [f"audio {invite.media[0].split()[1]} RTP/AVP 18"], (
            f"{call_id}: offer {invite.media}"
        )
        assert invite.rtpmaps == {"18": "G729/8000"}, f"{call_id}: {invite.rtpmaps}"
        final = _final(msgs, invite)
        assert final.status == status, f"{call_id}: {final} answered {final.status}"
        agent = final.one("ip.src")
        assert final.all("sip.Warning") == [f'{warn_code} {agent} "{warn_text}"'], (
            f"{call_id}: Warning {final.all('sip.Warning')}"
        )
        assert final.one("sip.Content-Type") == "application/sdp", f"{call_id}: no SDP"
        assert final.media == ["audio 0 RTP/AVP 0 8 101"], f"{call_id}: {final.media}"
        assert final.rtpmaps == {
            "0": "PCMU/8000",
            "8": "PCMA/8000",
            "101": "telephone-event/8000",
        }, f"{call_id}: {final.rtpmaps}"
        _acked(msgs, invite, final)
        assert not [m for m in msgs if 200 <= m.status < 300], f"{call_id}: a 2xx"


def check_codec_mismatch(cap: Capture) -> None:
    _check_not_acceptable(cap, 488, 305, "Incompatible media format")


def check_codec_mismatch_606(cap: Capture) -> None:
    _check_not_acceptable(cap, 606, 304, "Media type not available")


def check_method_not_allowed(cap: Capture) -> None:
    """MESSAGE answered 405 whose Allow lists INVITE, ACK, CANCEL, BYE, OPTIONS, not MESSAGE."""
    for call_id, msgs in cap.calls().items():
        request = msgs[0]
        assert request.method == "MESSAGE", f"{call_id}: first {request}"
        final = _final(msgs, request)
        assert final.status == 405, f"{call_id}: {final}"
        allow = [m.strip() for m in final.one("sip.Allow").split(",")]
        assert allow == ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"], f"{call_id}: {allow}"
        assert request.method not in allow
        assert len(msgs) == 2, f"{call_id}: {msgs}"  # no ACK for a non-INVITE


def check_unsupported_media(cap: Capture) -> None:
    """MESSAGE with an application/vnd.example+xml body answered 415 with
    Accept: text/plain (not the type sent) and Accept-Encoding: identity."""
    for call_id, msgs in cap.calls().items():
        request = msgs[0]
        assert request.method == "MESSAGE", f"{call_id}: first {request}"
        sent_type = request.one("sip.Content-Type")
        assert sent_type == "application/vnd.example+xml", f"{call_id}: {sent_type}"
        assert int(request.one("sip.Content-Length")) > 0, f"{call_id}: empty body"
        final = _final(msgs, request)
        assert final.status == 415, f"{call_id}: {final}"
        assert final.one("sip.Accept") == "text/plain", f"{call_id}: {final.one('sip.Accept')}"
        assert sent_type not in final.one("sip.Accept")
        assert final.one("sip.Accept-Encoding") == "identity", f"{call_id}"
        assert len(msgs) == 2, f"{call_id}: {msgs}"


def _retry(cap: Capture) -> tuple[list[Frame], Frame, Frame, Frame, Frame, int]:
    """One call of two INVITE transactions: (msgs, first INVITE, its 503, the retry,
    the retry's final response, Retry-After seconds)."""
    calls = cap.calls()
    assert len(calls) == 1, f"{cap.name}: {len(calls)} calls, one wanted"
    ((call_id, msgs),) = calls.items()
    invites = [m for m in msgs if m.method == "INVITE"]
    assert len(invites) == 2, f"{call_id}: {invites}"
    first, retry = invites
    # A new transaction of the same request: same Call-ID (one call), From tag,
    # Request-URI and To (no tag), a higher CSeq and a new branch.
    assert first.one("sip.from.tag") == retry.one("sip.from.tag")
    assert first.one("sip.r-uri") == retry.one("sip.r-uri")
    assert not first.one("sip.to.tag"), "first INVITE with a To tag"
    assert not retry.one("sip.to.tag"), "retry with a To tag"
    assert (first.cseq[0], retry.cseq[0]) == (1, 2), f"{call_id}: CSeqs"
    assert first.branch != retry.branch, f"{call_id}: same branch"
    busy = _final(msgs, first)
    assert busy.status == 503, f"{call_id}: first attempt {busy}"
    retry_after = int(busy.one("sip.Retry-After"))
    _acked(msgs, first, busy)
    assert retry.time > busy.time
    return msgs, first, busy, retry, _final(msgs, retry), retry_after


def check_retry_too_early(cap: Capture) -> None:
    """503 with Retry-After N, ACK, the retry less than N seconds later, 503 again, ACK."""
    msgs, _first, busy, retry, final, retry_after = _retry(cap)
    waited = retry.time - busy.time
    assert waited < retry_after, f"retry {waited:.2f} s after the 503, Retry-After {retry_after}"
    assert final.status == 503, f"the retry got {final}"
    assert int(final.one("sip.Retry-After")) == retry_after
    _acked(msgs, retry, final)


def check_retry_after_honoured(cap: Capture) -> None:
    """503 with Retry-After N, ACK, the retry N seconds or more later: 200, ACK, BYE, 200."""
    msgs, _first, busy, retry, final, retry_after = _retry(cap)
    waited = retry.time - busy.time
    assert waited >= retry_after, f"retry {waited:.2f} s after the 503, Retry-After {retry_after}"
    assert final.status == 200, f"the retry got {final}"
    ack = [m for m in msgs if m.method == "ACK" and m.cseq == (2, "ACK")]
    assert ack, "the 200 is not ACKed"
    assert ack[0].branch != retry.branch, "2xx ACK: a transaction of its own"
    bye = [m for m in msgs if m.method == "BYE"]
    assert bye, "no BYE"
    assert bye[0].cseq == (3, "BYE"), f"BYE CSeq {bye[0].cseq}"
    assert bye[0].time > ack[0].time, "BYE before the ACK"
    assert _final(msgs, bye[0]).status == 200


def check_redirect_not_followed(cap: Capture) -> None:
    """Every INVITE goes to the original target and is answered 302 (Contact: carol at
    another port), ACKed; no INVITE ever goes to the Contact."""
    invites = [m for m in cap.sip if m.method == "INVITE"]
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        final = _final(msgs, invite)
        assert final.status == 302, f"{call_id}: {final}"
        user, port = final.one("sip.contact.user"), int(final.one("sip.contact.port"))
        assert user == "carol", f"{call_id}: Contact user {user}"
        assert port != invite.dst, f"{call_id}: Contact port {port}"
        assert "carol" not in invite.one("sip.r-uri")
        _acked(msgs, invite, final)
        assert [m.method for m in msgs if m.method] == ["INVITE", "ACK"], f"{call_id}: {msgs}"
        assert not [m for m in invites if m.dst == port or "carol" in m.one("sip.r-uri")]


def check_redirect_followed(cap: Capture) -> None:
    """INVITE (CSeq 1) answered 302 with Contact: carol at port 5074, ACKed; then a new
    INVITE in the same call (same From tag and To, CSeq 2, new branch) whose Request-URI
    is that Contact URI, sent to the Contact's port, where carol answers: 180, 200, ACK,
    BYE (CSeq 3), 200, all between the UAC and port 5074 (RFC 3261 8.1.3.4)."""
    for call_id, msgs in cap.calls().items():
        invites = [m for m in msgs if m.method == "INVITE"]
        assert len(invites) == 2, f"{call_id}: {invites}"
        first, follow = invites
        redirect = _final(msgs, first)
        assert redirect.status == 302, f"{call_id}: {redirect}"
        contact = redirect.one("sip.contact.uri")
        assert contact == "sip:carol@127.0.0.1:5074;transport=UDP", f"{call_id}: {contact}"
        port = int(redirect.one("sip.contact.port"))
        assert port == 5074 != first.dst, f"{call_id}: Contact port {port}"
        _acked(msgs, first, redirect)
        # The redirect followed: a new transaction of the same call, to the Contact.
        assert follow.one("sip.r-uri") == contact, f"{call_id}: {follow.one('sip.r-uri')}"
        assert follow.dst == port, f"{call_id}: {follow} not sent to the Contact"
        assert follow.src == first.src, f"{call_id}: {follow} from another UA"
        assert (first.cseq[0], follow.cseq[0]) == (1, 2), f"{call_id}: CSeqs"
        assert follow.branch != first.branch, f"{call_id}: same branch"
        assert follow.one("sip.from.tag") == first.one("sip.from.tag")
        assert not follow.one("sip.to.tag"), f"{call_id}: {follow} with a To tag"
        acks = [m for m in msgs if m.method == "ACK" and m.branch == first.branch]
        assert follow.time > acks[0].time, f"{call_id}: followed before the ACK"
        # Answered there.
        ringing = [m for m in msgs if m.answers(follow) and m.status == 180]
        assert ringing, f"{call_id}: no 180 from the Contact"
        final = _final(msgs, follow)
        assert final.status == 200, f"{call_id}: the followed INVITE got {final}"
        assert final.src == port, f"{call_id}: {final}"
        ack = [m for m in msgs if m.method == "ACK" and m.cseq == (2, "ACK")]
        assert ack, f"{call_id}: the 200 is not ACKed"
        assert ack[0].dst == port, f"{call_id}: {ack[0]}"
        assert ack[0].branch != follow.branch, "2xx ACK: a transaction of its own"
        byes = [m for m in msgs if m.method == "BYE"]
        assert len(byes) == 1, f"{call_id}: {byes}"
        assert byes[0].cseq == (3, "BYE"), f"{call_id}: BYE CSeq {byes[0].cseq}"
        assert byes[0].dst == port, f"{call_id}: {byes[0]}"
        assert byes[0].time > ack[0].time, f"{call_id}: BYE before the ACK"
        assert _final(msgs, byes[0]).status == 200
        # After the 302's ACK nothing more goes to the redirecting server.
        later = [m for m in msgs if m.time > acks[0].time and first.dst in (m.src, m.dst)]
        assert not later, f"{call_id}: {later}"


def _check_large_invite_answered(cap: Capture) -> None:
    """Every INVITE, the UAC's and kamailio's, is a UDP datagram over 1300 bytes of SIP;
    the call is answered through the proxy (two INVITE legs): 200, ACK, BYE, 200."""
    for call_id, msgs in cap.calls().items():
        invites = [m for m in msgs if m.method == "INVITE"]
        assert len(invites) == 2, f"{call_id}: INVITE legs {invites}"
        for invite in invites:
            assert invite.one("udp.length"), f"{call_id}: {invite} not over UDP"
            assert invite.sip_size > UDP_SIZE_LIMIT, f"{call_id}: {invite.sip_size} bytes"
        assert len(invites[1].all("sip.Via")) == 2, f"{call_id}: no proxy Via"
        final = _final(msgs, invites[0])
        assert final.status == 200, f"{call_id}: {final}"
        others = [m for m in msgs if m.method != "INVITE"]
        assert all(m.sip_size <= UDP_SIZE_LIMIT for m in others), f"{call_id}: big others"
        methods = [m.method for m in msgs if m.method]
        assert methods.count("ACK") == 2, f"{call_id}: {methods}"
        assert methods.count("BYE") == 2, f"{call_id}: {methods}"


def check_large_udp(cap: Capture) -> None:
    """Large INVITEs answered through the proxy, every datagram in one packet."""
    _check_large_invite_answered(cap)
    _no_fragments(cap)


def check_large_udp_fragmented(cap: Capture) -> None:
    """Large INVITEs answered through the proxy, each INVITE IPv4-fragmented (two
    fragments, the first carrying More Fragments), every other message in one packet."""
    _check_large_invite_answered(cap)
    by_number = {f.number: f for f in cap.frames}
    for msg in cap.sip:
        parts = [int(n) for n in msg.all("ip.fragment")]
        if msg.method != "INVITE":
            assert not parts, f"{msg} fragmented"
            continue
        assert len(parts) == 2, f"{msg}: fragments {parts}"
        assert parts[-1] == msg.number, f"{msg}: fragments {parts}"
        first = by_number[parts[0]]
        assert first.one("ip.flags.mf") == "1", f"{first}: not More Fragments"
        assert first.one("ip.frag_offset") == "0", f"{first}: not the first fragment"
        assert not first.is_sip, f"{first}: SIP dissected before reassembly"
    fragments = [f for f in cap.frames if not f.is_sip]
    assert len(fragments) == len([m for m in cap.sip if m.method == "INVITE"])


def check_message_too_large(cap: Capture) -> None:
    """An INVITE over 1300 bytes over UDP, answered 513 Message Too Large, ACK."""
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        assert invite.sip_size > UDP_SIZE_LIMIT, f"{call_id}: {invite.sip_size} bytes"
        final = _final(msgs, invite)
        assert final.status == 513, f"{call_id}: {final}"
        _acked(msgs, invite, final)
    _no_fragments(cap)


def _q850(msg: Frame, cause: int, text: str | None) -> None:
    assert msg.one("sip.reason_protocols") == "Q.850", f"{msg}: {msg.all('sip.Reason')}"
    assert msg.one("sip.reason_cause_q850") == str(cause), f"{msg}: {msg.all('sip.Reason')}"
    assert msg.all("sip.reason_text") == ([] if text is None else [text]), f"{msg}"


def check_q850_bye(cap: Capture) -> None:
    """An answered call whose caller's BYE carries Reason: Q.850 cause 16, answered 200."""
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        assert _final(msgs, invite).status == 200, f"{call_id}: not answered"
        byes = [m for m in msgs if m.method == "BYE"]
        assert len(byes) == 1, f"{call_id}: {byes}"
        assert byes[0].src == invite.src, f"{call_id}: the callee hung up"
        _q850(byes[0], 16, "Normal call clearing")
        assert _final(msgs, byes[0]).status == 200
        assert not [m for m in msgs if m.all("sip.Reason") and m is not byes[0]]


def check_q850_503(cap: Capture) -> None:
    """INVITE answered 503 carrying Reason: Q.850 cause 34, ACK."""
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        final = _final(msgs, invite)
        assert final.status == 503, f"{call_id}: {final}"
        _q850(final, 34, "No circuit/channel available")
        _acked(msgs, invite, final)


def check_q850_cancel(cap: Capture) -> None:
    """INVITE, 180, a CANCEL (same branch) carrying Reason: Q.850 cause 31 and no text,
    200 to the CANCEL, 487 to the INVITE, ACK."""
    for call_id, msgs in cap.calls().items():
        invite = _invite(msgs)
        ringing = [m for m in msgs if m.answers(invite) and m.status == 180]
        cancels = [m for m in msgs if m.method == "CANCEL"]
        assert ringing, f"{call_id}: no 180"
        assert len(cancels) == 1, f"{call_id}: {cancels}"
        cancel = cancels[0]
        assert cancel.branch == invite.branch, f"{call_id}: CANCEL of another transaction"
        assert cancel.time > ringing[0].time, f"{call_id}: CANCEL before the 180"
        _q850(cancel, 31, None)
        assert _final(msgs, cancel).status == 200, f"{call_id}: CANCEL not answered 200"
        final = _final(msgs, invite)
        assert final.status == 487, f"{call_id}: {final}"
        assert final.time > cancel.time, f"{call_id}: 487 before the CANCEL"
        _acked(msgs, invite, final)


def check_loop_detected(cap: Capture) -> None:
    """The UAC's INVITE (one Via) is relayed by the proxy with two Vias, the lower one
    the UAC's; the UAS answers 482 echoing both; the proxy ACKs it and relays a 482
    with the UAC's Via only; the UAC ACKs."""
    for call_id, msgs in cap.calls().items():
        invite = msgs[0]
        assert invite.method == "INVITE", f"{call_id}: first {invite}"
        assert len(invite.all("sip.Via")) == 1, f"{call_id}: {invite.all('sip.Via')}"
        relayed = [m for m in msgs if m.method == "INVITE" and m.src == invite.dst]
        assert len(relayed) == 1, f"{call_id}: relayed INVITEs {relayed}"
        vias = relayed[0].all("sip.Via")
        assert len(vias) == 2, f"{call_id}: {vias}"
        assert vias[1] == invite.one("sip.Via"), f"{call_id}: {vias}"
        loop = _final(msgs, relayed[0])
        assert loop.status == 482, f"{call_id}: {loop}"
        assert loop.all("sip.Via.branch") == relayed[0].all("sip.Via.branch"), f"{call_id}"
        _acked(msgs, relayed[0], loop)
        upstream = _final(msgs, invite)
        assert upstream.status == 482, f"{call_id}: {upstream}"
        assert len(upstream.all("sip.Via")) == 1, f"{call_id}: {upstream.all('sip.Via')}"
        _acked(msgs, invite, upstream)


# --------------------------------------------------------------------------
# Each check on its own capture, and on one where it must fail

CHECKS: dict[str, Callable[[Capture], None]] = {
    "udp4-codec-mismatch": check_codec_mismatch,
    "udp4-codec-mismatch-606": check_codec_mismatch_606,
    "udp4-method-not-allowed": check_method_not_allowed,
    "udp4-unsupported-media": check_unsupported_media,
    "udp4-retry-too-early": check_retry_too_early,
    "udp4-retry-after-honoured": check_retry_after_honoured,
    "udp4-redirect-not-followed": check_redirect_not_followed,
    "udp4-redirect-followed": check_redirect_followed,
    "udp4-large-udp": check_large_udp,
    "udp4-large-udp-fragmented": check_large_udp_fragmented,
    "udp4-message-too-large": check_message_too_large,
    "udp4-q850-bye": check_q850_bye,
    "udp4-q850-503": check_q850_503,
    "udp4-q850-cancel": check_q850_cancel,
    "udp4-loop-detected": check_loop_detected,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_capture_holds_its_story(name: str) -> None:
    CHECKS[name](_capture(name))


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("udp4-codec-mismatch", "udp4-codec-mismatch-606"),  # 606 and Warning 304
        ("udp4-codec-mismatch", "udp4-busy"),  # a PCMU offer
        ("udp4-codec-mismatch-606", "udp4-codec-mismatch"),
        ("udp4-method-not-allowed", "udp4-unsupported-media"),  # 415
        ("udp4-method-not-allowed", "udp4-options"),
        ("udp4-unsupported-media", "udp4-method-not-allowed"),  # text/plain, 405
        ("udp4-retry-too-early", "udp4-retry-after-honoured"),  # waited, then 200
        ("udp4-retry-too-early", "udp4-unavailable"),  # no retry
        ("udp4-retry-after-honoured", "udp4-retry-too-early"),
        ("udp4-redirect-not-followed", "udp4-busy"),
        ("udp4-redirect-not-followed", "udp4-redirect-followed"),  # an INVITE to carol
        ("udp4-redirect-followed", "udp4-redirect-not-followed"),  # not followed
        ("udp4-redirect-followed", "udp4-retry-after-honoured"),  # retried after a 503
        ("udp4-large-udp", "udp4-loop-detected"),  # small INVITEs through the proxy
        ("udp4-large-udp", "udp4-large-udp-fragmented"),  # fragmented
        ("udp4-large-udp-fragmented", "udp4-large-udp"),  # not fragmented
        ("udp4-message-too-large", "udp4-unavailable"),
        ("udp4-message-too-large", "udp4-large-udp"),  # answered 200
        ("udp4-q850-bye", "udp4-answered"),  # a BYE without Reason
        ("udp4-q850-503", "udp4-unavailable"),  # a 503 without Reason
        ("udp4-q850-cancel", "udp4-cancel"),  # a CANCEL without Reason
        ("udp4-loop-detected", "udp4-unavailable-via-proxy"),  # 500
        ("udp4-loop-detected", "udp4-busy"),  # direct: one Via
    ],
)
def test_check_fails_on_another_scenario(name: str, other: str) -> None:
    with pytest.raises(AssertionError):
        CHECKS[name](_capture(other))
