"""Errors raised by the pure SIP parser.

Any other exception escaping `analyzer.sip` is a bug (h11's rule): callers
catch `ParseError` only.
"""

from __future__ import annotations


class ParseError(Exception):
    """Raised when bytes cannot be read as a SIP message.

    `reason` is a stable, machine-readable identifier (used as a skip reason
    in the capture accounting); the message is for humans.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class StartLineError(ParseError):
    """The first line is neither a Request-Line nor a Status-Line (RFC 3261 §7.1, §7.2)."""


class UriError(ParseError):
    """A URI that cannot be read (RFC 3261 §19.1, §25.1; RFC 5118)."""


class BodyError(ParseError):
    """A body that cannot be read as its Content-Type says (RFC 2046 multipart, RFC 8866 SDP)."""
