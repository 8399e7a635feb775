"""Link, network and transport decoding: frame bytes to a transport segment.

Decoders are small functions chained by lookup tables keyed by protocol
number (dpkt's idea), but unlike dpkt every frame that cannot be decoded
returns a named reason, so it is counted rather than silently lost.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field, replace

# LINKTYPE_* values (tcpdump.org/linktypes.html)
LINK_NULL = 0
LINK_ETHERNET = 1
LINK_RAW = 101
LINK_RAW_BSD12 = 12
LINK_RAW_BSD14 = 14
LINK_LOOP = 108
LINK_LINUX_SLL = 113
LINK_IPV4 = 228
LINK_IPV6 = 229
LINK_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = (0x8100, 0x88A8, 0x9100)
ETH_PPPOE_SESSION = 0x8864
ETH_TEB = 0x6558  # transparent Ethernet bridging (inside GRE)
ETH_ERSPAN2 = 0x88BE
ETH_ERSPAN3 = 0x22EB

IPPROTO_IPIP = 4
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_GRE = 47
IPPROTO_SCTP = 132
# IPv6 extension headers that we walk over (RFC 8200 §4)
_IPV6_EXT = frozenset({0, 43, 60, 135, 139, 140})
IPV6_FRAGMENT = 44
IPV6_NO_NEXT = 59
IPV6_AH = 51

MAX_TUNNEL_DEPTH = 4


def _ntop4(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET, raw)


def _ntop6(raw: bytes) -> str:
    # RFC 5952 text, as tshark shows it (IPv4-mapped addresses as ::ffff:a.b.c.d).
    return socket.inet_ntop(socket.AF_INET6, raw)


GTP_GPDU = 0xFF


@dataclass(frozen=True, slots=True)
class Segment:
    """A transport-layer payload with its addresses."""

    transport: str
    """`udp`, `tcp` or `sctp` (payload: the chunks after the common header)."""
    src: str
    """Source IP address (compressed text form)."""
    sport: int
    """Source port."""
    dst: str
    """Destination IP address."""
    dport: int
    """Destination port."""
    payload: bytes
    """Transport payload."""
    seq: int = 0
    """TCP sequence number."""
    flags: int = 0
    """TCP flags byte."""
    partial: bool = False
    """The IP header claims more bytes than were captured; decoded from what was."""


@dataclass(frozen=True, slots=True)
class Skip:
    """A frame (or datagram) that could not be decoded to a transport payload."""

    reason: str
    """Stable reason name used in the accounting."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An IP fragment held for reassembly; its fate is decided later."""

    key: tuple[object, ...]
    """Reassembly key of the datagram it belongs to."""


@dataclass(frozen=True, slots=True)
class NonSip:
    """A frame decoded fine but carrying a protocol we do not read for SIP."""

    reason: str
    """What it was (e.g. `arp`, `icmp`, `other_ip_proto`)."""


Decoded = Segment | Skip | Pending | NonSip


@dataclass(slots=True)
class _Fragments:
    """Fragments of one IP datagram being reassembled."""

    frames: list[int] = field(default_factory=list)
    parts: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None
    first_seen: float = 0.0
    header: tuple[object, ...] = ()


class Decoder:
    """Stateful decoder: holds IP fragments until their datagram is complete."""

    # Bounds for fragment reassembly (memory and time).
    MAX_DATAGRAMS = 4096
    FRAGMENT_TIMEOUT = 30.0

    def __init__(self) -> None:
        self._frags: dict[tuple[object, ...], _Fragments] = {}
        self._now = 0.0  # time of the frame being decoded (fragment timeouts)
        self._frame = 0  # its number (frames held with a fragment)
        self.completed_fragment_frames: list[tuple[list[int], Decoded]] = []
        """(frames held, final result) for datagrams completed since last drained."""
        self.expired_fragment_frames: list[int] = []
        """Frames of datagrams given up on (timeout or memory bound)."""

    def decode(self, number: int, time: float, linktype: int, data: bytes) -> Decoded:
        """Decode one frame down to its transport segment, or say why not."""
        self._now = time
        self._frame = number
        try:
            return self._link(linktype, data)
        except (struct.error, IndexError, ValueError):
            return Skip("malformed_packet")

    def pending_frames(self) -> list[int]:
        """Frames still held as fragments (at end of capture: unreassembled)."""
        return [f for frag in self._frags.values() for f in frag.frames]

    # -- link layers ----------------------------------------------------------

    def _link(self, linktype: int, data: bytes) -> Decoded:
        if linktype == LINK_ETHERNET:
            return self._ethernet(data, 0)
        if linktype in (LINK_RAW, LINK_RAW_BSD12, LINK_RAW_BSD14, LINK_IPV4, LINK_IPV6):
            return self._ip_any(data, 0)
        if linktype == LINK_LINUX_SLL:
            if len(data) < 16:
                return Skip("snaplen_truncated")
            return self._ethertype(struct.unpack_from("!H", data, 14)[0], data, 16)
        if linktype == LINK_LINUX_SLL2:
            if len(data) < 20:
                return Skip("snaplen_truncated")
            return self._ethertype(struct.unpack_from("!H", data, 0)[0], data, 20)
        if linktype in (LINK_NULL, LINK_LOOP):
            if len(data) < 4:
                return Skip("snaplen_truncated")
            # NULL stores the address family in host order: accept either.
            fam_le, fam_be = struct.unpack_from("<I", data)[0], struct.unpack_from(">I", data)[0]
            fam = fam_be if linktype == LINK_LOOP else (fam_le if fam_le < 256 else fam_be)
            if fam == 2:
                return self._ipv4(data, 4, 0)
            if fam in (10, 24, 28, 30):  # AF_INET6 on Linux, BSDs, macOS
                return self._ipv6(data, 4, 0)
            return NonSip("other_address_family")
        return Skip(f"unknown_link_type:{linktype}")

    def _ethernet(self, data: bytes, off: int) -> Decoded:
        if len(data) < off + 14:
            return Skip("snaplen_truncated")
        (etype,) = struct.unpack_from("!H", data, off + 12)
        return self._ethertype(etype, data, off + 14)

    def _ethertype(self, etype: int, data: bytes, off: int, depth: int = 0) -> Decoded:
        while etype in ETH_VLAN:  # 802.1Q / QinQ tags
            if len(data) < off + 4:
                return Skip("snaplen_truncated")
            (etype,) = struct.unpack_from("!H", data, off + 2)
            off += 4
        if etype == ETH_IPV4:
            return self._ipv4(data, off, depth)
        if etype == ETH_IPV6:
            return self._ipv6(data, off, depth)
        if etype == ETH_PPPOE_SESSION:
            if len(data) < off + 8:
                return Skip("snaplen_truncated")
            (ppp,) = struct.unpack_from("!H", data, off + 6)
            if ppp == 0x0021:
                return self._ipv4(data, off + 8, depth)
            if ppp == 0x0057:
                return self._ipv6(data, off + 8, depth)
            return NonSip("ppp_control")
        return NonSip(f"ethertype_{etype:04x}")

    # -- IP -------------------------------------------------------------------

    def _ip_any(self, data: bytes, off: int, depth: int = 0) -> Decoded:
        if len(data) <= off:
            return Skip("snaplen_truncated")
        version = data[off] >> 4
        if version == 4:
            return self._ipv4(data, off, depth)
        if version == 6:
            return self._ipv6(data, off, depth)
        return Skip("malformed_ip")

    def _ipv4(self, data: bytes, off: int, depth: int) -> Decoded:
        if len(data) < off + 20:
            return Skip("snaplen_truncated")
        vihl, _tos, total, ident, frag, _ttl, proto = struct.unpack_from("!BBHHHBB", data, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20 or total < ihl:
            return Skip("malformed_ip")
        end = off + total
        partial = len(data) < end
        if partial:
            end = len(data)  # as Wireshark does: dissect what was captured
        src = _ntop4(data[off + 12 : off + 16])
        dst = _ntop4(data[off + 16 : off + 20])
        payload = data[off + ihl : end]
        more = bool(frag & 0x2000)
        offset = (frag & 0x1FFF) * 8
        if more or offset:
            key = (4, src, dst, ident, proto)
            return self._fragment(key, offset, more, payload, (proto, src, dst, depth))
        return _mark(self._transport(proto, src, dst, payload, depth), partial)

    def _ipv6(self, data: bytes, off: int, depth: int) -> Decoded:
        if len(data) < off + 40:
            return Skip("snaplen_truncated")
        (vtf, plen, nxt, _hop) = struct.unpack_from("!IHBB", data, off)
        if vtf >> 28 != 6:
            return Skip("malformed_ip")
        src = _ntop6(data[off + 8 : off + 24])
        dst = _ntop6(data[off + 24 : off + 40])
        end = off + 40 + plen
        partial = len(data) < end
        if partial:
            end = len(data)
        pos = off + 40
        while True:
            if nxt in _IPV6_EXT:
                nxt, hlen = data[pos], (data[pos + 1] + 1) * 8
                pos += hlen
            elif nxt == IPV6_AH:
                nxt, hlen = data[pos], (data[pos + 1] + 2) * 4
                pos += hlen
            elif nxt == IPV6_FRAGMENT:
                next_hdr = data[pos]
                (fo,) = struct.unpack_from("!H", data, pos + 2)
                (ident,) = struct.unpack_from("!I", data, pos + 4)
                pos += 8
                key = (6, src, dst, ident)
                return self._fragment(
                    key, fo & 0xFFF8, bool(fo & 1), data[pos:end], (next_hdr, src, dst, depth)
                )
            elif nxt == IPV6_NO_NEXT:
                return NonSip("ipv6_no_next_header")
            else:
                break
            if pos > end:
                return Skip("malformed_ip")
        return _mark(self._transport(nxt, src, dst, data[pos:end], depth), partial)

    def _fragment(
        self,
        key: tuple[object, ...],
        offset: int,
        more: bool,
        payload: bytes,
        header: tuple[object, ...],
    ) -> Decoded:
        self._expire()
        frag = self._frags.get(key)
        if frag is None:
            if len(self._frags) >= self.MAX_DATAGRAMS:
                oldest = next(iter(self._frags))
                self.expired_fragment_frames.extend(self._frags.pop(oldest).frames)
            frag = self._frags[key] = _Fragments(first_seen=self._now)
        frag.frames.append(self._frame)
        have = frag.parts.get(offset)
        if have is None:
            frag.parts[offset] = payload
        elif len(payload) > len(have):
            # Overlap: bytes seen first win, a longer copy only adds what is new.
            frag.parts[offset] = have + payload[len(have) :]
        if offset == 0:
            frag.header = header
        if not more:
            frag.total = offset + len(payload)
        if frag.total is None or not frag.header:
            return Pending(key)
        buf = bytearray(frag.total)
        covered = 0
        for off in sorted(frag.parts):
            part = frag.parts[off]
            if off > covered:
                return Pending(key)  # a hole remains
            buf[off : off + len(part)] = part
            covered = max(covered, off + len(part))
        if covered < frag.total:
            return Pending(key)
        del self._frags[key]
        proto, src, dst, depth = frag.header
        assert isinstance(proto, int)
        assert isinstance(src, str)
        assert isinstance(dst, str)
        assert isinstance(depth, int)
        result = self._transport(proto, src, dst, bytes(buf[: frag.total]), depth)
        self.completed_fragment_frames.append((frag.frames[:-1], result))
        return result

    def _expire(self) -> None:
        while self._frags:
            key = next(iter(self._frags))
            if self._now - self._frags[key].first_seen <= self.FRAGMENT_TIMEOUT:
                return
            self.expired_fragment_frames.extend(self._frags.pop(key).frames)

    # -- transport and tunnels -----------------------------------------------

    def _transport(self, proto: int, src: str, dst: str, data: bytes, depth: int) -> Decoded:
        if proto == IPPROTO_UDP:
            if len(data) < 8:
                return Skip("malformed_udp")
            sport, dport, ulen = struct.unpack_from("!HHH", data)
            end = ulen if 8 <= ulen <= len(data) else len(data)
            if end >= 16 and data[8] & 0xF0 == 0x30 and data[9] == GTP_GPDU:
                inner = self._gtpu(data[8:end], depth)
                if inner is not None:
                    return inner
            return Segment("udp", src, sport, dst, dport, data[8:end])
        if proto == IPPROTO_TCP:
            if len(data) < 20:
                return Skip("malformed_tcp")
            sport, dport, seq, _ack, off_flags = struct.unpack_from("!HHIIH", data)
            hlen = (off_flags >> 12) * 4
            if hlen < 20 or hlen > len(data):
                return Skip("malformed_tcp")
            return Segment("tcp", src, sport, dst, dport, data[hlen:], seq, off_flags & 0xFF)
        if depth >= MAX_TUNNEL_DEPTH:
            return Skip("tunnel_too_deep")
        if proto == IPPROTO_IPIP:
            return self._ipv4(data, 0, depth + 1)
        if proto == IPPROTO_IPV6:
            return self._ipv6(data, 0, depth + 1)
        if proto == IPPROTO_GRE:
            return self._gre(data, depth + 1)
        if proto == IPPROTO_SCTP:
            if len(data) < 12:
                return Skip("malformed_sctp")
            sport, dport = struct.unpack_from("!HH", data)
            # The payload is the chunk list; `SctpReader` takes the DATA chunks out.
            return Segment("sctp", src, sport, dst, dport, data[12:])
        return NonSip(f"ip_proto_{proto}")

    def _gtpu(self, data: bytes, depth: int) -> Decoded | None:
        """GTPv1-U G-PDU (3GPP TS 29.281 §5): the user's IP packet, on any port.

        Recognised by its header (version 1, protocol type GTP, G-PDU, a length
        that matches the datagram), so a non-GTP payload returns None.
        """
        flags = data[0]
        (length,) = struct.unpack_from("!H", data, 2)
        if length != len(data) - 8 or depth >= MAX_TUNNEL_DEPTH:
            return None
        off = 8
        if flags & 0x07:  # E, S or PN: sequence, N-PDU and next-extension fields follow
            if len(data) < 12:
                return Skip("malformed_gtp")
            off = 12
            nxt = data[11] if flags & 0x04 else 0
            while nxt:  # extension headers: length in 4-octet units, next type last
                if off >= len(data) or not data[off]:
                    return Skip("malformed_gtp")
                off += data[off] * 4
                if off > len(data):
                    return Skip("malformed_gtp")
                nxt = data[off - 1]
        if off >= len(data) or data[off] >> 4 not in (4, 6):
            return NonSip("gtp_u") if off < len(data) else NonSip("gtp_u_empty")
        return self._ip_any(data, off, depth + 1)

    def _gre(self, data: bytes, depth: int) -> Decoded:
        """GRE (RFC 2784/2890) with IP, Ethernet or ERSPAN II/III inside."""
        if len(data) < 4:
            return Skip("malformed_gre")
        flags, etype = struct.unpack_from("!HH", data)
        off = 4
        if flags & 0x8000:  # checksum present (+ reserved)
            off += 4
        if flags & 0x2000:  # key present
            off += 4
        if flags & 0x1000:  # sequence number present
            off += 4
        if etype == ETH_IPV4:
            return self._ipv4(data, off, depth)
        if etype == ETH_IPV6:
            return self._ipv6(data, off, depth)
        if etype == ETH_TEB:
            return self._ethernet(data, off)
        if etype == ETH_ERSPAN2 and flags & 0x1000:
            return self._ethernet(data, off + 8)
        if etype == ETH_ERSPAN2:
            return self._ethernet(data, off)  # ERSPAN type I: no ERSPAN header
        if etype == ETH_ERSPAN3:
            if len(data) < off + 12:
                return Skip("snaplen_truncated")
            optional = data[off + 11] & 0x01  # O flag: 8-byte platform subheader
            return self._ethernet(data, off + 12 + (8 if optional else 0))
        return NonSip(f"gre_{etype:04x}")


def _mark(result: Decoded, partial: bool) -> Decoded:
    """Flag a segment decoded from fewer bytes than its IP header claims."""
    if partial and isinstance(result, Segment) and not result.partial:
        return replace(result, partial=True)
    return result
