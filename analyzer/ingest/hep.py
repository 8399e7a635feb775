"""HEP (Homer Encapsulation Protocol) v1, v2 and v3: captured SIP relayed by agents.

A HEP packet carries one captured message plus where and when the agent saw
it, so the SIP packet takes its time and addresses from HEP, not from the UDP
datagram that carried it. HEP3 is a list of typed chunks (all big-endian);
HEP1/2 are a fixed header (ports big-endian, the v2 time header in the
agent's host order, in practice little-endian). Pure functions, no I/O.
"""

from __future__ import annotations

import socket
import struct
import zlib
from dataclasses import dataclass

HEP3_MAGIC = b"HEP3"
# HEP3 chunk types of the generic vendor (0)
_FAMILY = 1
_PROTO = 2
_SRC4 = 3
_DST4 = 4
_SRC6 = 5
_DST6 = 6
_SPORT = 7
_DPORT = 8
_SECONDS = 9
_MICROS = 10
_PROTO_TYPE = 11
_PAYLOAD = 15
_PAYLOAD_ZIP = 16
PROTO_TYPE_SIP = 1
# A decompressed payload larger than this is not a SIP message (zip bomb guard).
MAX_PAYLOAD = 1 << 20

_TRANSPORTS = {17: "udp", 6: "tcp", 132: "sctp"}


@dataclass(frozen=True, slots=True)
class HepPacket:
    """One message relayed by a HEP agent."""

    version: int
    """1, 2 or 3."""
    transport: str
    """`udp`, `tcp`, `sctp` (from the HEP IP protocol), or `ip_proto_N`."""
    src: str
    """Source address as the agent saw it."""
    sport: int
    """Source port."""
    dst: str
    """Destination address."""
    dport: int
    """Destination port."""
    time: float | None
    """Capture time at the agent (None for HEP1, which has none)."""
    proto_type: int
    """HEP3 payload protocol type (1 = SIP); 1 for HEP1/2, which carry only SIP."""
    payload: bytes
    """The captured message (decompressed when it came compressed)."""


class HepError(ValueError):
    """A packet that starts like HEP but cannot be read as HEP."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_hep(payload: bytes) -> bool:
    """Whether a UDP/TCP payload is a HEP packet (checked by its header, on any port)."""
    if payload[:4] == HEP3_MAGIC:
        return True
    if len(payload) < 16 or payload[0] not in (1, 2):
        return False
    family, hlen = payload[2], payload[1]
    return (family, hlen) in _V2_HEADER_LENGTHS.get(payload[0], ())


# (family, header length) pairs a HEP1/HEP2 header may have. Agents (captagent,
# kamailio and OpenSIPS siptrace) count only the address header in the length and
# put HEP2's 12-byte time header after it; a few count the time header too.
_V2_HEADER_LENGTHS = {
    1: ((socket.AF_INET, 16), (10, 40)),
    2: ((socket.AF_INET, 16), (10, 40), (socket.AF_INET, 28), (10, 52)),
}
_TIME_HEADER = 12


def parse_hep(payload: bytes) -> HepPacket:
    """Read one HEP packet. Raises `HepError` with a stable reason."""
    if payload[:4] == HEP3_MAGIC:
        return _hep3(payload)
    return _hep12(payload)


def _hep12(data: bytes) -> HepPacket:
    version, hlen, family, proto = data[0], data[1], data[2], data[3]
    size = 4 if family == socket.AF_INET else 16
    # The payload starts after the address header and, for HEP2, the time header.
    start = max(hlen, 8 + 2 * size + (_TIME_HEADER if version == 2 else 0))
    if len(data) < start:
        raise HepError("hep_truncated")
    sport, dport = struct.unpack_from("!HH", data, 4)
    af = socket.AF_INET if size == 4 else socket.AF_INET6
    src = socket.inet_ntop(af, data[8 : 8 + size])
    dst = socket.inet_ntop(af, data[8 + size : 8 + 2 * size])
    time: float | None = None
    if version == 2:
        sec, usec = struct.unpack_from("<II", data, 8 + 2 * size)
        if usec >= 1_000_000:  # an agent that wrote network order
            sec, usec = struct.unpack_from(">II", data, 8 + 2 * size)
        time = sec + usec / 1e6
    transport = _TRANSPORTS.get(proto, f"ip_proto_{proto}")
    return HepPacket(version, transport, src, sport, dst, dport, time, 1, data[start:])


def _hep3(data: bytes) -> HepPacket:
    if len(data) < 6:
        raise HepError("hep_truncated")
    (total,) = struct.unpack_from("!H", data, 4)
    if total < 6 or total > len(data):
        raise HepError("hep_truncated")
    fields: dict[int, bytes] = {}
    pos = 6
    while pos + 6 <= total:
        vendor, ctype, clen = struct.unpack_from("!HHH", data, pos)
        if clen < 6 or pos + clen > total:
            raise HepError("hep_bad_chunk")
        if vendor == 0:
            fields.setdefault(ctype, data[pos + 6 : pos + clen])
        pos += clen
    proto = fields.get(_PROTO, b"\x11")[0]
    src, dst = _addresses(fields)
    sport = _u16(fields.get(_SPORT))
    dport = _u16(fields.get(_DPORT))
    time: float | None = None
    if _SECONDS in fields:
        time = _u32(fields[_SECONDS]) + _u32(fields.get(_MICROS)) / 1e6
    proto_type = fields.get(_PROTO_TYPE, b"\x01")[0]
    if _PAYLOAD in fields:
        payload = fields[_PAYLOAD]
    elif _PAYLOAD_ZIP in fields:
        payload = _inflate(fields[_PAYLOAD_ZIP])
    else:
        raise HepError("hep_no_payload")
    transport = _TRANSPORTS.get(proto, f"ip_proto_{proto}")
    return HepPacket(3, transport, src, sport, dst, dport, time, proto_type, payload)


def _addresses(fields: dict[int, bytes]) -> tuple[str, str]:
    if _SRC6 in fields or _DST6 in fields:
        return _ntop(socket.AF_INET6, fields.get(_SRC6)), _ntop(socket.AF_INET6, fields.get(_DST6))
    return _ntop(socket.AF_INET, fields.get(_SRC4)), _ntop(socket.AF_INET, fields.get(_DST4))


def _ntop(family: int, raw: bytes | None) -> str:
    size = 4 if family == socket.AF_INET else 16
    if raw is None or len(raw) != size:
        return "0.0.0.0" if size == 4 else "::"
    return socket.inet_ntop(family, raw)


def _u16(raw: bytes | None) -> int:
    return struct.unpack("!H", raw)[0] if raw is not None and len(raw) == 2 else 0


def _u32(raw: bytes | None) -> int:
    return struct.unpack("!I", raw)[0] if raw is not None and len(raw) == 4 else 0


def _inflate(raw: bytes) -> bytes:
    # Agents use zlib (heplify) or gzip framing; wbits 47 accepts both.
    for wbits in (47, -15):
        try:
            z = zlib.decompressobj(wbits)
            out = z.decompress(raw, MAX_PAYLOAD)
        except zlib.error:
            continue
        if z.unconsumed_tail:
            raise HepError("hep_payload_too_large")
        return out
    raise HepError("hep_bad_compression")
