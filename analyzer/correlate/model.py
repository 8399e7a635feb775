"""Records of the correlate stage: observed messages, transactions, calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..sip import CSeq, SipMessage


class SipSource(Protocol):
    """Where a message's full parse comes from (the message store)."""

    def parsed(self, index: int) -> SipMessage:
        """The parsed message at `index`."""
        ...


@dataclass(frozen=True, slots=True)
class Message:
    """A SIP message with where and when it was seen, and the fields most stages read.

    Made on access by the message store; `sip` gives the whole parsed message.
    """

    index: int
    """Position in the analysis (0-based, capture order)."""
    frame: int
    """Frame number (1-based, as Wireshark)."""
    time: float
    """Capture time, seconds since the epoch."""
    src: str
    """Sender as `ip:port` (`[v6]:port` for IPv6)."""
    dst: str
    """Receiver as `ip:port`."""
    transport: str
    """`udp`, `tcp`, `ws`, `tls` or `sctp`."""
    capture: int
    """Index of the capture file it came from."""
    is_request: bool
    """Request (True) or response."""
    method: str | None
    """Request method."""
    uri: str | None
    """Request-URI as written."""
    status: int | None
    """Response status code."""
    reason: str | None
    """Response reason phrase as on the wire."""
    call_id: str | None
    """Call-ID."""
    cseq: CSeq | None
    """CSeq number and method."""
    from_tag: str | None
    """From tag."""
    to_tag: str | None
    """To tag."""
    txn: int | None
    """Number of its transaction (RFC 3261 §17.1.3/§17.2.3), None without Via or CSeq."""
    via_count: int
    """Number of Vias (the generating element's copy of a response has the most)."""
    has_credentials: bool
    """A request carrying Authorization or Proxy-Authorization."""
    has_reason: bool
    """Carries a Reason header (RFC 3326)."""
    has_warning: bool
    """Carries a Warning header (RFC 3261 §20.43)."""
    anomalies: tuple[str, ...]
    """Parser anomalies."""
    store: SipSource = field(compare=False, repr=False)
    """Where `sip` comes from."""

    @property
    def sip(self) -> SipMessage:
        """The whole parsed message."""
        return self.store.parsed(self.index)

    @property
    def label(self) -> str:
        """Start-line summary: `INVITE` or `486 Busy Here`."""
        if self.is_request:
            return self.method or "?"
        return f"{self.status} {self.reason}".rstrip()


@dataclass(frozen=True, slots=True)
class Transaction:
    """One SIP transaction on one hop (RFC 3261 §17)."""

    id: int
    """Number in the analysis, in order of first appearance (matched on branch, sent-by
    and method, or the RFC 2543 fallback)."""
    method: str
    """Method of the transaction (ACK of a non-2xx belongs to its INVITE)."""
    call_id: str
    """Call-ID of its messages."""
    request: int | None
    """Index of the first copy of the request (None if only responses were seen)."""
    requests: Sequence[int]
    """Every request message, retransmissions included (and the ACK of a non-2xx);
    a compact `array` (4 bytes an index: there can be millions)."""
    responses: Sequence[int]
    """Every response message, retransmissions included (an `array`)."""
    final: int | None
    """Index of the first final (>= 200) response."""


@dataclass(frozen=True, slots=True)
class Call:
    """All messages sharing one Call-ID: a call, a registration, an OPTIONS ping..."""

    call_id: str
    """The Call-ID."""
    method: str
    """Method of the request that opened it (INVITE, REGISTER, OPTIONS...)."""
    outcome: str
    """One of `OUTCOMES`."""
    final_status: int | None
    """Status of the final response that decided the outcome."""
    final_reason: str | None
    """Its reason phrase as on the wire."""
    final_message: int | None
    """Index of that response."""
    from_: str | None
    """From of the opening request."""
    to: str | None
    """To of the opening request."""
    start: float
    """Time of its first message."""
    end: float
    """Time of its last message."""
    messages: Sequence[int]
    """Indexes of its messages, in capture order (an `array`)."""
    frames: Sequence[int]
    """Distinct frame numbers of its messages, ascending (an `array`)."""
    attempts: int
    """Opening transactions from the caller (1 + retries after challenges or redirects)."""
    challenges: int
    """401/407 challenges the caller received."""
    cancelled: bool
    """Whether the caller sent CANCEL."""
    capture: int = 0
    """Index of the capture file it came from."""


OUTCOMES: tuple[str, ...] = (
    "answered",
    "busy",
    "no_answer",
    "cancelled",
    "rejected",
    "not_found",
    "redirected",
    "auth_failed",
    "failed",
    "no_response",
    "incomplete",
)
"""The outcome vocabulary, in report order."""
