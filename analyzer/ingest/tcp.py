"""TCP stream reassembly feeding the SIP framer.

One `_Flow` per direction. In-order data goes to the framer; out-of-order
segments wait (bounded); retransmitted and overlapping bytes are trimmed so
every byte reaches the framer once. A hole that never fills is recorded as a
gap and the framer resynchronises after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..sip.framing import Framer
from .decode import Segment
from .websocket import WsDeframer, starts_handshake, upgrade_end

TCP_SYN = 0x02
TCP_FIN = 0x01
TCP_RST = 0x04
# Out-of-order bytes held per direction before declaring a gap.
MAX_OOO_BYTES = 2 * 1024 * 1024

FlowKey = tuple[str, int, str, int]
Completed = tuple[FlowKey, str, bytes, int, float]
"""A message completed at end of capture: flow, `tcp` or `ws`, bytes, and the frame and
time of its last segment."""


@dataclass(slots=True)
class _Flow:
    next_seq: int | None = None
    ooo: dict[int, tuple[bytes, int, float]] = field(default_factory=dict)
    """Segments waiting for a hole to fill: seq -> (bytes, frame, time)."""
    ooo_bytes: int = 0
    framer: Framer = field(default_factory=Framer)
    is_sip: bool = False
    head: bytearray | None = None
    """HTTP head being collected while deciding whether this is WebSocket."""
    ws: WsDeframer | None = None
    """Set once the stream has switched to WebSocket (RFC 7118)."""
    started: bool = False
    closed_at: float | None = None
    """Capture time of the FIN or RST that closed this direction."""
    last_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class TcpResult:
    """What one segment did to its stream."""

    messages: tuple[bytes, ...]
    """Whole SIP messages completed by this segment."""
    sip: bool
    """Whether the segment carried bytes of a SIP stream."""
    duplicate: bool
    """True when every payload byte had been seen already (a retransmission)."""
    websocket: bool = False
    """The stream carries SIP over WebSocket (RFC 7118)."""


class TcpReassembler:
    """Reassembles every TCP direction in a capture."""

    # Closed directions are forgotten this long (capture time) after their FIN/RST, idle
    # ones after IDLE_S: memory follows open streams, not the capture's length. The
    # delay lets late retransmissions still be recognised as such.
    CLOSED_S = 60.0
    IDLE_S = 3600.0
    SWEEP_EVERY = 4096

    def __init__(self) -> None:
        self._flows: dict[FlowKey, _Flow] = {}
        self._fed = 0
        self.gaps = 0
        """Holes in a stream that never filled (bytes lost to the capture)."""
        self.skipped_bytes = 0
        """Garbage bytes skipped inside SIP streams, added up as flows are forgotten."""
        self.keepalives = 0
        """Keep-alives seen inside SIP streams, added up as flows are forgotten."""
        self.retired = 0
        """Flows forgotten after closing or idling."""

    def feed(self, seg: Segment, now: float = 0.0, frame: int = 0) -> TcpResult:
        """Add a segment seen in `frame` at capture time `now`; returns the messages it
        completed."""
        self._fed += 1
        if self._fed % self.SWEEP_EVERY == 0:
            self._sweep(now)
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        flow = self._flows.get(key)
        if flow is None or (seg.flags & TCP_SYN and flow.next_seq != (seg.seq + 1) & 0xFFFFFFFF):
            if flow is not None:
                self._retire(flow)
            flow = self._flows[key] = _Flow()
        flow.last_seen = now
        if seg.flags & (TCP_FIN | TCP_RST) and flow.closed_at is None:
            flow.closed_at = now
        if seg.flags & TCP_SYN:
            flow.next_seq = (seg.seq + 1) & 0xFFFFFFFF
        data = seg.payload
        if not data:
            return TcpResult((), flow.is_sip, False)
        if flow.next_seq is None:
            flow.next_seq = seg.seq  # capture started mid-stream
        rel = _rel(seg.seq, flow.next_seq)
        if rel < 0:
            if rel + len(data) <= 0:
                return TcpResult((), flow.is_sip, True)
            data = data[-rel:]  # keep only the bytes not seen yet
            rel = 0
        if rel > 0:
            if not self._hold(flow, seg.seq, data, frame, now):
                return TcpResult((), flow.is_sip, True)  # a resend of a held segment
            return TcpResult((), flow.is_sip or flow.framer.in_message, False)
        self._deliver(flow, data)
        self._drain_ooo(flow)
        msgs = tuple(self._messages(flow))
        ws = flow.ws is not None
        return TcpResult(msgs, flow.is_sip or bool(msgs) or flow.framer.in_message or ws, False, ws)

    def open_flows(self) -> int:
        """TCP directions currently held."""
        return len(self._flows)

    def _sweep(self, now: float) -> None:
        stale = [
            key
            for key, flow in self._flows.items()
            if not flow.ooo
            and not flow.framer.in_message
            and (
                (flow.closed_at is not None and now - flow.closed_at > self.CLOSED_S)
                or now - flow.last_seen > self.IDLE_S
            )
        ]
        for key in stale:
            self._retire(self._flows.pop(key))

    def _retire(self, flow: _Flow) -> None:
        if flow.is_sip:  # garbage in a stream that never carried SIP is just not SIP
            self.skipped_bytes += flow.framer.skipped_bytes
            self.keepalives += flow.framer.keepalives
        self.retired += 1

    def finish(self) -> tuple[list[Completed], list[tuple[FlowKey, bytes]]]:
        """At end of capture: skip the holes that never filled and deliver what waited
        past them. Returns the messages that completed (with the frame and time of the
        segment that completed each) and each flow's leftover bytes."""
        found: list[Completed] = []
        leftovers: list[tuple[FlowKey, bytes]] = []
        for key, flow in self._flows.items():
            while flow.ooo:
                self._skip_gap(flow)
                while (held := self._pop_ready(flow)) is not None:
                    data, frame, time = held
                    self._deliver(flow, data)
                    kind = "ws" if flow.ws is not None else "tcp"
                    found += [(key, kind, msg, frame, time) for msg in self._messages(flow)]
            rest = flow.framer.flush()
            self._retire(flow)
            if rest.strip(b"\r\n"):
                leftovers.append((key, rest))
        self._flows.clear()
        return found, leftovers

    def _hold(self, flow: _Flow, seq: int, data: bytes, frame: int, time: float) -> bool:
        """Keep an early segment; False when the same bytes are already held."""
        have = flow.ooo.get(seq)
        if have is not None and len(have[0]) >= len(data):
            return False
        flow.ooo[seq] = (data, frame, time)
        flow.ooo_bytes += len(data) - (len(have[0]) if have is not None else 0)
        if flow.ooo_bytes > MAX_OOO_BYTES:
            self._skip_gap(flow)
            self._drain_ooo(flow)
        return True

    def _pop_ready(self, flow: _Flow) -> tuple[bytes, int, float] | None:
        """The held segment that continues the stream, trimmed to its new bytes."""
        assert flow.next_seq is not None
        for seq in list(flow.ooo):
            rel = _rel(seq, flow.next_seq)
            if rel <= 0:
                data, frame, time = flow.ooo.pop(seq)
                flow.ooo_bytes -= len(data)
                if rel + len(data) > 0:
                    return (data[-rel:] if rel else data), frame, time
        return None

    def _skip_gap(self, flow: _Flow) -> None:
        assert flow.next_seq is not None
        nxt = flow.next_seq
        flow.next_seq = min(flow.ooo, key=lambda s: _rel(s, nxt))
        self.gaps += 1
        flow.framer.flush()  # the message in progress lost bytes: drop it

    def _deliver(self, flow: _Flow, data: bytes) -> None:
        assert flow.next_seq is not None
        flow.next_seq = (flow.next_seq + len(data)) & 0xFFFFFFFF
        if not flow.started:
            flow.started = True
            if starts_handshake(data):
                flow.head = bytearray()
        if flow.head is not None:
            flow.head += data
            end = upgrade_end(flow.head)
            if end is None:
                return
            rest, flow.head = bytes(flow.head), None
            if end >= 0:
                flow.ws = WsDeframer()
                flow.ws.feed(rest[end:])
            else:
                flow.framer.feed(rest)  # plain HTTP: the framer skips it as garbage
            return
        if flow.ws is not None:
            flow.ws.feed(data)
        else:
            flow.framer.feed(data)

    def _drain_ooo(self, flow: _Flow) -> None:
        while (held := self._pop_ready(flow)) is not None:
            self._deliver(flow, held[0])

    @staticmethod
    def _messages(flow: _Flow) -> Iterator[bytes]:
        if flow.ws is not None:
            for msg in flow.ws.messages():
                flow.is_sip = True
                yield msg
            return
        while isinstance(framed := flow.framer.next_message(), bytes):
            flow.is_sip = True
            yield framed


def _rel(seq: int, base: int) -> int:
    """Signed distance from `base` to `seq` in 32-bit sequence space."""
    d = (seq - base) & 0xFFFFFFFF
    return d - 0x100000000 if d & 0x80000000 else d
