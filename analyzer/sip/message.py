"""SIP message records produced by `analyzer.sip.parse`, with typed header access.

Header access is case-insensitive, expands compact forms (RFC 3261 §7.3.3),
keeps repeated headers in order and keeps the raw text of every value.
Typed properties parse on access (parsing stays cheap for messages nobody
looks into); none of them raises.
"""

from __future__ import annotations

from typing import NamedTuple

from .body import BodyPart, body_parts
from .errors import BodyError, UriError
from .headers import (
    Address,
    Auth,
    CSeq,
    MediaType,
    ParamValue,
    Reason,
    Via,
    Warning,
    int_or_none,
    parse_address,
    parse_auth,
    parse_cseq,
    parse_media_type,
    parse_param_value,
    parse_reason,
    parse_via,
    parse_warning,
    split_comma_values,
    split_params,
)
from .memo import memoised
from .sdp import Sdp, parse_sdp
from .uri import Uri, parse_uri

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


@memoised
def canonical_name(name: str) -> str:
    """Lower-case header name with compact forms expanded (memoised: names repeat)."""
    low = name.strip().lower()
    return COMPACT_FORMS.get(low, low)


class Header(NamedTuple):
    """One header line as it appeared (after unfolding); built on demand by `SipMessage.headers`."""

    name: str
    """Name as written on the wire (may be a compact form)."""
    value: str
    """Value with surrounding whitespace removed and folded lines joined."""
    key: str
    """Canonical lower-case long name (compact forms expanded), for lookups."""


# Headers whose values are never comma lists (RFC 3261 §7.3.1 exceptions and
# headers whose grammar holds commas, e.g. dates and auth credentials).
_NOT_COMMA_LISTS = frozenset(
    {
        "www-authenticate",
        "authorization",
        "proxy-authenticate",
        "proxy-authorization",
        "authentication-info",
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
        "max-forwards",
        "expires",
        "min-expires",
        "min-se",
        "session-expires",
        "flow-timer",
    }
)


def address_uri(value: str) -> str:
    """The URI inside a name-addr or addr-spec value (without header params)."""
    return parse_address(value).uri_text


class SipMessage(NamedTuple):
    """A parsed SIP request or response (immutable).

    A NamedTuple rather than a frozen dataclass: one is built per message
    and tuple construction is several times cheaper than a frozen
    dataclass's field-by-field `__init__` on the parse hot path.
    """

    is_request: bool
    """True for a request, False for a response."""
    method: str | None
    """Request method (requests only)."""
    uri: str | None
    """Request-URI as written (requests only; see `request_uri` for its parts)."""
    status: int | None
    """Status code (responses only)."""
    reason: str | None
    """Reason phrase as on the wire (responses only)."""
    version: str
    """SIP-Version from the start line, e.g. `SIP/2.0`."""
    names: tuple[str, ...]
    """Header names as written on the wire (may be compact forms), in order."""
    values: tuple[str, ...]
    """Header values (whitespace trimmed, folded lines joined), parallel to `names`."""
    keys: tuple[str, ...]
    """Canonical lower-case long names (compact forms expanded), parallel to `names`."""
    body: bytes
    """Message body (per Content-Length when present, RFC 3261 §18.3)."""
    anomalies: tuple[str, ...] = ()
    """Named, tolerated deviations from the grammar ("weirds"), in order found."""

    # Headers are kept as three parallel tuples rather than a tuple of
    # records: building one object per header line dominated parse time.

    # -- generic access -------------------------------------------------

    @property
    def headers(self) -> tuple[Header, ...]:
        """Every header, in order."""
        return tuple(map(Header, self.names, self.values, self.keys))

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, comma-separated values split, in order."""
        key = canonical_name(name)
        values = [v for k, v in zip(self.keys, self.values, strict=True) if k == key]
        if key in _NOT_COMMA_LISTS or not values:
            return values
        return [item for v in values for item in split_comma_values(v)]

    def get(self, name: str) -> str | None:
        """The first value of a header (first header line, unsplit), or None."""
        key = canonical_name(name)
        try:
            return self.values[self.keys.index(key)]
        except ValueError:
            return None

    def has(self, name: str) -> bool:
        """Whether the header is present at all."""
        return canonical_name(name) in self.keys

    def _int(self, name: str) -> int | None:
        raw = self.get(name)
        return int_or_none(raw.split(";", 1)[0]) if raw is not None else None

    def _addresses(self, name: str) -> tuple[Address, ...]:
        return tuple(parse_address(v) for v in self.get_all(name))

    # -- start line -----------------------------------------------------

    @property
    def request_uri(self) -> Uri | None:
        """The Request-URI parsed (RFC 3261 §19.1), None for responses or unreadable URIs."""
        if self.uri is None:
            return None
        try:
            return parse_uri(self.uri)
        except UriError:
            return None

    @property
    def first_line(self) -> str:
        """The start line, rebuilt."""
        if self.is_request:
            return f"{self.method} {self.uri} {self.version}"
        return f"{self.version} {self.status} {self.reason}"

    # -- dialog and transaction identifiers -------------------------------

    @property
    def call_id(self) -> str | None:
        """Call-ID (RFC 3261 §20.8)."""
        return self.get("call-id")

    @property
    def cseq(self) -> CSeq | None:
        """CSeq (RFC 3261 §20.16), None when absent or unreadable."""
        raw = self.get("cseq")
        return parse_cseq(raw) if raw is not None else None

    @property
    def vias(self) -> tuple[Via, ...]:
        """The Via stack, top first (RFC 3261 §20.42)."""
        return tuple(parse_via(v) for v in self.get_all("via"))

    @property
    def top_via(self) -> Via | None:
        """The top Via (the one transaction matching reads), without parsing the rest."""
        raw = self.get("via")
        if raw is None:
            return None
        if "," not in raw:
            return parse_via(raw)
        # Without quotes a comma can only separate Vias (RFC 3261 §20.42 grammar).
        first = raw.split(",", 1)[0] if '"' not in raw else split_comma_values(raw)[0]
        return parse_via(first)

    @property
    def via_count(self) -> int:
        """How many Vias the stack holds (each hop adds one, RFC 3261 §16.6)."""
        key = canonical_name("via")
        return sum(
            v.count(",") + 1 if '"' not in v else len(split_comma_values(v))
            for k, v in zip(self.keys, self.values, strict=True)
            if k == key
        )

    @property
    def from_addr(self) -> Address | None:
        """From (RFC 3261 §20.20)."""
        raw = self.get("from")
        return parse_address(raw) if raw is not None else None

    @property
    def to_addr(self) -> Address | None:
        """To (RFC 3261 §20.39)."""
        raw = self.get("to")
        return parse_address(raw) if raw is not None else None

    @property
    def from_(self) -> str | None:
        """From header value as written."""
        return self.get("from")

    @property
    def to(self) -> str | None:
        """To header value as written."""
        return self.get("to")

    @property
    def from_tag(self) -> str | None:
        """The From `tag` parameter."""
        addr = self.from_addr
        return addr.tag if addr else None

    @property
    def to_tag(self) -> str | None:
        """The To `tag` parameter."""
        addr = self.to_addr
        return addr.tag if addr else None

    # -- addresses and routing -------------------------------------------

    @property
    def contacts(self) -> tuple[Address, ...]:
        """Contact values (RFC 3261 §20.10); `*` is an Address with `is_wildcard`."""
        return self._addresses("contact")

    @property
    def path(self) -> tuple[Address, ...]:
        """Path (RFC 3327), top first."""
        return self._addresses("path")

    @property
    def route(self) -> tuple[Address, ...]:
        """Route (RFC 3261 §20.34)."""
        return self._addresses("route")

    @property
    def record_route(self) -> tuple[Address, ...]:
        """Record-Route (RFC 3261 §20.30)."""
        return self._addresses("record-route")

    @property
    def p_asserted_identity(self) -> tuple[Address, ...]:
        """P-Asserted-Identity (RFC 3325 §9.1)."""
        return self._addresses("p-asserted-identity")

    # -- scalars ---------------------------------------------------------

    @property
    def max_forwards(self) -> int | None:
        """Max-Forwards (RFC 3261 §20.22)."""
        return self._int("max-forwards")

    @property
    def expires(self) -> int | None:
        """Expires in seconds (RFC 3261 §20.19)."""
        return self._int("expires")

    @property
    def min_expires(self) -> int | None:
        """Min-Expires (RFC 3261 §20.23)."""
        return self._int("min-expires")

    @property
    def min_se(self) -> int | None:
        """Min-SE (RFC 4028 §5)."""
        return self._int("min-se")

    @property
    def session_expires(self) -> ParamValue | None:
        """Session-Expires with its `refresher` parameter (RFC 4028 §4)."""
        raw = self.get("session-expires")
        return parse_param_value(raw) if raw is not None else None

    @property
    def flow_timer(self) -> int | None:
        """Flow-Timer (RFC 5626 §10)."""
        return self._int("flow-timer")

    @property
    def retry_after(self) -> int | None:
        """Retry-After delta-seconds (RFC 3261 §20.33)."""
        raw = self.get("retry-after")
        return parse_param_value(raw).seconds if raw is not None else None

    @property
    def content_length(self) -> int | None:
        """Content-Length value, None when absent or not a number."""
        return self._int("content-length")

    # -- option tags and capabilities --------------------------------------

    def option_tags(self, name: str) -> list[str]:
        """Option tags of Supported/Require/Unsupported/Proxy-Require, lower-cased."""
        return [v.strip().lower() for v in self.get_all(name) if v.strip()]

    @property
    def require(self) -> tuple[str, ...]:
        """Require option tags (RFC 3261 §20.32)."""
        return tuple(self.option_tags("require"))

    @property
    def supported(self) -> tuple[str, ...]:
        """Supported option tags (RFC 3261 §20.37)."""
        return tuple(self.option_tags("supported"))

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Unsupported option tags (RFC 3261 §20.40)."""
        return tuple(self.option_tags("unsupported"))

    @property
    def proxy_require(self) -> tuple[str, ...]:
        """Proxy-Require option tags (RFC 3261 §20.29)."""
        return tuple(self.option_tags("proxy-require"))

    @property
    def allow(self) -> tuple[str, ...]:
        """Allow methods as written (RFC 3261 §20.5)."""
        return tuple(self.get_all("allow"))

    @property
    def accept(self) -> tuple[MediaType, ...]:
        """Accept media ranges (RFC 3261 §20.1)."""
        return tuple(parse_media_type(v) for v in self.get_all("accept"))

    # -- diagnostics -------------------------------------------------------

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Reason values (RFC 3326), e.g. one SIP and one Q.850."""
        return tuple(parse_reason(v) for v in self.get_all("reason"))

    @property
    def warnings(self) -> tuple[Warning, ...]:
        """Warning values (RFC 3261 §20.43)."""
        return tuple(parse_warning(v) for v in self.get_all("warning"))

    @property
    def identity(self) -> ParamValue | None:
        """Identity (RFC 8224 §4.1): the signed token and its `info`/`alg`/`ppt` params."""
        raw = self.get("identity")
        return parse_param_value(raw) if raw is not None else None

    @property
    def user_agent(self) -> str | None:
        """User-Agent (RFC 3261 §20.41)."""
        return self.get("user-agent")

    @property
    def server(self) -> str | None:
        """Server (RFC 3261 §20.35)."""
        return self.get("server")

    def auth(self, name: str) -> tuple[Auth, ...]:
        """Authorization, Proxy-Authorization, WWW-Authenticate or Proxy-Authenticate values."""
        key = canonical_name(name)
        return tuple(parse_auth(v) for k, v in zip(self.keys, self.values, strict=True) if k == key)

    @property
    def authorization(self) -> tuple[Auth, ...]:
        """Authorization credentials (RFC 3261 §20.7)."""
        return self.auth("authorization")

    @property
    def proxy_authorization(self) -> tuple[Auth, ...]:
        """Proxy-Authorization credentials (RFC 3261 §20.28)."""
        return self.auth("proxy-authorization")

    @property
    def www_authenticate(self) -> tuple[Auth, ...]:
        """WWW-Authenticate challenges (RFC 3261 §20.44)."""
        return self.auth("www-authenticate")

    @property
    def proxy_authenticate(self) -> tuple[Auth, ...]:
        """Proxy-Authenticate challenges (RFC 3261 §20.27)."""
        return self.auth("proxy-authenticate")

    # -- body --------------------------------------------------------------

    @property
    def content_type(self) -> MediaType | None:
        """Content-Type (RFC 3261 §20.15)."""
        raw = self.get("content-type")
        return parse_media_type(raw) if raw is not None else None

    @property
    def body_parts(self) -> tuple[BodyPart, ...]:
        """The body's leaf parts (multipart split, RFC 5621); () for no body or a bad multipart."""
        if not self.body:
            return ()
        try:
            return body_parts(self.content_type, self.body)
        except BodyError:
            return ()

    @property
    def sdp(self) -> Sdp | None:
        """The SDP body or SDP part (RFC 3264 offer/answer), None when there is none."""
        for part in self.body_parts:
            if part.content_type is not None and part.content_type.mime == "application/sdp":
                try:
                    return parse_sdp(part.body)
                except BodyError:
                    return None
        return None


__all__ = [
    "COMPACT_FORMS",
    "Header",
    "SipMessage",
    "address_uri",
    "canonical_name",
    "split_comma_values",
    "split_params",
]
