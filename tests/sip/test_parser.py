"""The pure parser: grammar, tolerance, and never raising anything but ParseError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.sip import ParseError, StartLineError, looks_like_sip, parse

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, "
    b"SIP/2.0/TCP proxy.example.com:5061;branch=z9hG4bKabc;received=10.0.0.1\r\n"
    b"Max-Forwards: 70\r\n"
    b'To: "Bob, the builder" <sip:bob@biloxi.example.com>\r\n'
    b"f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:alice@pc33.atlanta.example.com;transport=tcp>;expires=60, "
    b'<sip:alice@10.0.0.2>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1\r\n'
    b"Subject: lunch\r\n  at noon\r\n"
    b"k: path, outbound\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nTRAILING"
)


def test_request_fields_and_compact_forms() -> None:
    msg = parse(INVITE)
    assert msg.is_request
    assert msg.method == "INVITE"
    assert msg.uri == "sip:bob@biloxi.example.com"
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert msg.cseq is not None
    assert (msg.cseq.number, msg.cseq.method) == (314159, "INVITE")
    assert msg.from_tag == "1928301774"
    assert msg.to_tag is None
    assert msg.option_tags("supported") == ["path", "outbound"]
    assert msg.get("content-type") == "application/sdp"


def test_via_stack_split_on_commas() -> None:
    vias = parse(INVITE).vias
    assert [v.transport for v in vias] == ["UDP", "TCP"]
    assert vias[0].branch == "z9hG4bK776asdhds"
    assert vias[1].sent_by == "proxy.example.com:5061"
    assert vias[1].params["received"] == "10.0.0.1"


def test_contacts_split_outside_quotes_and_brackets() -> None:
    contacts = parse(INVITE).contacts
    assert len(contacts) == 2
    assert contacts[0].expires == 60
    assert contacts[1].reg_id == 1
    assert contacts[1].instance == "urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF"
    # The quoted display name with a comma in To stays one value.
    assert parse(INVITE).get_all("to") == ['"Bob, the builder" <sip:bob@biloxi.example.com>']


def test_folded_header_is_unfolded_and_flagged() -> None:
    msg = parse(INVITE)
    assert msg.get("subject") == "lunch at noon"
    # Folding is legal (RFC 3261 §7.3.1), so it is not an anomaly.
    assert msg.anomalies == ("extra_bytes_after_body",)


def test_body_cut_to_content_length() -> None:
    msg = parse(INVITE)
    assert msg.body == b"v=0\r"
    assert "extra_bytes_after_body" in msg.anomalies


def test_response_with_empty_reason() -> None:
    msg = parse(b"SIP/2.0 486 \r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
    assert not msg.is_request
    assert msg.status == 486
    assert msg.reason == ""
    assert msg.cseq is not None
    assert msg.cseq.method == "INVITE"
    assert {"missing_via", "missing_from", "missing_to"} <= set(msg.anomalies)


def test_lf_only_line_endings_are_tolerated() -> None:
    msg = parse(b"OPTIONS sip:a@b SIP/2.0\nCall-ID: 1\nCSeq: 2 OPTIONS\n\n")
    assert msg.method == "OPTIONS"
    assert "lf_line_endings" in msg.anomalies


def test_unknown_method_is_an_anomaly_not_an_error() -> None:
    msg = parse(b"FOO sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 2 FOO\r\n\r\n")
    assert msg.method == "FOO"
    assert "unknown_method" in msg.anomalies


def test_truncated_message_is_read_with_anomaly() -> None:
    msg = parse(b"BYE sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 2 BYE\r\nContent-Lengt")
    assert msg.method == "BYE"
    assert msg.call_id == "1"
    assert "missing_header_terminator" in msg.anomalies


def test_duplicate_singleton_header() -> None:
    msg = parse(b"SIP/2.0 200 OK\r\nCall-ID: 1\r\nCall-ID: 2\r\nCSeq: 1 X\r\n\r\n")
    assert msg.call_id == "1"
    assert "duplicate_singleton_header" in msg.anomalies


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\n", "bad_start_line"),
        (b"SIP/2.0 4294967301 better not break the receiver\r\n\r\n", "status_code_out_of_range"),
        (b"SIP/2.0 099 Too low\r\n\r\n", "status_code_out_of_range"),
        (b"\r\n", "empty_start_line"),
        (b"GARBAGE\r\n\r\n", "bad_start_line"),
        (b"SIP/2.0 OK\r\n\r\n", "bad_status_line"),
    ],
)
def test_unreadable_start_lines_raise_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(StartLineError) as info:
        parse(data)
    assert info.value.reason == reason


def test_looks_like_sip() -> None:
    assert looks_like_sip(b"SIP/2.0 200 OK\r\n")
    assert looks_like_sip(b"\r\nREGISTER sip:x SIP/2.0\r\n")
    assert not looks_like_sip(b"GET / HTTP/1.1\r\n")
    assert not looks_like_sip(b"\x80\x00RTP")


@given(st.binary(max_size=600))
@settings(max_examples=400, deadline=None)
def test_arbitrary_bytes_only_ever_raise_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_garbage_after_valid_start_line_never_crashes(tail: bytes) -> None:
    msg = parse(b"INVITE sip:a@b SIP/2.0\r\n" + tail)
    assert msg.method == "INVITE"
    # Every typed accessor must cope with whatever the headers hold.
    _ = (msg.vias, msg.cseq, msg.from_tag, msg.to_tag, msg.contacts, msg.retry_after)
