"""Write every small test capture in tests/data/ and MANIFEST.json, the facts each must yield.

Packets are built with scapy. The file containers (pcap, pcapng, gzip) and the
headers that need exact control (HEP, GTP-U, ERSPAN, BSD loopback) are written
here with `struct`, so each variant is made on purpose. What a capture must
yield (each SIP message with its transport, endpoints, frame and time; frames
skipped by reason; truncation) is recorded while the capture is built, never
typed in afterwards: change a capture here and its expectations follow.

Deterministic: fixed timestamps and addresses; the one capture with random
bytes (`bad-garbage-headers.pcap`) draws them from SHA-256 of a fixed seed.
gzip members carry mtime 0. `tests/ingest/test_data_captures.py` checks that
rerunning this script reproduces the committed files byte for byte.

    .venv/bin/python -m tests.data.make_data            # rewrite tests/data/
    .venv/bin/python -m tests.data.make_data --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import ipaddress
import json
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import GRE, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkSACK
from scapy.packet import Packet, Raw

HERE = Path(__file__).resolve().parent
MANIFEST = "MANIFEST.json"

T0_NS = 1_700_000_000 * 10**9
"""Time of a capture's first frame (2023-11-14 22:13:20 UTC), in nanoseconds."""
STEP_NS = 20_000_000
"""Frames are 20 ms apart unless a capture says otherwise."""

# LINKTYPE_* values (tcpdump.org/linktypes.html)
LINK_NULL = 0
LINK_ETHERNET = 1
LINK_RAW = 101
LINK_LOOP = 108
LINK_LINUX_SLL = 113
LINK_USER0 = 147  # reserved for private use: no reader knows it
LINK_IPV4 = 228
LINK_IPV6 = 229
LINK_LINUX_SLL2 = 276

# Address families as BSD loopback headers carry them
AF_INET = 2
AF_INET6_BSD = 24  # NetBSD, OpenBSD, BSD/OS
AF_INET6_FREEBSD = 28
AF_INET6_DARWIN = 30

MAC_A = "02:00:5e:00:53:01"
MAC_B = "02:00:5e:00:53:02"
MAC_A_BYTES = bytes.fromhex("02005e005301")


class Endpoint(NamedTuple):
    """An IP address (compressed text form) and a port."""

    ip: str
    port: int


UA4 = Endpoint("192.0.2.10", 5060)
PROXY4 = Endpoint("192.0.2.20", 5060)
UA6 = Endpoint("2001:db8::10", 5060)
PROXY6 = Endpoint("2001:db8::20", 5060)


# -- SIP messages ---------------------------------------------------------------


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _hostport(e: Endpoint) -> str:
    return f"{_host(e.ip)}:{e.port}"


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:10]


def sdp(ip: str, port: int, candidates: int = 0) -> bytes:
    """An audio offer/answer; ICE candidates make it as large as needed."""
    fam = "IP6" if ":" in ip else "IP4"
    lines = [
        "v=0",
        f"o=- 2890844526 2890844526 IN {fam} {ip}",
        "s=-",
        f"c=IN {fam} {ip}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    ]
    lines += [
        f"a=candidate:{i + 1} 1 UDP {2130706431 - 256 * i} {ip} {port + 2 * i} typ host"
        for i in range(candidates)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _message(lines: list[str], body: bytes) -> bytes:
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Dialog:
    """One SIP dialog (or registration) from `caller` to `callee`: makes its messages.

    Requests go caller -> callee and responses come back; Via, tags, CSeq and
    Content-Length are consistent, as a real user agent would send them.
    """

    def __init__(self, call_id: str, caller: Endpoint, callee: Endpoint, transport: str) -> None:
        self.call_id = call_id
        self.caller = caller
        self.callee = callee
        self.transport = transport
        self.from_tag = _digest("from", call_id)
        self.to_tag = _digest("to", call_id)
        self.cseq = 0
        self._sent: dict[str, tuple[int, str]] = {}  # method -> (CSeq number, Via)

    def request(self, method: str, *, body: bytes = b"") -> bytes:
        """A request from the caller (ACK reuses the INVITE's CSeq number)."""
        if method == "ACK":
            number = self._sent["INVITE"][0]
        else:
            self.cseq += 1
            number = self.cseq
        branch = "z9hG4bK" + _digest(self.call_id, method, number)
        via = f"SIP/2.0/{self.transport} {_hostport(self.caller)};branch={branch};rport"
        self._sent[method] = (number, via)
        callee_host = _host(self.callee.ip)
        if method == "REGISTER":
            uri, to = f"sip:{callee_host}", f"<sip:alice@{callee_host}>"
        else:
            uri, to = f"sip:bob@{_hostport(self.callee)}", f"<sip:bob@{callee_host}>"
        if method in ("ACK", "BYE"):
            to += f";tag={self.to_tag}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: {via}",
            "Max-Forwards: 70",
            f'From: "Alice" <sip:alice@{_host(self.caller.ip)}>;tag={self.from_tag}',
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {number} {method}",
        ]
        if method in ("INVITE", "REGISTER"):
            contact = f"sip:alice@{_hostport(self.caller)};transport={self.transport.lower()}"
            lines.append(f"Contact: <{contact}>")
        if method == "REGISTER":
            lines.append("Expires: 3600")
        lines.append("User-Agent: make_data/1.0")
        return _message(lines, body)

    def response(self, code: int, reason: str, method: str, *, body: bytes = b"") -> bytes:
        """The callee's response to the last `method` request."""
        number, via = self._sent[method]
        callee_host = _host(self.callee.ip)
        user = "alice" if method == "REGISTER" else "bob"
        to = f"<sip:{user}@{callee_host}>" + (f";tag={self.to_tag}" if code > 100 else "")
        lines = [
            f"SIP/2.0 {code} {reason}",
            f"Via: {via};received={self.caller.ip}",
            f'From: "Alice" <sip:alice@{_host(self.caller.ip)}>;tag={self.from_tag}',
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {number} {method}",
        ]
        if method == "INVITE" and 200 <= code < 300:
            contact = f"sip:bob@{_hostport(self.callee)};transport={self.transport.lower()}"
            lines.append(f"Contact: <{contact}>")
        if method == "REGISTER" and code == 200:
            lines.append(f"Contact: <sip:alice@{_hostport(self.caller)}>;expires=3600")
        lines.append("Server: make_data/1.0")
        return _message(lines, body)


# -- captures being built ---------------------------------------------------------


@dataclass(slots=True)
class Rec:
    """One packet record."""

    time_ns: int | None
    """Capture time; None for a pcapng Simple Packet Block (it has none)."""
    data: bytes
    """Captured bytes (cut to the snaplen)."""
    orig_len: int
    """Length on the wire."""
    iface: int = 0
    """pcapng interface index within its section."""
    block: str = "epb"
    """pcapng block kind: `epb`, `spb` or `opb`."""
    comment: str | None = None
    """pcapng opt_comment."""


@dataclass(slots=True)
class Section:
    """A pcapng section: byte order and interfaces as (LINKTYPE, decimal tsresol)."""

    order: str
    links: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class Expected:
    """A SIP message the analyzer must yield."""

    order: int
    """Order of creation (tie-break among messages completed by one frame)."""
    transport: str
    src: Endpoint
    dst: Endpoint
    data: bytes
    frame: int | None = None
    """Frame that completes it; None when that is not defined (found after a TCP gap)."""
    time: float | None = None
    """Time the analyzer reports; by default the time of `frame`."""
    found: bool = True
    """False when bytes of it never made it into the capture."""


class Capture:
    """One capture file being built, with what reading it must give."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.items: list[Rec | Section] = []
        self.expected: list[Expected] = []
        self.skipped: Counter[str] = Counter()
        self.partial = 0
        self.tcp_gaps = 0
        self.truncated = False
        self.readable: int | None = None
        """Frames a reader gets before the file's damage (None: all)."""
        self.robustness = False
        """Garbage capture: only the clean messages are known, as a subsequence."""
        self.format = ""
        self.snaplen = 65535
        self.start_ns = T0_NS
        self.finishers: list[Callable[[], None]] = []
        self._dialogs = 0

    @property
    def records(self) -> list[Rec]:
        return [item for item in self.items if isinstance(item, Rec)]

    def section(self, order: str, *links: tuple[int, int]) -> None:
        """Start a pcapng section (interface ids restart from 0)."""
        self.items.append(Section(order, links))

    def frame(
        self,
        data: bytes,
        *,
        iface: int = 0,
        block: str = "epb",
        time_ns: int | None = None,
        comment: str | None = None,
    ) -> int:
        """Add a packet, cut to the snaplen; returns its 1-based frame number."""
        number = len(self.records) + 1
        if time_ns is None and block != "spb":
            time_ns = self.start_ns + (number - 1) * STEP_NS
        rec = Rec(time_ns, data[: self.snaplen], len(data), iface, block, comment)
        self.items.append(rec)
        return number

    def time_of(self, frame: int) -> float | None:
        t = self.records[frame - 1].time_ns
        return None if t is None else t / 1e9

    def expect(
        self,
        transport: str,
        src: Endpoint,
        dst: Endpoint,
        data: bytes,
        *,
        frame: int | None = None,
        time: float | None = None,
    ) -> Expected:
        exp = Expected(len(self.expected), transport, src, dst, data, frame, time)
        self.expected.append(exp)
        return exp

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def dialog(self, caller: Endpoint, callee: Endpoint, transport: str = "UDP") -> Dialog:
        """A dialog whose Call-ID names this capture, so every message is told apart."""
        self._dialogs += 1
        stem = self.name.split(".")[0]
        return Dialog(f"{stem}-{self._dialogs}@make-data.test", caller, callee, transport)

    def manifest(self) -> dict[str, object]:
        """What reading this capture must give (see tests/ingest/test_data_captures.py)."""
        for finish in self.finishers:
            finish()
        readable = len(self.records) if self.readable is None else self.readable
        found = [e for e in self.expected if e.found and (e.frame or 0) <= readable]
        found.sort(key=lambda e: (e.frame is None, e.frame or 0, e.order))
        return {
            "kind": "robustness" if self.robustness else "capture",
            "description": self.description,
            "format": self.format,
            "packets": readable,
            "messages": [self._message(e) for e in found],
            "skipped": None if self.robustness else dict(sorted(self.skipped.items())),
            "partial": None if self.robustness else self.partial,
            "tcp_gaps_min": self.tcp_gaps,
            "truncated": self.truncated,
        }

    def _message(self, e: Expected) -> dict[str, object]:
        time = e.time
        if time is None and e.frame is not None:
            time = self.time_of(e.frame)
        head = e.data.split(b"\r\n\r\n", 1)[0].decode()
        call_id = re.search(r"(?m)^Call-ID: ([^\r\n]*)", head)
        cseq = re.search(r"(?m)^CSeq: ([^\r\n]*)", head)
        return {
            "frame": e.frame,
            "time": time,
            "transport": e.transport,
            "src": e.src.ip,
            "sport": e.src.port,
            "dst": e.dst.ip,
            "dport": e.dst.port,
            "first_line": head.split("\r\n", 1)[0],
            "call_id": call_id.group(1) if call_id else None,
            "cseq": cseq.group(1) if cseq else None,
            "sha256": hashlib.sha256(e.data).hexdigest()[:16],
        }


# -- link layers and encapsulations ----------------------------------------------

Link = Callable[[Packet], bytes]
Encap = Callable[[Packet], Packet]


def ip(src: str, dst: str) -> Packet:
    """An IPv4 or IPv6 header, by the address family."""
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=64)
    return IP(src=src, dst=dst, ttl=64, id=0x1234)


def udp(src: Endpoint, dst: Endpoint, payload: bytes) -> Packet:
    return ip(src.ip, dst.ip) / UDP(sport=src.port, dport=dst.port) / Raw(payload)


def eth(p: Packet) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B) / p)


def vlan(p: Packet) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(prio=5, vlan=100) / p)


def qinq(p: Packet) -> bytes:
    """802.1ad service tag (0x88a8) then 802.1Q customer tag (0x8100)."""
    return bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1AD(vlan=300) / Dot1Q(vlan=100) / p)


def sll(p: Packet) -> bytes:
    return bytes(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=MAC_A_BYTES + b"\0\0") / p)


def sll2(p: Packet) -> bytes:
    return bytes(
        CookedLinuxV2(ifindex=2, lladdrtype=1, pkttype=4, lladdrlen=6, src=MAC_A_BYTES + b"\0\0")
        / p
    )


def null(order: str, af6: int = AF_INET6_BSD) -> Link:
    """BSD loopback (LINKTYPE_NULL): address family in the writer's host byte order."""

    def link(p: Packet) -> bytes:
        af = af6 if isinstance(p, IPv6) else AF_INET
        return struct.pack(order + "I", af) + bytes(p)

    return link


def loop(p: Packet) -> bytes:
    """OpenBSD loopback (LINKTYPE_LOOP): address family in network byte order."""
    af = AF_INET6_BSD if isinstance(p, IPv6) else AF_INET
    return struct.pack(">I", af) + bytes(p)


def raw(p: Packet) -> bytes:
    return bytes(p)


def pppoe(p: Packet) -> bytes:
    proto = 0x0057 if isinstance(p, IPv6) else 0x0021
    return bytes(Ether(src=MAC_A, dst=MAC_B) / PPPoE(sessionid=0x2A) / PPP(proto=proto) / p)


def tunnel(outer_src: str, outer_dst: str) -> Encap:
    """IP-in-IP: 4in4 (proto 4), 6in4 (41), 4in6, 6in6, by the address families."""
    return lambda p: ip(outer_src, outer_dst) / p


def gre(
    *, key: int | None = None, seq: int | None = None, checksum: bool = False, proto: int = 0x0800
) -> Encap:
    """GRE (RFC 2784/2890) from 198.51.100.1 to .2 carrying an IP packet."""

    def encap(p: Packet) -> Packet:
        g = GRE(
            chksum_present=int(checksum),
            key_present=int(key is not None),
            seqnum_present=int(seq is not None),
            proto=0x86DD if isinstance(p, IPv6) else proto,
        )
        if key is not None:
            g.key = key
        if seq is not None:
            g.sequence_number = seq
        return IP(src="198.51.100.1", dst="198.51.100.2", ttl=64, id=7) / g / p

    return encap


def gre_ethernet(
    proto: int, header: bytes, seq: int | None = None, key: int | None = None
) -> Encap:
    """GRE carrying an Ethernet frame after `header`: TEB (0x6558), ERSPAN II/III."""

    def encap(p: Packet) -> Packet:
        g = GRE(seqnum_present=int(seq is not None), key_present=int(key is not None), proto=proto)
        if seq is not None:
            g.sequence_number = seq
        if key is not None:
            g.key = key
        inner = header + bytes(Ether(src=MAC_B, dst=MAC_A) / Dot1Q(vlan=12) / p)
        return IP(src="198.51.100.1", dst="198.51.100.2", ttl=64, id=8) / g / Raw(inner)

    return encap


def erspan2(session: int, index: int) -> bytes:
    """ERSPAN type II header: ver=1, VLAN, COS, En, T, session id; reserved, index."""
    word0 = (1 << 28) | (12 << 16) | (5 << 13) | (3 << 11) | session
    return struct.pack("!II", word0, index)


def erspan3(session: int, timestamp: int, *, platform: bytes | None = None) -> bytes:
    """ERSPAN type III header (12 bytes), plus the 8-byte platform subheader when O is set."""
    word0 = (2 << 28) | (12 << 16) | (5 << 13) | session
    ft_hw = (
        (0 << 10) | (7 << 4) | (1 << 3) | (1 << 1) | (1 if platform else 0)
    )  # FT, HW ID, D, Gra, O
    head = struct.pack("!IIHH", word0, timestamp, 0x0102, ft_hw)
    return head + (platform or b"")


def gtpu(
    inner: bytes,
    teid: int,
    *,
    seq: int | None = None,
    npdu: int | None = None,
    ext: Sequence[tuple[int, bytes]] = (),
    msg_type: int = 0xFF,
) -> bytes:
    """A GTPv1-U header (3GPP TS 29.281 §5) with optional fields and extension headers."""
    flags = 0x30 | (0x04 if ext else 0) | (0x02 if seq is not None else 0)
    flags |= 0x01 if npdu is not None else 0
    body = b""
    if flags & 0x07:
        body = struct.pack("!HBB", seq or 0, npdu or 0, ext[0][0] if ext else 0)
    for i, (_etype, content) in enumerate(ext):
        assert (len(content) + 2) % 4 == 0, "extension headers are whole 4-byte units"
        nxt = ext[i + 1][0] if i + 1 < len(ext) else 0
        body += bytes([(len(content) + 2) // 4]) + content + bytes([nxt])
    body += inner
    return struct.pack("!BBHI", flags, msg_type, len(body), teid) + body


GTP_OUTER = (Endpoint("198.51.100.11", 2152), Endpoint("198.51.100.12", 2152))


def gtp(
    teid: int,
    *,
    seq: int | None = None,
    npdu: int | None = None,
    ext: Sequence[tuple[int, bytes]] = (),
) -> Encap:
    """UDP port 2152 from an eNodeB to a UPF carrying the inner packet as a G-PDU."""

    def encap(p: Packet) -> Packet:
        enb, upf = GTP_OUTER
        return udp(enb, upf, gtpu(bytes(p), teid, seq=seq, npdu=npdu, ext=ext))

    return encap


# -- adding SIP to a capture -------------------------------------------------------


def sip_udp(
    cap: Capture,
    msg: bytes,
    src: Endpoint,
    dst: Endpoint,
    *,
    link: Link = eth,
    encap: Encap | None = None,
    iface: int = 0,
    block: str = "epb",
    time_ns: int | None = None,
    comment: str | None = None,
) -> int:
    """One SIP message in a UDP datagram (possibly tunnelled); returns its frame."""
    packet = udp(src, dst, msg)
    data = link(encap(packet) if encap else packet)
    assert data.endswith(msg)
    frame = cap.frame(data, iface=iface, block=block, time_ns=time_ns, comment=comment)
    captured = len(cap.records[frame - 1].data)
    kept = msg
    if captured < len(data):
        kept = msg[: captured - (len(data) - len(msg))]
        assert b"\r\n" in kept, "a snaplen cut must leave the start line"
        cap.partial += 1
    cap.expect("udp", src, dst, kept, frame=frame)
    return frame


def sip_fragmented(
    cap: Capture,
    msg: bytes,
    src: Endpoint,
    dst: Endpoint,
    pieces: Sequence[tuple[int, int]],
    ident: int,
    *,
    link: Link = eth,
) -> list[int]:
    """A UDP datagram sent as IP fragments, `pieces` (start, end) of its payload in send order.

    The message is expected at the frame whose fragment completes the
    datagram; if it never completes, each fragment is an unreassembled skip.
    """
    whole = bytes(udp(src, dst, msg))
    v6 = ":" in src.ip
    payload = whole[40:] if v6 else whole[20:]
    frames: list[int] = []
    have: list[tuple[int, int]] = []
    done: int | None = None
    for start, end in pieces:
        assert start % 8 == 0
        assert end == len(payload) or end % 8 == 0
        more = end < len(payload)
        chunk = Raw(payload[start:end])
        frag: Packet
        if v6:
            frag = (
                IPv6(src=src.ip, dst=dst.ip, hlim=64, nh=44)
                / IPv6ExtHdrFragment(nh=17, offset=start // 8, m=int(more), id=ident)
                / chunk
            )
        else:
            header = IP(src=src.ip, dst=dst.ip, ttl=64, id=ident, proto=17)
            header.flags = "MF" if more else 0
            header.frag = start // 8
            frag = header / chunk
        frames.append(cap.frame(link(frag)))
        have.append((start, end))
        if done is None and _covered(have, 0, len(payload)):
            done = frames[-1]
    if done is None:
        cap.skip("unreassembled_fragment", len(frames))
    else:
        cap.expect("udp", src, dst, msg, frame=done)
    return frames


def _covered(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether the union of `ranges` covers [start, end)."""
    pos = start
    for s, e in sorted(ranges):
        if s > pos:
            break
        pos = max(pos, e)
    return pos >= end


def _holes(ranges: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """Number of uncovered stretches of [start, end)."""
    holes, pos = 0, start
    for s, e in sorted(ranges):
        if s > pos:
            holes += 1
        pos = max(pos, e)
    return holes + (pos < end)


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    expected: Expected


@dataclass(slots=True)
class _Direction:
    src: Endpoint
    dst: Endpoint
    isn: int
    buf: bytearray = field(default_factory=bytearray)
    spans: list[_Span] = field(default_factory=list)
    sent: list[tuple[int, int, int]] = field(default_factory=list)  # (frame, start, end)
    synced: bool = False


class TcpConn:
    """A TCP connection in a capture: two byte streams, each cut into segments on purpose.

    `write` appends to a direction's stream (registering the SIP message it
    carries); `send` puts a byte range of it on the wire. When the manifest is
    made, each message is expected at the frame after which its direction's
    stream is contiguous up to its end; a message whose bytes were all sent but
    only past a hole is expected without a frame (found after resynchronising);
    one with bytes never sent is lost. Resending bytes already sent is a
    counted retransmission.
    """

    def __init__(
        self,
        cap: Capture,
        client: Endpoint,
        server: Endpoint,
        *,
        link: Link = eth,
        isn: tuple[int, int] = (1_000_000, 3_000_000),
        transport: str = "tcp",
    ) -> None:
        self.cap = cap
        self.link = link
        self.transport = transport
        self.dirs = {
            True: _Direction(client, server, isn[0]),
            False: _Direction(server, client, isn[1]),
        }
        cap.finishers.append(self._finish)

    def handshake(self) -> None:
        c, s = self.dirs[True], self.dirs[False]
        self._segment(c, s, c.isn, b"", "S")
        self._segment(s, c, s.isn, b"", "SA")
        c.synced = s.synced = True
        self._segment(c, s, (c.isn + 1) & 0xFFFFFFFF, b"", "A")

    def write(self, from_client: bool, data: bytes, *, expect: bytes | None = None) -> None:
        """Append to a stream; `expect` is the SIP message these bytes carry (ending here)."""
        d = self.dirs[from_client]
        start = len(d.buf)
        d.buf += data
        if expect is not None:
            exp = self.cap.expect(self.transport, d.src, d.dst, expect)
            d.spans.append(_Span(start, len(d.buf), exp))

    def sip(self, from_client: bool, msg: bytes) -> None:
        self.write(from_client, msg, expect=msg)

    def send(self, from_client: bool, start: int, end: int, flags: str = "PA") -> int:
        """Put stream bytes [start, end) on the wire as one segment; returns the frame."""
        d, other = self.dirs[from_client], self.dirs[not from_client]
        end = min(end, len(d.buf))
        ranges = [(s, e) for _f, s, e in d.sent]
        if end > start and _covered(ranges, start, end):
            self.cap.skip("tcp_retransmission")
        frame = self._segment(d, other, self._seq(d, start), bytes(d.buf[start:end]), flags)
        d.sent.append((frame, start, end))
        return frame

    def send_rest(self, from_client: bool, size: int = 1400) -> None:
        """Send what follows the highest byte sent so far, in segments of `size`."""
        d = self.dirs[from_client]
        pos = max((e for _f, _s, e in d.sent), default=0)
        while pos < len(d.buf):
            self.send(from_client, pos, pos + size)
            pos += size

    def fin(self) -> None:
        for from_client in (True, False):
            d, other = self.dirs[from_client], self.dirs[not from_client]
            self._segment(d, other, self._seq(d, len(d.buf)), b"", "FA")

    @staticmethod
    def _seq(d: _Direction, offset: int) -> int:
        return (d.isn + 1 + offset) & 0xFFFFFFFF

    def _segment(
        self, d: _Direction, other: _Direction, seq: int, payload: bytes, flags: str
    ) -> int:
        acked = max((e for _f, _s, e in other.sent), default=0)
        ack = self._seq(other, acked) if "A" in flags else 0
        seg = TCP(sport=d.src.port, dport=d.dst.port, seq=seq, ack=ack, flags=flags, window=65535)
        return self.cap.frame(self.link(ip(d.src.ip, d.dst.ip) / seg / Raw(payload)))

    def _finish(self) -> None:
        for d in self.dirs.values():
            if not d.sent:
                for span in d.spans:
                    span.expected.found = False
                continue
            base = 0 if d.synced else d.sent[0][1]
            have: list[tuple[int, int]] = []
            for frame, start, end in d.sent:
                have.append((start, end))
                for span in d.spans:
                    if (
                        span.expected.frame is None
                        and span.start >= base
                        and _covered(have, base, span.end)
                    ):
                        span.expected.frame = frame
            top = max(e for _f, _s, e in d.sent)
            self.cap.tcp_gaps += _holes(have, base, top)
            for span in d.spans:
                if span.expected.frame is None:
                    span.expected.found = span.start >= base and _covered(
                        have, span.start, span.end
                    )


def ws_frame(payload: bytes, opcode: int = 1, *, fin: bool = True, mask: bytes = b"") -> bytes:
    """A WebSocket frame (RFC 6455 §5.2), masked when `mask` is given."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + payload


# -- HEP ---------------------------------------------------------------------------

HEP_AGENT = Endpoint("203.0.113.5", 47001)
HEP_COLLECTOR = Endpoint("203.0.113.9", 9060)
HEP_PROTO = {"udp": 17, "tcp": 6}


def hep2(
    payload: bytes, src: Endpoint, dst: Endpoint, transport: str, sec: int, usec: int
) -> bytes:
    """HEPv2: 8-byte header, addresses, time header (host order, here little-endian)."""
    a, b = ipaddress.ip_address(src.ip).packed, ipaddress.ip_address(dst.ip).packed
    family = 10 if len(a) == 16 else 2
    head = struct.pack(
        "!BBBBHH", 2, 8 + 2 * len(a), family, HEP_PROTO[transport], src.port, dst.port
    )
    return head + a + b + struct.pack("<IIH2x", sec, usec, 0x00C1) + payload


def hep_chunk(ctype: int, value: bytes, vendor: int = 0) -> bytes:
    return struct.pack("!HHH", vendor, ctype, 6 + len(value)) + value


def hep3(
    payload: bytes,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    sec: int,
    usec: int,
    *,
    ptype: int = 1,
    compressed: bool = False,
    auth: bytes | None = None,
    correlation: bytes | None = None,
    payload_first: bool = False,
) -> bytes:
    """HEPv3 (`HEP3`, total length, then vendor/type/length chunks, all big-endian)."""
    a, b = ipaddress.ip_address(src.ip).packed, ipaddress.ip_address(dst.ip).packed
    v6 = len(a) == 16
    chunks = [
        hep_chunk(1, bytes([10 if v6 else 2])),
        hep_chunk(2, bytes([HEP_PROTO[transport]])),
        hep_chunk(5 if v6 else 3, a),
        hep_chunk(6 if v6 else 4, b),
        hep_chunk(7, struct.pack("!H", src.port)),
        hep_chunk(8, struct.pack("!H", dst.port)),
        hep_chunk(9, struct.pack("!I", sec)),
        hep_chunk(10, struct.pack("!I", usec)),
        hep_chunk(11, bytes([ptype])),
        hep_chunk(12, struct.pack("!I", 2001)),
    ]
    if auth is not None:
        chunks.append(hep_chunk(14, auth))
    body = hep_chunk(16, zlib.compress(payload, 9)) if compressed else hep_chunk(15, payload)
    if payload_first:
        chunks.insert(0, body)
    else:
        chunks.append(body)
    if correlation is not None:
        chunks.append(hep_chunk(17, correlation))
    data = b"".join(chunks)
    return b"HEP3" + struct.pack("!H", 6 + len(data)) + data


def hep_frame(
    cap: Capture, hep: bytes, agent: Endpoint = HEP_AGENT, collector: Endpoint = HEP_COLLECTOR
) -> int:
    """A HEP packet sent over UDP from a capture agent to a collector."""
    return cap.frame(eth(udp(agent, collector, hep)))


def sip_hep(
    cap: Capture,
    hep: bytes,
    msg: bytes,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    sec: int,
    usec: int,
    *,
    agent: Endpoint = HEP_AGENT,
    collector: Endpoint = HEP_COLLECTOR,
) -> int:
    """A HEP packet carrying `msg`: expected as HEP describes it (endpoints, transport, time)."""
    frame = hep_frame(cap, hep, agent, collector)
    cap.expect(transport, src, dst, msg, frame=frame, time=sec + usec / 1e6)
    return frame


# -- file containers -------------------------------------------------------------


def pcap_file(cap: Capture, linktype: int, *, big: bool = False, ns: bool = False) -> bytes:
    """A classic pcap file (pcap-savefile) of the capture's records."""
    o = ">" if big else "<"
    cap.format = "pcap-ns" if ns else "pcap"
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    out = [struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, cap.snaplen, linktype)]
    for rec in cap.records:
        assert rec.time_ns is not None
        assert rec.block == "epb"
        sec, frac = divmod(rec.time_ns, 10**9)
        if not ns:
            assert frac % 1000 == 0, "microsecond file, nanosecond time"
            frac //= 1000
        out.append(struct.pack(o + "IIII", sec, frac, len(rec.data), rec.orig_len) + rec.data)
    return b"".join(out)


def pcap_record_ends(content: bytes) -> list[int]:
    """File offset just past each record of a little-endian pcap file."""
    ends, pos = [], 24
    while pos + 16 <= len(content):
        (incl,) = struct.unpack_from("<I", content, pos + 8)
        pos += 16 + incl
        ends.append(pos)
    return ends


def pcapng_packet_blocks(content: bytes | bytearray) -> list[int]:
    """File offset of each Enhanced Packet Block of a little-endian pcapng file."""
    offsets, pos = [], 0
    while pos + 8 <= len(content):
        btype, total = struct.unpack_from("<II", content, pos)
        if btype == 6:
            offsets.append(pos)
        pos += total
    return offsets


def _block(btype: int, body: bytes, o: str) -> bytes:
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack(o + "II", btype, total) + body + b"\0" * pad + struct.pack(o + "I", total)


def _options(opts: Sequence[tuple[int, bytes]], o: str) -> bytes:
    if not opts:
        return b""
    out = b"".join(
        struct.pack(o + "HH", code, len(v)) + v + b"\0" * ((-len(v)) % 4) for code, v in opts
    )
    return out + struct.pack(o + "HH", 0, 0)


def pcapng_file(cap: Capture) -> bytes:
    """A pcapng file: SHB and IDBs per section, EPB/SPB/OPB records, an ISB per section."""
    cap.format = "pcapng"
    out: list[bytes] = []
    section: Section | None = None
    last_ts = 0

    def close_section() -> None:
        if section is not None:
            o = section.order
            units = 10 ** section.links[0][1]
            ts = last_ts * units // 10**9
            isb = struct.pack(o + "III", 0, ts >> 32, ts & 0xFFFFFFFF)
            isb += _options([(4, struct.pack(o + "Q", 2)), (5, struct.pack(o + "Q", 0))], o)
            out.append(_block(5, isb, o))

    for item in cap.items:
        if isinstance(item, Section):
            close_section()
            section = item
            o = item.order
            shb = struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1)
            out.append(_block(0x0A0D0D0A, shb + _options([(4, b"make_data.py")], o), o))
            for i, (linktype, resol) in enumerate(item.links):
                opts = [(2, f"if{i}".encode())]
                if resol != 6:
                    opts.append((9, bytes([resol])))
                out.append(_block(1, struct.pack(o + "HHI", linktype, 0, 0) + _options(opts, o), o))
            continue
        assert section is not None, "a pcapng capture starts with a section"
        o = section.order
        if item.block == "spb":
            assert item.iface == 0, "a simple packet block belongs to interface 0"
            out.append(_block(3, struct.pack(o + "I", item.orig_len) + item.data, o))
            continue
        assert item.time_ns is not None
        last_ts = item.time_ns
        units = 10 ** section.links[item.iface][1]
        assert item.time_ns * units % 10**9 == 0, "time finer than the interface resolution"
        ts = item.time_ns * units // 10**9
        data = item.data + b"\0" * ((-len(item.data)) % 4)
        trailer = _options([(1, item.comment.encode())] if item.comment else [], o)
        if item.block == "epb":
            head = struct.pack(
                o + "IIIII", item.iface, ts >> 32, ts & 0xFFFFFFFF, len(item.data), item.orig_len
            )
            out.append(_block(6, head + data + trailer, o))
        else:
            assert item.block == "opb"
            head = struct.pack(
                o + "HHIIII",
                item.iface,
                0,
                ts >> 32,
                ts & 0xFFFFFFFF,
                len(item.data),
                item.orig_len,
            )
            out.append(_block(2, head + data + trailer, o))
    close_section()
    return b"".join(out)


def gzipped(cap: Capture, content: bytes) -> bytes:
    cap.format += "+gzip"
    return gzip.compress(content, compresslevel=9, mtime=0)


# -- the captures -------------------------------------------------------------------

Builder = Callable[[Capture], bytes]
CAPTURES: dict[str, Builder] = {}
NOT_CAPTURES: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {}


def capture(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        assert name not in CAPTURES
        CAPTURES[name] = fn
        return fn

    return register


def not_capture(name: str, *words: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """A file that is not a capture; reading it must fail naming the file and `words`."""

    def register(fn: Callable[[], bytes]) -> Callable[[], bytes]:
        NOT_CAPTURES[name] = (fn, words)
        return fn

    return register


def _invite_exchange(
    cap: Capture, link: Link = eth, caller: Endpoint = UA4, callee: Endpoint = PROXY4
) -> None:
    """INVITE (with SDP), 200 OK (with SDP), ACK over UDP."""
    d = cap.dialog(caller, callee)
    sip_udp(cap, d.request("INVITE", body=sdp(caller.ip, 49170)), caller, callee, link=link)
    ok = d.response(200, "OK", "INVITE", body=sdp(callee.ip, 30000))
    sip_udp(cap, ok, callee, caller, link=link)
    sip_udp(cap, d.request("ACK"), caller, callee, link=link)


def _options_ping(
    cap: Capture,
    caller: Endpoint,
    callee: Endpoint,
    *,
    link: Link = eth,
    encap: Encap | None = None,
) -> None:
    """OPTIONS and its 200 OK over UDP."""
    d = cap.dialog(caller, callee)
    sip_udp(cap, d.request("OPTIONS"), caller, callee, link=link, encap=encap)
    sip_udp(cap, d.response(200, "OK", "OPTIONS"), callee, caller, link=link, encap=encap)


# Formats


@capture("fmt-pcap-us-le.pcap")
def fmt_pcap_us_le(cap: Capture) -> bytes:
    """Classic pcap, microsecond timestamps, little-endian; INVITE, 200, ACK over Ethernet."""
    _invite_exchange(cap)
    return pcap_file(cap, LINK_ETHERNET)


@capture("fmt-pcap-us-be.pcap")
def fmt_pcap_us_be(cap: Capture) -> bytes:
    """Classic pcap, microsecond timestamps, big-endian."""
    _invite_exchange(cap)
    return pcap_file(cap, LINK_ETHERNET, big=True)


@capture("fmt-pcap-ns-le.pcap")
def fmt_pcap_ns_le(cap: Capture) -> bytes:
    """Nanosecond pcap (magic a1b23c4d), little-endian; times have sub-microsecond parts."""
    cap.start_ns += 123_456_789
    _invite_exchange(cap)
    return pcap_file(cap, LINK_ETHERNET, ns=True)


@capture("fmt-pcap-ns-be.pcap")
def fmt_pcap_ns_be(cap: Capture) -> bytes:
    """Nanosecond pcap, big-endian."""
    cap.start_ns += 987_654_321
    _invite_exchange(cap)
    return pcap_file(cap, LINK_ETHERNET, big=True, ns=True)


def _pcapng_sections(cap: Capture) -> None:
    cap.section("<", (LINK_ETHERNET, 6), (LINK_LINUX_SLL, 9), (LINK_NULL, 6), (LINK_RAW, 6))
    d = cap.dialog(UA4, PROXY4)
    sip_udp(cap, d.request("INVITE", body=sdp(UA4.ip, 49170)), UA4, PROXY4, iface=0)
    trying = d.response(100, "Trying", "INVITE")
    sip_udp(cap, trying, PROXY4, UA4, link=sll, iface=1, time_ns=T0_NS + 20_000_987)
    ringing = d.response(180, "Ringing", "INVITE")
    sip_udp(cap, ringing, PROXY4, UA4, link=null("<"), iface=2, block="opb")
    ok = d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000))
    sip_udp(cap, ok, PROXY4, UA4, iface=0, block="spb")
    sip_udp(cap, d.request("ACK"), UA4, PROXY4, link=raw, iface=3, comment="ACK on raw IP")
    # A big-endian section: interface ids start again from 0.
    cap.section(">", (LINK_LINUX_SLL2, 6), (LINK_IPV6, 9))
    d6 = cap.dialog(UA6, PROXY6)
    sip_udp(cap, d6.request("OPTIONS"), UA6, PROXY6, link=sll2, iface=0)
    ok6 = d6.response(200, "OK", "OPTIONS")
    sip_udp(cap, ok6, PROXY6, UA6, link=raw, iface=1, time_ns=T0_NS + 120_000_001)
    cap.section("<", (LINK_LOOP, 6))
    sip_udp(cap, d.request("BYE"), UA4, PROXY4, link=loop, iface=0)
    sip_udp(cap, d.response(200, "OK", "BYE"), PROXY4, UA4, link=loop, iface=0)


@capture("fmt-pcapng-sections.pcapng")
def fmt_pcapng_sections(cap: Capture) -> bytes:
    """pcapng: three sections (the second big-endian), interfaces with different link types
    (Ethernet, Linux cooked, null, raw; SLL2, IPv6; loop) and resolutions (us, ns), EPB, OPB and
    SPB blocks (the SPB has no time), options, and an ISB closing each section."""
    _pcapng_sections(cap)
    return pcapng_file(cap)


@capture("fmt-pcap-gzip.pcap.gz")
def fmt_pcap_gzip(cap: Capture) -> bytes:
    """A gzip-compressed pcap."""
    _invite_exchange(cap)
    return gzipped(cap, pcap_file(cap, LINK_ETHERNET))


@capture("fmt-pcapng-gzip.pcapng.gz")
def fmt_pcapng_gzip(cap: Capture) -> bytes:
    """A gzip-compressed pcapng (the same sections as fmt-pcapng-sections)."""
    _pcapng_sections(cap)
    return gzipped(cap, pcapng_file(cap))


# Link layers


@capture("link-ethernet.pcap")
def link_ethernet(cap: Capture) -> bytes:
    """Ethernet II, IPv4 and IPv6."""
    _options_ping(cap, UA4, PROXY4)
    _options_ping(cap, UA6, PROXY6)
    return pcap_file(cap, LINK_ETHERNET)


@capture("link-vlan.pcap")
def link_vlan(cap: Capture) -> bytes:
    """One 802.1Q tag."""
    _options_ping(cap, UA4, PROXY4, link=vlan)
    return pcap_file(cap, LINK_ETHERNET)


@capture("link-qinq.pcap")
def link_qinq(cap: Capture) -> bytes:
    """QinQ: 802.1ad tag (0x88a8) then 802.1Q tag (0x8100); IPv4 and IPv6."""
    _options_ping(cap, UA4, PROXY4, link=qinq)
    _options_ping(cap, UA6, PROXY6, link=qinq)
    return pcap_file(cap, LINK_ETHERNET)


@capture("link-sll.pcap")
def link_sll(cap: Capture) -> bytes:
    """Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113), IPv4 and IPv6."""
    _options_ping(cap, UA4, PROXY4, link=sll)
    _options_ping(cap, UA6, PROXY6, link=sll)
    return pcap_file(cap, LINK_LINUX_SLL)


@capture("link-sll2.pcap")
def link_sll2(cap: Capture) -> bytes:
    """Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276), IPv4 and IPv6."""
    _options_ping(cap, UA4, PROXY4, link=sll2)
    _options_ping(cap, UA6, PROXY6, link=sll2)
    return pcap_file(cap, LINK_LINUX_SLL2)


def _null_variants(cap: Capture, order: str) -> None:
    _options_ping(cap, UA4, PROXY4, link=null(order))
    for af6 in (AF_INET6_BSD, AF_INET6_FREEBSD, AF_INET6_DARWIN):
        _options_ping(cap, UA6, PROXY6, link=null(order, af6))


@capture("link-null-le.pcap")
def link_null_le(cap: Capture) -> bytes:
    """BSD loopback (LINKTYPE_NULL, 0) written little-endian: AF_INET 2, AF_INET6 24, 28, 30."""
    _null_variants(cap, "<")
    return pcap_file(cap, LINK_NULL)


@capture("link-null-be.pcap")
def link_null_be(cap: Capture) -> bytes:
    """BSD loopback (LINKTYPE_NULL) written big-endian (by a big-endian host), in a BE pcap."""
    _null_variants(cap, ">")
    return pcap_file(cap, LINK_NULL, big=True)


@capture("link-loop.pcap")
def link_loop(cap: Capture) -> bytes:
    """OpenBSD loopback (LINKTYPE_LOOP, 108): family in network order; IPv4 and IPv6."""
    _options_ping(cap, UA4, PROXY4, link=loop)
    _options_ping(cap, UA6, PROXY6, link=loop)
    return pcap_file(cap, LINK_LOOP)


@capture("link-raw.pcap")
def link_raw(cap: Capture) -> bytes:
    """Raw IP (LINKTYPE_RAW, 101): IPv4 and IPv6 told apart by the version nibble."""
    _options_ping(cap, UA4, PROXY4, link=raw)
    _options_ping(cap, UA6, PROXY6, link=raw)
    return pcap_file(cap, LINK_RAW)


@capture("link-ipv4.pcap")
def link_ipv4(cap: Capture) -> bytes:
    """LINKTYPE_IPV4 (228)."""
    _options_ping(cap, UA4, PROXY4, link=raw)
    return pcap_file(cap, LINK_IPV4)


@capture("link-ipv6.pcap")
def link_ipv6(cap: Capture) -> bytes:
    """LINKTYPE_IPV6 (229)."""
    _options_ping(cap, UA6, PROXY6, link=raw)
    return pcap_file(cap, LINK_IPV6)


@capture("link-pppoe.pcap")
def link_pppoe(cap: Capture) -> bytes:
    """PPPoE session (0x8864) with PPP protocol 0x0021 (IPv4) and 0x0057 (IPv6)."""
    _options_ping(cap, UA4, PROXY4, link=pppoe)
    _options_ping(cap, UA6, PROXY6, link=pppoe)
    return pcap_file(cap, LINK_ETHERNET)


# Tunnels


@capture("tunnel-ipip-4in4.pcap")
def tunnel_4in4(cap: Capture) -> bytes:
    """IPv4 in IPv4 (protocol 4); the inner addresses are the message's."""
    _options_ping(cap, UA4, PROXY4, encap=tunnel("198.51.100.1", "198.51.100.2"))
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-6in4.pcap")
def tunnel_6in4(cap: Capture) -> bytes:
    """IPv6 in IPv4 (protocol 41)."""
    _options_ping(cap, UA6, PROXY6, encap=tunnel("198.51.100.1", "198.51.100.2"))
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-4in6.pcap")
def tunnel_4in6(cap: Capture) -> bytes:
    """IPv4 in IPv6 (next header 4)."""
    _options_ping(cap, UA4, PROXY4, encap=tunnel("2001:db8:ffff::1", "2001:db8:ffff::2"))
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-gre.pcap")
def tunnel_gre(cap: Capture) -> bytes:
    """GRE carrying IPv4 (and IPv6): no options, key, sequence, checksum+key+sequence."""
    d = cap.dialog(UA4, PROXY4)
    sip_udp(cap, d.request("INVITE", body=sdp(UA4.ip, 49170)), UA4, PROXY4, encap=gre())
    trying = d.response(100, "Trying", "INVITE")
    sip_udp(cap, trying, PROXY4, UA4, encap=gre(key=0x00010203))
    ringing = d.response(180, "Ringing", "INVITE")
    sip_udp(cap, ringing, PROXY4, UA4, encap=gre(seq=41))
    ok = d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000))
    sip_udp(cap, ok, PROXY4, UA4, encap=gre(key=0x00010203, seq=42, checksum=True))
    _options_ping(cap, UA6, PROXY6, encap=gre(checksum=True))
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-gre-teb.pcap")
def tunnel_gre_teb(cap: Capture) -> bytes:
    """GRE transparent Ethernet bridging (0x6558; with a key, as NVGRE): Ethernet+802.1Q inside."""
    encap = gre_ethernet(0x6558, b"", key=0x00123400)
    _options_ping(cap, UA4, PROXY4, encap=encap)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-erspan2.pcap")
def tunnel_erspan2(cap: Capture) -> bytes:
    """ERSPAN type II: GRE 0x88BE with a sequence number, 8-byte ERSPAN header, Ethernet."""
    d = cap.dialog(UA4, PROXY4)
    enc1 = gre_ethernet(0x88BE, erspan2(session=100, index=1), seq=1)
    sip_udp(cap, d.request("REGISTER"), UA4, PROXY4, encap=enc1)
    enc2 = gre_ethernet(0x88BE, erspan2(session=100, index=2), seq=2)
    sip_udp(cap, d.response(200, "OK", "REGISTER"), PROXY4, UA4, encap=enc2)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tunnel-erspan3.pcap")
def tunnel_erspan3(cap: Capture) -> bytes:
    """ERSPAN type III: GRE 0x22EB, 12-byte header; the second with O set and the 8-byte
    platform-specific subheader."""
    d = cap.dialog(UA4, PROXY4)
    enc1 = gre_ethernet(0x22EB, erspan3(200, 0x01020304), seq=1)
    sip_udp(cap, d.request("REGISTER"), UA4, PROXY4, encap=enc1)
    platform = struct.pack("!II", (3 << 26) | 0x0ABC, 0x64656667)  # platform id 3, port id
    enc2 = gre_ethernet(0x22EB, erspan3(200, 0x01020305, platform=platform), seq=2)
    sip_udp(cap, d.response(200, "OK", "REGISTER"), PROXY4, UA4, encap=enc2)
    return pcap_file(cap, LINK_ETHERNET)


UE4 = Endpoint("10.45.0.7", 5060)
PCSCF4 = Endpoint("192.0.2.50", 5060)
UE6 = Endpoint("2001:db8:45::7", 5060)
PCSCF6 = Endpoint("2001:db8::50", 5060)


@capture("tunnel-gtpu.pcap")
def tunnel_gtpu(cap: Capture) -> bytes:
    """GTP-U (UDP 2152) G-PDUs with the 8-byte header only and with a sequence number
    (S flag: the 4 optional bytes); inner IPv4 and IPv6."""
    d4 = cap.dialog(UE4, PCSCF4)
    sip_udp(cap, d4.request("REGISTER"), UE4, PCSCF4, encap=gtp(0x1001))
    ok4 = d4.response(200, "OK", "REGISTER")
    sip_udp(cap, ok4, PCSCF4, UE4, encap=gtp(0x2001, seq=7))
    d6 = cap.dialog(UE6, PCSCF6)
    sip_udp(cap, d6.request("REGISTER"), UE6, PCSCF6, encap=gtp(0x1002))
    ok6 = d6.response(200, "OK", "REGISTER")
    sip_udp(cap, ok6, PCSCF6, UE6, encap=gtp(0x2002, seq=8))
    return pcap_file(cap, LINK_ETHERNET)


PDU_SESSION_UL = (0x85, bytes([0x10, 0x09]))  # UL PDU SESSION INFORMATION, QFI 9
PDU_SESSION_DL = (0x85, bytes([0x00, 0x09]))  # DL PDU SESSION INFORMATION, QFI 9
PDCP_NUMBER = (0xC0, struct.pack("!H", 300))
LONG_PDCP_NUMBER = (0x82, bytes([0x00, 0x01, 0x2C, 0x00, 0x00, 0x00]))  # 8 bytes in all


@capture("tunnel-gtpu-ext.pcap")
def tunnel_gtpu_ext(cap: Capture) -> bytes:
    """GTP-U with extension headers (E flag): a PDU session container (0x85), chains of
    PDCP number (0xC0) or long PDCP number (0x82, 8 bytes) then 0x85, N-PDU number (PN);
    inner IPv4 and IPv6; plus a GTP echo request (not SIP)."""
    d4 = cap.dialog(UE4, PCSCF4)
    invite = d4.request("INVITE", body=sdp(UE4.ip, 49170))
    sip_udp(cap, invite, UE4, PCSCF4, encap=gtp(0x1001, ext=[PDU_SESSION_UL]))
    ok = d4.response(200, "OK", "INVITE", body=sdp(PCSCF4.ip, 30000))
    chain = [PDCP_NUMBER, PDU_SESSION_DL]
    sip_udp(cap, ok, PCSCF4, UE4, encap=gtp(0x2001, seq=9, ext=chain))
    d6 = cap.dialog(UE6, PCSCF6)
    chain6 = [LONG_PDCP_NUMBER, PDU_SESSION_UL]
    sip_udp(cap, d6.request("OPTIONS"), UE6, PCSCF6, encap=gtp(0x1002, npdu=3, ext=chain6))
    ok6 = d6.response(200, "OK", "OPTIONS")
    sip_udp(cap, ok6, PCSCF6, UE6, encap=gtp(0x2002, npdu=4))
    enb, upf = GTP_OUTER
    echo = gtpu(b"", 0, seq=10, msg_type=1)
    cap.frame(eth(udp(enb, upf, echo)))
    return pcap_file(cap, LINK_ETHERNET)


# HEP

HEP_SEC = 1_600_000_000


@capture("hep2-ipv4.pcap")
def hep2_ipv4(cap: Capture) -> bytes:
    """HEPv2, IPv4, UDP: one to port 9060, one between arbitrary ports. Time and endpoints
    come from the HEP header, not from the frame."""
    d = cap.dialog(UA4, PROXY4)
    inv = d.request("INVITE", body=sdp(UA4.ip, 49170))
    sip_hep(cap, hep2(inv, UA4, PROXY4, "udp", HEP_SEC, 1), inv, UA4, PROXY4, "udp", HEP_SEC, 1)
    ok = d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000))
    hep = hep2(ok, PROXY4, UA4, "udp", HEP_SEC + 1, 500_000)
    other = Endpoint("203.0.113.9", 47002)
    sip_hep(cap, hep, ok, PROXY4, UA4, "udp", HEP_SEC + 1, 500_000, collector=other)
    return pcap_file(cap, LINK_ETHERNET)


@capture("hep2-ipv6-tcp.pcap")
def hep2_ipv6_tcp(cap: Capture) -> bytes:
    """HEPv2, IPv6 (family 10), IP protocol 6: messages are reported as TCP."""
    d = cap.dialog(UA6, PROXY6, "TCP")
    reg = d.request("REGISTER")
    sip_hep(cap, hep2(reg, UA6, PROXY6, "tcp", HEP_SEC, 2), reg, UA6, PROXY6, "tcp", HEP_SEC, 2)
    ok = d.response(200, "OK", "REGISTER")
    hep = hep2(ok, PROXY6, UA6, "tcp", HEP_SEC, 3)
    sip_hep(cap, hep, ok, PROXY6, UA6, "tcp", HEP_SEC, 3)
    return pcap_file(cap, LINK_ETHERNET)


@capture("hep3-ipv4.pcap")
def hep3_ipv4(cap: Capture) -> bytes:
    """HEPv3, IPv4, UDP, with auth key and correlation id chunks; the second on arbitrary ports
    with the payload chunk first."""
    d = cap.dialog(UA4, PROXY4)
    inv = d.request("INVITE", body=sdp(UA4.ip, 49170))
    hep = hep3(inv, UA4, PROXY4, "udp", HEP_SEC, 250_000, auth=b"s3cr3t", correlation=b"corr-1")
    sip_hep(cap, hep, inv, UA4, PROXY4, "udp", HEP_SEC, 250_000)
    ok = d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000))
    hep = hep3(ok, PROXY4, UA4, "udp", HEP_SEC, 750_000, payload_first=True)
    agent, collector = Endpoint("203.0.113.5", 41000), Endpoint("203.0.113.9", 41001)
    sip_hep(cap, hep, ok, PROXY4, UA4, "udp", HEP_SEC, 750_000, agent=agent, collector=collector)
    return pcap_file(cap, LINK_ETHERNET)


@capture("hep3-ipv6-tcp.pcap")
def hep3_ipv6_tcp(cap: Capture) -> bytes:
    """HEPv3, IPv6 address chunks (5/6), IP protocol 6."""
    d = cap.dialog(UA6, PROXY6, "TCP")
    bye = d.request("BYE")
    sip_hep(cap, hep3(bye, UA6, PROXY6, "tcp", HEP_SEC, 10), bye, UA6, PROXY6, "tcp", HEP_SEC, 10)
    ok = d.response(200, "OK", "BYE")
    sip_hep(cap, hep3(ok, PROXY6, UA6, "tcp", HEP_SEC, 20), ok, PROXY6, UA6, "tcp", HEP_SEC, 20)
    return pcap_file(cap, LINK_ETHERNET)


@capture("hep3-compressed.pcap")
def hep3_compressed(cap: Capture) -> bytes:
    """HEPv3 with the SIP message in a compressed payload chunk (16, zlib deflate)."""
    d = cap.dialog(UA4, PROXY4)
    inv = d.request("INVITE", body=sdp(UA4.ip, 49170, candidates=4))
    hep = hep3(inv, UA4, PROXY4, "udp", HEP_SEC, 5, compressed=True)
    sip_hep(cap, hep, inv, UA4, PROXY4, "udp", HEP_SEC, 5)
    return pcap_file(cap, LINK_ETHERNET)


@capture("hep3-non-sip.pcap")
def hep3_non_sip(cap: Capture) -> bytes:
    """HEPv3 chunks whose protocol type is not SIP (100 log, 5 RTCP; one log line is a copy of
    a SIP message) are not SIP; one SIP HEP packet among them is."""
    d = cap.dialog(UA4, PROXY4)
    log = b'{"level":"info","msg":"call started"}'
    hep_frame(cap, hep3(log, UA4, PROXY4, "udp", HEP_SEC, 1, ptype=100))
    rtcp = bytes.fromhex("80c8000600000001") + bytes(20)
    hep_frame(cap, hep3(rtcp, UA4, PROXY4, "udp", HEP_SEC, 2, ptype=5))
    opt = d.request("OPTIONS")
    hep_frame(cap, hep3(opt, UA4, PROXY4, "udp", HEP_SEC, 3, ptype=100))
    sip_hep(cap, hep3(opt, UA4, PROXY4, "udp", HEP_SEC, 4), opt, UA4, PROXY4, "udp", HEP_SEC, 4)
    return pcap_file(cap, LINK_ETHERNET)


# Fragments


def _big_invite(cap: Capture, caller: Endpoint, callee: Endpoint) -> bytes:
    """An INVITE of about 3 kB (ICE candidates), too big for one 1500-byte packet."""
    d = cap.dialog(caller, callee)
    return d.request("INVITE", body=sdp(caller.ip, 49170, candidates=36))


def _thirds(msg: bytes, v6: bool = False) -> list[tuple[int, int]]:
    size = 8 + len(msg)  # UDP header + message: the fragmented payload
    return (
        [(0, 1232), (1232, 2464), (2464, size)] if v6 else [(0, 1200), (1200, 2400), (2400, size)]
    )


@capture("frag-ipv4-inorder.pcap")
def frag_ipv4_inorder(cap: Capture) -> bytes:
    """A 3 kB SIP datagram in three IPv4 fragments, in order."""
    msg = _big_invite(cap, UA4, PROXY4)
    sip_fragmented(cap, msg, UA4, PROXY4, _thirds(msg), ident=0x0101)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv4-reverse.pcap")
def frag_ipv4_reverse(cap: Capture) -> bytes:
    """IPv4 fragments out of order (last first, as Linux sends them)."""
    msg = _big_invite(cap, UA4, PROXY4)
    sip_fragmented(cap, msg, UA4, PROXY4, _thirds(msg)[::-1], ident=0x0102)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv4-overlap.pcap")
def frag_ipv4_overlap(cap: Capture) -> bytes:
    """Overlapping IPv4 fragments (same bytes where they overlap): one datagram whose second
    fragment starts inside the first, one with a fragment contained in another."""
    msg = _big_invite(cap, UA4, PROXY4)
    size = 8 + len(msg)
    sip_fragmented(cap, msg, UA4, PROXY4, [(0, 1600), (1200, 2400), (2400, size)], ident=0x0103)
    msg2 = _big_invite(cap, PROXY4, UA4)
    size2 = 8 + len(msg2)
    pieces = [(0, 1600), (800, 1200), (1600, size2)]
    sip_fragmented(cap, msg2, PROXY4, UA4, pieces, ident=0x0104)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv4-overlap-same-offset.pcap")
def frag_ipv4_overlap_same_offset(cap: Capture) -> bytes:
    """Overlapping IPv4 fragments that start at the same offset: a short one, then a longer
    one (as when a datagram is fragmented again with a larger MTU)."""
    msg = _big_invite(cap, UA4, PROXY4)
    size = 8 + len(msg)
    sip_fragmented(cap, msg, UA4, PROXY4, [(0, 800), (0, 1600), (1600, size)], ident=0x0105)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv4-duplicate.pcap")
def frag_ipv4_duplicate(cap: Capture) -> bytes:
    """The middle IPv4 fragment captured twice before the datagram completes."""
    msg = _big_invite(cap, UA4, PROXY4)
    a, b, c = _thirds(msg)
    sip_fragmented(cap, msg, UA4, PROXY4, [a, b, b, c], ident=0x0106)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv6-reverse.pcap")
def frag_ipv6_reverse(cap: Capture) -> bytes:
    """A 3 kB SIP datagram in three IPv6 fragments (Fragment extension header), out of order."""
    msg = _big_invite(cap, UA6, PROXY6)
    pieces = _thirds(msg, v6=True)
    sip_fragmented(cap, msg, UA6, PROXY6, [pieces[1], pieces[2], pieces[0]], ident=0x0A0B0C0D)
    return pcap_file(cap, LINK_ETHERNET)


@capture("frag-ipv4-lone.pcap")
def frag_ipv4_lone(cap: Capture) -> bytes:
    """A whole SIP datagram, then the first fragment of a datagram whose other fragments were
    never captured (counted as skipped `unreassembled_fragment`)."""
    _options_ping(cap, UA4, PROXY4)
    msg = _big_invite(cap, UA4, PROXY4)
    sip_fragmented(cap, msg, UA4, PROXY4, _thirds(msg)[:1], ident=0x0107)
    return pcap_file(cap, LINK_ETHERNET)


# TCP

CLIENT4 = Endpoint("192.0.2.10", 45000)
CLIENT6 = Endpoint("2001:db8::10", 45002)


@capture("tcp-two-way.pcap")
def tcp_two_way(cap: Capture) -> bytes:
    """A whole TCP connection: handshake, INVITE, 100, 200 one way and the other, ACK, BYE,
    200, FIN."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    d = cap.dialog(CLIENT4, PROXY4, "TCP")
    conn.handshake()
    steps = [
        (True, d.request("INVITE", body=sdp(CLIENT4.ip, 49170))),
        (False, d.response(100, "Trying", "INVITE")),
        (False, d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000))),
        (True, d.request("ACK")),
        (True, d.request("BYE")),
        (False, d.response(200, "OK", "BYE")),
    ]
    for from_client, msg in steps:
        conn.sip(from_client, msg)
        conn.send_rest(from_client)
    conn.fin()
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-split-many.pcap")
def tcp_split_many(cap: Capture) -> bytes:
    """One INVITE across many 100-byte segments; the sequence number wraps past 2^32 inside it."""
    conn = TcpConn(cap, CLIENT4, PROXY4, isn=(0xFFFFFE00, 77))
    d = cap.dialog(CLIENT4, PROXY4, "TCP")
    conn.handshake()
    conn.sip(True, d.request("INVITE", body=sdp(CLIENT4.ip, 49170)))
    conn.send_rest(True, size=100)
    conn.sip(False, d.response(100, "Trying", "INVITE"))
    conn.send_rest(False)
    return pcap_file(cap, LINK_ETHERNET)


def _three_requests(cap: Capture, conn: TcpConn, client: Endpoint, server: Endpoint) -> None:
    d = cap.dialog(client, server, "TCP")
    conn.sip(True, d.request("REGISTER"))
    d2 = cap.dialog(client, server, "TCP")
    conn.sip(True, d2.request("INVITE", body=sdp(client.ip, 49170)))
    d3 = cap.dialog(client, server, "TCP")
    conn.sip(True, d3.request("OPTIONS"))


@capture("tcp-ooo.pcap")
def tcp_ooo(cap: Capture) -> bytes:
    """TCP over IPv6, segments out of order: 1, 3, 2, 5, 4."""
    conn = TcpConn(cap, CLIENT6, PROXY6)
    conn.handshake()
    _three_requests(cap, conn, CLIENT6, PROXY6)
    size = len(conn.dirs[True].buf)
    cuts = [0, 250, 500, 900, 1300, size]
    segs = list(pairwise(cuts))
    for i in (0, 2, 1, 4, 3):
        conn.send(True, *segs[i])
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-retransmission.pcap")
def tcp_retransmission(cap: Capture) -> bytes:
    """A segment sent again after it was delivered (counted `tcp_retransmission`)."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    conn.handshake()
    _three_requests(cap, conn, CLIENT4, PROXY4)
    conn.send(True, 0, 400)
    conn.send(True, 400, 800)
    conn.send(True, 400, 800)  # retransmitted
    conn.send_rest(True)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-retransmission-ooo.pcap")
def tcp_retransmission_ooo(cap: Capture) -> bytes:
    """A segment that arrived out of order (held for a hole) is retransmitted before the hole
    fills: still a retransmission (counted `tcp_retransmission`)."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    conn.handshake()
    _three_requests(cap, conn, CLIENT4, PROXY4)
    size = len(conn.dirs[True].buf)
    conn.send(True, 0, 400)
    conn.send(True, 800, size)
    conn.send(True, 800, size)  # retransmitted while waiting for 400..800
    conn.send(True, 400, 800)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-overlap.pcap")
def tcp_overlap(cap: Capture) -> bytes:
    """Segments overlapping the bytes before them (repacketised retransmissions), in order and
    out of order (one filling a hole overlaps both of its neighbours)."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    conn.handshake()
    _three_requests(cap, conn, CLIENT4, PROXY4)
    size = len(conn.dirs[True].buf)
    for start, end in [(0, 300), (200, 500), (450, 700), (1000, size), (650, 1100)]:
        conn.send(True, start, end)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-multi-per-segment.pcap")
def tcp_multi_per_segment(cap: Capture) -> bytes:
    """Three SIP messages in one TCP segment, then two in the next (with CRLF keep-alives)."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    conn.handshake()
    _three_requests(cap, conn, CLIENT4, PROXY4)
    conn.send_rest(True, size=4000)
    d = cap.dialog(CLIENT4, PROXY4, "TCP")
    conn.write(True, b"\r\n\r\n")  # RFC 5626 keep-alive ping between messages
    conn.sip(True, d.request("OPTIONS"))
    d2 = cap.dialog(CLIENT4, PROXY4, "TCP")
    conn.sip(True, d2.request("OPTIONS"))
    conn.send_rest(True, size=4000)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-gap.pcap")
def tcp_gap(cap: Capture) -> bytes:
    """A segment never captured: the message it held part of is lost; the messages after it
    are still found once the stream resynchronises (Accounting.tcp_gaps >= 1)."""
    conn = TcpConn(cap, CLIENT4, PROXY4)
    conn.handshake()
    for _ in range(4):
        d = cap.dialog(CLIENT4, PROXY4, "TCP")
        conn.sip(True, d.request("OPTIONS"))
    first = conn.dirs[True].spans[0].end
    second = conn.dirs[True].spans[1]
    middle = (second.start + second.end) // 2
    conn.send(True, 0, first)
    # (first, middle) is never sent.
    conn.send(True, middle, second.end + 100)
    conn.send_rest(True, size=200)
    return pcap_file(cap, LINK_ETHERNET)


@capture("tcp-midstream.pcap")
def tcp_midstream(cap: Capture) -> bytes:
    """A capture starting in the middle of a connection, inside a message: that message is
    lost, the following ones are found."""
    conn = TcpConn(cap, CLIENT4, PROXY4, isn=(0x89ABCDEF, 0x12345678))
    _three_requests(cap, conn, CLIENT4, PROXY4)
    start = conn.dirs[True].spans[0].start + 120
    conn.send(True, start, conn.dirs[True].spans[1].end)
    conn.send_rest(True)
    return pcap_file(cap, LINK_ETHERNET)


@capture("sctp-multi-chunk.pcap")
def sctp_multi_chunk(cap: Capture) -> bytes:
    """SIP over SCTP (RFC 4168): three DATA chunks in one packet; a SACK bundled with DATA the
    other way; one message fragmented over two DATA chunks in two packets."""
    client, server = Endpoint("192.0.2.10", 5060), Endpoint("192.0.2.20", 5060)
    msgs = [cap.dialog(client, server, "SCTP").request("OPTIONS") for _ in range(3)]
    chunks = [
        SCTPChunkData(tsn=100 + i, stream_id=i, stream_seq=0, beginning=1, ending=1, data=m)
        for i, m in enumerate(msgs)
    ]
    packet = ip(client.ip, server.ip) / SCTP(sport=5060, dport=5060, tag=0x1A2B3C4D)
    for chunk in chunks:
        packet = packet / chunk
    frame = cap.frame(eth(packet))
    for m in msgs:
        cap.expect("sctp", client, server, m, frame=frame)
    d = cap.dialog(server, client, "SCTP")
    reply = d.request("OPTIONS")
    back = (
        ip(server.ip, client.ip)
        / SCTP(sport=5060, dport=5060, tag=0x5E6F7081)
        / SCTPChunkSACK(cumul_tsn_ack=102, a_rwnd=65535)
        / SCTPChunkData(tsn=500, stream_id=0, stream_seq=0, beginning=1, ending=1, data=reply)
    )
    cap.expect("sctp", server, client, reply, frame=cap.frame(eth(back)))
    big = cap.dialog(client, server, "SCTP").request("INVITE", body=sdp(client.ip, 49170))
    half = len(big) // 2
    for tsn, part, begin in ((103, big[:half], 1), (104, big[half:], 0)):
        data = SCTPChunkData(
            tsn=tsn, stream_id=0, stream_seq=1, beginning=begin, ending=1 - begin, data=part
        )
        frame = cap.frame(
            eth(ip(client.ip, server.ip) / SCTP(sport=5060, dport=5060, tag=0x1A2B3C4D) / data)
        )
    cap.expect("sctp", client, server, big, frame=frame)
    return pcap_file(cap, LINK_ETHERNET)


WS_CLIENT = Endpoint("192.0.2.10", 51000)
WS_SERVER = Endpoint("192.0.2.20", 8080)
WS_UPGRADE = (
    b"GET /sip HTTP/1.1\r\nHost: 192.0.2.20:8080\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: https://www.example.test\r\nSec-WebSocket-Protocol: sip\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
WS_ACCEPT = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
)


@capture("ws-masked-fragmented.pcap")
def ws_masked_fragmented(cap: Capture) -> bytes:
    """SIP over WebSocket (RFC 7118): HTTP Upgrade and 101, a masked REGISTER in one frame,
    the 200 unmasked, then an INVITE masked and fragmented into three frames with a ping between
    them, split over two TCP segments inside a frame."""
    conn = TcpConn(cap, WS_CLIENT, WS_SERVER, transport="ws")
    conn.handshake()
    conn.write(True, WS_UPGRADE)
    conn.send_rest(True)
    conn.write(False, WS_ACCEPT)
    conn.send_rest(False)
    d = cap.dialog(WS_CLIENT, WS_SERVER, "WS")
    reg = d.request("REGISTER")
    conn.write(True, ws_frame(reg, mask=b"\x37\xfa\x21\x3d"), expect=reg)
    conn.send_rest(True)
    ok = d.response(200, "OK", "REGISTER")
    conn.write(False, ws_frame(ok), expect=ok)
    conn.send_rest(False)
    invite = cap.dialog(WS_CLIENT, WS_SERVER, "WS").request("INVITE", body=sdp(WS_CLIENT.ip, 49170))
    key = b"\x01\x23\x45\x67"
    a, b = len(invite) // 3, 2 * len(invite) // 3
    frames = (
        ws_frame(invite[:a], 1, fin=False, mask=key)
        + ws_frame(b"ping", 9, mask=key)
        + ws_frame(invite[a:b], 0, fin=False, mask=key)
        + ws_frame(invite[b:], 0, mask=key)
    )
    start = len(conn.dirs[True].buf)
    conn.write(True, frames, expect=invite)
    conn.send(True, start, start + a + 40)
    conn.send_rest(True)
    return pcap_file(cap, LINK_ETHERNET)


@capture("any-port.pcap")
def any_port(cap: Capture) -> bytes:
    """SIP found by its start line on ports that are not 5060 (UDP and TCP); a binary
    datagram on port 5060 is not SIP."""
    a, b = Endpoint("192.0.2.10", 40000), Endpoint("192.0.2.20", 12345)
    _options_ping(cap, a, b)
    rtp = bytes.fromhex("80000001000000a0deadbeef") + bytes(160)
    cap.frame(eth(udp(PROXY4, UA4, rtp)))
    conn = TcpConn(cap, Endpoint("192.0.2.10", 33333), Endpoint("192.0.2.20", 15060))
    conn.handshake()
    d = cap.dialog(Endpoint("192.0.2.10", 33333), Endpoint("192.0.2.20", 15060), "TCP")
    conn.sip(True, d.request("REGISTER"))
    conn.send_rest(True)
    conn.sip(False, d.response(200, "OK", "REGISTER"))
    conn.send_rest(False)
    return pcap_file(cap, LINK_ETHERNET)


# Truncated and corrupted files


def _three_datagrams(cap: Capture) -> None:
    d = cap.dialog(UA4, PROXY4)
    sip_udp(cap, d.request("INVITE", body=sdp(UA4.ip, 49170)), UA4, PROXY4)
    sip_udp(cap, d.response(180, "Ringing", "INVITE"), PROXY4, UA4)
    sip_udp(cap, d.response(200, "OK", "INVITE", body=sdp(PROXY4.ip, 30000)), PROXY4, UA4)


@capture("bad-cut-mid-record.pcap")
def bad_cut_mid_record(cap: Capture) -> bytes:
    """A pcap cut inside the third record's data (tcpdump killed): the first two frames are
    read, the file is flagged truncated with a warning."""
    _three_datagrams(cap)
    content = pcap_file(cap, LINK_ETHERNET)
    ends = pcap_record_ends(content)
    cap.readable, cap.truncated = 2, True
    return content[: ends[1] + 16 + 50]


@capture("bad-cut-record-header.pcap")
def bad_cut_record_header(cap: Capture) -> bytes:
    """A pcap cut inside the third record's 16-byte header."""
    _three_datagrams(cap)
    content = pcap_file(cap, LINK_ETHERNET)
    cap.readable, cap.truncated = 2, True
    return content[: pcap_record_ends(content)[1] + 9]


@capture("bad-cut-global-header.pcap")
def bad_cut_global_header(cap: Capture) -> bytes:
    """A pcap cut inside its 24-byte global header: a pcap with no frames, truncated."""
    _three_datagrams(cap)
    content = pcap_file(cap, LINK_ETHERNET)
    cap.readable, cap.truncated = 0, True
    return content[:14]


@capture("bad-cut-pcapng.pcapng")
def bad_cut_pcapng(cap: Capture) -> bytes:
    """A pcapng cut inside its third Enhanced Packet Block."""
    cap.section("<", (LINK_ETHERNET, 6))
    _three_datagrams(cap)
    content = pcapng_file(cap)
    third = pcapng_packet_blocks(content)[2]
    cap.readable, cap.truncated = 2, True
    return content[: third + 40]


@capture("bad-cut-gzip.pcap.gz")
def bad_cut_gzip(cap: Capture) -> bytes:
    """A gzip-compressed pcap whose compressed stream is cut (gzip killed): the frames whose
    bytes can still be decompressed are read, the file is flagged truncated."""
    for _ in range(4):
        _three_datagrams(cap)
    content = pcap_file(cap, LINK_ETHERNET)
    packed = gzipped(cap, content)
    cut = packed[: len(packed) * 2 // 3]
    available = zlib.decompressobj(31).decompress(cut)
    cap.readable = sum(end <= len(available) for end in pcap_record_ends(content))
    assert 0 < cap.readable < len(cap.records)
    cap.truncated = True
    return cut


@capture("bad-absurd-length.pcap")
def bad_absurd_length(cap: Capture) -> bytes:
    """A pcap whose third record header claims 4 GB of data: the first two frames are read,
    reading stops, the file is flagged truncated with a warning."""
    _three_datagrams(cap)
    content = pcap_file(cap, LINK_ETHERNET)
    at = pcap_record_ends(content)[1]
    bad = content[: at + 8] + struct.pack("<II", 0xFFFFFFF0, 0xFFFFFFF0) + content[at + 16 :]
    cap.readable, cap.truncated = 2, True
    return bad


@capture("bad-pcapng-block-length.pcapng")
def bad_pcapng_block_length(cap: Capture) -> bytes:
    """A pcapng whose third packet block has a corrupt total length (not a multiple of 4,
    absurdly large): the first two frames are read, reading stops, flagged truncated."""
    cap.section("<", (LINK_ETHERNET, 6))
    _three_datagrams(cap)
    content = bytearray(pcapng_file(cap))
    third = pcapng_packet_blocks(content)[2]
    content[third + 4 : third + 8] = struct.pack("<I", 0xDEADBEEF)
    cap.readable, cap.truncated = 2, True
    return bytes(content)


@capture("bad-snaplen.pcap")
def bad_snaplen(cap: Capture) -> bytes:
    """Snaplen 400: a large INVITE is cut (incl_len < orig_len) and yields what was captured
    (counted `partial`); the 100 Trying after it is whole."""
    cap.snaplen = 400
    d = cap.dialog(UA4, PROXY4)
    sip_udp(cap, d.request("INVITE", body=sdp(UA4.ip, 49170, candidates=4)), UA4, PROXY4)
    sip_udp(cap, d.response(100, "Trying", "INVITE"), PROXY4, UA4)
    return pcap_file(cap, LINK_ETHERNET)


@capture("bad-snaplen-ip-header.pcap")
def bad_snaplen_ip_header(cap: Capture) -> bytes:
    """Snaplen 30: every frame cut inside its IPv4 header (skipped `snaplen_truncated`)."""
    cap.snaplen = 30
    d = cap.dialog(UA4, PROXY4)
    for msg in (d.request("OPTIONS"), d.response(200, "OK", "OPTIONS")):
        cap.frame(eth(udp(UA4, PROXY4, msg)))
        cap.skip("snaplen_truncated")
    return pcap_file(cap, LINK_ETHERNET)


@capture("bad-unknown-linktype.pcap")
def bad_unknown_linktype(cap: Capture) -> bytes:
    """A pcap of LINKTYPE_USER0 (147): every frame skipped `unknown_link_type:147`."""
    d = cap.dialog(UA4, PROXY4)
    for msg in (d.request("OPTIONS"), d.response(200, "OK", "OPTIONS")):
        cap.frame(b"\x00\x01\x02\x03" + raw(udp(UA4, PROXY4, msg)))
        cap.skip(f"unknown_link_type:{LINK_USER0}")
    return pcap_file(cap, LINK_USER0)


@capture("bad-unknown-linktype.pcapng")
def bad_unknown_linktype_ng(cap: Capture) -> bytes:
    """A pcapng with an Ethernet interface and a LINKTYPE_USER0 one: only the latter's frame
    is skipped `unknown_link_type:147`."""
    cap.section("<", (LINK_ETHERNET, 6), (LINK_USER0, 6))
    d = cap.dialog(UA4, PROXY4)
    sip_udp(cap, d.request("OPTIONS"), UA4, PROXY4, iface=0)
    cap.frame(
        b"\x00\x01\x02\x03" + raw(udp(PROXY4, UA4, d.response(200, "OK", "OPTIONS"))), iface=1
    )
    cap.skip(f"unknown_link_type:{LINK_USER0}")
    return pcapng_file(cap)


class _Prng:
    """Deterministic bytes from SHA-256 of a seed and a counter (same on every Python)."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._counter = 0
        self._pool = b""

    def byte(self) -> int:
        if not self._pool:
            self._pool = hashlib.sha256(f"{self._seed}:{self._counter}".encode()).digest()
            self._counter += 1
        value, self._pool = self._pool[0], self._pool[1:]
        return value

    def below(self, n: int) -> int:
        return (self.byte() << 8 | self.byte()) % n


@capture("bad-garbage-headers.pcap")
def bad_garbage_headers(cap: Capture) -> bytes:
    """Random bytes written over the IPv4/IPv6 and UDP headers of most frames (fixed seed).
    Nothing may crash and every frame must land in a bucket; the clean frames between them
    must still yield their messages, in order."""
    cap.robustness = True
    prng = _Prng("bad-garbage-headers")
    for i in range(32):
        src, dst = (UA6, PROXY6) if i % 3 == 2 else (UA4, PROXY4)
        d = cap.dialog(src, dst)
        msg = d.request("OPTIONS")
        if i % 4 == 0:
            sip_udp(cap, msg, src, dst)
            continue
        frame = bytearray(eth(udp(src, dst, msg)))
        header = (40 if ":" in src.ip else 20) + 8
        for _ in range(1 + prng.below(4)):
            frame[14 + prng.below(header)] = prng.byte()
        cap.frame(bytes(frame))
    return pcap_file(cap, LINK_ETHERNET)


# Files that are not captures


def _netmon_header(magic: bytes, major: int) -> bytes:
    systemtime = struct.pack("<8H", 2023, 11, 2, 14, 22, 13, 20, 0)
    head = magic + bytes([0, major]) + struct.pack("<H", 1) + systemtime
    return head + b"\0" * (128 - len(head))


@not_capture("notcap-netmon2.cap", "Network Monitor")
def notcap_netmon2() -> bytes:
    """A Microsoft Network Monitor 2.x capture (magic `GMBU`)."""
    return _netmon_header(b"GMBU", 2) + eth(udp(UA4, PROXY4, b"OPTIONS sip:x SIP/2.0\r\n\r\n"))


@not_capture("notcap-netmon1.cap", "Network Monitor")
def notcap_netmon1() -> bytes:
    """A Microsoft Network Monitor 1.x capture (magic `RTSS`)."""
    return _netmon_header(b"RTSS", 1) + eth(udp(UA4, PROXY4, b"OPTIONS sip:x SIP/2.0\r\n\r\n"))


@not_capture("notcap-erf.erf", "ERF")
def notcap_erf() -> bytes:
    """An Endace ERF file: two Ethernet records (type 2) of SIP datagrams."""
    out = []
    d = Dialog("notcap-erf-1@make-data.test", UA4, PROXY4, "UDP")
    for i, msg in enumerate((d.request("OPTIONS"), d.response(200, "OK", "OPTIONS"))):
        frame = eth(udp(UA4, PROXY4, msg) if i == 0 else udp(PROXY4, UA4, msg))
        body = b"\0\0" + frame  # Ethernet records: offset and pad bytes first
        rlen = 16 + len(body) + (-(16 + len(body))) % 8
        ts = ((1_700_000_000 + i) << 32) | 0x80000000
        head = struct.pack("<Q", ts) + struct.pack("!BBHHH", 2, 0x04, rlen, 0, len(frame))
        out.append(head + body + b"\0" * (rlen - 16 - len(body)))
    return b"".join(out)


@not_capture("notcap-text.txt", "text")
def notcap_text() -> bytes:
    """A text file (a SIP message pasted from a log)."""
    d = Dialog("notcap-text-1@make-data.test", UA4, PROXY4, "UDP")
    return b"Received from udp:192.0.2.10:5060 at 22:13:20.000:\n" + d.request("OPTIONS")


@not_capture("notcap-empty.pcap", "empty")
def notcap_empty() -> bytes:
    """An empty file."""
    return b""


# -- writing -------------------------------------------------------------------------


def _doc(fn: Callable[..., bytes]) -> str:
    """A builder's docstring on one line: the capture's description in the manifest."""
    return " ".join((fn.__doc__ or "").split())


def write_all(out: Path) -> dict[str, object]:
    """Write every capture and non-capture plus MANIFEST.json into `out`; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, object] = {}
    for name, build in CAPTURES.items():
        cap = Capture(name, _doc(build))
        content = build(cap)
        (out / name).write_bytes(content)
        entries[name] = cap.manifest()
    for name, (make, words) in NOT_CAPTURES.items():
        (out / name).write_bytes(make())
        entries[name] = {"kind": "not_capture", "description": _doc(make), "error": list(words)}
    manifest: dict[str, object] = {
        "generator": "tests/data/make_data.py",
        "captures": dict(sorted(entries.items())),
    }
    (out / MANIFEST).write_text(_manifest_text(manifest), encoding="utf-8")
    return manifest


def _manifest_text(manifest: dict[str, object]) -> str:
    """JSON, one line per message so the file stays small and diffs stay readable."""
    captures = manifest["captures"]
    assert isinstance(captures, dict)
    blocks = []
    for name, entry in captures.items():
        fields = []
        for key, value in entry.items():
            if key == "messages" and value:
                lines = ",\n".join(f"    {json.dumps(m)}" for m in value)
                fields.append(f'   "messages": [\n{lines}\n   ]')
            else:
                fields.append(f"   {json.dumps(key)}: {json.dumps(value)}")
        blocks.append(f"  {json.dumps(name)}: {{\n" + ",\n".join(fields) + "\n  }")
    head = f' "generator": {json.dumps(manifest["generator"])},\n "captures": {{\n'
    return "{\n" + head + ",\n".join(blocks) + "\n }\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=HERE, help="directory (default: tests/data)")
    args = parser.parse_args(argv)
    manifest = write_all(args.out)
    captures = manifest["captures"]
    assert isinstance(captures, dict)
    print(f"wrote {len(captures)} files and {MANIFEST} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
