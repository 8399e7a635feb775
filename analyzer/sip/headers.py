"""Typed header values (RFC 3261 §20 and extensions), parsed from header text.

Pure functions from a header value to a frozen record. Each parser is
tolerant: what it cannot read it leaves as raw text or None, and the
defects it finds are named in `defects` where the record has one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import UriError
from .memo import memoised
from .uri import Uri, is_digits, parse_uri

_EMPTY: Mapping[str, str | None] = MappingProxyType({})
MAX_DELTA_SECONDS = 2**32 - 1
"""RFC 3261 §20.19/§20.16: delta-seconds and CSeq numbers must be below 2**32."""
MAX_MAX_FORWARDS = 255
"""RFC 3261 §20.22: Max-Forwards is an integer in 0-255."""

# RFC 3261 §25.1 token characters.
TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")


# -- generic splitting ------------------------------------------------------


def outside_quotes(value: str) -> Iterator[tuple[int, str]]:
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


def quotes_balanced(value: str) -> bool:
    """Whether every quoted string in `value` is terminated."""
    if '"' not in value:
        return True
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return not quoted


def split_comma_values(value: str) -> list[str]:
    """Split a header value on commas outside quotes and angle brackets (RFC 3261 §7.3.1)."""
    if "," not in value:
        stripped = value.strip()
        return [stripped] if stripped else []
    out: list[str] = []
    depth = start = 0
    for i, ch in outside_quotes(value):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            out.append(value[start:i].strip())
            start = i + 1
    out.append(value[start:].strip())
    return [v for v in out if v]


def split_params(text: str) -> tuple[str, dict[str, str | None]]:
    """Split `value;a=b;c` into the value and lower-cased params (quoted values kept quoted).

    RFC 3261 §25.1: SEMI and EQUAL allow whitespace on either side.
    """
    if ";" not in text:
        return text.strip(), {}
    if '"' in text:
        cuts = [i for i, ch in outside_quotes(text) if ch == ";"]
        parts = [text[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True)]
    else:
        parts = text.split(";")
    params: dict[str, str | None] = {}
    for part in parts[1:]:
        name, eq, val = part.partition("=")
        params[name.strip().lower()] = val.strip() if eq else None
    return parts[0].strip(), params


def unquote(value: str) -> str:
    """The content of a quoted-string with quoted-pairs expanded (RFC 3261 §25.1)."""
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
        if "\\" in v:
            v = re.sub(r"\\(.)", r"\1", v, flags=re.S)
    return v


_EMPTY_PARAM = re.compile(r";\s*(?=;|,|$)")
_EMPTY_ELEMENT = re.compile(r"^\s*,|,\s*(?=,|$)")


def separator_defects(value: str) -> list[str]:
    """Empty parameters (`;;`) and empty list elements (`,,`), RFC 4475 §3.1.2.1."""
    out = []
    if ";" in value and _EMPTY_PARAM.search(value):
        out.append("empty_parameter")
    if "," in value and _EMPTY_ELEMENT.search(value):
        out.append("empty_list_element")
    return out


def int_or_none(text: str | None) -> int | None:
    """A non-negative decimal integer, or None."""
    if text is None:
        return None
    t = text.strip()
    return int(t) if t.isdigit() and t.isascii() else None


# -- Via (RFC 3261 §20.42) -----------------------------------------------------

# sent-protocol = protocol-name SLASH protocol-version SLASH transport, where
# SLASH = SWS "/" SWS (whitespace allowed around "/", RFC 4475 §3.1.1.1).
_VIA_HEAD = re.compile(r"^\s*([^/\s]+)\s*/\s*([^/\s]+)\s*/\s*([^/\s]+)\s+(.+?)\s*$", re.S)


@dataclass(frozen=True, slots=True)
class Via:
    """One Via header value (RFC 3261 §20.42)."""

    transport: str
    """Transport from the sent-protocol, upper-case (UDP, TCP, TLS, SCTP, WS, WSS, ...)."""
    sent_by: str
    """host[:port] as written (whitespace removed)."""
    params: Mapping[str, str | None]
    """Lower-cased parameter names to values (None for flags such as `rport`)."""
    protocol: str = "SIP/2.0"
    """protocol-name/protocol-version, e.g. `SIP/2.0`."""

    @property
    def branch(self) -> str | None:
        """The `branch` parameter, if any."""
        return self.params.get("branch")

    @property
    def host(self) -> str:
        """The sent-by host (IPv6 without brackets)."""
        return _split_host_port(self.sent_by)[0]

    @property
    def port(self) -> int | None:
        """The sent-by port, when given."""
        return _split_host_port(self.sent_by)[1]

    @property
    def received(self) -> str | None:
        """The `received` parameter (RFC 5118 §4.5: brackets around IPv6 removed)."""
        value = self.params.get("received")
        return value.strip("[]") if value else None

    @property
    def rport(self) -> int | None:
        """The `rport` value filled in by the server (RFC 3581), None when absent or empty."""
        return int_or_none(self.params.get("rport"))

    @property
    def has_rport(self) -> bool:
        """Whether the client asked for `rport` (RFC 3581 §3)."""
        return "rport" in self.params

    @property
    def is_rfc3261_branch(self) -> bool:
        """Whether the branch carries the RFC 3261 magic cookie (§8.1.1.7)."""
        b = self.branch
        return b is not None and b.startswith("z9hG4bK")


def _split_host_port(sent_by: str) -> tuple[str, int | None]:
    if sent_by.startswith("["):
        host, _, rest = sent_by[1:].partition("]")
        return host, int_or_none(rest[1:]) if rest.startswith(":") else None
    host, _, port = sent_by.partition(":")
    return host, int_or_none(port)


@memoised
def parse_via(value: str) -> Via:
    """One Via value; unreadable sent-protocols give an empty transport."""
    head, params = split_params(value)
    m = _VIA_HEAD.match(head)
    if m:
        return Via(
            m.group(3).upper(),
            re.sub(r"\s+", "", m.group(4)),
            MappingProxyType(params),
            f"{m.group(1)}/{m.group(2)}",
        )
    return Via("", head, MappingProxyType(params), "")


# -- CSeq (RFC 3261 §20.16) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CSeq:
    """CSeq header (RFC 3261 §20.16)."""

    number: int
    """Sequence number (may exceed 2**32-1 in broken messages; see anomalies)."""
    method: str
    """Method, as written (case-sensitive per §7.1)."""


@memoised
def parse_cseq(value: str) -> CSeq | None:
    """`CSeq: 1 INVITE`, None when unreadable."""
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or not parts[0].isascii():
        return None
    return CSeq(int(parts[0]), parts[1])


# -- name-addr / addr-spec (RFC 3261 §20.10, §25.1) -----------------------------

_NAME_ADDR_FAST = re.compile(
    r'^\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z0-9\-.!%*_+`\'~ \t]*?))\s*<([^<>\s"]+)>(.*)$', re.S
)
_ADDR_SPEC_FAST = re.compile(r"^\s*([^\s<>\";?,]+)\s*(;.*)?$", re.S)


# A well-formed address with a plain SIP URI, matched in one C-level call so
# that parse-time validation of From/To/Contact stays cheap. Anything this
# does not match goes through `parse_address`, which names the defect (if any).
_PORT = r"(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|\d{1,4}))?"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*)|\[[0-9A-Fa-f:.]+\])"
_USER = r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/:]|%[0-9A-Fa-f]{2})+@"
_URI_PARAM = r"(?:;[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+(?:=[A-Za-z0-9\-_.!~*'()\[\]/:&+$%]*)?)"
_TOKEN_RE = r"[A-Za-z0-9\-.!%*_+`'~]+"
_PARAM_VALUE = rf"(?:{_TOKEN_RE}|\"[^\"\\\r\n]*\"|\[[0-9A-Fa-f:.]+\])"
_HEADER_PARAM = rf"(?:[ \t]*;[ \t]*{_TOKEN_RE}(?:[ \t]*=[ \t]*{_PARAM_VALUE})?)"
_PLAIN_ADDRESS = re.compile(
    rf'(?:(?:"[^"\\\r\n]*"[ \t]*|[A-Za-z0-9\-.!%*_+`\'~ \t]*)'
    rf"<sips?:(?:{_USER})?{_HOST}{_PORT}{_URI_PARAM}*>"
    rf"|sips?:(?:(?:[A-Za-z0-9\-_.!~*'()&=+$/:]|%[0-9A-Fa-f]{{2}})+@)?{_HOST}{_PORT})"
    rf"{_HEADER_PARAM}*[ \t]*"
)


_PLAIN_SIP_URI = re.compile(rf"sips?:(?:{_USER})?{_HOST}{_PORT}{_URI_PARAM}*")
_IPV6_REF = re.compile(r"\[([^\]]*)\]")


@memoised
def valid_ipv6(text: str) -> bool:
    """Whether `text` is an IPv6 address (memoised: the same few recur in a capture)."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_plain_sip_uri(uri: str) -> bool:
    """Whether `uri` is a well-formed sip/sips URI without URI headers."""
    if _PLAIN_SIP_URI.fullmatch(uri) is None:
        return False
    return "[" not in uri or all(valid_ipv6(a) for a in _IPV6_REF.findall(uri))


def is_plain_address(value: str) -> bool:
    """Whether `value` is a well-formed name-addr/addr-spec with a plain sip/sips URI."""
    if _PLAIN_ADDRESS.fullmatch(value) is None:
        return False
    return "[" not in value or all(valid_ipv6(a) for a in _IPV6_REF.findall(value))


@dataclass(frozen=True, slots=True)
class Address:
    """A name-addr or addr-spec with header parameters (From, To, Contact, Route, ...)."""

    display: str | None
    """Display name, unquoted and unescaped; None when absent."""
    uri_text: str
    """The URI as written (inside `<>` when bracketed); `*` for a wildcard Contact."""
    params: Mapping[str, str | None]
    """Header parameters (after `>` or after the addr-spec), names lower-cased."""
    bracketed: bool = True
    """Whether the URI was enclosed in `<>` (name-addr form)."""
    defects: tuple[str, ...] = field(default=())
    """Grammar violations found while reading it (RFC 4475 §3.1.2.6, .13-.15)."""

    @property
    def uri(self) -> Uri | None:
        """The parsed URI, None when it cannot be read."""
        try:
            return parse_uri(self.uri_text)
        except UriError:
            return None

    @property
    def tag(self) -> str | None:
        """The `tag` parameter (RFC 3261 §19.3)."""
        return self.params.get("tag")

    @property
    def expires(self) -> int | None:
        """Contact `expires` parameter (RFC 3261 §20.10)."""
        return int_or_none(self.params.get("expires"))

    @property
    def q(self) -> float | None:
        """Contact `q` preference (RFC 3261 §20.10), None when absent or unreadable."""
        raw = self.params.get("q")
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    @property
    def instance(self) -> str | None:
        """`+sip.instance` (RFC 5626 §4.1) with quotes and angle brackets removed."""
        raw = self.params.get("+sip.instance")
        return unquote(raw).strip("<>") if raw is not None else None

    @property
    def reg_id(self) -> int | None:
        """`reg-id` (RFC 5626 §4.2)."""
        return int_or_none(self.params.get("reg-id"))

    @property
    def is_wildcard(self) -> bool:
        """`Contact: *` (RFC 3261 §10.2.2)."""
        return self.uri_text == "*"


@memoised
def parse_address(value: str) -> Address:
    """Read one name-addr / addr-spec value, naming what is wrong with it.

    Memoised (the records are immutable): a call repeats its From and To
    in every message.
    """
    m = _NAME_ADDR_FAST.match(value)
    if m and quotes_balanced(m.group(4)):
        quoted, token, uri_text, tail = m.groups()
        display = unquote(quoted) if quoted is not None else (token.strip() or None)
        defects: list[str] = []
        params = _address_params(tail, defects)
        defects += uri_defects(uri_text)
        return Address(display, uri_text, params, True, tuple(defects))
    m = _ADDR_SPEC_FAST.match(value)
    if m:
        uri_text, tail = m.group(1), m.group(2) or ""
        defects = []
        params = _address_params(tail, defects)
        if uri_text != "*":
            defects += uri_defects(uri_text)
        return Address(None, uri_text, params, False, tuple(defects))
    return _parse_address_slow(value)


def _address_params(tail: str, defects: list[str]) -> Mapping[str, str | None]:
    tail = tail.strip()
    if not tail:
        return _EMPTY
    if not tail.startswith(";"):
        defects.append("junk_after_address")
    _, params = split_params(tail)
    if "" in params or _EMPTY_PARAM.search(tail):
        defects.append("empty_parameter")
        params.pop("", None)
    return MappingProxyType(params)


@memoised
def uri_defects(uri: str) -> tuple[str, ...]:
    """The defect of a SIP, SIPS or TEL URI as a `UriError` reason, or none.

    Other schemes are legal and opaque (RFC 4475 §3.3.2, §3.3.4).
    """
    if not uri[:5].lower().startswith(("sip:", "sips:", "tel:")) or is_plain_sip_uri(uri):
        return ()
    try:
        parse_uri(uri)
    except UriError as exc:
        return (exc.reason,)
    return ()


def _parse_address_slow(value: str) -> Address:
    """Tolerant reading of addresses that miss the fast patterns, naming each defect."""
    defects: list[str] = []
    v = value.strip()
    if not quotes_balanced(v):
        # RFC 4475 §3.1.2.6: infer the closing quote before the last '<'.
        defects.append("unterminated_quoted_string")
        lt = v.rfind("<")
        if lt > 0:
            v = v[:lt].rstrip() + '" ' + v[lt:]
        else:
            v += '"'
    lt = gt = -1
    for i, ch in outside_quotes(v):
        if ch == "<" and lt < 0:
            lt = i
        elif ch == ">" and lt >= 0:
            gt = i
            break
    if lt >= 0:
        display_text = v[:lt].strip()
        uri_text = v[lt + 1 : gt if gt >= 0 else len(v)]
        tail = v[gt + 1 :] if gt >= 0 else ""
        if gt < 0:
            defects.append("unterminated_angle_bracket")
        display: str | None = None
        if display_text.startswith('"'):
            display = unquote(display_text)
        elif display_text:
            display = display_text
            # RFC 4475 §3.1.2.15: an unquoted display name is tokens and LWS only.
            if any(ch not in TOKEN_CHARS and ch not in " \t" for ch in display_text):
                defects.append("invalid_display_name")
        bracketed = True
    else:
        display = None
        uri_text, _, rest = v.partition(";")
        tail = ";" + rest if rest or v.endswith(";") else ""
        bracketed = False
        # RFC 3261 §20.10: a URI holding ',' '?' or ';' must be inside <>.
        if any(ch in uri_text for ch in ",?"):
            defects.append("uri_not_in_angle_brackets")
    if any(ch in uri_text for ch in " \t"):
        # RFC 4475 §3.1.2.14: spaces within addr-spec.
        defects.append("whitespace_in_addr_spec")
        uri_text = re.sub(r"\s+", "", uri_text)
    params = _address_params(tail, defects)
    if uri_text and uri_text != "*":
        defects += uri_defects(uri_text)
    elif not uri_text:
        defects.append("empty_uri")
    return Address(display, uri_text, params, bracketed, tuple(dict.fromkeys(defects)))


# -- Reason (RFC 3326), Warning (RFC 3261 §20.43) ---------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One Reason header value (RFC 3326 §2)."""

    protocol: str
    """`SIP`, `Q.850`, or another protocol token, as written."""
    cause: int | None
    """The `cause` parameter (a SIP status code or a Q.850 cause value)."""
    text: str | None
    """The `text` parameter, unquoted."""
    params: Mapping[str, str | None]
    """All parameters, names lower-cased."""


def parse_reason(value: str) -> Reason:
    """`Q.850 ;cause=16 ;text="Normal call clearing"`."""
    protocol, params = split_params(value)
    text = params.get("text")
    return Reason(
        protocol,
        int_or_none(params.get("cause")),
        unquote(text) if text is not None else None,
        MappingProxyType(params),
    )


_WARNING = re.compile(r'^\s*(\d+)\s+(\S+)\s+("(?:[^"\\]|\\.)*"|.*?)\s*$', re.S)


@dataclass(frozen=True, slots=True)
class Warning:
    """One Warning header value (RFC 3261 §20.43): warn-code SP warn-agent SP warn-text."""

    code: int | None
    """Three-digit warn-code; None when unreadable."""
    agent: str
    """warn-agent (host[:port] or pseudonym)."""
    text: str
    """warn-text, unquoted."""


def parse_warning(value: str) -> Warning:
    """`399 proxy.example.com "Codec not allowed"`."""
    m = _WARNING.match(value)
    if not m:
        return Warning(None, "", value.strip())
    return Warning(int(m.group(1)), m.group(2), unquote(m.group(3)))


# -- authentication (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616) -----------


@dataclass(frozen=True, slots=True)
class Auth:
    """A challenge or credentials: scheme and auth-params (RFC 3261 §25.1)."""

    scheme: str
    """Scheme as written (`Digest`, or any other token, RFC 4475 §3.3.7)."""
    params: Mapping[str, str]
    """auth-param names (lower-cased) to unquoted values."""

    def get(self, name: str) -> str | None:
        """One parameter's value."""
        return self.params.get(name)

    @property
    def realm(self) -> str | None:
        """`realm`."""
        return self.params.get("realm")

    @property
    def nonce(self) -> str | None:
        """`nonce`."""
        return self.params.get("nonce")

    @property
    def username(self) -> str | None:
        """`username` (credentials)."""
        return self.params.get("username")

    @property
    def algorithm(self) -> str | None:
        """`algorithm` (default MD5, RFC 3261 §22.4)."""
        return self.params.get("algorithm")

    @property
    def stale(self) -> bool:
        """`stale=true` (RFC 2617 §3.2.1): the nonce expired, the password was right."""
        return (self.params.get("stale") or "").lower() == "true"

    @property
    def qop(self) -> tuple[str, ...]:
        """`qop` options (challenge) or the chosen qop (credentials)."""
        raw = self.params.get("qop")
        return tuple(q.strip() for q in raw.split(",") if q.strip()) if raw else ()


def parse_auth(value: str) -> Auth:
    """`Digest realm="atlanta.example.com", nonce="...", qop="auth"`."""
    v = value.strip()
    scheme, _, rest = v.partition(" ")
    params: dict[str, str] = {}
    for item in split_comma_values(rest):
        name, eq, val = item.partition("=")
        if eq:
            params[name.strip().lower()] = unquote(val)
    return Auth(scheme, MappingProxyType(params))


# -- media types (RFC 3261 §20.15 Content-Type, §20.1 Accept) ---------------------


@dataclass(frozen=True, slots=True)
class MediaType:
    """`type/subtype;params`, type and subtype lower-cased."""

    type: str
    subtype: str
    params: Mapping[str, str]
    """Parameter names lower-cased, values unquoted."""

    @property
    def mime(self) -> str:
        """`type/subtype`."""
        return f"{self.type}/{self.subtype}"


def parse_media_type(value: str) -> MediaType:
    """`application/sdp`, `multipart/mixed;boundary="x"`."""
    head, params = split_params(value)
    type_, _, subtype = head.partition("/")
    return MediaType(
        type_.strip().lower(),
        subtype.strip().lower(),
        MappingProxyType({k: unquote(v or "") for k, v in params.items()}),
    )


# -- values with parameters (Session-Expires, Min-SE, Identity, Retry-After) -------


@dataclass(frozen=True, slots=True)
class ParamValue:
    """A value followed by `;` parameters (RFC 4028 Session-Expires, RFC 8224 Identity...)."""

    value: str
    params: Mapping[str, str | None]

    @property
    def seconds(self) -> int | None:
        """The value as delta-seconds."""
        return int_or_none(self.value.split("(", 1)[0])


def parse_param_value(value: str) -> ParamValue:
    """Split a value from its parameters."""
    head, params = split_params(value)
    return ParamValue(head, MappingProxyType(params))


__all__ = [
    "MAX_DELTA_SECONDS",
    "MAX_MAX_FORWARDS",
    "Address",
    "Auth",
    "CSeq",
    "MediaType",
    "ParamValue",
    "Reason",
    "Via",
    "Warning",
    "int_or_none",
    "is_digits",
    "is_plain_address",
    "is_plain_sip_uri",
    "outside_quotes",
    "parse_address",
    "parse_auth",
    "parse_cseq",
    "parse_media_type",
    "parse_param_value",
    "parse_reason",
    "parse_via",
    "parse_warning",
    "quotes_balanced",
    "separator_defects",
    "split_comma_values",
    "split_params",
    "unquote",
    "uri_defects",
    "valid_ipv6",
]
