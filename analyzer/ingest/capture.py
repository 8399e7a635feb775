"""Capture file formats: pcap and pcapng, plain or gzip, from a path or stdin.

Streams records through a bounded read buffer (never mmap, never the whole
file): memory does not grow with the file size. Yields `Frame`s numbered
from 1 in file order, exactly as Wireshark numbers them.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

PCAP_MAGICS: dict[bytes, tuple[str, int]] = {
    # magic as stored -> (struct byte order, timestamp fraction divisor)
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER = 1 << 20


class CaptureError(Exception):
    """The input cannot be read as a capture at all (CLI exit code 3)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured packet record."""

    number: int
    """1-based record number, as Wireshark shows it."""
    time: float
    """Capture time, seconds since the epoch."""
    linktype: int
    """LINKTYPE_* value of the record's interface."""
    data: bytes
    """Captured bytes (possibly fewer than `orig_len`)."""
    orig_len: int
    """Length of the packet on the wire."""


@dataclass(slots=True)
class CaptureInfo:
    """What the reader learned about the file; filled while reading."""

    path: str
    """Path as given (`-` for stdin)."""
    format: str = "unknown"
    """`pcap`, `pcap-ns`, `pcapng`, with `+gzip` when compressed."""
    truncated: bool = False
    """True when the file ends in the middle of a record (e.g. tcpdump killed)."""
    warnings: list[str] | None = None
    """Human-readable warnings (truncation, unknown blocks)."""
    dropped: int = 0
    """Records passed over by the reader's quick-drop test (never yielded)."""
    first_time: float | None = None
    """Time of the first record, yielded or not."""
    last_time: float | None = None
    """Time of the last record read, yielded or not."""
    position: Callable[[], int] | None = None
    """Bytes of the file read so far (compressed bytes for gzip; None for stdin)."""

    def warn(self, text: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append(text)


def open_capture(path: str | Path) -> tuple[BinaryIO, CaptureInfo]:
    """Open a capture (or `-` for stdin), transparently un-gzipping it."""
    name = str(path)
    try:
        # stdin.buffer and open(..., "rb") are both buffered readers with peek().
        raw = cast(
            io.BufferedReader,
            sys.stdin.buffer if name == "-" else open(name, "rb", buffering=READ_BUFFER),  # noqa: SIM115
        )
    except OSError as exc:
        raise CaptureError(name, f"cannot open: {exc.strerror or exc}") from exc
    info = CaptureInfo(name)
    if name != "-":
        info.position = raw.tell
    if raw.peek(2)[:2] == GZIP_MAGIC:
        info.format = "+gzip"
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw)), info
    return cast(BinaryIO, raw), info


def iter_frames(path: str | Path) -> tuple[CaptureInfo, Iterator[Frame]]:
    """Open `path` and return its info and a lazy iterator over its frames.

    Raises `CaptureError` at once for an unknown format.
    """
    info, records = open_records(path)
    return info, (Frame(*r) for r in records)


def open_records(
    path: str | Path, quick: QuickDrop | None = None
) -> tuple[CaptureInfo, Iterator[Record]]:
    """Like `iter_frames`, yielding plain tuples, minus the records `quick` drops (counted)."""
    stream, info = open_capture(path)
    try:
        magic = _read_exact(stream, 4)
    except (OSError, EOFError, zlib.error) as exc:
        stream.close()
        raise CaptureError(info.path, f"cannot read: {exc}") from exc
    gz = "+gzip" if info.format == "+gzip" else ""
    if magic in PCAP_MAGICS:
        order, divisor = PCAP_MAGICS[magic]
        info.format = ("pcap" if divisor == 1_000_000 else "pcap-ns") + gz
        return info, _closing(stream, _pcap_frames(stream, info, order, divisor, quick))
    if magic == PCAPNG_SHB:
        info.format = "pcapng" + gz
        return info, _closing(stream, _pcapng_frames(stream, info, quick))
    try:
        head = magic + _read_exact(stream, 12)
    except (OSError, EOFError, zlib.error):
        head = magic
    stream.close()
    kind = _describe(head)
    if gz and not kind.startswith("empty"):
        kind = f"gzip-compressed {kind}"
    raise CaptureError(info.path, f"not a pcap or pcapng capture ({kind})")


def _describe(head: bytes) -> str:
    """Name the format of an unreadable file from its first bytes, for the error message."""
    magic = head[:4]
    if not magic:
        return "empty file"
    if magic == b"GMBU":
        return "Microsoft Network Monitor 2.x capture"
    if magic == b"RTSS":
        return "Microsoft Network Monitor 1.x capture"
    if head[:8] == b"snoop\0\0\0":
        return "Sun snoop capture"
    if magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34"):
        return "modified (Kuznetzov) pcap, not supported"
    if magic[:2] == GZIP_MAGIC:
        return "gzip data that is not a capture"
    if _looks_like_erf(head):
        return "Endace ERF capture"
    if all(32 <= b < 127 or b in b"\r\n\t" for b in head):
        return "text file"
    return f"unknown format, magic {magic.hex()}"


def _looks_like_erf(head: bytes) -> bool:
    # ERF has no magic: a record header with a plausible time, type and length.
    if len(head) < 16:
        return False
    seconds = struct.unpack_from("<I", head, 4)[0]
    rtype, rlen, wlen = head[8] & 0x7F, *struct.unpack_from(">H2xH", head, 10)
    return 631152000 < seconds < 4102444800 and 1 <= rtype <= 48 and rlen >= 16 and wlen > 0


def _closing(stream: BinaryIO, frames: Iterator[Record]) -> Iterator[Record]:
    try:
        yield from frames
    finally:
        stream.close()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    return data if data is not None else b""


Record = tuple[int, float, int, bytes, int]
"""(number, time, linktype, data, orig_len): a `Frame` without the object, for the hot path."""

QuickDrop = Callable[[bytes, int, int, int], bool]
"""`(buffer, offset, captured length, linktype) -> True` for a record known to carry nothing
of interest; it is counted in `CaptureInfo.dropped` instead of being yielded."""

CHUNK = 4 << 20
MAX_RECORD = 0x4000000  # 64 MiB: larger record lengths mean a corrupt file


class _Chunked:
    """A read window over the stream: records are sliced out of big reads, not read one by one."""

    __slots__ = ("buf", "info", "read")

    def __init__(self, stream: BinaryIO, info: CaptureInfo, initial: bytes = b"") -> None:
        # read1: a gzip stream cut short raises on the read that hits the cut; reading
        # in decompression-sized steps keeps everything decompressed before it.
        self.read = getattr(stream, "read1", stream.read)
        self.info = info
        self.buf = initial

    def refill(self, pos: int, need: int) -> int:
        """Make `need` bytes from `pos` available; returns how many are (fewer only at EOF)."""
        parts = [self.buf[pos:]]
        have = len(parts[0])
        while have < need:
            try:
                more = self.read(max(CHUNK, need - have))
            except (OSError, EOFError, zlib.error) as exc:
                # A gzip stream cut short (tcpdump -w | gzip killed): keep what came before.
                self.info.truncated = True
                self.info.warn(f"compressed data ends early or is corrupt: {exc}")
                break
            if not more:
                break
            parts.append(more)
            have += len(more)
        self.buf = b"".join(parts)
        return have


def _pcap_frames(
    stream: BinaryIO, info: CaptureInfo, order: str, divisor: int, quick: QuickDrop | None = None
) -> Iterator[Record]:
    """Records of a classic pcap file (after its 4-byte magic)."""
    window = _Chunked(stream, info)
    if window.refill(0, 20) < 20:
        info.truncated = True
        info.warn("file ends inside the pcap global header")
        return
    _vmaj, _vmin, _zone, _sig, _snaplen, network = struct.unpack_from(order + "HHiIII", window.buf)
    linktype = network & 0x0FFFFFFF  # upper bits carry FCS flags (pcap-savefile)
    rec = struct.Struct(order + "IIII").unpack_from
    number = 0
    pos = 20
    buf = window.buf
    sec = frac = 0
    try:
        while True:
            if pos + 16 > len(buf):
                got = window.refill(pos, 16)
                buf, pos = window.buf, 0
                if got < 16:
                    if got:
                        info.truncated = True
                        info.warn(f"file ends inside the header of record {number + 1}")
                    return
            sec, frac, incl, orig = rec(buf, pos)
            if incl > MAX_RECORD:
                info.truncated = True
                info.warn(f"record {number + 1} claims {incl} bytes: file corrupt, reading stopped")
                return
            p = pos + 16
            pos = p + incl
            if pos > len(buf):
                got = window.refill(p - 16, incl + 16)
                buf, p, pos = window.buf, 16, incl + 16
                if got < incl + 16:
                    info.truncated = True
                    info.warn(f"file ends inside record {number + 1} ({got - 16} of {incl} bytes)")
                    return
            number += 1
            if number == 1:
                info.first_time = sec + frac / divisor
            if quick is not None and quick(buf, p, incl, linktype):
                info.dropped += 1
                continue
            yield (number, sec + frac / divisor, linktype, buf[p:pos], orig)
    finally:
        if number:
            info.last_time = sec + frac / divisor


# pcapng block types (draft-ietf-opsawg-pcapng)
PCAPNG_SHB_TYPE = 0x0A0D0D0A
_IDB = 0x00000001
_OPB = 0x00000002  # obsolete Packet Block
_SPB = 0x00000003
_EPB = 0x00000006


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    divisor: float


def _pcapng_frames(
    stream: BinaryIO, info: CaptureInfo, quick: QuickDrop | None = None
) -> Iterator[Record]:
    """Packet blocks of a pcapng file (after the first SHB's 4-byte block type)."""
    order = "<"
    interfaces: list[_Interface] = []
    number = 0
    window = _Chunked(stream, info, PCAPNG_SHB)
    buf, pos = window.buf, 0
    ts = 0.0
    u32 = struct.Struct("<I").unpack_from
    try:
        while True:
            if pos + 12 > len(buf):
                got = window.refill(pos, 12)
                buf, pos = window.buf, 0
                if got < 12:
                    if got:
                        info.truncated = True
                        info.warn(f"file ends inside a block header after record {number}")
                    return
            if buf[pos : pos + 4] == PCAPNG_SHB:
                # The byte-order magic decides how to read this section's lengths.
                bom = buf[pos + 8 : pos + 12]
                if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                    info.truncated = True
                    info.warn("bad pcapng byte-order magic: reading stopped")
                    return
                order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                u32 = struct.Struct(order + "I").unpack_from
                interfaces = []  # interface ids are per section
                btype = PCAPNG_SHB_TYPE
            else:
                (btype,) = u32(buf, pos)
            (total,) = u32(buf, pos + 4)
            if total < 12 or total % 4 or total > MAX_RECORD:
                info.truncated = True
                info.warn(
                    f"corrupt pcapng block length {total} after record {number}: reading stopped"
                )
                return
            if pos + total > len(buf):
                got = window.refill(pos, total)
                buf, pos = window.buf, 0
                if got < total:
                    info.truncated = True
                    info.warn(f"file ends inside a block after record {number}")
                    return
            start, pos = pos, pos + total
            if btype == _EPB:
                iface, ts_hi, ts_lo, cap, orig = struct.unpack_from(order + "IIIII", buf, start + 8)
                number += 1
                itf = interfaces[iface] if iface < len(interfaces) else _UNKNOWN_INTERFACE
                ts = ((ts_hi << 32) | ts_lo) / itf.divisor
                if number == 1:
                    info.first_time = ts
                cap = min(cap, total - 32)
                if quick is not None and quick(buf, start + 28, cap, itf.linktype):
                    info.dropped += 1
                    continue
                yield (number, ts, itf.linktype, buf[start + 28 : start + 28 + cap], orig)
            elif btype == _IDB:
                linktype, _res, snaplen = struct.unpack_from(order + "HHI", buf, start + 8)
                options = buf[start + 16 : pos - 4]
                interfaces.append(_Interface(linktype, snaplen, _tsresol(options, order)))
            elif btype == _SPB:
                (orig,) = u32(buf, start + 8)
                number += 1
                itf = _iface(interfaces, 0)
                cap = min(orig, itf.snaplen or orig, total - 16)
                yield (number, 0.0, itf.linktype, buf[start + 12 : start + 12 + cap], orig)
            elif btype == _OPB:
                iface, _drops, ts_hi, ts_lo, cap, orig = struct.unpack_from(
                    order + "HHIIII", buf, start + 8
                )
                number += 1
                itf = _iface(interfaces, iface)
                ts = ((ts_hi << 32) | ts_lo) / itf.divisor
                cap = min(cap, total - 32)
                yield (number, ts, itf.linktype, buf[start + 28 : start + 28 + cap], orig)
            # Other blocks (SHB, NRB, ISB, DSB, custom) carry no packets.
    finally:
        if number:
            info.last_time = ts


_UNKNOWN_INTERFACE = _Interface(-1, 0, 1e6)


def _iface(interfaces: list[_Interface], index: int) -> _Interface:
    # A packet naming an undeclared interface is decoded as unknown link type.
    return interfaces[index] if index < len(interfaces) else _UNKNOWN_INTERFACE


def _tsresol(options: bytes, order: str) -> float:
    """Timestamp units per second from the IDB `if_tsresol` option (default 10^6)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack(order + "HH", options[pos : pos + 4])
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[pos + 4]
            return float(2 ** (value & 0x7F)) if value & 0x80 else float(10**value)
        pos += 4 + ((length + 3) & ~3)
    return 1e6
