"""Export: the packets of the selected calls, and nothing else, to a new capture.

`export_pcap(analysis, path, scrub)` reads the source captures again and
writes, in capture order (capture, then frame number), every frame that carried
bytes of a selected message, with its original timestamp and bytes:

- UDP: the datagram's frame, plus the frames of its earlier IP fragments.
- HEP: the frame of the HEP packet that relayed the message.
- SCTP: every packet with a DATA chunk of the message (RFC 4168: one message per
  user message, possibly split over chunks); a retransmitted chunk is not.
- TCP, and WebSocket over TCP: every segment that carried at least one byte of a
  selected message (a WebSocket frame header counts as a byte of its message),
  retransmissions included. A segment holding the end of one message and the
  start of the next belongs to both calls. Segments without payload (pure ACKs,
  SYN, FIN, RST) and segments that carry only other calls' bytes or keep-alive
  CRLFs are left out: the output holds exactly the selected calls' packets, so
  Wireshark reports "previous segment not captured" between them. The one
  exception is WebSocket: the segments of the HTTP upgrade of both directions
  are written too, as fragments are for UDP, since without them no dissector
  (ours or Wireshark's) finds the messages.
- TLS (from the tshark engine): the frame that completed the record; the
  ciphertext needs no scrubbing, but earlier segments of the record are not
  followed.

How TCP bytes are mapped to segments: each TCP direction that carried a selected
message is reassembled again, mirroring `ingest.tcp` (first-seen bytes win, early
segments wait for their hole, a hole that never fills is skipped), in absolute
stream offsets. Every payload segment is remembered as the offset range it
covered (a retransmission covers the same range again). The in-order bytes go
through the same SIP framer (or a WebSocket frame walker), so each message is
cut with its exact offset range. A cut message that is a selected message of
that direction (the same bytes; or, when the analysis stored messages redacted,
the bytes `scrub` makes of it: pass the redactor the analysis used, whose
stand-ins are stable) marks every segment overlapping its range: those seen
before it and any retransmission after it.

Output format: always pcapng, never classic pcap, even for one link type. One
writer covers several source captures and link types; each Interface
Description Block keeps the source's timestamp resolution (if_tsresol), so
microsecond and nanosecond timestamps are copied as the integer ticks read from
the file, exactly (a float of epoch seconds cannot hold nanoseconds), and its
if_description names the source file. Wireshark, tshark, tcpdump (libpcap >=
1.1) and editcap read it; `editcap -F pcap` converts for tools that cannot. The
sources are read here with a small record reader of their own for that reason:
`ingest.capture` yields float seconds. (A pcapng Simple Packet Block has no
timestamp; its frame is written with time 0.)

Scrubbing (`scrub`, a same-length rewrite of SIP message bytes) is applied to
every whole message that a written frame carries bytes of, the other calls'
included (a segment or SCTP packet shared by two calls): the UDP/HEP/SCTP
payload, or the reassembled IP datagram for fragments (written back fragment by
fragment), or the reassembled TCP message (WebSocket: unmasked, scrubbed,
masked again), mapped back byte by byte to every segment that carried it, so a
nonce split between two segments is scrubbed in both. Stream bytes outside
messages (an unfinished message, resynchronisation garbage, the HTTP upgrade)
go through `scrub` too. Then the UDP, TCP, SCTP (CRC32c), GTP-U outer UDP and
GRE checksums are recomputed (IPv4 header checksums do not change: only payload
bytes do; an IPv4 UDP checksum of 0, meaning "none", stays 0). A frame in which
credentials cannot be scrubbed (a compressed HEP payload, a TCP segment in IP
fragments, headers not walked here) is left out and counted, never written with
them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
import zlib
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .analysis import Analysis
from .correlate import MessageStore
from .ingest import Accounting
from .ingest.capture import MAX_RECORD, PCAP_MAGICS, PCAPNG_SHB, CaptureError, open_capture
from .ingest.decode import GTP_GPDU, Decoder, Pending, Segment
from .ingest.hep import HEP3_MAGIC, HepError, is_hep, parse_hep
from .ingest.sctp import CHUNK_DATA, FLAG_BEGIN, FLAG_END, MAX_TSNS
from .ingest.stream import _quick_drop as quick_drop
from .ingest.tcp import MAX_OOO_BYTES, TCP_SYN
from .ingest.websocket import starts_handshake, upgrade_end
from .sip.framing import Framer
from .sip.parser import looks_like_sip

Scrub = Callable[[bytes], bytes]
"""SIP message bytes to bytes of the same length with the credentials blanked."""


class ExportError(CaptureError):
    """A source capture is gone, unreadable, or no longer the file that was analysed."""


@dataclass(frozen=True, slots=True)
class CaptureExport:
    """What was exported from one source capture."""

    path: str
    """The source capture."""
    frames: int
    """Frames written from it."""
    messages: int
    """Selected SIP messages it held."""
    missing: int
    """Selected messages whose frame is no longer in the file (it is shorter now)."""
    unmapped: int
    """Stream messages whose segments were not found again; only the frame that completed
    each was written."""
    scrubbed: int
    """Frames written with bytes changed by `scrub`."""
    omitted: int
    """Frames left out because a credential in them could not be scrubbed."""
    truncated: bool
    """The file ends in the middle of a record."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What `export_pcap` wrote, for a one-line summary."""

    path: str
    """The capture written."""
    format: str
    """Its format (`pcapng`)."""
    frames: int
    """Frames written."""
    calls: int
    """Selected calls."""
    messages: int
    """SIP messages of the selected calls."""
    captures: tuple[CaptureExport, ...]
    """Per source capture, in the order analysed."""

    @property
    def missing(self) -> int:
        """Selected messages whose frame no longer exists."""
        return sum(c.missing for c in self.captures)

    @property
    def unmapped(self) -> int:
        """Stream messages written from their completing frame only."""
        return sum(c.unmapped for c in self.captures)

    @property
    def scrubbed(self) -> int:
        """Frames whose bytes `scrub` changed."""
        return sum(c.scrubbed for c in self.captures)

    @property
    def omitted(self) -> int:
        """Frames left out because a credential could not be scrubbed in them."""
        return sum(c.omitted for c in self.captures)

    def summary(self) -> str:
        """One line for stderr."""
        calls = f"{self.calls} call{'s' * (self.calls != 1)}"
        text = f"wrote {self.frames} frames ({calls}, {self.messages} SIP messages) to {self.path}"
        if self.scrubbed:
            text += f"; {self.scrubbed} frames scrubbed"
        if self.omitted:
            text += f"; {self.omitted} frames left out (credentials could not be scrubbed)"
        if self.missing:
            text += f"; {self.missing} messages missing (capture shorter than when analysed)"
        if self.unmapped:
            text += f"; {self.unmapped} stream messages written from their last segment only"
        return text


def export_pcap(analysis: Analysis, path: Path, scrub: Scrub | None = None) -> ExportResult:
    """Write the frames of the selected calls' messages to `path` (pcapng).

    Raises `ValueError` when a source is stdin (it cannot be read again) or would be
    overwritten, `ExportError` (a `CaptureError`) when a source vanished or changed.
    The file appears only once complete.
    """
    out = Path(path)
    sources = [acc.path for acc in analysis.captures]
    if "-" in sources:
        raise ValueError(
            "cannot export from stdin: the capture cannot be read a second time "
            "(save it to a file and analyse that)"
        )
    for src in sources:
        if out.exists() and Path(src).exists() and os.path.samefile(out, src):
            raise ValueError(f"{out}: refusing to overwrite a capture being exported from")
    store = analysis.store
    wanted = sorted(analysis.selected) if analysis.selected is not None else range(len(store))
    per_capture: dict[int, list[int]] = {}
    for i in wanted:
        per_capture.setdefault(store[i].capture, []).append(i)
    # Pass 1 reads every capture before the output is opened: a capture that vanished
    # or changed is reported before anything is written.
    plans = [
        _plan(store, acc, per_capture.get(c, []), scrub) for c, acc in enumerate(analysis.captures)
    ]
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = _PcapngWriter(fh)
            results = tuple(
                _write(writer, c, src, plan)
                for c, (src, plan) in enumerate(zip(sources, plans, strict=True))
            )
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return ExportResult(
        path=str(out),
        format="pcapng",
        frames=sum(r.frames for r in results),
        calls=len(analysis.call_records),
        messages=len(wanted),
        captures=results,
    )


# -- reading the sources again, timestamps as integer ticks -------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    number: int
    ticks: int
    tsresol: int
    """pcapng if_tsresol code: 6 = microseconds, 9 = nanoseconds, 0x80|n = 2^-n s."""
    linktype: int
    data: bytes
    orig_len: int

    @property
    def time(self) -> float:
        return self.ticks / _units(self.tsresol)


def _units(tsresol: int) -> int:
    return int(2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol)


@dataclass(slots=True)
class _ReadState:
    truncated: bool = False


def _records(path: str, state: _ReadState) -> Generator[_Record, None, None]:
    """Records of a pcap or pcapng file (plain or gzip), numbered as `ingest.capture`."""
    try:
        stream, _info = open_capture(path)
    except CaptureError as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        raise ExportError(path, f"cannot be read again for export: {reason}") from exc
    with stream:
        magic = _read(stream, 4, state)
        if magic in PCAP_MAGICS:
            yield from _pcap(stream, magic, state)
        elif magic == PCAPNG_SHB:
            yield from _pcapng(stream, state)
        else:
            raise ExportError(path, "changed since analysis: no longer a pcap or pcapng capture")


def _read(stream: BinaryIO, n: int, state: _ReadState) -> bytes:
    """`n` bytes, fewer at the end of the file (flagged as truncated when cut short)."""
    try:
        data = stream.read(n) or b""
    except (OSError, EOFError, zlib.error):  # a gzip stream cut short or corrupt
        state.truncated = True
        return b""
    if 0 < len(data) < n:
        state.truncated = True
    return data


def _pcap(stream: BinaryIO, magic: bytes, state: _ReadState) -> Iterator[_Record]:
    order, divisor = PCAP_MAGICS[magic]
    head = _read(stream, 20, state)
    if len(head) < 20:
        return
    linktype = struct.unpack_from(order + "I", head, 16)[0] & 0x0FFFFFFF
    tsresol = 6 if divisor == 1_000_000 else 9
    rec = struct.Struct(order + "IIII")
    number = 0
    while True:
        header = _read(stream, 16, state)
        if len(header) < 16:
            return
        sec, frac, incl, orig = rec.unpack(header)
        if incl > MAX_RECORD:
            state.truncated = True
            return
        data = _read(stream, incl, state)
        if len(data) < incl:
            return
        number += 1
        yield _Record(number, sec * divisor + frac, tsresol, linktype, data, orig)


def _pcapng(stream: BinaryIO, state: _ReadState) -> Iterator[_Record]:
    order = "<"
    interfaces: list[tuple[int, int, int]] = []  # linktype, snaplen, tsresol
    number = 0
    head = PCAPNG_SHB + _read(stream, 8, state)
    while len(head) == 12:
        if head[:4] == PCAPNG_SHB:
            bom = head[8:12]
            if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                state.truncated = True
                return
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        btype, total = struct.unpack_from(order + "II", head)
        if total < 12 or total % 4 or total > MAX_RECORD:
            state.truncated = True
            return
        body = _read(stream, total - 12, state)
        if len(body) < total - 12:
            return
        block = head + body
        if btype == 6:  # Enhanced Packet Block
            iface, hi, lo, cap, orig = struct.unpack_from(order + "IIIII", block, 8)
            link, _snap, res = interfaces[iface] if iface < len(interfaces) else (-1, 0, 6)
            number += 1
            yield _Record(
                number, hi << 32 | lo, res, link, block[28 : 28 + min(cap, total - 32)], orig
            )
        elif btype == 1:  # Interface Description Block
            link, _res, snaplen = struct.unpack_from(order + "HHI", block, 8)
            interfaces.append((link, snaplen, _tsresol(block[16 : total - 4], order)))
        elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
            (orig,) = struct.unpack_from(order + "I", block, 8)
            link, snaplen, res = interfaces[0] if interfaces else (-1, 0, 6)
            cap = min(orig, snaplen or orig, total - 16)
            number += 1
            yield _Record(number, 0, res, link, block[12 : 12 + cap], orig)
        elif btype == 2:  # obsolete Packet Block
            iface, _drops, hi, lo, cap, orig = struct.unpack_from(order + "HHIIII", block, 8)
            link, _snap, res = interfaces[iface] if iface < len(interfaces) else (-1, 0, 6)
            number += 1
            yield _Record(
                number, hi << 32 | lo, res, link, block[28 : 28 + min(cap, total - 32)], orig
            )
        head = _read(stream, 12, state)


def _tsresol(options: bytes, order: str) -> int:
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            return options[pos + 4]
        pos += 4 + ((length + 3) & ~3)
    return 6


# -- pass 1: which frames to write, and what to change in them ----------------------


@dataclass(slots=True)
class _Plan:
    keep: set[int] = field(default_factory=set)
    """Frames to write."""
    replace: dict[int, bytes] = field(default_factory=dict)
    """Frames rewritten in pass 1 (scrubbed datagrams and their fragments)."""
    patches: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)
    """Scrub patches for TCP segments, at offsets in the segment's payload (pass 2)."""
    omit: set[int] = field(default_factory=set)
    """Frames never written: credentials in them could not be scrubbed."""
    messages: int = 0
    missing: int = 0
    unmapped: int = 0
    truncated: bool = False


FlowKey = tuple[str, str]
Matcher = Callable[[bytes, bytes | None], bool]
"""Whether a message cut from a stream (its bytes, and what `scrub` makes of them) is one
of the selected messages; each is matched once."""


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _scrubbed(scrub: Scrub, data: bytes) -> bytes:
    new = scrub(data)
    if len(new) != len(data):
        raise ValueError(f"scrub changed a message's length ({len(data)} -> {len(new)} bytes)")
    return new


def _plan(store: MessageStore, acc: Accounting, indexes: list[int], scrub: Scrub | None) -> _Plan:
    if not indexes:
        return _Plan()
    path = acc.path
    planner = _Planner(store, path, indexes, scrub)
    state = _ReadState()
    # The native reader's first time is that of the first record its quick RTP test
    # does not drop (the first record's when it drops all); tshark's, its first SIP's.
    first: float | None = None
    check = acc.first_time is not None and acc.format != "tshark"
    records = _records(path, state)
    with contextlib.closing(records):
        for rec in records:
            if rec.number == 1:
                first = rec.time
            if check and not _dropped(rec):
                check = False
                _same_start(acc, path, rec.time)
            planner.feed(rec)
            if planner.done(rec.number):
                break
    if check and first is not None:
        _same_start(acc, path, first)
    return planner.finish(state.truncated)


def _dropped(rec: _Record) -> bool:
    """Whether the native reader passes over this record (an RTP-like UDP datagram)."""
    try:
        return quick_drop(rec.data, 0, len(rec.data), rec.linktype)
    except IndexError:
        return False  # too short for the quick test


def _same_start(acc: Accounting, path: str, seen: float) -> None:
    if acc.first_time is not None and abs(seen - acc.first_time) > 1e-5:
        raise ExportError(path, "changed since analysis: its first packet is not the same")


class _Planner:
    """Pass 1 over one capture: finds the frames carrying the selected messages."""

    def __init__(
        self, store: MessageStore, path: str, indexes: list[int], scrub: Scrub | None
    ) -> None:
        self.store = store
        self.path = path
        self.indexes = indexes
        self.scrub = scrub
        self.plan = _Plan(messages=len(indexes))
        self.frame_of: dict[int, int] = {}
        self.transport_of: dict[int, str] = {}
        self.time_of: dict[int, float] = {}
        self.direct: dict[int, list[int]] = {}
        self.pending: dict[FlowKey, dict[bytes, deque[int]]] = {}
        """Per TCP direction, the selected messages by digest of their bytes."""
        for i in indexes:
            msg = store[i]
            self.frame_of[i] = msg.frame
            self.transport_of[i] = msg.transport
            self.time_of[i] = msg.time
            self.direct.setdefault(msg.frame, []).append(i)
            if msg.transport in ("tcp", "ws"):
                bucket = self.pending.setdefault((msg.src, msg.dst), {})
                bucket.setdefault(_digest(store.raw(i)), deque()).append(i)
            if msg.transport == "ws":  # followed for its half of the WebSocket handshake
                self.pending.setdefault((msg.dst, msg.src), {})
        self.last_direct = max(self.direct)
        self.resolved: set[int] = set()
        self.frame_times: dict[int, float] = {}
        self.frames_read = 0
        self.decoder = Decoder()
        self.sctp = _SctpTracker()
        self.streams: dict[FlowKey, _Stream] = {}
        self.retired: list[_Stream] = []
        self.fragments: dict[int, tuple[int, bytes]] = {}
        """Frames held as IP fragments (when scrubbing): number -> (linktype, bytes)."""

    def done(self, number: int) -> bool:
        """Whether nothing later in the file can matter: no TCP stream to follow, and no
        SCTP message begun in a written packet still to be scrubbed."""
        if self.pending or number < self.last_direct:
            return False
        return self.scrub is None or not self.sctp.unfinished

    def feed(self, rec: _Record) -> None:
        n, data = rec.number, rec.data
        self.frames_read = n
        if n in self.direct:
            self.frame_times[n] = rec.time
        if not data:
            return
        if n not in self.direct and _dropped(rec):
            return  # an unfragmented UDP datagram that cannot carry SIP (RTP)
        decoder = self.decoder
        result = decoder.decode(n, rec.time, rec.linktype, data)
        held: tuple[int, ...] = ()
        for frames, final in decoder.completed_fragment_frames:
            if final is result:
                held = tuple(frames)
            else:
                for f in frames:
                    self.fragments.pop(f, None)
        decoder.completed_fragment_frames.clear()
        for f in decoder.expired_fragment_frames:
            self.fragments.pop(f, None)
        decoder.expired_fragment_frames.clear()
        if isinstance(result, Pending):
            if self.scrub is not None:
                self.fragments[n] = (rec.linktype, data)
            return
        if not isinstance(result, Segment):
            return
        if result.transport == "udp":
            self._udp(n, rec.linktype, data, result, held)
        elif result.transport == "sctp":
            self._sctp(n, result)
        else:
            self._tcp(n, result, held)
        for f in held:
            self.fragments.pop(f, None)

    def _take(self, candidates: Sequence[int], data: bytes, datagram: bool = False) -> int | None:
        """The selected message at this frame that `data` is: the same bytes, or the bytes
        `scrub` makes of it (an analysis that stored messages redacted by the same redactor,
        whose stand-ins are stable). For a datagram, which holds one message, also the only
        one of the same length (redacted by another redactor)."""
        open_ = [i for i in candidates if i not in self.resolved]
        raw = self.store.raw
        found = next((i for i in open_ if raw(i) == data), None)
        if found is None and self.scrub is not None:
            new = _scrubbed(self.scrub, data)
            found = next((i for i in open_ if raw(i) == new), None)
        if found is None and datagram:
            same = [i for i in open_ if self.store.size(i) == len(data)]
            found = same[0] if len(same) == 1 else None
        if found is not None:
            self.resolved.add(found)
        return found

    def _udp(self, n: int, link: int, data: bytes, seg: Segment, held: tuple[int, ...]) -> None:
        wanted = self.direct.get(n)
        if not wanted:
            return
        payload = seg.payload
        at: int | None = 0
        if looks_like_sip(payload):
            sip = payload
        elif is_hep(payload):
            try:
                sip = parse_hep(payload).payload
            except (HepError, struct.error, IndexError, ValueError):
                return
            at = _hep_payload_offset(payload, sip)
        else:
            return
        if self._take(wanted, sip, datagram=True) is None:
            return
        frames = (*held, n)
        self.plan.keep.update(frames)
        if self.scrub is None:
            return
        new = _scrubbed(self.scrub, sip)
        if new == sip:
            return
        rewritten: dict[int, bytes] | None = None
        if at is not None:
            if held:
                parts = [self.fragments.get(f) for f in held]
                if all(p is not None for p in parts):
                    datagram = payload[:at] + new + payload[at + len(new) :]
                    pieces = [(f, p) for f, p in zip(held, parts, strict=True) if p is not None]
                    rewritten = _rewrite_fragments([*pieces, (n, (link, data))], datagram)
            else:
                frame = _rewrite(link, data, [(at, new)])
                rewritten = None if frame is None else {n: frame}
        if rewritten is None:
            self.plan.omit.update(frames)
        else:
            self.plan.replace.update(rewritten)

    def _sctp(self, n: int, seg: Segment) -> None:
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        wanted = self.direct.get(n, ())
        for message, pieces in self.sctp.messages(key, seg.payload, n):
            if wanted and looks_like_sip(message) and self._take(wanted, message) is not None:
                self.plan.keep.update(p[0] for p in pieces)
            if self.scrub is None:
                continue
            new = _scrubbed(self.scrub, message)
            if new == message:
                continue
            # Every message is scrubbed: a written packet may bundle other calls' chunks.
            k = 0
            for frame, at, size in pieces:
                self.plan.patches.setdefault(frame, []).append((at, new[k : k + size]))
                k += size

    def _tcp(self, n: int, seg: Segment, held: tuple[int, ...]) -> None:
        key = (_endpoint(seg.src, seg.sport), _endpoint(seg.dst, seg.dport))
        if key not in self.pending:
            return
        stream = self.streams.get(key)
        if stream is None or (seg.flags & TCP_SYN and stream.next_seq != (seg.seq + 1) & _MASK):
            if stream is not None:
                self.retired.append(stream)
            stream = self.streams[key] = _Stream(key, self._matcher(key), self.scrub)
        stream.feed(seg, (*held, n))

    def _matcher(self, key: FlowKey) -> Matcher:
        bucket = self.pending[key]

        def match(message: bytes, scrubbed: bytes | None) -> bool:
            keys = [message] if scrubbed is None or scrubbed == message else [message, scrubbed]
            for k in map(_digest, keys):
                queue = bucket.get(k)
                while queue:
                    i = queue.popleft()
                    if i not in self.resolved:
                        self.resolved.add(i)
                        return True
            return False

        return match

    def finish(self, truncated: bool) -> _Plan:
        plan = self.plan
        plan.truncated = truncated
        for stream in self.streams.values():
            stream.finish()
        streams = [*self.retired, *self.streams.values()]
        used = {stream.key for stream in streams if stream.kept}
        for stream in streams:
            carriers = stream.kept
            if stream.key in used or stream.key[::-1] in used:
                # The WebSocket upgrade of a direction (or of the reverse direction) that
                # carried selected messages: without it no dissector finds them.
                carriers = carriers + stream.head_carriers
            for frames, patches in stream.segments(carriers):
                if patches and len(frames) > 1:
                    plan.omit.update(frames)  # payload spread over IP fragments
                    continue
                plan.keep.update(frames)
                if patches:
                    plan.patches.setdefault(frames[-1], []).extend(patches)
        for i in self.indexes:
            if i in self.resolved:
                continue
            frame = self.frame_of[i]
            seen = self.frame_times.get(frame)
            if frame > self.frames_read or seen is None:
                plan.missing += 1
                continue
            transport = self.transport_of[i]
            if transport in ("udp", "sctp") and abs(seen - self.time_of[i]) > 1e-5:
                raise ExportError(
                    self.path,
                    f"changed since analysis: frame {frame} no longer carries the message "
                    "analysed there",
                )
            if transport != "tls":
                plan.unmapped += 1
            raw = self.store.raw(i)
            if self.scrub is not None and transport != "tls" and _scrubbed(self.scrub, raw) != raw:
                plan.omit.add(frame)
            else:
                plan.keep.add(frame)
        return plan


def _hep_payload_offset(packet: bytes, sip: bytes) -> int | None:
    """Where the SIP payload sits in a HEP packet; None when it came compressed."""
    if packet[:4] != HEP3_MAGIC:
        return len(packet) - len(sip)  # HEP1/2: the payload ends the packet
    (total,) = struct.unpack_from("!H", packet, 4)
    pos = 6
    while pos + 6 <= total:
        vendor, ctype, clen = struct.unpack_from("!HHH", packet, pos)
        if clen < 6:
            break
        if vendor == 0 and ctype == 15:
            return pos + 6
        pos += clen
    return None


SctpPiece = tuple[int, int, int]
"""A DATA chunk's share of a user message: frame, offset of its data in the packet's
chunks (after the common header), length."""


@dataclass(slots=True)
class _SctpDirection:
    seen: dict[int, None] = field(default_factory=dict)
    partial: dict[int, list[tuple[bytes, SctpPiece]]] = field(default_factory=dict)


class _SctpTracker:
    """SCTP user messages with the DATA chunks that carried them; mirrors
    `ingest.sctp.SctpReader` (B/E flags, RFC 9260 §3.3.1; a TSN seen again is dropped)."""

    def __init__(self) -> None:
        self._dirs: dict[tuple[str, int, str, int], _SctpDirection] = {}

    @property
    def unfinished(self) -> bool:
        """Whether a user message has begun and not ended."""
        return any(parts for d in self._dirs.values() for parts in d.partial.values())

    def messages(
        self, key: tuple[str, int, str, int], chunks: bytes, frame: int
    ) -> list[tuple[bytes, list[SctpPiece]]]:
        d = self._dirs.setdefault(key, _SctpDirection())
        out: list[tuple[bytes, list[SctpPiece]]] = []
        pos = 0
        while pos + 4 <= len(chunks):
            ctype, flags, length = struct.unpack_from("!BBH", chunks, pos)
            if length < 4:
                break
            if ctype == CHUNK_DATA and length >= 16:
                tsn, stream = struct.unpack_from("!IH", chunks, pos + 4)
                data = chunks[pos + 16 : pos + length]
                if tsn not in d.seen:
                    d.seen[tsn] = None
                    if len(d.seen) > MAX_TSNS:
                        del d.seen[next(iter(d.seen))]
                    if flags & FLAG_BEGIN:
                        d.partial[stream] = []
                    parts = d.partial.setdefault(stream, [])
                    parts.append((data, (frame, pos + 16, len(data))))
                    if flags & FLAG_END:
                        done = d.partial.pop(stream)
                        out.append((b"".join(p[0] for p in done), [p[1] for p in done]))
            pos += (length + 3) & ~3
        return out


# -- TCP: byte ranges of messages, segments that carried them -----------------------

_MASK = 0xFFFFFFFF
GARBAGE_CHUNK = 64 * 1024
"""Bytes of non-message stream data gathered before they are scrubbed and forgotten."""

Carrier = tuple[int, int, tuple[int, ...]]
"""A segment with payload: stream offsets [start, end) and its frame (after the frames of
its earlier IP fragments, if any)."""
Part = tuple[int, int, int, bytes]
"""Where a message's bytes sit in the stream: frame start, payload start, payload end,
WebSocket mask key (empty when unmasked)."""


def _rel(seq: int, base: int) -> int:
    d = (seq - base) & _MASK
    return d - 0x100000000 if d & 0x80000000 else d


def _xor(data: bytes | bytearray, key: bytes) -> bytes:
    if not key:
        return bytes(data)
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


class _Stream:
    """One TCP direction reassembled in absolute offsets (mirrors `ingest.tcp`)."""

    def __init__(self, key: FlowKey, match: Matcher, scrub: Scrub | None) -> None:
        self.key = key
        self.match = match
        self.scrub = scrub
        self.next_seq: int | None = None
        self.contig = 0
        """Offset of the next in-order byte."""
        self.ooo: dict[int, bytes] = {}
        self.ooo_bytes = 0
        self.started = False
        self.head: bytearray | None = None
        self.head_start = 0
        self.head_range: tuple[int, int] | None = None
        """Offsets of the HTTP upgrade that opened a WebSocket stream."""
        self.head_carriers: list[Carrier] = []
        """The segments that carried it."""
        self.framer = Framer()
        self.ws: _WsWalker | None = None
        self.lost = False
        """A hole inside a WebSocket stream or its handshake: messages are no longer cut."""
        self.window = bytearray()
        self.window_start = 0
        self.done = 0
        """Bytes before this offset are accounted for (cut into messages, or scrubbed)."""
        self.carriers: list[Carrier] = []
        self.kept: list[Carrier] = []
        self.sel_starts: list[int] = []
        self.sel_ends: list[int] = []
        self.diffs: list[tuple[int, bytes]] = []

    # -- segments in ----------------------------------------------------------

    def feed(self, seg: Segment, frames: tuple[int, ...]) -> None:
        if seg.flags & TCP_SYN:
            self.next_seq = (seg.seq + 1) & _MASK
        data = seg.payload
        if not data:
            return
        if self.next_seq is None:
            self.next_seq = seg.seq  # capture started mid-stream
        start = self.contig + _rel(seg.seq, self.next_seq)
        self._carrier((start, start + len(data), frames))
        if start < self.contig:
            if start + len(data) <= self.contig:
                return  # a retransmission: every byte delivered already
            data = data[self.contig - start :]
            start = self.contig
        if start > self.contig:
            self._hold(start, data)
            return
        self._deliver(data)
        self._drain()
        self._cut()

    def finish(self) -> None:
        while self.ooo:
            self._skip_gap()
            self._drain()
            self._cut()
        self._garbage(self.done, self.contig)
        self.done = self.contig

    def segments(
        self, carriers: list[Carrier]
    ) -> Iterator[tuple[tuple[int, ...], list[tuple[int, bytes]]]]:
        """Each of `carriers` with its scrub patches (offsets in its payload)."""
        diffs = sorted(self.diffs)
        starts = [d[0] for d in diffs]
        for start, end, frames in carriers:
            patches: list[tuple[int, bytes]] = []
            for off, new in diffs[max(bisect_right(starts, start) - 1, 0) :]:
                if off >= end:
                    break
                a, b = max(off, start), min(off + len(new), end)
                if a < b:
                    patches.append((a - start, new[a - off : b - off]))
            yield frames, patches

    def _carrier(self, carrier: Carrier) -> None:
        start, end, _frames = carrier
        i = bisect_left(self.sel_starts, end) - 1
        if i >= 0 and self.sel_ends[i] > start:
            self.kept.append(carrier)  # e.g. a retransmission of a selected message
        elif self.head_range is not None and start < self.head_range[1]:
            self.head_carriers.append(carrier)  # a retransmission of the upgrade
        else:
            self.carriers.append(carrier)

    def _hold(self, start: int, data: bytes) -> None:
        have = self.ooo.get(start)
        if have is not None and len(have) >= len(data):
            return
        self.ooo[start] = data
        self.ooo_bytes += len(data) - (len(have) if have is not None else 0)
        if self.ooo_bytes > MAX_OOO_BYTES:
            self._skip_gap()
            self._drain()
            self._cut()

    def _drain(self) -> None:
        while True:
            for start in list(self.ooo):
                if start <= self.contig:
                    data = self.ooo.pop(start)
                    self.ooo_bytes -= len(data)
                    if start + len(data) > self.contig:
                        self._deliver(data[self.contig - start :])
                        break
            else:
                return

    def _skip_gap(self) -> None:
        """A hole that never fills: drop the message in progress, go on after the hole."""
        target = min(self.ooo)
        self.framer.flush()
        self._garbage(self.done, self.contig)
        assert self.next_seq is not None
        self.next_seq = (self.next_seq + target - self.contig) & _MASK
        self.contig = self.done = self.window_start = target
        self.window = bytearray()
        if self.ws is not None or self.head is not None:
            self.lost = True

    def _deliver(self, data: bytes) -> None:
        assert self.next_seq is not None
        start = self.contig
        self.contig += len(data)
        self.next_seq = (self.next_seq + len(data)) & _MASK
        self.window += data
        if not self.started:
            self.started = True
            if starts_handshake(data):
                self.head = bytearray()
                self.head_start = start
        if self.head is not None:
            self.head += data
            end = upgrade_end(self.head)
            if end is None:
                return
            rest, self.head = bytes(self.head), None
            if end >= 0:
                upgrade = self.head_range = (self.head_start, self.head_start + end)
                self._garbage(self.done, upgrade[1])  # HTTP headers may hold credentials too
                self.done = upgrade[1]
                self.ws = _WsWalker(upgrade[1])
                self.head_carriers = [c for c in self.carriers if c[0] < upgrade[1]]
                self.carriers = [c for c in self.carriers if c[1] > upgrade[1]]
            else:
                self.framer.feed(rest)  # plain HTTP: the framer skips it as garbage
            return
        if self.ws is None:
            self.framer.feed(data)

    # -- messages out ----------------------------------------------------------

    def _cut(self) -> None:
        if self.head is not None:
            return  # still reading the HTTP upgrade (at most HANDSHAKE_LIMIT bytes)
        if self.lost:
            keep_from = self.done = self.contig  # nothing more is cut from this stream
        elif self.ws is not None:
            for payload, parts in self.ws.walk(self.window, self.window_start):
                self._message(payload, parts)
            keep_from = self.done = self.ws.start
        else:
            while isinstance(msg := self.framer.next_message(), bytes):
                end = self.contig - self.framer.buffered
                start = end - len(msg)
                self._garbage(self.done, start)
                self.done = end
                self._message(msg, [(start, start, end, b"")])
            keep_from = self.contig - self.framer.buffered
            if keep_from - self.done > GARBAGE_CHUNK:
                self._garbage(self.done, keep_from)
                self.done = keep_from
        keep_from = min(keep_from, self.done)
        if keep_from > self.window_start:
            del self.window[: keep_from - self.window_start]
            self.window_start = keep_from
        self.carriers = [c for c in self.carriers if c[1] > keep_from]

    def _message(self, payload: bytes, parts: list[Part]) -> None:
        new = None if self.scrub is None else _scrubbed(self.scrub, payload)
        if self.match(payload, new):
            ranges = [(p[0], p[2]) for p in parts]
            for start, end in ranges:
                self.sel_starts.append(start)
                self.sel_ends.append(end)
            waiting: list[Carrier] = []
            for c in self.carriers:
                if any(c[0] < end and start < c[1] for start, end in ranges):
                    self.kept.append(c)
                else:
                    waiting.append(c)
            self.carriers = waiting
        if new is None or new == payload:
            return
        k = 0
        for _frame_start, start, end, key in parts:
            size = end - start
            old = self.window[start - self.window_start : end - self.window_start]
            # WebSocket: mask the scrubbed bytes again (the key restarts in every frame).
            self._diff(start, bytes(old), _xor(new[k : k + size], key))
            k += size

    def _garbage(self, start: int, end: int) -> None:
        """Stream bytes outside any message: scrubbed too, in case they hold credentials
        (not WebSocket frames: their payload may be masked)."""
        if self.scrub is None or end <= start or self.ws is not None:
            return
        data = bytes(self.window[start - self.window_start : end - self.window_start])
        if data.strip(b"\r\n\t \0"):
            self._diff(start, data, _scrubbed(self.scrub, data))

    def _diff(self, at: int, old: bytes, new: bytes) -> None:
        run_start = -1
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                if run_start < 0:
                    run_start = i
            elif run_start >= 0:
                self.diffs.append((at + run_start, new[run_start:i]))
                run_start = -1
        if run_start >= 0:
            self.diffs.append((at + run_start, new[run_start:]))


class _WsWalker:
    """WebSocket frames (RFC 6455 §5.2) in the stream, with their offsets; mirrors
    `ingest.websocket.WsDeframer` (one SIP message per WebSocket message, RFC 7118 §5)."""

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.parts: list[Part] = []

    @property
    def start(self) -> int:
        """Offset of the first byte not yet part of a finished message."""
        return self.parts[0][0] if self.parts else self.pos

    def walk(self, window: bytearray, base: int) -> Iterator[tuple[bytes, list[Part]]]:
        while True:
            off = self.pos - base
            if len(window) < off + 2:
                return
            fin, opcode = bool(window[off] & 0x80), window[off] & 0x0F
            masked, length = bool(window[off + 1] & 0x80), window[off + 1] & 0x7F
            hlen = 2
            if length == 126:
                if len(window) < off + 4:
                    return
                length, hlen = int.from_bytes(window[off + 2 : off + 4], "big"), 4
            elif length == 127:
                if len(window) < off + 10:
                    return
                length, hlen = int.from_bytes(window[off + 2 : off + 10], "big"), 10
            key = b""
            if masked:
                key, hlen = bytes(window[off + hlen : off + hlen + 4]), hlen + 4
            if len(window) < off + hlen + length:
                return
            part = (self.pos, self.pos + hlen, self.pos + hlen + length, key)
            self.pos += hlen + length
            if opcode >= 0x8:
                continue  # close, ping, pong
            if opcode in (0x1, 0x2):
                self.parts = [part]
            elif opcode == 0x0:
                self.parts.append(part)
            if fin and self.parts:
                payload = b"".join(
                    _xor(window[p[1] - base : p[2] - base], p[3] if len(p[3]) == 4 else b"")
                    for p in self.parts
                )
                parts, self.parts = self.parts, []
                yield payload, parts


# -- finding headers in a frame, fixing checksums ----------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """A checksum to recompute: `udp` (pseudo-header + datagram), `tcp`, `sctp` (CRC32c)
    or `gre` (RFC 2784 §2.5: the GRE header and payload)."""

    kind: str
    start: int
    end: int
    addresses: bytes = b""
    """Source and destination address of the IP header, for the pseudo-header."""


@dataclass(frozen=True, slots=True)
class _Where:
    """Where the innermost transport of a frame sits (offsets in the frame)."""

    proto: int
    l4: int
    """Transport header (or, for a fragment, the fragment's data)."""
    end: int
    """End of the IP payload (within the captured bytes)."""
    complete: bool
    """Every byte the IP header announces was captured."""
    addresses: bytes
    fragment: tuple[int, bool] | None
    """Fragment offset and more-fragments flag, for an IP fragment."""
    outer: tuple[_Scope, ...]
    """Enclosing checksums (GTP-U's UDP, GRE), innermost first."""


def _locate(linktype: int, data: bytes) -> _Where | None:
    """Walk the frame's headers as `ingest.decode` does, keeping offsets."""
    try:
        return _link(linktype, data)
    except (struct.error, IndexError):
        return None


def _link(linktype: int, data: bytes) -> _Where | None:
    if linktype == 1:
        return _ether(data, 0, ())
    if linktype in (101, 12, 14, 228, 229):
        return _ip(data, 0, ())
    if linktype == 113:
        return _ethertype(data, struct.unpack_from("!H", data, 14)[0], 16, ())
    if linktype == 276:
        return _ethertype(data, struct.unpack_from("!H", data, 0)[0], 20, ())
    if linktype in (0, 108):
        le, be = struct.unpack_from("<I", data)[0], struct.unpack_from(">I", data)[0]
        family = be if linktype == 108 else (le if le < 256 else be)
        if family == 2:
            return _ipv4(data, 4, ())
        if family in (10, 24, 28, 30):
            return _ipv6(data, 4, ())
    return None


def _ether(data: bytes, off: int, outer: tuple[_Scope, ...]) -> _Where | None:
    return _ethertype(data, struct.unpack_from("!H", data, off + 12)[0], off + 14, outer)


def _ethertype(data: bytes, etype: int, off: int, outer: tuple[_Scope, ...]) -> _Where | None:
    while etype in (0x8100, 0x88A8, 0x9100):
        (etype,) = struct.unpack_from("!H", data, off + 2)
        off += 4
    if etype == 0x0800:
        return _ipv4(data, off, outer)
    if etype == 0x86DD:
        return _ipv6(data, off, outer)
    if etype == 0x8864:  # PPPoE session
        (ppp,) = struct.unpack_from("!H", data, off + 6)
        if ppp == 0x0021:
            return _ipv4(data, off + 8, outer)
        if ppp == 0x0057:
            return _ipv6(data, off + 8, outer)
    return None


def _ip(data: bytes, off: int, outer: tuple[_Scope, ...]) -> _Where | None:
    version = data[off] >> 4
    if version == 4:
        return _ipv4(data, off, outer)
    return _ipv6(data, off, outer) if version == 6 else None


def _ipv4(data: bytes, off: int, outer: tuple[_Scope, ...]) -> _Where | None:
    vihl, _tos, total, _ident, frag, _ttl, proto = struct.unpack_from("!BBHHHBB", data, off)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20 or total < ihl:
        return None
    end = min(off + total, len(data))
    addresses = data[off + 12 : off + 20]
    complete = off + total <= len(data)
    if frag & 0x3FFF:
        where = (frag & 0x1FFF) * 8, bool(frag & 0x2000)
        return _Where(proto, off + ihl, end, complete, addresses, where, outer)
    return _transport(data, proto, off + ihl, end, complete, addresses, outer)


def _ipv6(data: bytes, off: int, outer: tuple[_Scope, ...]) -> _Where | None:
    (plen,) = struct.unpack_from("!H", data, off + 4)
    nxt = data[off + 6]
    addresses = data[off + 8 : off + 40]
    complete = off + 40 + plen <= len(data)
    end = min(off + 40 + plen, len(data))
    pos = off + 40
    while True:
        if nxt in (0, 43, 60, 135, 139, 140):
            nxt, pos = data[pos], pos + (data[pos + 1] + 1) * 8
        elif nxt == 51:  # AH
            nxt, pos = data[pos], pos + (data[pos + 1] + 2) * 4
        elif nxt == 44:  # Fragment
            (fo,) = struct.unpack_from("!H", data, pos + 2)
            where = (fo & 0xFFF8, bool(fo & 1))
            return _Where(data[pos], pos + 8, end, complete, addresses, where, outer)
        else:
            return _transport(data, nxt, pos, end, complete, addresses, outer)
        if pos > end:
            return None


def _transport(
    data: bytes,
    proto: int,
    pos: int,
    end: int,
    complete: bool,
    addresses: bytes,
    outer: tuple[_Scope, ...],
) -> _Where | None:
    if proto in (6, 17, 132):
        if proto == 17 and complete:
            inner = _gtpu(data, pos, end, addresses, outer)
            if inner is not None:
                return inner
        return _Where(proto, pos, end, complete, addresses, None, outer)
    if proto == 4:
        return _ipv4(data, pos, outer)
    if proto == 41:
        return _ipv6(data, pos, outer)
    if proto == 47:
        return _gre(data, pos, end, outer)
    return None


def _gtpu(
    data: bytes, pos: int, end: int, addresses: bytes, outer: tuple[_Scope, ...]
) -> _Where | None:
    """GTP-U G-PDU inside UDP, recognised as `ingest.decode` does (3GPP TS 29.281 §5)."""
    (ulen,) = struct.unpack_from("!H", data, pos + 4)
    udp_end = pos + ulen if 8 <= ulen <= end - pos else end
    g = pos + 8
    if udp_end - g < 8 or data[g] & 0xF0 != 0x30 or data[g + 1] != GTP_GPDU:
        return None
    (length,) = struct.unpack_from("!H", data, g + 2)
    if length != udp_end - g - 8:
        return None
    off = g + 8
    if data[g] & 0x07:
        off = g + 12
        nxt = data[g + 11] if data[g] & 0x04 else 0
        while nxt:
            if off >= udp_end or not data[off]:
                return None
            off += data[off] * 4
            nxt = data[off - 1]
    scope = _Scope("udp", pos, udp_end, addresses)
    return _ip(data, off, (scope, *outer))


def _gre(data: bytes, pos: int, end: int, outer: tuple[_Scope, ...]) -> _Where | None:
    flags, etype = struct.unpack_from("!HH", data, pos)
    off = pos + 4
    if flags & 0x8000:
        outer = (_Scope("gre", pos, end), *outer)
        off += 4
    off += 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
    if etype in (0x0800, 0x86DD):
        return _ethertype(data, etype, off, outer)
    if etype == 0x6558:
        return _ether(data, off, outer)
    if etype == 0x88BE:
        return _ether(data, off + (8 if flags & 0x1000 else 0), outer)
    if etype == 0x22EB:
        return _ether(data, off + 12 + (8 if data[off + 11] & 0x01 else 0), outer)
    return None


def _payload_start(data: bytes | bytearray, where: _Where) -> int:
    if where.proto == 6:
        return where.l4 + (data[where.l4 + 12] >> 4) * 4
    return where.l4 + (8 if where.proto == 17 else 12)


def _rewrite(linktype: int, data: bytes, patches: Sequence[tuple[int, bytes]]) -> bytes | None:
    """The frame with `patches` written into its transport payload and checksums fixed;
    None when its headers cannot be walked."""
    where = _locate(linktype, data)
    if where is None or where.fragment is not None:
        return None
    buf = bytearray(data)
    base = _payload_start(buf, where)
    for at, new in patches:
        if base + at + len(new) > where.end:
            return None
        buf[base + at : base + at + len(new)] = new
    if where.complete:
        kind = {6: "tcp", 17: "udp", 132: "sctp"}[where.proto]
        _fix(buf, (_Scope(kind, where.l4, where.end, where.addresses), *where.outer))
    return bytes(buf)


def _rewrite_fragments(
    frames: list[tuple[int, tuple[int, bytes]]], payload: bytes
) -> dict[int, bytes] | None:
    """The IP fragments of one UDP datagram, rewritten to carry `payload` (the new UDP
    payload); reassembled as `ingest.decode` does, so the bytes it read are those changed."""
    located: list[tuple[int, bytes, _Where]] = []
    for number, (linktype, data) in frames:
        where = _locate(linktype, data)
        if where is None or where.fragment is None or not where.complete or where.proto != 17:
            return None
        located.append((number, data, where))
    parts: dict[int, bytes] = {}
    total = 0
    for _n, data, where in located:
        assert where.fragment is not None
        offset, more = where.fragment
        piece = data[where.l4 : where.end]
        have = parts.get(offset)
        if have is None:
            parts[offset] = piece
        elif len(piece) > len(have):
            parts[offset] = have + piece[len(have) :]
        if not more:
            total = offset + len(piece)
    datagram = bytearray(total)
    for offset in sorted(parts):
        datagram[offset : offset + len(parts[offset])] = parts[offset]
    (ulen,) = struct.unpack_from("!H", datagram, 4)
    end = ulen if 8 <= ulen <= total else total
    if end - 8 != len(payload):
        return None
    datagram[8:end] = payload
    _fix(datagram, (_Scope("udp", 0, total, located[0][2].addresses),))
    out: dict[int, bytes] = {}
    for number, data, where in located:
        assert where.fragment is not None
        offset = where.fragment[0]
        buf = bytearray(data)
        buf[where.l4 : where.end] = datagram[offset : offset + where.end - where.l4]
        _fix(buf, where.outer)
        out[number] = bytes(buf)
    return out


def _fix(buf: bytearray, scopes: Iterable[_Scope]) -> None:
    """Recompute checksums, innermost first."""
    for scope in scopes:
        s, e = scope.start, scope.end
        if scope.kind == "sctp":
            buf[s + 8 : s + 12] = b"\0\0\0\0"
            buf[s + 8 : s + 12] = struct.pack("<I", _crc32c(bytes(buf[s:e])))
        elif scope.kind == "gre":
            buf[s + 4 : s + 6] = b"\0\0"
            buf[s + 4 : s + 6] = struct.pack("!H", _checksum(bytes(buf[s:e])))
        elif scope.kind == "udp":
            (ulen,) = struct.unpack_from("!H", buf, s + 4)
            if len(scope.addresses) == 8 and buf[s + 6 : s + 8] == b"\0\0":
                continue  # IPv4 UDP without a checksum (RFC 768)
            e = s + ulen if 8 <= ulen <= e - s else e
            buf[s + 6 : s + 8] = b"\0\0"
            value = _checksum(_pseudo(scope.addresses, 17, e - s) + bytes(buf[s:e]))
            buf[s + 6 : s + 8] = struct.pack("!H", value or 0xFFFF)
        else:  # tcp
            buf[s + 16 : s + 18] = b"\0\0"
            value = _checksum(_pseudo(scope.addresses, 6, e - s) + bytes(buf[s:e]))
            buf[s + 16 : s + 18] = struct.pack("!H", value)


def _pseudo(addresses: bytes, proto: int, length: int) -> bytes:
    """The pseudo-header (RFC 768; RFC 8200 §8.1 for IPv6)."""
    if len(addresses) == 8:
        return addresses + struct.pack("!BBH", 0, proto, length)
    return addresses + struct.pack("!I3xB", length, proto)


def _checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC32C = _crc32c_table()


def _crc32c(data: bytes) -> int:
    """CRC32c (Castagnoli), the SCTP checksum (RFC 9260 Appendix A)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# -- pass 2: writing --------------------------------------------------------------


def _write(writer: _PcapngWriter, capture: int, path: str, plan: _Plan) -> CaptureExport:
    frames = scrubbed = 0
    omitted = len(plan.omit)
    todo = plan.keep - plan.omit
    last = max(todo, default=0)
    state = _ReadState(truncated=plan.truncated)
    if todo:
        records = _records(path, state)
        with contextlib.closing(records):  # stopping early closes the file
            for rec in records:
                n = rec.number
                if n > last:
                    break
                if n not in todo:
                    continue
                data = plan.replace.get(n)
                if data is None:
                    data = rec.data
                    patches = plan.patches.get(n)
                    if patches:
                        rewritten = _rewrite(rec.linktype, data, patches)
                        if rewritten is None:
                            omitted += 1
                            continue
                        data = rewritten
                if data != rec.data:
                    scrubbed += 1
                iface = writer.interface(capture, path, rec.linktype, rec.tsresol)
                writer.packet(iface, rec.ticks, data, rec.orig_len)
                frames += 1
    return CaptureExport(
        path=path,
        frames=frames,
        messages=plan.messages,
        missing=plan.missing,
        unmapped=plan.unmapped,
        scrubbed=scrubbed,
        omitted=omitted,
        truncated=state.truncated,
    )


class _PcapngWriter:
    """pcapng (draft-ietf-opsawg-pcapng): one section, little-endian; an interface per
    (source capture, link type, timestamp resolution); Enhanced Packet Blocks."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.interfaces: dict[tuple[int, int, int], int] = {}
        body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        body += _option(4, b"sip-trace-analyzer export") + _option(0, b"")
        out.write(_block(0x0A0D0D0A, body))

    def interface(self, capture: int, path: str, linktype: int, tsresol: int) -> int:
        key = (capture, linktype, tsresol)
        found = self.interfaces.get(key)
        if found is None:
            found = self.interfaces[key] = len(self.interfaces)
            body = struct.pack("<HHI", linktype & 0xFFFF, 0, 0)
            body += _option(3, f"{Path(path).name}, link type {linktype}".encode())
            body += _option(9, bytes([tsresol])) + _option(0, b"")
            self.out.write(_block(1, body))
        return found

    def packet(self, iface: int, ticks: int, data: bytes, orig_len: int) -> None:
        body = struct.pack(
            "<IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), max(orig_len, len(data))
        )
        self.out.write(_block(6, body + data))


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)
