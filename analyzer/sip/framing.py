"""SIP framing for byte streams (TCP, TLS, SCTP), h11-style and without I/O.

RFC 3261 §18.3: on a stream transport the Content-Length header gives the end
of each message. `feed()` bytes as they arrive, then call `next_message()`
until it returns `NEED_DATA`.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final


class _Sentinel(Enum):
    NEED_DATA = "need-data"


NEED_DATA: Final = _Sentinel.NEED_DATA
"""Returned by `Framer.next_message` when no complete message is buffered."""

# A start line anywhere at a line start: used to resynchronise after garbage.
_START = re.compile(rb"(?:SIP/2\.0 \d{3} |[A-Za-z0-9\-.!%*_+`'~]+ [^ \r\n]+ SIP/2\.0\r?\n)")
_CONTENT_LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$")
# Bytes kept while hunting for a start line in garbage: enough to hold a
# start line split across two chunks.
_HUNT_TAIL = 512
# A header section larger than this without its end is treated as garbage.
MAX_HEADER_BYTES = 256 * 1024


class Framer:
    """Cuts a SIP byte stream into whole messages."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped_bytes = 0
        """Garbage bytes discarded while resynchronising (not keep-alives)."""
        self.keepalives = 0
        """Keep-alive CRLF sequences seen (RFC 5626 §4.4.1: CRLFCRLF ping, CRLF pong)."""

    def feed(self, data: bytes) -> None:
        """Append bytes received on the stream."""
        self._buf += data

    @property
    def in_message(self) -> bool:
        """Whether the buffer holds the start of a SIP message."""
        return bool(self._buf) and _START.match(self._buf) is not None

    @property
    def buffered(self) -> int:
        """Bytes waiting in the buffer."""
        return len(self._buf)

    def next_message(self) -> bytes | _Sentinel:
        """The next complete message, or `NEED_DATA`."""
        self._skip_to_start()
        if not self._buf:
            return NEED_DATA
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        sep = 4
        if end < 0:
            end = buf.find(b"\n\n")
            sep = 2
        if end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                self._discard(1)
                return self.next_message()
            return NEED_DATA
        header = bytes(buf[:end])
        m = _CONTENT_LENGTH.search(header)
        length = int(m.group(1)) if m else 0
        total = end + sep + length
        if len(buf) < total:
            return NEED_DATA
        message = bytes(buf[:total])
        del buf[:total]
        return message

    def flush(self) -> bytes:
        """Remove and return whatever is left (an incomplete message or garbage)."""
        rest = bytes(self._buf)
        self._buf.clear()
        return rest

    def _skip_to_start(self) -> None:
        buf = self._buf
        while buf[:2] == b"\r\n" or buf[:1] == b"\n":
            # CRLF keep-alives between messages (RFC 5626 §4.4.1).
            n = 2 if buf[:2] == b"\r\n" else 1
            del buf[:n]
            self.keepalives += 1
        if not buf or _START.match(buf):
            return
        # Garbage: resynchronise at the next start line that begins a line. Every
        # start line holds "SIP/2.0"; looking for it first keeps non-SIP streams cheap.
        found = (
            -1
            if buf.find(b"SIP/2.0") < 0
            else next(
                (
                    m.start()
                    for m in _START.finditer(buf)
                    if buf[m.start() - 1 : m.start()] == b"\n"
                ),
                -1,
            )
        )
        if found > 0:
            # (The iterator must be finished before the buffer is resized.)
            self._discard(found)
            return
        # No start line yet: keep only the text after the last newline, which
        # may be the first part of a start line still arriving.
        keep_from = buf.rfind(b"\n") + 1
        if len(buf) - keep_from > _HUNT_TAIL:
            keep_from = len(buf)
        if keep_from:
            self._discard(keep_from)

    def _discard(self, n: int) -> None:
        del self._buf[:n]
        self.skipped_bytes += n
