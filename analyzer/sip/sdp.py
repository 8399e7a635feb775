"""SDP (RFC 8866) as the analyzer needs it: addresses, media, codecs, direction.

Tolerant: lines that do not fit `<type>=<value>` are named in `anomalies`
and skipped; only bytes that are not text at all raise `BodyError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import BodyError
from .uri import is_digits

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
"""RFC 8866 §6.7 direction attributes; `sendrecv` is the default."""

# RFC 3551 §6 static payload types (encoding name, clock rate, channels).
STATIC_PAYLOADS: Mapping[int, tuple[str, int, int]] = MappingProxyType(
    {
        0: ("PCMU", 8000, 1),
        3: ("GSM", 8000, 1),
        4: ("G723", 8000, 1),
        5: ("DVI4", 8000, 1),
        6: ("DVI4", 16000, 1),
        7: ("LPC", 8000, 1),
        8: ("PCMA", 8000, 1),
        9: ("G722", 8000, 1),
        10: ("L16", 44100, 2),
        11: ("L16", 44100, 1),
        12: ("QCELP", 8000, 1),
        13: ("CN", 8000, 1),
        14: ("MPA", 90000, 1),
        15: ("G728", 8000, 1),
        16: ("DVI4", 11025, 1),
        17: ("DVI4", 22050, 1),
        18: ("G729", 8000, 1),
        25: ("CelB", 90000, 1),
        26: ("JPEG", 90000, 1),
        28: ("nv", 90000, 1),
        31: ("H261", 90000, 1),
        32: ("MPV", 90000, 1),
        33: ("MP2T", 90000, 1),
        34: ("H263", 90000, 1),
    }
)


@dataclass(frozen=True, slots=True)
class Connection:
    """`c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7)."""

    nettype: str
    addrtype: str
    """`IP4` or `IP6`."""
    address: str
    """Address without the multicast `/ttl/count` suffix."""


@dataclass(frozen=True, slots=True)
class Origin:
    """`o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2)."""

    username: str
    session_id: str
    version: str
    nettype: str
    addrtype: str
    address: str


@dataclass(frozen=True, slots=True)
class Codec:
    """A payload format: `a=rtpmap` (§6.6) or an RFC 3551 static type."""

    payload_type: str
    name: str
    """Encoding name, e.g. `PCMU`, `opus`, `telephone-event`, `t38` (non-RTP formats)."""
    clock_rate: int | None
    channels: int | None


@dataclass(frozen=True, slots=True)
class Media:
    """One `m=` section (RFC 8866 §5.14) with its effective connection and direction."""

    media: str
    """`audio`, `video`, `image`, `application`, ..."""
    port: int
    """Port (0 means the stream is rejected or disabled, RFC 3264 §6)."""
    port_count: int
    proto: str
    """`RTP/AVP`, `RTP/SAVP`, `udptl`, ..."""
    formats: tuple[str, ...]
    """Payload types / formats in preference order."""
    codecs: tuple[Codec, ...]
    """One per format, from `rtpmap` or the static table (unknown names are empty)."""
    connection: Connection | None
    """Media-level `c=`, else the session-level one."""
    direction: str
    """Effective direction: media-level attribute, else session-level, else `sendrecv`."""
    attributes: tuple[tuple[str, str | None], ...]
    """Media-level `a=` lines as (name, value)."""

    @property
    def codec_names(self) -> tuple[str, ...]:
        """Codec names in preference order (unknown formats as their payload type)."""
        return tuple(c.name or c.payload_type for c in self.codecs)


@dataclass(frozen=True, slots=True)
class Sdp:
    """A parsed session description."""

    version: str | None
    origin: Origin | None
    session_name: str | None
    connection: Connection | None
    """Session-level `c=`."""
    direction: str | None
    """Session-level direction attribute, if any."""
    media: tuple[Media, ...]
    attributes: tuple[tuple[str, str | None], ...]
    """Session-level `a=` lines."""
    anomalies: tuple[str, ...] = field(default=())

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every connection address, session level first (RFC 5118 §4.8: may mix IP4 and IP6)."""
        seen = [self.connection.address] if self.connection else []
        seen += [m.connection.address for m in self.media if m.connection]
        return tuple(dict.fromkeys(seen))


def _connection(value: str, anomalies: list[str]) -> Connection | None:
    parts = value.split()
    if len(parts) != 3:
        anomalies.append("bad_connection_line")
        return None
    return Connection(parts[0], parts[1].upper(), parts[2].split("/", 1)[0])


def _origin(value: str, anomalies: list[str]) -> Origin | None:
    parts = value.split()
    if len(parts) != 6:
        anomalies.append("bad_origin_line")
        return None
    return Origin(*parts)


class _MediaBuilder:
    """Collects one m= section's lines before it is frozen."""

    def __init__(self, value: str, anomalies: list[str]) -> None:
        parts = value.split()
        self.ok = len(parts) >= 3
        if not self.ok:
            anomalies.append("bad_media_line")
            parts = [*parts, "", "", ""]
        port_text, _, count_text = parts[1].partition("/")
        if not is_digits(port_text) or (count_text and not is_digits(count_text)):
            anomalies.append("bad_media_port")
        self.media = parts[0]
        self.port = int(port_text) if is_digits(port_text) else 0
        self.count = int(count_text) if is_digits(count_text) else 1
        self.proto = parts[2]
        self.formats = tuple(parts[3:])
        self.connection: Connection | None = None
        self.attributes: list[tuple[str, str | None]] = []

    def build(self, session_conn: Connection | None, session_dir: str | None) -> Media:
        rtpmap: dict[str, Codec] = {}
        direction = None
        for name, value in self.attributes:
            if name == "rtpmap" and value:
                pt, _, enc = value.partition(" ")
                fields = enc.strip().split("/")
                rate = fields[1] if len(fields) > 1 else ""
                chans = fields[2] if len(fields) > 2 else ""
                rtpmap[pt] = Codec(
                    pt,
                    fields[0],
                    int(rate) if is_digits(rate) else None,
                    int(chans) if is_digits(chans) else (1 if is_digits(rate) else None),
                )
            elif name in DIRECTIONS:
                direction = name
        codecs = []
        for fmt in self.formats:
            if fmt in rtpmap:
                codecs.append(rtpmap[fmt])
            elif is_digits(fmt) and int(fmt) in STATIC_PAYLOADS and self.proto.startswith("RTP"):
                enc, clock, channels = STATIC_PAYLOADS[int(fmt)]
                codecs.append(Codec(fmt, enc, clock, channels))
            else:
                # Non-RTP formats (e.g. `t38` over udptl) name themselves.
                codecs.append(Codec(fmt, "" if is_digits(fmt) else fmt, None, None))
        return Media(
            self.media,
            self.port,
            self.count,
            self.proto,
            self.formats,
            tuple(codecs),
            self.connection or session_conn,
            direction or session_dir or "sendrecv",
            tuple(self.attributes),
        )


def parse_sdp(body: bytes) -> Sdp:
    """Parse an SDP body (RFC 8866 §5); raises `BodyError` when it is not SDP text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # §5: SDP is UTF-8 text; some fields may be in other charsets, so be lenient.
        text = body.decode("latin-1")
    anomalies: list[str] = []
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines or not lines[0].startswith("v="):
        raise BodyError("not_sdp", "SDP must start with a v= line (RFC 8866 §5)")
    version = origin = name = None
    conn: Connection | None = None
    direction: str | None = None
    attributes: list[tuple[str, str | None]] = []
    sections: list[_MediaBuilder] = []
    for line in lines:
        kind, eq, value = line.partition("=")
        if not eq or len(kind) != 1:
            if "bad_line" not in anomalies:
                anomalies.append("bad_line")
            continue
        value = value.strip()
        current = sections[-1] if sections else None
        if kind == "m":
            sections.append(_MediaBuilder(value, anomalies))
        elif kind == "c":
            c = _connection(value, anomalies)
            if current:
                current.connection = c
            else:
                conn = c
        elif kind == "a":
            attr_name, colon, attr_value = value.partition(":")
            pair = (attr_name, attr_value if colon else None)
            if current:
                current.attributes.append(pair)
            else:
                attributes.append(pair)
                if attr_name in DIRECTIONS:
                    direction = attr_name
        elif kind == "v":
            version = value
        elif kind == "o":
            origin = _origin(value, anomalies)
        elif kind == "s":
            name = value
    media = tuple(s.build(conn, direction) for s in sections)
    if any(m.connection is None for m in media):
        # §5.7: every media section needs a c= line, here or at session level.
        anomalies.append("missing_connection")
    return Sdp(version, origin, name, conn, direction, media, tuple(attributes), tuple(anomalies))


__all__ = [
    "DIRECTIONS",
    "STATIC_PAYLOADS",
    "Codec",
    "Connection",
    "Media",
    "Origin",
    "Sdp",
    "parse_sdp",
]
