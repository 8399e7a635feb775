"""SIP, SIPS and TEL URIs (RFC 3261 §19.1, §25.1; RFC 3966), pure and tolerant.

`parse_uri` raises `UriError` (a `ParseError`) with a reason naming the
defect; everything that can be read is returned as a frozen `Uri`.
Unknown schemes (RFC 4475 §3.3.2) are legal and kept opaque.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import UriError

_EMPTY: Mapping[str, str | None] = MappingProxyType({})
_EMPTY_HEADERS: Mapping[str, str] = MappingProxyType({})

# RFC 3986 §3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*):")
# RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# hostname = *( domainlabel "." ) toplabel [ "." ]; IPv4address (§25.1)
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9.])?$")
_MAX_PORT = 65535


def is_digits(text: str) -> bool:
    """ASCII decimal digits only (RFC 3261 DIGIT); `str.isdigit` accepts `²` and others."""
    return text.isascii() and text.isdigit()


def unescape(text: str) -> str:
    """Expand `%HH` escapes once (RFC 3986: never recursively; RFC 4475 §3.1.1.3).

    Invalid escapes such as `%ZE` are left as written.
    """
    if "%" not in text:
        return text
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # Escapes encode octets; re-read them as UTF-8 where they form valid sequences.
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


@dataclass(frozen=True, slots=True)
class Uri:
    """A parsed URI. For `sip`/`sips`, the RFC 3261 §19.1.1 components."""

    scheme: str
    """Lower-cased scheme (`sip`, `sips`, `tel`, or any other)."""
    user: str | None = None
    """User part, %-unescaped (for `tel`, the telephone number)."""
    password: str | None = None
    """Password from `user:password@` (deprecated, RFC 3261 §19.1.1; to be redacted)."""
    host: str = ""
    """Host: domain name, IPv4 address, or IPv6 address without brackets."""
    port: int | None = None
    """Port, when given."""
    params: Mapping[str, str | None] = field(default_factory=lambda: _EMPTY)
    """URI parameters, names lower-cased and both sides unescaped; None for flags (`lr`)."""
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY_HEADERS)
    """URI headers (`?Route=...`), unescaped."""
    raw: str = ""
    """The URI exactly as written."""

    @property
    def is_ipv6(self) -> bool:
        """Whether the host is an IPv6 reference (`[...]` on the wire)."""
        return ":" in self.host

    @property
    def hostport(self) -> str:
        """host[:port] in wire form (IPv6 in brackets)."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def transport(self) -> str | None:
        """The `transport` URI parameter, lower-cased."""
        value = self.params.get("transport")
        return value.lower() if value else None


def parse_uri(text: str) -> Uri:
    """Parse a URI (RFC 3261 §25.1 SIP-URI / SIPS-URI, RFC 3966 telephone-uri, or absoluteURI)."""
    raw = text.strip()
    if not raw:
        raise UriError("empty_uri", "empty URI")
    if any(ch in raw for ch in " \t\r\n"):
        raise UriError("whitespace_in_uri", f"whitespace inside URI {raw[:60]!r}")
    m = _SCHEME.match(raw)
    if not m:
        raise UriError("missing_uri_scheme", f"no scheme in URI {raw[:60]!r}")
    scheme = m.group(1).lower()
    rest = raw[m.end() :]
    if scheme in ("sip", "sips"):
        return _parse_sip(scheme, rest, raw)
    if scheme == "tel":
        number, params = _split_uri_params(rest)
        if not number:
            raise UriError("empty_tel_number", "tel URI without a number")
        return Uri(scheme, user=number, params=params, raw=raw)
    # RFC 4475 §3.3.2 / §3.3.3: other schemes are legal; keep them opaque.
    return Uri(scheme, raw=raw)


def _parse_sip(scheme: str, rest: str, raw: str) -> Uri:
    user = password = None
    # userinfo may hold ';', '?', ',' and '/' (RFC 4475 §3.1.1.2, §3.1.1.9) but
    # never an unescaped '@', so the first '@' ends it.
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        name, colon, secret = userinfo.partition(":")
        user = unescape(name)
        password = unescape(secret) if colon else None
    hostport, _, header_text = rest.partition("?")
    host_text, params = _split_uri_params(hostport)
    host, port = _split_hostport(host_text, raw)
    headers: Mapping[str, str] = _EMPTY_HEADERS
    if header_text:
        pairs = {}
        for item in header_text.split("&"):
            hname, _, hvalue = item.partition("=")
            pairs[unescape(hname)] = unescape(hvalue)
        headers = MappingProxyType(pairs)
    return Uri(scheme, user, password, host, port, params, headers, raw)


def _split_uri_params(text: str) -> tuple[str, Mapping[str, str | None]]:
    head, *items = text.split(";")
    if not items:
        return head, _EMPTY
    params: dict[str, str | None] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if name:
            params[unescape(name).lower()] = unescape(value) if eq else None
    return head, MappingProxyType(params)


def _split_hostport(text: str, raw: str) -> tuple[str, int | None]:
    if text.startswith("["):
        # RFC 5118 §4.3/§4.4: the port is outside the brackets.
        close = text.find("]")
        if close < 0:
            raise UriError("unterminated_ipv6_reference", f"no ']' in {raw[:60]!r}")
        host, port_text = text[1:close], text[close + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            # RFC 5118 §4.9: e.g. three colons in a row.
            raise UriError("invalid_ipv6_reference", f"bad IPv6 reference [{host}]") from None
        if port_text and not port_text.startswith(":"):
            raise UriError("invalid_host", f"text after IPv6 reference in {raw[:60]!r}")
        return host, _port(port_text[1:], raw) if port_text else None
    if text.count(":") > 1:
        # RFC 5118 §4.2: an IPv6 address must be enclosed in brackets.
        raise UriError("unbracketed_ipv6_host", f"IPv6 host without brackets in {raw[:60]!r}")
    host, colon, port_text = text.partition(":")
    if not host:
        raise UriError("empty_host", f"no host in {raw[:60]!r}")
    if not _HOSTNAME.match(host):
        raise UriError("invalid_host", f"bad host {host[:60]!r}")
    return host, _port(port_text, raw) if colon else None


def _port(text: str, raw: str) -> int:
    if not is_digits(text) or int(text) > _MAX_PORT:
        raise UriError("invalid_port", f"bad port {text[:12]!r} in {raw[:60]!r}")
    return int(text)


__all__ = ["Uri", "UriError", "is_digits", "parse_uri", "unescape"]
