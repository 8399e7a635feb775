"""URIs: SIP/SIPS/TEL components, escapes, IPv6, and named errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.sip import UriError, parse_uri


def test_full_sip_uri() -> None:
    uri = parse_uri(
        "sips:alice:secr%65t@Atlanta.example.com:5061;transport=TCP;lr?Subject=hi&X=%3C1%3E"
    )
    assert uri.scheme == "sips"
    assert (uri.user, uri.password) == ("alice", "secret")
    assert (uri.host, uri.port, uri.transport) == ("Atlanta.example.com", 5061, "tcp")
    assert dict(uri.params) == {"transport": "TCP", "lr": None}
    assert dict(uri.headers) == {"Subject": "hi", "X": "<1>"}
    assert uri.hostport == "Atlanta.example.com:5061"


def test_uri_without_user_and_ipv4_host() -> None:
    uri = parse_uri("sip:192.0.2.1;maddr=239.255.255.1")
    assert (uri.user, uri.host, uri.port) == (None, "192.0.2.1", None)
    assert uri.params["maddr"] == "239.255.255.1"


def test_tel_uri() -> None:
    uri = parse_uri("tel:+1-201-555-0123;phone-context=example.com")
    assert (uri.scheme, uri.user, uri.host) == ("tel", "+1-201-555-0123", "")
    assert uri.params["phone-context"] == "example.com"


def test_unknown_scheme_is_opaque() -> None:
    uri = parse_uri("urn:service:sos")
    assert (uri.scheme, uri.raw) == ("urn", "urn:service:sos")


def test_utf8_escapes_decode_to_text() -> None:
    assert parse_uri("sip:%D0%B0%D0%B1@example.com").user == "аб"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_uri"),
        ("example.com", "missing_uri_scheme"),
        ("sip:a b@example.com", "whitespace_in_uri"),
        ("sip:alice@", "empty_host"),
        ("sip:alice@example.com:99999", "invalid_port"),
        ("sip:alice@example.com:50x", "invalid_port"),
        ("sip:2001:db8::1", "unbracketed_ipv6_host"),
        ("sip:[2001:db8:::1]", "invalid_ipv6_reference"),
        ("sip:[2001:db8::1", "unterminated_ipv6_reference"),
        ("sip:a@ex_ample.com", "invalid_host"),
        ("tel:", "empty_tel_number"),
    ],
)
def test_named_errors(text: str, reason: str) -> None:
    with pytest.raises(UriError) as info:
        parse_uri(text)
    assert info.value.reason == reason


_USER = st.text(alphabet="abcxyz0123456789-_.!~*'()&=+$,;?/", min_size=1, max_size=12)
_HOST = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){0,3}", fullmatch=True)
_PARAM = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@given(
    user=st.none() | _USER,
    host=_HOST,
    port=st.none() | st.integers(0, 65535),
    params=st.dictionaries(_PARAM, st.none() | _PARAM, max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_generated_sip_uris_round_trip(
    user: str | None, host: str, port: int | None, params: dict[str, str | None]
) -> None:
    text = "sip:" + (f"{user}@" if user else "") + host + (f":{port}" if port is not None else "")
    text += "".join(f";{k}" + (f"={v}" if v is not None else "") for k, v in params.items())
    uri = parse_uri(text)
    assert (uri.user, uri.host, uri.port) == (user, host, port)
    assert dict(uri.params) == params
