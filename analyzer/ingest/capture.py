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
from collections.abc import Iterator
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
    if raw.peek(2)[:2] == GZIP_MAGIC:
        info.format = "+gzip"
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw)), info
    return cast(BinaryIO, raw), info


def iter_frames(path: str | Path) -> tuple[CaptureInfo, Iterator[Frame]]:
    """Open `path` and return its info and a lazy iterator over its frames.

    Raises `CaptureError` at once for an unknown format.
    """
    stream, info = open_capture(path)
    try:
        magic = _read_exact(stream, 4)
    except (OSError, EOFError) as exc:
        stream.close()
        raise CaptureError(info.path, f"cannot read: {exc}") from exc
    gz = "+gzip" if info.format == "+gzip" else ""
    if magic in PCAP_MAGICS:
        order, divisor = PCAP_MAGICS[magic]
        info.format = ("pcap" if divisor == 1_000_000 else "pcap-ns") + gz
        return info, _closing(stream, _pcap_frames(stream, info, order, divisor))
    if magic == PCAPNG_SHB:
        info.format = "pcapng" + gz
        return info, _closing(stream, _pcapng_frames(stream, info))
    stream.close()
    raise CaptureError(info.path, f"not a pcap or pcapng capture ({_describe(magic)})")


def _describe(magic: bytes) -> str:
    """Name the format of an unreadable file, for the error message."""
    if not magic:
        return "empty file"
    if magic == b"GMBU":
        return "Microsoft Network Monitor capture"
    if magic[:2] == GZIP_MAGIC:
        return "gzip data that is not a capture"
    if all(32 <= b < 127 or b in b"\r\n\t" for b in magic):
        return "text file"
    return f"unknown format, magic {magic.hex()}"


def _closing(stream: BinaryIO, frames: Iterator[Frame]) -> Iterator[Frame]:
    try:
        yield from frames
    finally:
        stream.close()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    return data if data is not None else b""


def _pcap_frames(stream: BinaryIO, info: CaptureInfo, order: str, divisor: int) -> Iterator[Frame]:
    """Records of a classic pcap file (after its 4-byte magic)."""
    header = _read_exact(stream, 20)
    if len(header) < 20:
        info.truncated = True
        info.warn("file ends inside the pcap global header")
        return
    _vmaj, _vmin, _zone, _sig, _snaplen, network = struct.unpack(order + "HHiIII", header)
    linktype = network & 0x0FFFFFFF  # upper bits carry FCS flags (pcap-savefile)
    rec = struct.Struct(order + "IIII")
    number = 0
    read = stream.read
    while True:
        hdr = read(16)
        if not hdr:
            return
        if len(hdr) < 16:
            info.truncated = True
            info.warn(f"file ends inside the header of record {number + 1}")
            return
        sec, frac, incl, orig = rec.unpack(hdr)
        if incl > 0x4000000:
            info.truncated = True
            info.warn(f"record {number + 1} claims {incl} bytes: file corrupt, reading stopped")
            return
        data = read(incl)
        if len(data) < incl:
            info.truncated = True
            info.warn(f"file ends inside record {number + 1} ({len(data)} of {incl} bytes)")
            return
        number += 1
        yield Frame(number, sec + frac / divisor, linktype, data, orig)


# pcapng block types (draft-ietf-opsawg-pcapng)
_SHB = 0x0A0D0D0A
_IDB = 0x00000001
_OPB = 0x00000002  # obsolete Packet Block
_SPB = 0x00000003
_EPB = 0x00000006


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    divisor: float


def _pcapng_frames(stream: BinaryIO, info: CaptureInfo) -> Iterator[Frame]:
    """Packet blocks of a pcapng file (after the first SHB's 4-byte block type)."""
    order = "<"
    interfaces: list[_Interface] = []
    number = 0
    first = True
    while True:
        if first:
            btype_raw = PCAPNG_SHB
            first = False
        else:
            btype_raw = stream.read(4)
            if not btype_raw:
                return
        head = stream.read(4)
        if len(btype_raw) < 4 or len(head) < 4:
            info.truncated = True
            info.warn(f"file ends inside a block header after record {number}")
            return
        if btype_raw == PCAPNG_SHB:
            # The byte-order magic decides how to read this section's lengths.
            bom = stream.read(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                info.truncated = True
                info.warn("bad pcapng byte-order magic: reading stopped")
                return
            (total,) = struct.unpack(order + "I", head)
            body = stream.read(total - 12)
            if len(body) < total - 12:
                info.truncated = True
                info.warn("file ends inside a section header block")
                return
            interfaces = []  # interface ids are per section
            continue
        (btype,) = struct.unpack(order + "I", btype_raw)
        (total,) = struct.unpack(order + "I", head)
        if total < 12 or total % 4 or total > 0x4000000:
            info.truncated = True
            info.warn(f"corrupt pcapng block length {total} after record {number}: reading stopped")
            return
        body = stream.read(total - 8)
        if len(body) < total - 8:
            info.truncated = True
            info.warn(f"file ends inside a block after record {number}")
            return
        body = body[:-4]  # trailing copy of the block length
        if btype == _IDB:
            linktype, _res, snaplen = struct.unpack(order + "HHI", body[:8])
            interfaces.append(_Interface(linktype, snaplen, _tsresol(body[8:], order)))
        elif btype == _EPB:
            iface, ts_hi, ts_lo, cap, orig = struct.unpack(order + "IIIII", body[:20])
            number += 1
            itf = _iface(interfaces, iface)
            ts = ((ts_hi << 32) | ts_lo) / itf.divisor
            yield Frame(number, ts, itf.linktype, body[20 : 20 + cap], orig)
        elif btype == _SPB:
            (orig,) = struct.unpack(order + "I", body[:4])
            number += 1
            itf = _iface(interfaces, 0)
            cap = min(orig, itf.snaplen or orig, len(body) - 4)
            yield Frame(number, 0.0, itf.linktype, body[4 : 4 + cap], orig)
        elif btype == _OPB:
            iface, _drops, ts_hi, ts_lo, cap, orig = struct.unpack(order + "HHIIII", body[:20])
            number += 1
            itf = _iface(interfaces, iface)
            ts = ((ts_hi << 32) | ts_lo) / itf.divisor
            yield Frame(number, ts, itf.linktype, body[20 : 20 + cap], orig)
        # Other blocks (NRB, ISB, DSB, custom) carry no packets.


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
