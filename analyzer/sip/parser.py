"""The pure SIP parser: `parse(bytes) -> SipMessage` (RFC 3261 §7, §20, §25).

Tolerant: deviations that still leave the message readable are recorded as
named anomalies on the message; what cannot be read raises `ParseError`.
No I/O, no globals beyond constant tables.
"""

from __future__ import annotations

import re

from .errors import ParseError, StartLineError
from .message import Header, SipMessage, canonical_name

# RFC 3261 §25.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF
# Method = INVITEm / ... / extension-method; extension-method = token
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_REQUEST_LINE = re.compile(rf"^({_TOKEN}) (\S+) (SIP/\d+\.\d+)$")
# RFC 3261 §25.1: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
# Status-Code = 3DIGIT; Reason-Phrase may be empty.
_STATUS_LINE = re.compile(r"^(SIP/\d+\.\d+) (\d{3})(?: (.*))?$")

# Line ends: CRLF per RFC 3261 §7, but LF alone and CR alone are seen in the
# wild (and tshark splits on them too).
_LINE_END = re.compile(r"\r\n|\n|\r")
_BARE_CR = re.compile(r"\r(?!\n)")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

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

# Headers that RFC 3261 §20 allows only once; a repeat is an anomaly.
_SINGLETONS = frozenset(
    {"call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type"}
)

# Cheap test used by ingest to decide whether a payload starts like SIP.
START_LINE_PREFIX = re.compile(
    rb"(?:SIP/2\.0 \d{3}|[A-Za-z0-9\-.!%*_+`'~]+ [^ \r\n]+ SIP/2\.0[\r\n])"
)


def looks_like_sip(data: bytes) -> bool:
    """True when `data` begins (after optional CRLFs) with a SIP start line."""
    return START_LINE_PREFIX.match(data.lstrip(b"\r\n")) is not None


def parse(data: bytes) -> SipMessage:
    """Parse one complete SIP message.

    Raises `StartLineError` (a `ParseError`) when the start line cannot be
    read; every header-section problem is tolerated and named in `anomalies`.
    """
    anomalies: list[str] = []
    stripped = data.lstrip(b"\r\n")
    if len(stripped) != len(data):
        # §7.5: implementations SHOULD ignore leading CRLFs on a stream.
        anomalies.append("leading_crlf")
    head, sep, body = stripped.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = stripped.partition(b"\n\n")
        if sep:
            anomalies.append("lf_line_endings")
        else:
            # Cut short (e.g. a truncated datagram): read what headers there are.
            anomalies.append("missing_header_terminator")
            head = stripped
    elif b"\r" not in head and b"\n" in head:
        anomalies.append("lf_line_endings")
    text = head.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        anomalies.append("invalid_utf8")
    lines = _LINE_END.split(text)
    if _BARE_CR.search(text):
        anomalies.append("bare_cr_line_ending")
    start = lines[0]
    if _CONTROL.search(start):
        # RFC 3261 §25.1: no start-line element may hold control characters.
        raise StartLineError("control_character_in_start_line", "control character in start line")

    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str | None = None
    if m := _STATUS_LINE.match(start):
        version, status, reason = m.group(1), int(m.group(2)), m.group(3) or ""
        is_request = False
        if not 100 <= status <= 699:
            raise StartLineError("status_code_out_of_range", f"status code {status} not in 100-699")
    elif m := _REQUEST_LINE.match(start):
        method, uri, version = m.group(1), m.group(2), m.group(3)
        is_request = True
        if method not in KNOWN_METHODS:
            anomalies.append("unknown_method")
    else:
        raise StartLineError("bad_start_line", f"not a SIP start line: {start[:80]!r}")
    if version != "SIP/2.0":
        anomalies.append("unsupported_version")

    headers = _parse_headers(lines[1:], anomalies)
    body = _apply_content_length(headers, body, anomalies)
    seen: set[str] = set()
    for h in headers:
        key = h.key
        if key in _SINGLETONS and key in seen and "duplicate_singleton_header" not in anomalies:
            anomalies.append("duplicate_singleton_header")
        seen.add(key)
    for required in ("call-id", "cseq", "from", "to", "via"):
        if required not in seen:
            anomalies.append(f"missing_{required.replace('-', '_')}")
    return SipMessage(
        is_request, method, uri, status, reason, version, tuple(headers), body, tuple(anomalies)
    )


def _parse_headers(lines: list[str], anomalies: list[str]) -> list[Header]:
    """Header lines to `Header`s, unfolding continuation lines (RFC 3261 §7.3.1)."""
    headers: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t":
            # LWS folding: the line continues the previous header value.
            if not headers:
                if "folded_first_header" not in anomalies:
                    anomalies.append("folded_first_header")
                continue
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            if "folded_header" not in anomalies:
                anomalies.append("folded_header")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            if "malformed_header_line" not in anomalies:
                anomalies.append("malformed_header_line")
            continue
        headers.append((name.strip(), value.strip()))
    return [Header.of(n, v) for n, v in headers]


def _apply_content_length(headers: list[Header], body: bytes, anomalies: list[str]) -> bytes:
    """Cut the body to Content-Length (RFC 3261 §18.3, §20.14)."""
    raw = next((h.value for h in headers if h.key == "content-length"), None)
    if raw is None:
        if body:
            anomalies.append("missing_content_length")
        return body
    raw = raw.strip()
    if not raw.isdigit():
        anomalies.append("invalid_content_length")
        return body
    length = int(raw)
    if length < len(body):
        if body[length:].strip(b"\r\n\x00 "):
            anomalies.append("extra_bytes_after_body")
        return body[:length]
    if length > len(body):
        anomalies.append("invalid_content_length")
    return body


__all__ = ["KNOWN_METHODS", "ParseError", "canonical_name", "looks_like_sip", "parse"]
