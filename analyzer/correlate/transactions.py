"""Transaction matching and retransmission detection (RFC 3261 §17.1.3, §17.2.3).

A message belongs to the transaction named by its top Via branch (with the
RFC 3261 magic cookie), the sent-by of that Via and its CSeq method; the ACK
to a non-2xx response and a CANCEL share the INVITE's branch. Messages from
RFC 2543 agents (no magic cookie) fall back to Call-ID, From tag, CSeq and
the top Via.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..sip import SipMessage
from .model import Message, Transaction

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7


def transaction_key(msg: Message) -> tuple[str, ...] | None:
    """The transaction key of a message, or None when it lacks Via or CSeq."""
    return msg.txn_key


def transaction_key_of(sip: SipMessage) -> tuple[str, ...] | None:
    """The transaction key of a parsed message, or None when it lacks Via or CSeq."""
    top = sip.top_via
    cseq = sip.cseq
    if top is None or cseq is None:
        return None
    method = cseq.method
    if method == "ACK":
        method = "INVITE"  # §17.2.3: an ACK matches the INVITE it acknowledges
    branch = top.branch or ""
    if branch.startswith(MAGIC_COOKIE):
        return (branch, top.sent_by.lower(), method)
    # §17.2.3 fallback for RFC 2543 peers.
    return (
        "2543",
        sip.call_id or "",
        sip.from_tag or "",
        str(cseq.number),
        top.sent_by.lower(),
        branch,
        method,
    )


# A transaction quiet for this long (capture time) is closed and its retransmission
# memory dropped: 64*T1 covers every retransmission timer of RFC 3261 §17 (T1 = 500 ms),
# doubled for slow captures. Memory then follows open transactions, not the capture.
RETIRE_AFTER = 2 * 64 * 0.5
_SWEEP_EVERY = 4096


@dataclass(slots=True)
class _Open:
    key: tuple[str, ...]
    method: str
    call_id: str
    first: int
    last_time: float = 0.0
    request: int | None = None
    requests: array[int] = field(default_factory=lambda: array("I"))
    responses: array[int] = field(default_factory=lambda: array("I"))
    final: int | None = None
    seen_requests: set[tuple[str, str, str, int]] = field(default_factory=set)
    seen_responses: set[tuple[str, str, int, str]] = field(default_factory=set)

    def closed(self) -> Transaction:
        return Transaction(
            self.key,
            self.method,
            self.call_id,
            self.request,
            self.requests,
            self.responses,
            self.final,
        )


def match_transactions(messages: Iterable[Message]) -> tuple[list[Transaction], set[int]]:
    """Group messages into transactions; return them (in order of first appearance) and
    the retransmitted message indexes.

    A retransmission is a repeat, on the same hop (same source and
    destination), of a request or of a response with the same status and To
    tag already seen in the transaction.
    """
    open_: dict[tuple[str, ...], _Open] = {}
    done: list[tuple[int, Transaction]] = []
    retrans: set[int] = set()
    for count, msg in enumerate(messages, 1):
        if count % _SWEEP_EVERY == 0:
            _retire(open_, done, msg.time)
        key = msg.txn_key
        if key is None:
            continue
        cseq = msg.cseq
        assert cseq is not None
        txn = open_.get(key)
        if txn is None:
            txn = open_[key] = _Open(key, key[-1], msg.call_id or "", msg.index)
        txn.last_time = msg.time
        if msg.is_request:
            # The request method distinguishes INVITE from its ACK in one transaction.
            rkey = (msg.src, msg.dst, msg.method or "", cseq.number)
            if rkey in txn.seen_requests:
                retrans.add(msg.index)
            txn.seen_requests.add(rkey)
            txn.requests.append(msg.index)
            if txn.request is None and msg.method != "ACK":
                txn.request = msg.index
        else:
            status = msg.status or 0
            skey = (msg.src, msg.dst, status, msg.to_tag or "")
            if skey in txn.seen_responses:
                retrans.add(msg.index)
            txn.seen_responses.add(skey)
            txn.responses.append(msg.index)
            if status >= 200 and txn.final is None:
                txn.final = msg.index
    done.extend((t.first, t.closed()) for t in open_.values())
    done.sort(key=lambda pair: pair[0])
    return [t for _, t in done], retrans


def _retire(
    open_: dict[tuple[str, ...], _Open], done: list[tuple[int, Transaction]], now: float
) -> None:
    quiet = [k for k, t in open_.items() if now - t.last_time > RETIRE_AFTER]
    for key in quiet:
        txn = open_.pop(key)
        done.append((txn.first, txn.closed()))
