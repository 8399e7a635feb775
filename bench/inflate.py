"""Inflate a capture to any size: time-shifted copies whose calls are all distinct.

Usage:
    python bench/inflate.py SRC DST (--copies N | --min-bytes B) [--gap SECONDS]

Writes a pcap made of N copies of the pcap SRC (N from ``--copies``, or the
fewest copies reaching B bytes), one after the other: copy k has every
timestamp moved k x (SRC's span + gap) later, and in every SIP message carried
over UDP its Call-ID, its From and To tags and the part of each Via branch after
the ``z9hG4bK`` cookie rewritten, so that each copy's calls, dialogs and
transactions are new ones. Copy 0 is SRC unchanged. The memory target of
issue 4 ("a 2 GB capture is analysed within 300 MB peak RSS") is measured on
such a file made from the lab's RTP-heavy capture (bench/make_captures.py).

The rewrite keeps every length: copy k rotates each letter and digit of those
values k places along ``0-9A-Za-z`` (so ``1-4203@127.0.0.1`` becomes
``2-5314@238.1.1.2`` in copy 1), a same-width bijection, so frames, IP and UDP
lengths and the SIP Content-Length stay as they were; the UDP checksum of a
rewritten datagram is computed anew (IPv4 and IPv6). A first pass reads SRC's
values and refuses copy counts for which some rotated value would equal an
original one (then two copies would share a call); the rotation has period 62,
so at most 62 copies.

Streaming, standard library only: memory holds the set of SRC's distinct
Call-IDs, tags and branches, never the file. Input: classic pcap (micro- or
nanosecond, either byte order) with Ethernet (VLAN tags too), Linux cooked
(v1) or raw IP frames. SIP over TCP cannot be rewritten without breaking
sequence numbers or checksums, so a capture with TCP payload is refused.
"""

from __future__ import annotations

import argparse
import math
import re
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_COPIES = len(ALNUM)

PCAP_HEADER = 24
RECORD_HEADER = 16
# Magic number (as read little-endian) -> (struct byte order, ticks per second).
MAGICS = {
    0xA1B2C3D4: ("<", 1_000_000),
    0xD4C3B2A1: (">", 1_000_000),
    0xA1B23C4D: ("<", 1_000_000_000),
    0x4D3CB2A1: (">", 1_000_000_000),
}
LINK_ETHERNET, LINK_RAW, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6 = 1, 101, 113, 228, 229
ETHERTYPE_IPV4, ETHERTYPE_IPV6 = 0x0800, 0x86DD
VLAN_ETHERTYPES = (0x8100, 0x88A8, 0x9100)
PROTO_TCP, PROTO_UDP = 6, 17

# The header lines whose values are rewritten (RFC 3261 §7.3.3 compact forms too).
CALL_ID_LINE = re.compile(rb"^((?:Call-ID|i)[ \t]*:[ \t]*)([^\r\n]*?)(?=[ \t]*\r?$)", re.I | re.M)
ADDRESS_LINE = re.compile(rb"^(?:From|f|To|t)[ \t]*:[^\r\n]*", re.I | re.M)
VIA_LINE = re.compile(rb"^(?:Via|v)[ \t]*:[^\r\n]*", re.I | re.M)
TOKEN = rb"[-A-Za-z0-9.!%*_+`'~]+"  # RFC 3261 §25.1 token
TAG_PARAM = re.compile(rb"(;[ \t]*tag[ \t]*=[ \t]*)(" + TOKEN + rb")", re.I)
BRANCH_PARAM = re.compile(rb"(;[ \t]*branch[ \t]*=[ \t]*(?:z9hG4bK)?)(" + TOKEN + rb")", re.I)


class InflateError(Exception):
    """The source capture cannot be inflated as asked."""


def rotation(k: int) -> bytes:
    """A bytes.translate table moving each letter and digit k places along ALNUM."""
    table = bytearray(range(256))
    for i, char in enumerate(ALNUM):
        table[char] = ALNUM[(i + k) % len(ALNUM)]
    return bytes(table)


@dataclass
class Identifiers:
    """The distinct values of a capture that the copies rewrite."""

    call_ids: set[bytes] = field(default_factory=set)
    tags: set[bytes] = field(default_factory=set)
    branches: set[bytes] = field(default_factory=set)

    def collisions(self, k: int) -> int:
        """How many values, rotated k places, equal another original value."""
        table = rotation(k)
        return sum(
            sum(1 for value in values if value.translate(table) in values)
            for values in (self.call_ids, self.tags, self.branches)
        )


def headers_of(payload: bytes) -> bytes:
    """The header section of a SIP message (the body, e.g. SDP, is never rewritten)."""
    end = payload.find(b"\r\n\r\n")
    return payload if end < 0 else payload[: end + 2]


def collect(payload: bytes, ids: Identifiers) -> None:
    head = headers_of(payload)
    ids.call_ids.update(m.group(2) for m in CALL_ID_LINE.finditer(head))
    for line in ADDRESS_LINE.finditer(head):
        ids.tags.update(m.group(2) for m in TAG_PARAM.finditer(line.group()))
    for line in VIA_LINE.finditer(head):
        ids.branches.update(m.group(2) for m in BRANCH_PARAM.finditer(line.group()))


def rewrite(payload: bytes, table: bytes) -> bytes:
    """The SIP message with its Call-ID, tags and branches rotated (same length)."""
    head = headers_of(payload)

    def value(m: re.Match[bytes]) -> bytes:
        return m.group(1) + m.group(2).translate(table)

    new = CALL_ID_LINE.sub(value, head)
    new = ADDRESS_LINE.sub(lambda m: TAG_PARAM.sub(value, m.group()), new)
    new = VIA_LINE.sub(lambda m: BRANCH_PARAM.sub(value, m.group()), new)
    assert len(new) == len(head)
    return new + payload[len(head) :]


def looks_like_sip(payload: bytes) -> bool:
    """A SIP start line: a status line, or a request line ending in SIP/2.0."""
    if payload.startswith(b"SIP/2.0 "):
        return True
    end = payload.find(b"\r\n", 0, 2048)
    return end > 0 and payload[:end].endswith(b" SIP/2.0")


def checksum(data: bytes) -> int:
    """RFC 768/1071 Internet checksum of data (one's complement of the 16-bit sum)."""
    if len(data) % 2:
        data += b"\0"
    # The one's-complement sum of 16-bit words is the number mod 0xFFFF, since
    # 2**16 = 1 (mod 0xFFFF); a non-zero sum congruent to 0 is 0xFFFF.
    total = int.from_bytes(data, "big") % 0xFFFF
    if total == 0 and any(data):
        total = 0xFFFF
    return ~total & 0xFFFF


@dataclass(frozen=True)
class Udp:
    """Where, in one frame, the UDP datagram of an IPv4 or IPv6 packet lies."""

    offset: int  # the UDP header
    end: int  # end of the datagram (the UDP length)
    pseudo: bytes  # source and destination addresses, for the checksum


def locate_ip(frame: bytes, link: int) -> int | None:
    """Offset of the IP header in a frame, or None for anything else."""
    if link in (LINK_RAW, LINK_IPV4, LINK_IPV6):
        return 0
    if link == LINK_ETHERNET:
        offset, ethertype_at = 14, 12
    elif link == LINK_LINUX_SLL:
        offset, ethertype_at = 16, 14
    else:
        raise InflateError(f"link type {link} not supported (Ethernet, Linux cooked, raw IP)")
    ethertype = int.from_bytes(frame[ethertype_at : ethertype_at + 2], "big")
    while ethertype in VLAN_ETHERTYPES and len(frame) >= offset + 4:
        ethertype = int.from_bytes(frame[offset + 2 : offset + 4], "big")
        offset += 4
    return offset if ethertype in (ETHERTYPE_IPV4, ETHERTYPE_IPV6) else None


def transport(frame: bytes, link: int) -> tuple[int, Udp | None, bytes]:
    """IP protocol, the UDP datagram (if UDP) and the transport payload of a frame.

    Protocol 0 for frames that are not an unfragmented IPv4/IPv6 packet.
    """
    ip = locate_ip(frame, link)
    if ip is None or len(frame) < ip + 20:
        return 0, None, b""
    version = frame[ip] >> 4
    if version == 4:
        header = (frame[ip] & 0x0F) * 4
        fragment = int.from_bytes(frame[ip + 6 : ip + 8], "big") & 0x3FFF
        if fragment:
            return 0, None, b""
        proto, start, pseudo = frame[ip + 9], ip + header, frame[ip + 12 : ip + 20]
    elif version == 6 and len(frame) >= ip + 40:
        # Extension headers are not followed: the lab's packets have none.
        proto, start, pseudo = frame[ip + 6], ip + 40, frame[ip + 8 : ip + 40]
    else:
        return 0, None, b""
    if proto == PROTO_UDP and len(frame) >= start + 8:
        end = min(len(frame), start + int.from_bytes(frame[start + 4 : start + 6], "big"))
        return proto, Udp(start, end, pseudo), frame[start + 8 : end]
    if proto == PROTO_TCP and len(frame) >= start + 20:
        return proto, None, frame[start + (frame[start + 12] >> 4) * 4 :]
    return proto, None, b""


def with_udp_payload(frame: bytes, udp: Udp, payload: bytes) -> bytes:
    """The frame with a same-length UDP payload and its UDP checksum recomputed."""
    datagram = bytearray(frame[udp.offset : udp.offset + 8] + payload)
    datagram[6:8] = b"\0\0"
    pseudo = udp.pseudo + struct.pack("!HH", PROTO_UDP, len(datagram))
    total = checksum(pseudo + datagram)
    datagram[6:8] = (total or 0xFFFF).to_bytes(2, "big")
    return frame[: udp.offset] + bytes(datagram) + frame[udp.end :]


@dataclass(frozen=True)
class Pcap:
    header: bytes
    order: str
    ticks: int  # per second
    link: int


def open_pcap(f: BinaryIO) -> Pcap:
    header = f.read(PCAP_HEADER)
    if len(header) < PCAP_HEADER:
        raise InflateError("not a pcap file: shorter than its header")
    magic = int.from_bytes(header[:4], "little")
    if magic not in MAGICS:
        raise InflateError(f"not a classic pcap file (magic {header[:4].hex()}); pcapng: editcap")
    order, ticks = MAGICS[magic]
    link = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF
    return Pcap(header, order, ticks, link)


def records(f: BinaryIO, pcap: Pcap) -> Iterator[tuple[int, int, int, bytes]]:
    """(seconds, fraction, original length, frame) of every record."""
    unpack = struct.Struct(pcap.order + "IIII").unpack
    while True:
        head = f.read(RECORD_HEADER)
        if len(head) < RECORD_HEADER:
            return
        sec, frac, caplen, origlen = unpack(head)
        frame = f.read(caplen)
        if len(frame) < caplen:
            return  # cut inside a record (tcpdump killed): keep what is whole
        yield sec, frac, origlen, frame


@dataclass
class Survey:
    """What the first pass learns about the source."""

    ids: Identifiers
    packets: int
    sip: int
    first: int  # timestamps in ticks
    last: int


def survey(path: Path) -> Survey:
    ids = Identifiers()
    packets = sip = 0
    first = last = 0
    with open(path, "rb") as f:
        pcap = open_pcap(f)
        for sec, frac, _orig, frame in records(f, pcap):
            stamp = sec * pcap.ticks + frac
            first, last = (stamp, stamp) if packets == 0 else (first, max(last, stamp))
            packets += 1
            proto, udp, payload = transport(frame, pcap.link)
            if proto == PROTO_TCP and payload:
                raise InflateError(
                    f"{path}: TCP payload in frame {packets}: only SIP over UDP is rewritten"
                )
            if udp is not None and looks_like_sip(payload):
                sip += 1
                collect(payload, ids)
    if packets == 0:
        raise InflateError(f"{path}: no packets")
    return Survey(ids, packets, sip, first, last)


def copies_for(src: Path, min_bytes: int) -> int:
    body = src.stat().st_size - PCAP_HEADER
    return max(1, math.ceil((min_bytes - PCAP_HEADER) / body))


def inflate(src: Path, dst: Path, copies: int, gap: float) -> tuple[Survey, float]:
    """Write dst; returns the source survey and the time shift between copies (s)."""
    if not 1 <= copies <= MAX_COPIES:
        raise InflateError(f"{copies} copies: 1 to {MAX_COPIES} possible")
    found = survey(src)
    for k in range(1, copies):
        clashes = found.ids.collisions(k)
        if clashes:
            raise InflateError(f"copy {k} would reuse {clashes} original Call-ID/tag/branch")
    tmp = dst.with_name(dst.name + ".part")
    with open(src, "rb") as f, open(tmp, "wb", buffering=1 << 20) as out:
        pcap = open_pcap(f)
        shift = found.last - found.first + round(gap * pcap.ticks)
        pack = struct.Struct(pcap.order + "IIII").pack
        out.write(pcap.header)
        for k in range(copies):
            f.seek(PCAP_HEADER)
            table = rotation(k)
            offset = k * shift
            for sec, frac, origlen, frame in records(f, pcap):
                stamp = sec * pcap.ticks + frac + offset
                if k:
                    _, udp, payload = transport(frame, pcap.link)
                    if udp is not None and looks_like_sip(payload):
                        frame = with_udp_payload(frame, udp, rewrite(payload, table))
                out.write(pack(stamp // pcap.ticks, stamp % pcap.ticks, len(frame), origlen))
                out.write(frame)
            print(f"inflate.py: copy {k + 1}/{copies} written", file=sys.stderr, flush=True)
    tmp.replace(dst)
    return found, shift / pcap.ticks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="a classic pcap file")
    parser.add_argument("dst", type=Path)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--copies", type=int, help=f"number of copies (1 to {MAX_COPIES})")
    size.add_argument("--min-bytes", type=int, help="the fewest copies making this many bytes")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between copies (default 1)")
    args = parser.parse_args(argv)
    copies = args.copies if args.copies is not None else copies_for(args.src, args.min_bytes)
    started = time.monotonic()
    try:
        found, shift = inflate(args.src, args.dst, copies, args.gap)
    except (InflateError, OSError) as error:
        print(f"inflate.py: {error}", file=sys.stderr)
        return 1
    print(
        f"{args.dst}: {args.dst.stat().st_size:,} bytes, {copies} copies of {args.src.name} "
        f"({found.packets:,} packets, {found.sip:,} SIP, {len(found.ids.call_ids):,} Call-IDs "
        f"each), {shift:.1f} s apart, in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
