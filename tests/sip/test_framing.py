"""The stream framer: whole, byte by byte, several per chunk, keep-alives, garbage."""

from __future__ import annotations

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
