"""The ingest stage's front door: capture file(s) to SIP payloads plus accounting.

`read_sip(path, accounting)` yields one `SipPacket` per SIP message found
(UDP datagrams, reassembled TCP streams, IP fragments), found by its start
line on any port. Every frame read lands in exactly one accounting bucket.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..sip.parser import looks_like_sip
from .capture import CaptureInfo, open_records
from .decode import Decoded, Decoder, NonSip, Pending, Segment, Skip
from .hep import PROTO_TYPE_SIP, HepError, is_hep, parse_hep
from .sctp import SctpReader
from .tcp import FlowKey, TcpReassembler


@dataclass(frozen=True, slots=True)
class SipPacket:
    """One SIP message's bytes as found in a capture."""

    frame: int
    """Frame number (1-based) where the message was complete."""
    time: float
    """Capture time of that frame, seconds since the epoch."""
    transport: str
    """`udp`, `tcp`, `ws` (WebSocket over TCP) or `sctp`."""
    src: str
    """Source IP address."""
    sport: int
    """Source port."""
    dst: str
    """Destination IP address."""
    dport: int
    """Destination port."""
    data: bytes
    """The message bytes."""
    fragments: tuple[int, ...] = ()
    """Frames of the earlier IP fragments of its datagram (empty if not fragmented)."""


MAX_WARNINGS = 200


@dataclass(slots=True)
class Accounting:
    """Where every packet of one capture went. `packets == sip + non_sip + sum(skipped)`."""

    path: str
    """Capture path as given."""
    format: str = "unknown"
    """Capture format, e.g. `pcap`, `pcapng+gzip`."""
    packets: int = 0
    """Frames read."""
    sip: int = 0
    """Frames that carried SIP (whole messages or stream segments of them)."""
    non_sip: int = 0
    """Frames decoded fine that carried no SIP."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Frames not decoded, by reason."""
    non_sip_kinds: Counter[str] = field(default_factory=Counter)
    """What the non-SIP frames were."""
    sip_messages: int = 0
    """SIP messages parsed."""
    sip_errors: Counter[str] = field(default_factory=Counter)
    """Messages that could not be parsed (or were cut by the capture), by reason."""
    partial: int = 0
    """Frames whose IP header claims more bytes than were captured (decoded from what was)."""
    tcp_gaps: int = 0
    """Holes in TCP streams that never filled."""
    stream_skipped_bytes: int = 0
    """Bytes of SIP streams (TCP, WebSocket) skipped as garbage while resynchronising."""
    keepalives: int = 0
    """Keep-alive CRLFs seen inside SIP streams (RFC 5626 §4.4.1)."""
    hep: int = 0
    """SIP messages that came HEP-encapsulated (time and addresses from the HEP agent)."""
    truncated: bool = False
    """The file ended in the middle of a record."""
    warnings: list[str] = field(default_factory=list)
    """Human-readable warnings about the file."""
    warnings_suppressed: int = 0
    """Warnings beyond `MAX_WARNINGS`, counted but not kept."""
    first_time: float | None = None
    """Time of the first frame."""
    last_time: float | None = None
    """Time of the last frame."""
    position: Callable[[], int] | None = field(default=None, repr=False, compare=False)
    """Bytes of the file read so far, for progress display (None for stdin)."""

    @property
    def balanced(self) -> bool:
        """Whether every packet is in exactly one bucket."""
        return self.packets == self.sip + self.non_sip + sum(self.skipped.values())

    def warn(self, text: str) -> None:
        """Record a warning; past `MAX_WARNINGS` only count them, so memory stays bounded."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)
        else:
            self.warnings_suppressed += 1

    def reclassify_sip(self, reason: str) -> None:
        """Move one frame from `sip` to skipped (e.g. its datagram did not parse)."""
        self.sip -= 1
        self.skipped[reason] += 1


def read_sip(path: str, acc: Accounting) -> Iterator[SipPacket]:
    """Yield the SIP payloads of one capture, filling `acc` as frames are read.

    Raises `analyzer.ingest.CaptureError` when the file is not a capture.
    """
    info, records = open_records(path, _quick_drop)
    acc.format = info.format
    acc.position = info.position
    decoder = Decoder()
    tcp = TcpReassembler()
    sctp = SctpReader()
    for record in records:
        number, time, linktype, data, _orig = record
        acc.packets += 1
        if acc.first_time is None:
            acc.first_time = time
        if not data:
            acc.skipped["empty_record"] += 1
            continue
        result = decoder.decode(number, time, linktype, data)
        fragments: tuple[int, ...] = ()
        if decoder.completed_fragment_frames:
            for held, final in decoder.completed_fragment_frames:
                for _ in held:
                    _count(acc, final)
                if final is result:
                    fragments = tuple(held)
            decoder.completed_fragment_frames.clear()
        if decoder.expired_fragment_frames:
            acc.skipped["unreassembled_fragment"] += len(decoder.expired_fragment_frames)
            decoder.expired_fragment_frames.clear()
        if isinstance(result, Pending):
            continue  # counted when its datagram completes or expires
        if not isinstance(result, Segment):
            _count(acc, result)
            continue
        if result.partial:
            acc.partial += 1
        if result.transport == "udp":
            payload = result.payload
            if looks_like_sip(payload):
                acc.sip += 1
                yield _packet(number, time, result, "udp", payload, fragments)
            elif is_hep(payload):
                hep = _hep(acc, number, time, payload)
                if hep is not None:
                    yield hep
            else:
                acc.non_sip += 1
                acc.non_sip_kinds["udp_keepalive" if not payload.strip(b"\r\n\x00") else "udp"] += 1
            continue
        if result.transport == "sctp":
            key = (result.src, result.sport, result.dst, result.dport)
            found = [m for m in sctp.messages(key, result.payload) if looks_like_sip(m)]
            if found:
                acc.sip += 1
            else:
                acc.non_sip += 1
                acc.non_sip_kinds["sctp"] += 1
            for msg in found:
                yield _packet(number, time, result, "sctp", msg)
            continue
        tr = tcp.feed(result, time, number)
        if tr.duplicate:
            acc.skipped["tcp_retransmission"] += 1
        elif tr.sip:
            acc.sip += 1
        else:
            acc.non_sip += 1
            acc.non_sip_kinds["tcp"] += 1
        for msg in tr.messages:
            yield _packet(number, time, result, "ws" if tr.websocket else "tcp", msg)
    # Records the reader passed over: UDP datagrams that cannot start SIP, HEP or GTP.
    acc.packets += info.dropped
    acc.non_sip += info.dropped
    if info.dropped:
        acc.non_sip_kinds["udp"] += info.dropped
    acc.last_time = info.last_time
    if acc.first_time is None:
        acc.first_time = info.first_time
    # Messages that waited past a hole that never filled: found once the hole is skipped.
    completed, leftovers = tcp.finish()
    for (src, sport, dst, dport), kind, msg, number, time in completed:
        yield SipPacket(number, time, kind, src, sport, dst, dport, msg)
    _finish(info, acc, decoder, tcp, leftovers)


def _hep(acc: Accounting, number: int, time: float, payload: bytes) -> SipPacket | None:
    """A HEP-encapsulated message: time and addresses are the agent's, not the datagram's."""
    try:
        hep = parse_hep(payload)
    except (HepError, struct.error, IndexError, ValueError) as exc:
        acc.skipped[getattr(exc, "reason", "hep_malformed")] += 1
        return None
    if hep.proto_type != PROTO_TYPE_SIP or not looks_like_sip(hep.payload):
        acc.non_sip += 1
        acc.non_sip_kinds[f"hep_type_{hep.proto_type}"] += 1
        return None
    acc.sip += 1
    acc.hep += 1
    when = hep.time if hep.time is not None else time
    return SipPacket(
        number, when, hep.transport, hep.src, hep.sport, hep.dst, hep.dport, hep.payload
    )


# First payload bytes that may begin something we read: a SIP start line (token
# characters, or CRLF before it), HEP (`H`, version 1/2), GTP-U (0x30-0x37), or a
# NUL/CRLF keep-alive that is counted as such. RTP (0x80-0xBF) is never one of them.
_INTERESTING = bytes(
    1 if (chr(b).isalnum() and b < 128) or bytes([b]) in b"-.!%*_+`'~\r\n\x00\x01\x02" else 0
    for b in range(256)
)
# Link types whose header the quick test reads: LINKTYPE -> (ethertype offset, IP offset).
_QUICK_LINKS = {1: (12, 14), 113: (14, 16), 276: (0, 20)}


def _quick_drop(buf: bytes, p: int, incl: int, linktype: int) -> bool:
    """Whether a record is an unfragmented, fully captured IP/UDP datagram that
    cannot carry SIP, HEP or GTP-U (e.g. RTP): decided from a few bytes, no copy.

    This is the hot path of RTP-heavy captures; everything else takes the full decoder.
    """
    offsets = _QUICK_LINKS.get(linktype)
    if offsets is None:
        return False
    e, ip = p + offsets[0], p + offsets[1]
    if buf[e] == 0x08 and buf[e + 1] == 0x00:  # IPv4, 20-byte header, UDP, not a fragment
        return (
            buf[ip] == 0x45
            and buf[ip + 9] == 17
            and not (buf[ip + 6] & 0x3F or buf[ip + 7])
            and 28 < ((buf[ip + 2] << 8) | buf[ip + 3]) <= incl - (ip - p)
            and not _INTERESTING[buf[ip + 28]]
        )
    if buf[e] == 0x86 and buf[e + 1] == 0xDD:  # IPv6, next header UDP
        return (
            buf[ip + 6] == 17
            and 8 < ((buf[ip + 4] << 8) | buf[ip + 5]) <= incl - (ip - p) - 40
            and not _INTERESTING[buf[ip + 48]]
        )
    return False


def _packet(
    number: int,
    time: float,
    seg: Segment,
    transport: str,
    data: bytes,
    fragments: tuple[int, ...] = (),
) -> SipPacket:
    return SipPacket(
        number, time, transport, seg.src, seg.sport, seg.dst, seg.dport, data, fragments
    )


def _count(acc: Accounting, result: Decoded) -> None:
    if isinstance(result, Skip):
        acc.skipped[result.reason] += 1
    elif isinstance(result, NonSip):
        acc.non_sip += 1
        acc.non_sip_kinds[result.reason] += 1
    elif isinstance(result, Segment):
        # A reassembled datagram's earlier fragments share its fate.
        if result.transport == "udp" and looks_like_sip(result.payload):
            acc.sip += 1
        else:
            acc.non_sip += 1
            acc.non_sip_kinds[result.transport] += 1


def _finish(
    info: CaptureInfo,
    acc: Accounting,
    decoder: Decoder,
    tcp: TcpReassembler,
    leftovers: list[tuple[FlowKey, bytes]],
) -> None:
    acc.truncated = info.truncated
    for text in info.warnings or []:
        acc.warn(text)
    leftover = decoder.pending_frames() + decoder.expired_fragment_frames
    if leftover:
        acc.skipped["unreassembled_fragment"] += len(leftover)
    for (src, sport, dst, dport), rest in leftovers:
        if looks_like_sip(rest):
            acc.sip_errors["tcp_incomplete_message"] += 1
            acc.warn(
                f"TCP {src}:{sport} -> {dst}:{dport}: capture ended inside a SIP message "
                f"({len(rest)} bytes)"
            )
    acc.tcp_gaps = tcp.gaps
    acc.stream_skipped_bytes = tcp.skipped_bytes
    acc.keepalives = tcp.keepalives
    if acc.stream_skipped_bytes:
        acc.warn(
            f"{acc.stream_skipped_bytes} byte(s) of SIP streams were not SIP and were skipped "
            "while resynchronising"
        )
    if acc.partial:
        acc.warn(
            f"{acc.partial} frame(s) shorter than their IP length: decoded from the bytes captured"
        )
