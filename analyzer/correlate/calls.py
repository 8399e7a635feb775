"""Calls (everything sharing a Call-ID) and how each one ended.

The outcome comes from the caller's last opening transaction: challenges
(401/407) and redirects (3xx) that a later attempt in the capture answered
are never the outcome. Rules are data, with the RFC section beside each.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from .model import Call, Interval, Message, Registration, Subscription, Transaction
from .registrations import registration, subscription
from .store import MessageStore
from .transactions import TransactionTable

# RFC 3261 §17.1.1.2: Timer B = 64*T1, T1 = 500 ms. Without a final response
# within this time the client transaction has timed out.
TIMER_B = 64 * 0.5

# Final status -> outcome (status-specific rules are checked before class rules).
STATUS_OUTCOMES: dict[int, str] = {
    486: "busy",  # RFC 3261 §21.4.24 Busy Here
    600: "busy",  # RFC 3261 §21.6.1 Busy Everywhere
    480: "no_answer",  # RFC 3261 §21.4.18 Temporarily Unavailable
    403: "rejected",  # §21.4.4 Forbidden
    603: "rejected",  # §21.6.2 Decline
    607: "rejected",  # RFC 8197 Unwanted
    608: "rejected",  # RFC 8688 Rejected
    404: "not_found",  # §21.4.5 Not Found
    604: "not_found",  # §21.6.3 Does Not Exist Anywhere
    410: "not_found",  # §21.4.9 Gone
    484: "not_found",  # §21.4.22 Address Incomplete
    408: "no_response",  # §21.4.11 Request Timeout
}
CHALLENGES = frozenset({401, 407})  # RFC 3261 §22.2, §22.3


@dataclass(frozen=True, slots=True)
class Dialogs:
    """Per Call-ID records: calls, and the registrations and subscriptions among them."""

    calls: list[Call]
    registrations: list[Registration]
    subscriptions: list[Subscription]


def build_calls(
    messages: MessageStore,
    transactions: TransactionTable,
    retrans: AbstractSet[int],
    capture_end: float,
) -> Dialogs:
    """One `Call` per Call-ID, in order of first appearance, plus a `Registration` or
    `Subscription` for the Call-IDs that hold a REGISTER or SUBSCRIBE."""
    # Indexes, not records: a call's messages and transactions are made only while
    # it is built.
    by_call = messages.by_call_id()
    txns_by_call: dict[str, array[int]] = defaultdict(lambda: array("I"))
    for number in range(len(transactions)):
        txns_by_call[transactions.call_id(number)].append(number)
    out = Dialogs([], [], [])
    for cid, rows in by_call.items():
        msgs = [messages[i] for i in rows]
        txns = [transactions[t] for t in txns_by_call.get(cid, ())]
        by_index = {m.index: m for m in msgs}

        def at(index: int, by_index: dict[int, Message] = by_index) -> Message:
            # A transaction's messages are the call's own, bar a Call-ID-less stray.
            found = by_index.get(index)
            return found if found is not None else messages[index]

        call = _build(cid, msgs, txns, at, retrans, capture_end)
        out.calls.append(call)
        if messages.method_in(rows, "REGISTER"):
            reg = registration(cid, msgs, txns, at, capture_end)
            if reg is not None:
                out.registrations.append(reg)
        if messages.method_in(rows, "SUBSCRIBE"):
            sub = subscription(cid, msgs, txns, at, retrans, capture_end)
            if sub is not None:
                out.subscriptions.append(sub)
    return out


def _build(
    call_id: str,
    msgs: list[Message],
    txns: list[Transaction],
    at: Callable[[int], Message],
    retrans: AbstractSet[int],
    capture_end: float,
) -> Call:
    requests = [m for m in msgs if m.is_request and m.index not in retrans]
    opening = next((m for m in requests if m.method not in ("ACK", "CANCEL")), None)
    if opening is not None:
        method = opening.method or "?"
    else:
        cseq = msgs[0].cseq
        method = cseq.method if cseq else "?"
    caller = opening.src if opening is not None else None
    attempts = caller_attempts(txns, method, caller, at)
    cancelled = any(m.method == "CANCEL" and (caller is None or m.src == caller) for m in requests)
    challenges = sum(
        1 for t in attempts if t.final is not None and at(t.final).status in CHALLENGES
    )
    outcome, final = _outcome(attempts, at, cancelled, capture_end)
    first = opening or msgs[0]
    final_msg = at(final) if final is not None else None
    first_sip = first.sip
    timing = _timing(method, attempts, at, final_msg, requests, txns, opening, retrans, capture_end)
    return Call(
        call_id=call_id,
        method=method,
        outcome=outcome,
        final_status=final_msg.status if final_msg else None,
        final_reason=final_msg.reason if final_msg else None,
        final_message=final,
        from_=first_sip.from_,
        to=first_sip.to,
        start=msgs[0].time,
        end=msgs[-1].time,
        messages=array("I", (m.index for m in msgs)),
        frames=array("I", sorted({m.frame for m in msgs})),
        attempts=len(attempts),
        challenges=challenges,
        cancelled=cancelled,
        capture=msgs[0].capture,
        hops=_hops(requests, at(attempts[-1].request or 0) if attempts else opening),
        **timing,
    )


def _hops(requests: list[Message], last: Message | None) -> int:
    """Legs the caller's last attempt was seen on (its forwarded and forked copies share
    the CSeq and From tag)."""
    if last is None:
        return 1
    same = {(m.src, m.dst) for m in requests if m.cseq == last.cseq and m.from_tag == last.from_tag}
    return len(same) or 1


def caller_attempts(
    txns: Sequence[Transaction],
    method: str,
    caller: str | None,
    at: Callable[[int], Message],
) -> list[Transaction]:
    """The caller's opening transactions, in order: out-of-dialog (no To tag) requests of
    the opening method sent by the caller (not a proxy's forwarded copies)."""
    attempts = [
        t
        for t in txns
        if t.request is not None
        and t.method == method
        and at(t.request).to_tag is None
        and (caller is None or at(t.request).src == caller)
    ]
    attempts.sort(key=lambda t: t.request or 0)
    return attempts


# RFC 6076 §4.3: 401, 402 and 407 are not failures for SRD; 3xx leads to a new attempt.
_NOT_SRD_FAILURE = frozenset({401, 402, 407})
_RINGING = frozenset({180, 181, 182, 183})


def _timing(
    method: str,
    attempts: list[Transaction],
    at: Callable[[int], Message],
    final: Message | None,
    requests: list[Message],
    txns: Sequence[Transaction],
    opening: Message | None,
    retrans: AbstractSet[int],
    capture_end: float,
) -> dict[str, Any]:
    """Dialogs, hang-up and the timings of an INVITE call (RFC 6076 §4.3-§4.5)."""
    out: dict[str, Any] = {}
    if not attempts or opening is None:
        return out
    invite = at(attempts[0].request or 0)
    # Responses the caller received, every attempt, first copies only, capture order.
    answers = sorted(i for t in attempts for i in t.responses if i not in retrans)
    received = [at(i) for i in answers]
    tags: list[str] = []
    for r in received:
        # Only 101-299 responses make (early) dialogs (RFC 3261 §12.1).
        if r.to_tag and 100 < (r.status or 0) < 300 and r.to_tag not in tags:
            tags.append(r.to_tag)
    out["to_tags"] = tuple(tags)
    answered = final is not None and 200 <= (final.status or 0) < 300
    if answered and final is not None:
        out["answered_tag"] = final.to_tag
    reason_from: Message | None = None
    bye = next((m for m in requests if m.method == "BYE"), None)
    cancel = next((m for m in requests if m.method == "CANCEL" and m.src == opening.src), None)
    if bye is not None:
        out["hangup"] = "caller" if bye.from_tag == opening.from_tag else "callee"
        reason_from = bye
    elif cancel is not None:
        out["hangup"] = "caller"
        reason_from = cancel
    if (reason_from is None or not reason_from.has_reason) and final is not None:
        reason_from = final
    if reason_from is not None and reason_from.has_reason:
        out["reason"] = reason_from.sip.get("reason")
    if method != "INVITE":
        return out

    def span(a: Message, b: Message) -> Interval:
        return Interval(a.time, b.time, a.frame, b.frame)

    # SRD (§4.3): the first status-indicative response; the clock runs over challenges
    # (§5.3 counts authentication inside the attempt) and redirects followed in the capture.
    for r in received:
        status = r.status or 0
        if status == 100 or 300 <= status < 400 or status in _NOT_SRD_FAILURE:
            continue
        failed = status >= 400
        if failed and status == 487 and out.get("hangup") == "caller":
            break  # the caller gave up first: neither a success nor a failure of the setup
        out["srd"], out["srd_failed"] = span(invite, r), failed
        break
    if answered and final is not None:
        out["setup"] = span(invite, final)
    ringing = next((r for r in received if r.status in _RINGING), None)
    if ringing is not None and final is not None and final.time >= ringing.time:
        out["ring"] = span(ringing, final)
    if answered and final is not None and bye is not None:
        out["sdt"] = span(final, bye)
    if bye is not None and bye.txn is not None:
        bye_txn = txns_by_id(txns).get(bye.txn)
        bye_final = at(bye_txn.final) if bye_txn and bye_txn.final is not None else None
        if bye_final is not None and 200 <= (bye_final.status or 0) < 300:
            out["sdd"] = span(bye, bye_final)
            out["completed"] = answered
        elif bye_final is None and capture_end - bye.time >= TIMER_B:
            # §4.4: a BYE nobody answered ends at Timer F (64*T1).
            out["sdd"] = Interval(bye.time, bye.time + TIMER_B, bye.frame, None)
            out["sdd_failed"] = True
    return out


def txns_by_id(txns: Sequence[Transaction]) -> dict[int, Transaction]:
    """A call's transactions by number."""
    return {t.id: t for t in txns}


def _outcome(
    attempts: list[Transaction],
    at: Callable[[int], Message],
    cancelled: bool,
    capture_end: float,
) -> tuple[str, int | None]:
    """Outcome and deciding response index from the caller's attempts."""
    if not attempts:
        return "incomplete", None
    last = attempts[-1]
    if last.final is None:
        start = at(last.request or 0).time
        # RFC 3261 §17.1.1.2 / §17.1.2.2: Timer B (INVITE) and F (others) are 64*T1.
        return ("no_response" if capture_end - start >= TIMER_B else "incomplete"), None
    status = at(last.final).status or 0
    sent_credentials = at(last.request or 0).has_credentials
    if 200 <= status < 300:
        return "answered", last.final
    if 300 <= status < 400:
        return "redirected", last.final  # a followed redirect would be a later attempt
    if status in CHALLENGES:
        # A challenge nobody answered, or credentials answered by another
        # challenge: authentication did not succeed (RFC 3261 §22.2).
        return "auth_failed", last.final
    if status == 403 and sent_credentials:
        return "auth_failed", last.final
    if status == 487:
        # RFC 3261 §9.2: 487 answers an INVITE that a CANCEL terminated.
        return ("cancelled" if cancelled else "failed"), last.final
    return STATUS_OUTCOMES.get(status, "failed"), last.final
