"""The stream framer: whole, byte by byte, several per chunk, keep-alives, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.sip import NEED_DATA, Framer, parse

M1 = b"INVITE sip:b@x SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nhello"
M2 = b"SIP/2.0 200 OK\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"
M3 = b"BYE sip:b@x SIP/2.0\r\nCall-ID: 1\r\nCSeq: 2 BYE\r\n\r\n"  # no Content-Length: 0


def drain(framer: Framer) -> list[bytes]:
    out: list[bytes] = []
    while (msg := framer.next_message()) is not NEED_DATA:
        assert isinstance(msg, bytes)
        out.append(msg)
    return out


def test_whole_stream_in_one_chunk() -> None:
    f = Framer()
    f.feed(M1 + M2 + M3)
    assert drain(f) == [M1, M2, M3]


def test_one_byte_at_a_time() -> None:
    f = Framer()
    got: list[bytes] = []
    for b in M1 + M2:
        f.feed(bytes([b]))
        got += drain(f)
    assert got == [M1, M2]


def test_message_waits_for_its_body() -> None:
    f = Framer()
    f.feed(M1[:-2])
    assert f.next_message() is NEED_DATA
    assert f.in_message
    f.feed(M1[-2:])
    assert drain(f) == [M1]


def test_keepalives_between_messages_are_counted_and_dropped() -> None:
    f = Framer()
    f.feed(b"\r\n\r\n" + M2 + b"\r\n" + M3)
    assert drain(f) == [M2, M3]
    assert f.keepalives == 3
    assert f.skipped_bytes == 0


def test_resynchronises_after_garbage() -> None:
    f = Framer()
    f.feed(b"xx garbage\r\nmore junk\r\n" + M2)
    assert drain(f) == [M2]
    assert f.skipped_bytes == len(b"xx garbage\r\nmore junk\r\n")


def test_garbage_then_start_line_split_across_chunks() -> None:
    f = Framer()
    f.feed(b"junk\r\nSIP/2.")
    assert drain(f) == []
    f.feed(M2[len(b"SIP/2.") :])
    assert drain(f) == [M2]


@given(st.lists(st.integers(min_value=1, max_value=len(M1 + M2 + M3) - 1), max_size=8))
@settings(max_examples=200, deadline=None)
def test_any_split_points_give_the_same_messages(cuts: list[int]) -> None:
    data = M1 + M2 + M3
    f = Framer()
    got: list[bytes] = []
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        f.feed(data[prev:cut])
        got += drain(f)
        prev = cut
    assert got == [M1, M2, M3]
    assert [parse(m).cseq for m in got] == [parse(m).cseq for m in (M1, M2, M3)]


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_random_bytes_never_crash_and_never_grow_unbounded(data: bytes) -> None:
    f = Framer()
    f.feed(data)
    drain(f)
    f.feed(M2)
    # Whatever came before, a following message at a line start is still found
    # unless the garbage left an unfinished line or message in front of it.
    drain(f)
    assert f.buffered <= len(data) + len(M2)


def test_trailing_bytes_stay_buffered_until_flushed() -> None:
    f = Framer()
    tail = b"INVITE sip:b@x SIP/2.0\r\nContent-Length: 10\r\n\r\nabc"
    f.feed(M2 + tail)
    assert drain(f) == [M2]
    assert f.in_message
    assert f.buffered == len(tail)
    assert f.flush() == tail
    assert f.buffered == 0


def _rfc3665_stream() -> list[bytes]:
    import yaml  # noqa: PLC0415 - only this test needs it

    from tests.conftest import CORPUS  # noqa: PLC0415

    path = CORPUS / "rfc3665-callflows" / "3.02_session-establishment-through-two-proxies.yaml"
    if not path.exists():
        pytest.skip("corpus absent")
    out = []
    for printed in yaml.safe_load(path.read_text()):
        text = printed.rstrip("\n") + "\n"
        head, _, body = text.partition("\n\n")
        wire = head.replace("\n", "\r\n") + "\r\n\r\n" + body.replace("\n", "\r\n")
        msg = parse(wire.encode())
        # Frame by the message's own Content-Length, as a TCP peer would send it.
        out.append(wire.encode()[: wire.encode().find(b"\r\n\r\n") + 4 + (msg.content_length or 0)])
    return out


def test_real_flow_whole_and_one_byte_at_a_time() -> None:
    messages = _rfc3665_stream()
    stream = b"".join(messages)
    whole = Framer()
    whole.feed(stream)
    assert drain(whole) == messages
    trickle = Framer()
    got: list[bytes] = []
    for i in range(len(stream)):
        trickle.feed(stream[i : i + 1])
        got += drain(trickle)
    assert got == messages
    assert trickle.skipped_bytes == 0
