"""SIP message records: frozen, slotted dataclasses produced by `analyzer.sip.parse`.

Header access is case-insensitive, expands compact forms (RFC 3261 §7.3.3),
keeps repeated headers in order and keeps the raw text of every value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# RFC 3261 §7.3.3 and §20 compact forms, plus later RFCs:
# o (RFC 6665 Event), u (RFC 6665 Allow-Events), r (RFC 3515 Refer-To),
# b (RFC 3892 Referred-By), x (RFC 4028 Session-Expires),
# y (RFC 8224 Identity), a (RFC 3841 Accept-Contact), d (RFC 3841 Request-Disposition),
# j (RFC 3841 Reject-Contact), n (RFC 4474 Identity-Info, obsoleted by RFC 8224).
COMPACT_FORMS: dict[str, str] = {
    "i": "call-id",
    "f": "from",
    "t": "to",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
    "y": "identity",
    "a": "accept-contact",
    "d": "request-disposition",
    "j": "reject-contact",
    "n": "identity-info",
}


def canonical_name(name: str) -> str:
    """Lower-case header name with compact forms expanded."""
    low = name.strip().lower()
    return COMPACT_FORMS.get(low, low)


@dataclass(frozen=True, slots=True)
class Header:
    """One header line as it appeared (after unfolding)."""

    name: str
    """Name as written on the wire (may be a compact form)."""
    value: str
    """Value with surrounding whitespace removed and folded lines joined."""
    key: str
    """Canonical lower-case long name (compact forms expanded), computed once for lookups."""

    @classmethod
    def of(cls, name: str, value: str) -> Header:
        """A header with its lookup key derived from `name`."""
        return cls(name, value, canonical_name(name))


@dataclass(frozen=True, slots=True)
class Via:
    """One Via header value (RFC 3261 §20.42)."""

    transport: str
    """Transport from the sent-protocol, upper-case (UDP, TCP, TLS, SCTP, WS, WSS)."""
    sent_by: str
    """host[:port] as written."""
    params: dict[str, str | None]
    """Lower-cased parameter names to values (None for flags such as `rport`)."""

    @property
    def branch(self) -> str | None:
        """The `branch` parameter, if any."""
        return self.params.get("branch")


@dataclass(frozen=True, slots=True)
class CSeq:
    """CSeq header (RFC 3261 §20.16)."""

    number: int
    """Sequence number."""
    method: str
    """Method, as written (case-sensitive per §7.1)."""


# RFC 3261 §20.42 / §25.1: sent-protocol = protocol-name SLASH protocol-version
# SLASH transport, where SLASH = SWS "/" SWS (whitespace allowed around "/").
_VIA_HEAD = re.compile(r"^\s*[^/\s]+\s*/\s*[^/\s]+\s*/\s*([^/\s]+)\s+(.+?)\s*$", re.S)

# Parameters after the URI/name-addr: split on ';' outside quotes.
_PARAM_SPLIT = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')


def split_params(text: str) -> tuple[str, dict[str, str | None]]:
    """Split `value;a=b;c` into the value and lower-cased params (quotes kept)."""
    parts = _PARAM_SPLIT.split(text)
    params: dict[str, str | None] = {}
    for part in parts[1:]:
        name, eq, val = part.partition("=")
        params[name.strip().lower()] = val.strip() if eq else None
    return parts[0].strip(), params


def _outside_quotes(value: str) -> Iterator[tuple[int, str]]:
    """(index, character) of every character outside quoted strings (RFC 3261 §25.1)."""
    quoted = escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            yield i, ch


def _angle_span(value: str) -> tuple[int, int] | None:
    """Offsets of the `<` and `>` enclosing a name-addr's URI, ignoring quoted text."""
    open_ = -1
    for i, ch in _outside_quotes(value):
        if ch == "<" and open_ < 0:
            open_ = i
        elif ch == ">" and open_ >= 0:
            return open_, i
    return None


def header_params(value: str) -> dict[str, str | None]:
    """Header parameters of a (name-addr / addr-spec) value, RFC 3261 §20.10.

    For a name-addr the params follow the closing `>` (quoted parameter
    values such as `+sip.instance="<urn:...>"` may hold angle brackets); for a
    bare addr-spec every `;` param belongs to the header (§20.10).
    """
    span = _angle_span(value)
    tail = value[span[1] + 1 :] if span else value
    return split_params(tail)[1]


def address_uri(value: str) -> str:
    """The URI inside a name-addr or addr-spec value (without header params)."""
    span = _angle_span(value)
    if span:
        return value[span[0] + 1 : span[1]].strip()
    return split_params(value)[0]


def split_comma_values(value: str) -> list[str]:
    """Split a header value on commas outside quotes and angle brackets (RFC 3261 §7.3.1)."""
    out: list[str] = []
    depth = start = 0
    for i, ch in _outside_quotes(value):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            out.append(value[start:i].strip())
            start = i + 1
    out.append(value[start:].strip())
    return [v for v in out if v]


# Headers whose values are never comma lists (RFC 3261 §7.3.1 exceptions and
# headers whose grammar holds commas, e.g. dates and auth credentials).
_NOT_COMMA_LISTS = frozenset(
    {
        "www-authenticate",
        "authorization",
        "proxy-authenticate",
        "proxy-authorization",
        "date",
        "subject",
        "user-agent",
        "server",
        "call-id",
        "cseq",
        "from",
        "to",
        "content-length",
        "content-type",
        "retry-after",
        "organization",
        "identity",
    }
)


@dataclass(frozen=True, slots=True)
class SipMessage:
    """A parsed SIP request or response."""

    is_request: bool
    """True for a request, False for a response."""
    method: str | None
    """Request method (requests only)."""
    uri: str | None
    """Request-URI (requests only)."""
    status: int | None
    """Status code (responses only)."""
    reason: str | None
    """Reason phrase as on the wire (responses only)."""
    version: str
    """SIP-Version from the start line, e.g. `SIP/2.0`."""
    headers: tuple[Header, ...]
    """Every header, in order."""
    body: bytes
    """Message body (per Content-Length when present)."""
    anomalies: tuple[str, ...] = field(default=())
    """Named, tolerated deviations from the grammar ("weirds")."""

    # -- generic access -------------------------------------------------

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, comma-separated values split, in order."""
        key = canonical_name(name)
        values: list[str] = []
        for h in self.headers:
            if h.key == key:
                if key in _NOT_COMMA_LISTS:
                    values.append(h.value)
                else:
                    values.extend(split_comma_values(h.value))
        return values

    def get(self, name: str) -> str | None:
        """The first value of a header (first header line, unsplit), or None."""
        key = canonical_name(name)
        for h in self.headers:
            if h.key == key:
                return h.value
        return None

    def has(self, name: str) -> bool:
        """Whether the header is present at all."""
        key = canonical_name(name)
        return any(h.key == key for h in self.headers)

    # -- typed access ---------------------------------------------------

    @property
    def call_id(self) -> str | None:
        """Call-ID (RFC 3261 §20.8)."""
        return self.get("call-id")

    @property
    def cseq(self) -> CSeq | None:
        """CSeq (RFC 3261 §20.16), None when absent or unreadable."""
        raw = self.get("cseq")
        if raw is None:
            return None
        parts = raw.split()
        if len(parts) != 2 or not parts[0].isdigit():
            return None
        return CSeq(int(parts[0]), parts[1])

    @property
    def vias(self) -> tuple[Via, ...]:
        """The Via stack, top first (RFC 3261 §20.42)."""
        out: list[Via] = []
        for value in self.get_all("via"):
            head, params = split_params(value)
            m = _VIA_HEAD.match(head)
            if m:
                out.append(Via(m.group(1).upper(), re.sub(r"\s+", "", m.group(2)), params))
            else:
                out.append(Via("", head, params))
        return tuple(out)

    @property
    def from_(self) -> str | None:
        """From header value."""
        return self.get("from")

    @property
    def to(self) -> str | None:
        """To header value."""
        return self.get("to")

    @property
    def from_tag(self) -> str | None:
        """The From `tag` parameter."""
        value = self.from_
        return header_params(value).get("tag") if value else None

    @property
    def to_tag(self) -> str | None:
        """The To `tag` parameter."""
        value = self.to
        return header_params(value).get("tag") if value else None

    @property
    def content_length(self) -> int | None:
        """Content-Length value, None when absent or not a number."""
        raw = self.get("content-length")
        return int(raw) if raw is not None and raw.strip().isdigit() else None

    def option_tags(self, name: str) -> list[str]:
        """Option tags of Supported/Require/Unsupported/Proxy-Require, lower-cased."""
        return [v.strip().lower() for v in self.get_all(name) if v.strip()]

    @property
    def contacts(self) -> list[str]:
        """Contact values (RFC 3261 §20.10), `*` included as written."""
        return self.get_all("contact")

    @property
    def retry_after(self) -> int | None:
        """Retry-After delta-seconds (RFC 3261 §20.33)."""
        raw = self.get("retry-after")
        if raw is None:
            return None
        head = raw.split(";", 1)[0].split("(", 1)[0].strip()
        return int(head) if head.isdigit() else None

    @property
    def first_line(self) -> str:
        """The start line, rebuilt."""
        if self.is_request:
            return f"{self.method} {self.uri} {self.version}"
        return f"{self.version} {self.status} {self.reason}"
