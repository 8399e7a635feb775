"""SIP over SCTP (RFC 4168): user messages from DATA chunks.

Each SIP message travels as one SCTP user message (RFC 4168 §5), possibly
fragmented over several DATA chunks (B/E flags, RFC 9260 §3.3.1). Chunks
retransmitted with a TSN already seen are dropped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CHUNK_DATA = 0
FLAG_END = 0x01
FLAG_BEGIN = 0x02
MAX_TSNS = 4096  # remembered per direction, to drop retransmitted chunks


@dataclass(slots=True)
class _Direction:
    seen: dict[int, None] = field(default_factory=dict)
    partial: dict[int, list[bytes]] = field(default_factory=dict)


class SctpReader:
    """Extracts user messages from SCTP packets, per association direction."""

    def __init__(self) -> None:
        self._dirs: dict[tuple[str, int, str, int], _Direction] = {}
        self.duplicates = 0
        """DATA chunks dropped as retransmissions."""

    def messages(self, key: tuple[str, int, str, int], chunks: bytes) -> list[bytes]:
        """User messages completed by one packet's chunks (after the common header)."""
        d = self._dirs.setdefault(key, _Direction())
        out: list[bytes] = []
        pos = 0
        while pos + 4 <= len(chunks):
            ctype, flags, length = struct.unpack_from("!BBH", chunks, pos)
            if length < 4:
                break
            if ctype == CHUNK_DATA and length >= 16:
                tsn, stream = struct.unpack_from("!IH", chunks, pos + 4)
                data = chunks[pos + 16 : pos + length]
                if tsn in d.seen:
                    self.duplicates += 1
                else:
                    d.seen[tsn] = None
                    if len(d.seen) > MAX_TSNS:
                        del d.seen[next(iter(d.seen))]
                    if flags & FLAG_BEGIN:
                        d.partial[stream] = []
                    parts = d.partial.setdefault(stream, [])
                    parts.append(data)
                    if flags & FLAG_END:
                        out.append(b"".join(d.partial.pop(stream)))
            pos += (length + 3) & ~3
        return out
