"""SDP (RFC 8866) and multipart bodies (RFC 2046, RFC 5621)."""

from __future__ import annotations

import pytest

from analyzer.sip import BodyError, parse, parse_sdp, split_multipart

OFFER = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
    b"s=call\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"a=sendonly\r\n"
    b"m=audio 49170 RTP/AVP 0 8 97 101\r\n"
    b"a=rtpmap:97 opus/48000/2\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\n"
    b"m=video 0 RTP/SAVP 31\r\n"
    b"c=IN IP6 2001:db8::2\r\n"
    b"a=inactive\r\n"
    b"m=image 6000 udptl t38\r\n"
)


def test_offer_fields() -> None:
    sdp = parse_sdp(OFFER)
    assert sdp.anomalies == ()
    assert sdp.origin is not None
    assert (sdp.origin.username, sdp.origin.address) == ("alice", "192.0.2.10")
    assert sdp.session_name == "call"
    assert sdp.direction == "sendonly"
    audio, video, image = sdp.media
    assert (audio.media, audio.port, audio.proto) == ("audio", 49170, "RTP/AVP")
    assert audio.formats == ("0", "8", "97", "101")
    assert audio.codec_names == ("PCMU", "PCMA", "opus", "telephone-event")
    assert (audio.codecs[2].clock_rate, audio.codecs[2].channels) == (48000, 2)
    assert audio.direction == "sendonly"  # inherited from session level
    assert audio.connection is not None
    assert audio.connection.address == "192.0.2.10"
    assert (video.port, video.direction, video.codec_names) == (0, "inactive", ("H261",))
    assert video.connection is not None
    assert (video.connection.addrtype, video.connection.address) == ("IP6", "2001:db8::2")
    assert (image.proto, image.codec_names) == ("udptl", ("t38",))
    assert sdp.addresses == ("192.0.2.10", "2001:db8::2")


def test_tolerated_sdp_defects_are_named() -> None:
    sdp = parse_sdp(b"v=0\nm=audio x RTP/AVP 0\njunk line\n")
    assert set(sdp.anomalies) == {"bad_media_port", "bad_line", "missing_connection"}
    assert sdp.media[0].port == 0


def test_not_sdp_raises_body_error() -> None:
    with pytest.raises(BodyError) as info:
        parse_sdp(b"<xml/>")
    assert info.value.reason == "not_sdp"


MULTIPART = (
    b"--b1\r\n"
    b"Content-Type: application/sdp\r\n\r\n" + OFFER + b"\r\n"
    b"--b1\r\n"
    b"Content-Type: application/isup; version=itu-t92+\r\n"
    b"Content-Disposition: signal; handling=optional\r\n\r\n"
    b"\x01\x00\x49\x00\r\n"
    b"--b1--\r\n"
)


def test_multipart_split_and_sdp_found_inside() -> None:
    parts = split_multipart(MULTIPART, "b1")
    assert [p.content_type.mime if p.content_type else None for p in parts] == [
        "application/sdp",
        "application/isup",
    ]
    assert parts[0].body == OFFER
    assert parts[1].body == b"\x01\x00\x49\x00"
    assert parts[1].headers["content-disposition"] == "signal; handling=optional"
    msg = parse(
        b"INVITE sip:b@example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
        b"Call-ID: 1\r\nCSeq: 1 INVITE\r\n"
        b'Content-Type: multipart/mixed;boundary="b1"\r\n'
        b"Content-Length: " + str(len(MULTIPART)).encode() + b"\r\n\r\n" + MULTIPART
    )
    assert msg.anomalies == ()
    assert msg.sdp is not None
    assert msg.sdp.media[0].port == 49170


def test_multipart_errors() -> None:
    with pytest.raises(BodyError) as info:
        split_multipart(b"no boundary here", "zz")
    assert info.value.reason == "boundary_not_found"
    with pytest.raises(BodyError):
        split_multipart(MULTIPART, "")
    # No close delimiter: the last part runs to the end.
    parts = split_multipart(b"--q\r\nContent-Type: text/plain\r\n\r\nhello", "q")
    assert parts[0].body == b"hello"


def test_non_ascii_digits_are_not_numbers() -> None:
    # Found by the fuzzer: "²".isdigit() is True but int("²") raises.
    sdp = parse_sdp("v=0\nc=IN IP4 h\nm=audio ²0 RTP/AVP 0²\na=rtpmap:0 PCMU/8000²/1²\n".encode())
    assert sdp.media[0].port == 0
    assert sdp.media[0].codecs[0].clock_rate is None
    assert "bad_media_port" in sdp.anomalies
    m = parse("OPTIONS sip:a@b SIP/2.0\r\nCSeq: ²1 OPTIONS\r\nMax-Forwards: ²\r\n\r\n".encode())
    assert m.cseq is None
    assert {"invalid_cseq", "invalid_max_forwards"} <= set(m.anomalies)
