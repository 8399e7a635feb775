"""Write small captures in every format variant for ingest tests.

Packets are built with scapy; the file containers are written here so each
variant (byte order, ns, pcapng blocks) is exercised on purpose.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

Packet = tuple[float, bytes]  # (time, link-layer bytes)


def pcap(
    packets: Sequence[Packet], linktype: int = 1, *, big: bool = False, ns: bool = False
) -> bytes:
    """A classic pcap file."""
    o = ">" if big else "<"
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    out = [struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    div = 1_000_000_000 if ns else 1_000_000
    for t, data in packets:
        sec = int(t)
        frac = round((t - sec) * div)
        out.append(struct.pack(o + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(btype: int, body: bytes, o: str = "<") -> bytes:
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack(o + "II", btype, total) + body + b"\0" * pad + struct.pack(o + "I", total)


def shb(o: str = "<") -> bytes:
    """Section header block."""
    return _block(0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1), o)


def idb(linktype: int, o: str = "<", tsresol: int | None = None) -> bytes:
    """Interface description block, optionally with if_tsresol."""
    opts = b""
    if tsresol is not None:
        opts = struct.pack(o + "HHB3x", 9, 1, tsresol) + struct.pack(o + "HH", 0, 0)
    return _block(1, struct.pack(o + "HHI", linktype, 0, 65535) + opts, o)


def epb(iface: int, t: float, data: bytes, o: str = "<", units: int = 1_000_000) -> bytes:
    """Enhanced packet block."""
    ts = round(t * units)
    head = struct.pack(o + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return _block(6, head + data, o)


def spb(data: bytes, o: str = "<") -> bytes:
    """Simple packet block (no timestamp, interface 0)."""
    return _block(3, struct.pack(o + "I", len(data)) + data, o)
