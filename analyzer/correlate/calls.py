"""Calls (everything sharing a Call-ID) and how each one ended.

The outcome comes from the caller's last opening transaction: challenges
(401/407) and redirects (3xx) that a later attempt in the capture answered
are never the outcome. Rules are data, with the RFC section beside each.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from .model import Call, Message, Transaction
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


def build_calls(
    messages: MessageStore,
    transactions: TransactionTable,
    retrans: AbstractSet[int],
    capture_end: float,
) -> list[Call]:
    """One `Call` per Call-ID, in order of first appearance."""
    # Indexes, not records: a call's messages and transactions are made only while
    # it is built.
    by_call = messages.by_call_id()
    txns_by_call: dict[str, array[int]] = defaultdict(lambda: array("I"))
    for number in range(len(transactions)):
        txns_by_call[transactions.call_id(number)].append(number)
    return [
        _build(
            cid,
            [messages[i] for i in rows],
            [transactions[t] for t in txns_by_call.get(cid, ())],
            messages,
            retrans,
            capture_end,
        )
        for cid, rows in by_call.items()
    ]


def _build(
    call_id: str,
    msgs: list[Message],
    txns: list[Transaction],
    all_msgs: Sequence[Message],
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
    by_index = {m.index: m for m in msgs}
    # The caller's opening transactions: out-of-dialog (no To tag) requests of
    # the opening method sent by the caller (not the proxy's forwarded copies).
    attempts = [
        t
        for t in txns
        if t.request is not None
        and t.method == method
        and _at(t.request, by_index, all_msgs).to_tag is None
        and (caller is None or _at(t.request, by_index, all_msgs).src == caller)
    ]
    attempts.sort(key=lambda t: t.request or 0)
    cancelled = any(m.method == "CANCEL" and (caller is None or m.src == caller) for m in requests)
    challenges = sum(
        1
        for t in attempts
        if t.final is not None and _at(t.final, by_index, all_msgs).status in CHALLENGES
    )
    outcome, final = _outcome(attempts, by_index, all_msgs, cancelled, capture_end)
    first = opening or msgs[0]
    final_msg = _at(final, by_index, all_msgs) if final is not None else None
    first_sip = first.sip
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
    )


def _at(index: int, by_index: dict[int, Message], all_msgs: Sequence[Message]) -> Message:
    # A transaction's messages are the call's own, bar a Call-ID-less stray.
    found = by_index.get(index)
    return found if found is not None else all_msgs[index]


def _outcome(
    attempts: list[Transaction],
    by_index: dict[int, Message],
    all_msgs: Sequence[Message],
    cancelled: bool,
    capture_end: float,
) -> tuple[str, int | None]:
    """Outcome and deciding response index from the caller's attempts."""
    if not attempts:
        return "incomplete", None
    last = attempts[-1]
    if last.final is None:
        start = _at(last.request or 0, by_index, all_msgs).time
        # RFC 3261 §17.1.1.2 / §17.1.2.2: Timer B (INVITE) and F (others) are 64*T1.
        return ("no_response" if capture_end - start >= TIMER_B else "incomplete"), None
    status = _at(last.final, by_index, all_msgs).status or 0
    sent_credentials = _at(last.request or 0, by_index, all_msgs).has_credentials
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
