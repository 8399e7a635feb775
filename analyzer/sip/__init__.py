"""Pure SIP parsing (no I/O): `parse(bytes) -> SipMessage`, typed headers, URIs, SDP, framing."""

from .body import BodyPart, body_parts, split_multipart
from .errors import BodyError, ParseError, StartLineError, UriError
from .framing import NEED_DATA, Framer
from .headers import (
    Address,
    Auth,
    CSeq,
    MediaType,
    ParamValue,
    Reason,
    Via,
    Warning,
    parse_address,
    parse_auth,
    parse_media_type,
    parse_reason,
    parse_via,
    parse_warning,
)
from .message import Header, SipMessage, address_uri, canonical_name
from .parser import KNOWN_METHODS, looks_like_sip, parse
from .sdp import Codec, Connection, Media, Sdp, parse_sdp
from .uri import Uri, parse_uri

__all__ = [
    "KNOWN_METHODS",
    "NEED_DATA",
    "Address",
    "Auth",
    "BodyError",
    "BodyPart",
    "CSeq",
    "Codec",
    "Connection",
    "Framer",
    "Header",
    "Media",
    "MediaType",
    "ParamValue",
    "ParseError",
    "Reason",
    "Sdp",
    "SipMessage",
    "StartLineError",
    "Uri",
    "UriError",
    "Via",
    "Warning",
    "address_uri",
    "body_parts",
    "canonical_name",
    "looks_like_sip",
    "parse",
    "parse_address",
    "parse_auth",
    "parse_media_type",
    "parse_reason",
    "parse_sdp",
    "parse_uri",
    "parse_via",
    "parse_warning",
    "split_multipart",
]
