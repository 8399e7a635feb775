"""SIP over WebSocket (RFC 7118) inside a reassembled TCP stream.

After the HTTP/1.1 Upgrade handshake (RFC 6455 §4) each WebSocket message
carries exactly one SIP message (RFC 7118 §5), so messages need no
Content-Length framing. Frames may be masked (client to server) and
fragmented (continuation frames).
"""

from __future__ import annotations

import re

HANDSHAKE_LIMIT = 16 * 1024
_UPGRADE = re.compile(rb"(?im)^upgrade[ \t]*:[ \t]*websocket[ \t]*\r?$")
OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2


def starts_handshake(data: bytes) -> bool:
    """Whether a stream's first bytes look like an HTTP request or a 101 answer."""
    return data.startswith((b"GET ", b"HTTP/1.1 101", b"HTTP/1.0 101"))


def upgrade_end(buf: bytes | bytearray) -> int | None:
    """End offset of a completed WebSocket upgrade head; -1 if the head is not one; None: wait."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return -1 if len(buf) > HANDSHAKE_LIMIT else None
    return end + 4 if _UPGRADE.search(buf[:end]) else -1


class WsDeframer:
    """Turns WebSocket frames into whole message payloads."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._parts: list[bytes] = []
        self.control_frames = 0
        """Close, ping and pong frames seen."""

    def feed(self, data: bytes) -> None:
        """Append stream bytes."""
        self._buf += data

    def messages(self) -> list[bytes]:
        """Every message completed by the bytes fed so far."""
        out: list[bytes] = []
        while (frame := self._frame()) is not None:
            fin, opcode, payload = frame
            if opcode >= 0x8:
                self.control_frames += 1
                continue
            if opcode in (OP_TEXT, OP_BINARY):
                self._parts = [payload]
            elif opcode == OP_CONT:
                self._parts.append(payload)
            if fin and self._parts:
                out.append(b"".join(self._parts))
                self._parts = []
        return out

    def _frame(self) -> tuple[bool, int, bytes] | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        fin, opcode = bool(buf[0] & 0x80), buf[0] & 0x0F
        masked, length = bool(buf[1] & 0x80), buf[1] & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, pos = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, pos = int.from_bytes(buf[2:10], "big"), 10
        key = b""
        if masked:
            key, pos = bytes(buf[pos : pos + 4]), pos + 4
        if len(buf) < pos + length:
            return None
        payload = bytes(buf[pos : pos + length])
        del buf[: pos + length]
        if masked and len(key) == 4:
            payload = _unmask(payload, key)
        return fin, opcode, payload


def _unmask(data: bytes, key: bytes) -> bytes:
    """XOR with the repeating 4-byte key (RFC 6455 §5.3), at integer speed."""
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
