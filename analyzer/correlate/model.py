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
    max_forwards_zero: bool
    """A request whose Max-Forwards is 0 (RFC 3261 §16.3 item 2: the next proxy answers 483)."""
    anomalies: tuple[str, ...]
    """Parser anomalies."""
    store: SipSource = field(compare=False, repr=False)
    """Where `sip` comes from."""

    @property
    def sip(self) -> SipMessage:
        """The whole parsed message."""
        return self.store.parsed(self.index)

    @property
    def is_success(self) -> bool:
        """A 2xx response."""
        return self.status is not None and 200 <= self.status < 300

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
class Interval:
    """A measured interval between two messages, with the frames that bound it."""

    start: float
    """Capture time of the message that opens it."""
    end: float
    """Capture time of the message that closes it, or of the timer expiry."""
    start_frame: int
    """Frame of the opening message."""
    end_frame: int | None
    """Frame of the closing message; None when a timer expiry (64*T1) closed it."""

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @property
    def frames(self) -> tuple[int, ...]:
        """The frames it came from."""
        return (self.start_frame,) if self.end_frame is None else (self.start_frame, self.end_frame)


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
    to_tags: tuple[str, ...] = ()
    """To tags of the 101-299 responses to the caller's attempts, in order of appearance:
    one per (early) dialog; more than one means the request forked (RFC 3261 §12.1,
    §13.2.2.4)."""
    answered_tag: str | None = None
    """To tag of the dialog the 2xx confirmed."""
    hops: int = 1
    """Hops the opening request was seen on (2 for a call captured before and after a
    proxy); the call is counted once and its ladder holds every hop."""
    hangup: str | None = None
    """Who ended it: `caller` (BYE from the caller, or CANCEL) or `callee` (BYE from the
    callee); None when no BYE or CANCEL was seen."""
    reason: str | None = None
    """Reason header (RFC 3326) of the BYE or CANCEL that ended it, else of the final
    response, as written."""
    setup: Interval | None = None
    """Setup time: first INVITE (challenged attempts included) to the 2xx."""
    ring: Interval | None = None
    """Ring time: first 180/181/182/183 to the final response."""
    srd: Interval | None = None
    """Session Request Delay (RFC 6076 §4.3): first INVITE to the first status-indicative
    response (non-100 provisional or 2xx; or a failure: 4xx bar 401/402/407, 5xx, 6xx)."""
    srd_failed: bool = False
    """Whether `srd` ended on a failure response (§4.3.2; never averaged with successes)."""
    sdd: Interval | None = None
    """Session Disconnect Delay (§4.4): BYE to its 2xx, or to Timer F when never answered."""
    sdd_failed: bool = False
    """Whether `sdd` ended on Timer F (§4.4 failed disconnect)."""
    sdt: Interval | None = None
    """Session Duration Time (§4.5): 2xx to the INVITE to the BYE."""
    completed: bool = False
    """Established and ended by a BYE that got a 2xx (RFC 6076 §4.9 session completion)."""


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


@dataclass(frozen=True, slots=True)
class Registration:
    """A UA's registration dialog (one Call-ID) for one address of record (RFC 3261 §10)."""

    call_id: str
    """The Call-ID (a UA keeps one per registrar, §10.2)."""
    aor: str | None
    """Address of record: the To of the first REGISTER."""
    contact: str | None
    """First Contact URI registered (`*` for remove-all)."""
    contacts: tuple[str, ...]
    """Every Contact URI the UA sent in this Call-ID."""
    ua: str
    """The UA's address (`ip:port`), sender of the REGISTERs."""
    outcome: str
    """One of `REG_OUTCOMES`: the state after the last REGISTER."""
    final_status: int | None
    """Status of the final response to the last REGISTER."""
    requests: int
    """REGISTER transactions sent by the UA (retransmissions not counted)."""
    challenges: int
    """401/407 challenges received."""
    attempts: int
    """Registration attempts: an initial REGISTER with its challenge retries (RFC 6076
    §4.1 counts the challenge inside the attempt); each refresh is an attempt too."""
    failed_attempts: int
    """Attempts that ended in a failure or a timeout (RFC 6076 §4.2 IRA)."""
    refreshes: int
    """Successful registrations after the first one."""
    expires_requested: int | None
    """Expiry the last REGISTER asked for (Contact `expires`, else Expires header)."""
    expires_granted: int | None
    """Expiry the last 2xx granted this contact."""
    expires_at: float | None
    """Capture time the binding lapses unless refreshed (last 2xx + granted)."""
    rrd: tuple[Interval, ...]
    """Registration Request Delay (RFC 6076 §4.1) of each successful attempt."""
    start: float
    """Time of its first message."""
    end: float
    """Time of its last message."""
    frames: Sequence[int]
    """Frames of its messages (every hop)."""


REG_OUTCOMES: tuple[str, ...] = (
    "registered",
    "deregistered",
    "auth_failed",
    "failed",
    "no_response",
    "incomplete",
)
"""Registration outcomes, in report order."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription (RFC 6665): a SUBSCRIBE dialog and its NOTIFYs."""

    call_id: str
    """The Call-ID."""
    event: str | None
    """Event package (`presence`, `dialog`, `message-summary`...)."""
    subscriber: str | None
    """From of the SUBSCRIBE."""
    resource: str | None
    """To of the SUBSCRIBE."""
    outcome: str
    """One of `SUB_OUTCOMES`."""
    final_status: int | None
    """Status of the final response to the last SUBSCRIBE."""
    requests: int
    """SUBSCRIBE transactions from the subscriber (retransmissions not counted)."""
    refreshes: int
    """Accepted SUBSCRIBEs after the first."""
    challenges: int
    """401/407 challenges received."""
    notifies: int
    """NOTIFY requests the subscriber received (retransmissions not counted; all NOTIFYs,
    each CSeq once, when the capture holds none sent to it)."""
    state: str | None
    """Subscription-State of the last NOTIFY (`active`, `pending`, `terminated`)."""
    state_reason: str | None
    """Its `reason` parameter (e.g. `timeout`, `deactivated`, `noresource`)."""
    expires_granted: int | None
    """Expires of the last 2xx (RFC 6665 §4.1.2.1)."""
    start: float
    """Time of its first message."""
    end: float
    """Time of its last message."""
    frames: Sequence[int]
    """Frames of its messages."""


SUB_OUTCOMES: tuple[str, ...] = (
    "active",
    "pending",
    "terminated",
    "auth_failed",
    "failed",
    "no_response",
    "incomplete",
)
"""Subscription outcomes, in report order."""
