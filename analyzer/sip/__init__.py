"""Pure SIP parsing (no I/O): `parse(bytes) -> SipMessage`, stream framing, errors."""

from .errors import ParseError, StartLineError
from .framing import NEED_DATA, Framer
from .message import CSeq, Header, SipMessage, Via, address_uri, canonical_name, header_params
from .parser import KNOWN_METHODS, looks_like_sip, parse

__all__ = [
    "KNOWN_METHODS",
    "NEED_DATA",
    "CSeq",
    "Framer",
    "Header",
    "ParseError",
    "SipMessage",
    "StartLineError",
    "Via",
    "address_uri",
    "canonical_name",
    "header_params",
    "looks_like_sip",
    "parse",
]
