"""The pure SIP parser: `parse(bytes) -> SipMessage` (RFC 3261 §7, §20, §25).

Tolerant: deviations that still leave the message readable are recorded as
named anomalies on the message (RFC 4475 lists what a liberal element may
accept); what cannot be read raises `ParseError`. No I/O; the only module
state is constant tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice

from .errors import ParseError, StartLineError
from .headers import (
    MAX_DELTA_SECONDS,
    MAX_MAX_FORWARDS,
    is_plain_address,
    parse_address,
    parse_warning,
    separator_defects,
    split_comma_values,
    split_params,
    uri_defects,
)
from .memo import memoised
from .message import SipMessage, canonical_name
from .uri import is_digits, parse_uri

# RFC 3261 §25.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF
# Method = INVITEm / ... / extension-method; extension-method = token
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_REQUEST_LINE = re.compile(rf"({_TOKEN}) (\S+) (SIP/\d+\.\d+)")
# Liberal form (RFC 4475 §3.1.2.7-10): extra SP, trailing SP, LWS in the URI.
_LOOSE_REQUEST_LINE = re.compile(rf"({_TOKEN})([ \t]+)(.+?)([ \t]+)(SIP/\d+\.\d+)([ \t]*)")
# RFC 3261 §25.1: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
_STATUS_LINE = re.compile(r"(SIP/\d+\.\d+) (\d{3}) (.*)", re.S)
_LOOSE_STATUS_LINE = re.compile(r"(SIP/\d+\.\d+)[ \t]+(\d+)(?:[ \t]+(.*)|[ \t]*)", re.S)

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_END = re.compile(r"\r\n|\n|\r")
# RFC 3261 §20.17 / §25.1: rfc1123-date with "GMT" as the only zone.
_DATE = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$"
)

# Methods defined by RFC 3261 and its extensions (RFC 3262, 3265/6665, 3311,
# 3428, 3515, 3903, 6086); anything else is legal but flagged.
KNOWN_METHODS = frozenset(
    {
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "PUBLISH",
        "INFO",
        "REFER",
        "MESSAGE",
        "UPDATE",
    }
)

# Headers that RFC 3261 §20 allows only once; a repeat is an anomaly
# (RFC 4475 §3.3.8).
_SINGLETONS = frozenset(
    {"call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type"}
)
_REQUIRED = ("call-id", "cseq", "from", "to", "via")

# Cheap test used by ingest to decide whether a payload starts like SIP.
START_LINE_PREFIX = re.compile(
    rb"(?:SIP/2\.0 \d{3}|[A-Za-z0-9\-.!%*_+`'~]+ [^ \r\n]+ SIP/2\.0[\r\n])"
)
_HEADER_NAME = re.compile(_TOKEN)
# Lookup keys for the names seen in nearly every message (others go through
# the memoised `canonical_name`).
_KEYS = {
    n: canonical_name(n)
    for n in (
        "Via",
        "Max-Forwards",
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "Server",
        "Allow",
        "Supported",
        "Require",
        "Expires",
        "Record-Route",
        "Route",
        "Authorization",
        "WWW-Authenticate",
        "Proxy-Authorization",
        "Proxy-Authenticate",
        "Call-Id",
        "Cseq",
        "Content-type",
        "Content-length",
        "Max-forwards",
        "Record-route",
        "v",
        "f",
        "t",
        "i",
        "m",
        "l",
        "c",
        "k",
        "Accept",
        "Date",
        "Subject",
        "Organization",
        "P-Asserted-Identity",
        "Allow-Events",
        "Privacy",
        "Content-Disposition",
        "P-Preferred-Identity",
        "Session-Expires",
        "Min-SE",
        "Event",
        "Subscription-State",
        "Refer-To",
        "Referred-By",
        "Reason",
        "Warning",
        "Retry-After",
        "Unsupported",
        "Proxy-Require",
        "Path",
        "Accept-Language",
        "Accept-Encoding",
        "Content-Encoding",
        "Timestamp",
        "RAck",
        "RSeq",
        "Identity",
        "Diversion",
        "Remote-Party-ID",
        "Min-Expires",
        "Authentication-Info",
        "Call-Info",
        "Alert-Info",
        "Error-Info",
        "In-Reply-To",
        "MIME-Version",
        "Priority",
        "Reply-To",
        "Flow-Timer",
        "Service-Route",
        "History-Info",
        "Replaces",
        "SIP-ETag",
        "SIP-If-Match",
        "Content-Language",
    )
}


def looks_like_sip(data: bytes) -> bool:
    """True when `data` begins (after optional CRLFs) with a SIP start line."""
    return START_LINE_PREFIX.match(data.lstrip(b"\r\n")) is not None


def parse(data: bytes) -> SipMessage:
    """Parse one complete SIP message.

    Raises `StartLineError` (a `ParseError`) when the start line cannot be
    read; every other problem is tolerated and named in `anomalies`.
    """
    anomalies: list[str] = []
    if data[:1] in (b"\r", b"\n"):
        # §7.5: elements SHOULD ignore CRLFs before the start line.
        data = data.lstrip(b"\r\n")
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        head, body = data[:end], data[end + 4 :]
    else:
        end = data.find(b"\n\n")
        if end >= 0:
            head, body = data[:end], data[end + 2 :]
        else:
            # Cut short (e.g. a truncated datagram): read what headers there are.
            anomalies.append("missing_header_terminator")
            head, body = data, b""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # RFC 3261 §7.3.1: header text is UTF-8; keep what is readable.
        text = head.decode("utf-8", "replace")
        anomalies.append("invalid_utf8")
    lines = text.split("\r\n")
    if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
        # Mixed or bare line endings; tshark splits on these too.
        lines = _LINE_END.split(text)
        if "\r" not in text:
            anomalies.append("lf_line_endings")
        else:
            anomalies.append("mixed_line_endings")

    is_request, method, uri, status, reason, version = _start_line(lines[0], anomalies)
    names, values, keys = _headers(lines, anomalies)
    body = _content_length(keys, values, body, anomalies)
    if is_request:
        _check_request(method or "", uri or "", keys, values, anomalies)
    return SipMessage(
        is_request,
        method,
        uri,
        status,
        reason,
        version,
        names,
        values,
        keys,
        body,
        # Each name once, in the order first found.
        tuple(dict.fromkeys(anomalies)) if anomalies else (),
    )


_StartLine = tuple[bool, str | None, str | None, int | None, str | None, str]


def _start_line(line: str, anomalies: list[str]) -> _StartLine:
    """Read the Request-Line or Status-Line (RFC 3261 §7.1, §7.2)."""
    if not line.strip():
        raise StartLineError("empty_start_line", "no start line")
    if _CONTROL.search(line):
        # §25.1: no start-line element may hold control characters.
        raise StartLineError("control_character_in_start_line", "control character in start line")
    if line.startswith("SIP/"):
        m = _STATUS_LINE.fullmatch(line)
        if m is None:
            m = _LOOSE_STATUS_LINE.fullmatch(line)
            if m is None:
                raise StartLineError("bad_status_line", f"not a SIP status line: {line[:80]!r}")
            if len(m.group(2)) != 3:
                # RFC 4475 §3.1.2.19: a status code is exactly three digits.
                raise StartLineError(
                    "status_code_out_of_range", f"status code {m.group(2)[:20]} is not 3 digits"
                )
            # §3.1.1.13: the SP after the code is required even with no reason.
            anomalies.append("malformed_status_line")
        version, code = m.group(1), int(m.group(2))
        if not 100 <= code <= 699:
            raise StartLineError("status_code_out_of_range", f"status code {code} not in 100-699")
        _check_version(version, anomalies)
        return False, None, None, code, m.group(3) or "", version
    m = _REQUEST_LINE.fullmatch(line)
    if m is not None:
        method, uri, version = m.group(1), m.group(2), m.group(3)
    else:
        m = _LOOSE_REQUEST_LINE.fullmatch(line)
        if m is None:
            raise StartLineError("bad_start_line", f"not a SIP start line: {line[:80]!r}")
        method, sep1, uri, sep2, version, trailing = m.groups()
        if sep1 != " " or sep2 != " ":
            anomalies.append("extra_whitespace_in_start_line")  # RFC 4475 §3.1.2.9
        if any(ch in uri for ch in " \t"):
            anomalies.append("whitespace_in_request_uri")  # §3.1.2.8
            uri = re.sub(r"[ \t]+", "", uri)
        if trailing:
            anomalies.append("trailing_whitespace_in_start_line")  # §3.1.2.10
    if uri.startswith("<") and uri.endswith(">"):
        # RFC 4475 §3.1.2.7: a liberal element may ignore the brackets.
        anomalies.append("angle_brackets_in_request_uri")
        uri = uri[1:-1]
    if method not in KNOWN_METHODS:
        anomalies.append("unknown_method")
    _check_version(version, anomalies)
    return True, method, uri, None, None, version


def _check_version(version: str, anomalies: list[str]) -> None:
    if version != "SIP/2.0":
        # RFC 4475 §3.1.2.16: answered with 505.
        anomalies.append("unsupported_version")


@memoised
def _name_key(raw: str) -> tuple[str, str] | None:
    """(name, lookup key) for a header name as written, None if it is not a token (§25.1).

    Memoised: a capture uses a few dozen distinct names.
    """
    name = raw.strip(" \t")
    if not _HEADER_NAME.fullmatch(name):
        return None
    return name, canonical_name(name)


_Headers = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _headers(lines: list[str], anomalies: list[str]) -> _Headers:
    """Header lines to (names, values, keys), unfolding continuations (RFC 3261 §7.3.1)."""
    key_of = _KEYS.get
    names: list[str] = []
    values: list[str] = []
    keys: list[str] = []
    add_name, add_value, add_key = names.append, values.append, keys.append
    for line in islice(lines, 1, None):
        name, colon, value = line.partition(":")
        key = key_of(name)
        if key is None:
            # Unusual: folding, whitespace before the colon, an unknown or bad name.
            if not line:
                continue
            if line[0] in " \t":
                # LWS folding: the line continues the previous header value (legal).
                if not values:
                    anomalies.append("folded_first_header")
                else:
                    values[-1] = f"{values[-1]} {line.strip()}".strip()
                continue
            known = _name_key(name) if colon else None
            if known is None:
                anomalies.append("malformed_header_line")
                continue
            name, key = known
        add_name(name)
        add_value(value.strip())
        add_key(key)
    seen = set(keys)
    if len(seen) != len(keys) and any(keys.count(k) > 1 for k in _SINGLETONS & seen):
        anomalies.append("duplicate_singleton_header")
    if not seen.issuperset(_REQUIRED):
        anomalies.extend(f"missing_{k.replace('-', '_')}" for k in _REQUIRED if k not in seen)
    # In the table's order, not a set's: anomalies must come out the same every run.
    for key, check in _CHECKS.items():
        if key not in seen:
            continue
        if key in _LIST_HEADERS:
            for k, value in zip(keys, values, strict=True):
                if k == key:
                    anomalies += check(value)
        else:
            # Singletons: the first value is the one used (a repeat is flagged above).
            anomalies += check(values[keys.index(key)])
    return tuple(names), tuple(values), tuple(keys)


def _content_length(
    keys: tuple[str, ...], values: tuple[str, ...], body: bytes, anomalies: list[str]
) -> bytes:
    """Cut the body to Content-Length (RFC 3261 §18.3, §20.14)."""
    if "content-length" not in keys:
        if body:
            # §18.3: optional on UDP (the body runs to the datagram's end),
            # mandatory on streams.
            anomalies.append("missing_content_length")
        return body
    lengths = [v for k, v in zip(keys, values, strict=True) if k == "content-length"]
    if len(lengths) > 1 and len(set(lengths)) > 1:
        # RFC 4475 §3.3.9: as good as no value; keep the datagram's bytes.
        anomalies.append("conflicting_content_length")
        return body
    raw = lengths[0]
    if not is_digits(raw):
        if raw.startswith("-") and is_digits(raw[1:]):
            anomalies.append("negative_content_length")  # RFC 4475 §3.1.2.3
        else:
            anomalies.append("invalid_content_length")
        return body
    length = int(raw)
    if length < len(body):
        if body[length:].strip(b"\r\n\x00 "):
            # §18.3 / RFC 4475 §3.1.1.8: extra octets in a datagram are ignored.
            anomalies.append("extra_bytes_after_body")
        return body[:length]
    if length > len(body):
        anomalies.append("content_length_exceeds_body")  # RFC 4475 §3.1.2.2
    return body


# -- per-header checks ------------------------------------------------------
# Each check is a pure function from one header value to the defects it
# names. They run at parse time, so each keeps a cheap path for the
# well-formed case, and they are memoised: within a capture the same From,
# To, Via and Contact values recur in every message of a call.

_Check = Callable[[str], tuple[str, ...]]
_NONE: tuple[str, ...] = ()


@memoised
def _check_cseq(value: str) -> tuple[str, ...]:
    parts = value.split()
    if len(parts) != 2 or not is_digits(parts[0]):
        return ("invalid_cseq",)
    if len(parts[0]) > 9 and int(parts[0]) > MAX_DELTA_SECONDS:
        return ("cseq_out_of_range",)  # RFC 3261 §8.1.1.5: below 2**31 when sent
    return _NONE


def _check_max_forwards(value: str) -> tuple[str, ...]:
    if not is_digits(value):
        return ("invalid_max_forwards",)
    if int(value) > MAX_MAX_FORWARDS:
        return ("max_forwards_out_of_range",)  # RFC 4475 §3.1.2.4
    return _NONE


def _check_delta(name: str) -> _Check:
    invalid, too_large = (f"invalid_{name}",), (f"{name}_out_of_range",)

    def check(value: str) -> tuple[str, ...]:
        head = value.split(";", 1)[0].split("(", 1)[0].strip()
        if not is_digits(head):
            return invalid
        if len(head) > 9 and int(head) > MAX_DELTA_SECONDS:
            return too_large
        return _NONE

    return check


@memoised
def _check_addresses(value: str) -> tuple[str, ...]:
    if "expires" not in value and "," not in value and is_plain_address(value):
        return _NONE
    defects: list[str] = []
    for item in split_comma_values(value) if "," in value else [value]:
        addr = parse_address(item)
        defects += addr.defects
        exp = addr.params.get("expires")
        if exp is not None and is_digits(exp) and int(exp) > MAX_DELTA_SECONDS:
            defects.append("contact_expires_out_of_range")  # RFC 4475 §3.1.2.4
    if "," in value or ";" in value:
        defects += separator_defects(value)
    return tuple(defects)


@memoised
def _check_single_address(value: str) -> tuple[str, ...]:
    if is_plain_address(value):
        return _NONE
    return parse_address(value).defects


@memoised
def _check_via(value: str) -> tuple[str, ...]:
    defects = separator_defects(value)
    if "z9hG4bK;" in value or "z9hG4bK," in value or value.endswith("z9hG4bK"):
        for item in split_comma_values(value):
            if split_params(item)[1].get("branch") == "z9hG4bK":
                # RFC 4475 §3.2.1: the magic cookie with no transaction id.
                defects.append("branch_without_transaction_id")
    return tuple(defects)


def _check_warning(value: str) -> tuple[str, ...]:
    for item in split_comma_values(value):
        w = parse_warning(item)
        if w.code is None or not 100 <= w.code <= 999:
            return ("invalid_warning_code",)  # RFC 3261 §20.43: 3DIGIT
    return _NONE


def _check_date(value: str) -> tuple[str, ...]:
    if not _DATE.match(value):
        return ("invalid_date",)  # RFC 4475 §3.1.2.12: GMT only
    return _NONE


_CHECKS: dict[str, _Check] = {
    "cseq": _check_cseq,
    "max-forwards": _check_max_forwards,
    "expires": _check_delta("expires"),
    "min-expires": _check_delta("min_expires"),
    "retry-after": _check_delta("retry_after"),
    "from": _check_single_address,
    "to": _check_single_address,
    "contact": _check_addresses,
    "via": _check_via,
    "warning": _check_warning,
    "date": _check_date,
}


@memoised
def _check_request_uri(uri: str) -> tuple[str, ...]:
    defects = uri_defects(uri)
    if defects or "?" not in uri or not uri[:5].lower().startswith(("sip:", "sips:")):
        return defects
    if parse_uri(uri).headers:
        # RFC 3261 §19.1.5 / RFC 4475 §3.1.2.11: no headers in a Request-URI.
        return ("headers_in_request_uri",)
    return ()


# Checked headers that may repeat; the others are checked on their first value.
_LIST_HEADERS = frozenset({"via", "contact", "warning"})


def _check_request(
    method: str, uri: str, keys: tuple[str, ...], values: tuple[str, ...], anomalies: list[str]
) -> None:
    """Request-level consistency: CSeq method (§8.1.1.5) and the Request-URI (§19.1)."""
    if "cseq" in keys:
        parts = values[keys.index("cseq")].split()
        if len(parts) == 2 and parts[1] != method:
            anomalies.append("cseq_method_mismatch")  # RFC 4475 §3.1.2.17-18
    anomalies += _check_request_uri(uri)


__all__ = ["KNOWN_METHODS", "ParseError", "canonical_name", "looks_like_sip", "parse"]
