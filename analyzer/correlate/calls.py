"""Calls (everything sharing a Call-ID) and how each one ended.

The outcome comes from the caller's last opening transaction: challenges
(401/407) and redirects (3xx) that a later attempt in the capture answered
are never the outcome. Rules are data, with the RFC section beside each.
"""

from __future__ import annotations

from collections import defaultdict

from .model import Call, Message, Transaction

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
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


def build_calls(
    messages: list[Message],
    transactions: list[Transaction],
    retrans: set[int],
    capture_end: float,
) -> list[Call]:
    """One `Call` per Call-ID, in order of first appearance."""
    by_call: dict[str, list[Message]] = defaultdict(list)
    for msg in messages:
        by_call[msg.sip.call_id or ""].append(msg)
    txns_by_call: dict[str, list[Transaction]] = defaultdict(list)
    for txn in transactions:
        txns_by_call[txn.call_id].append(txn)
    return [
        _build(cid, msgs, txns_by_call[cid], messages, retrans, capture_end)
        for cid, msgs in by_call.items()
    ]


def _build(
    call_id: str,
    msgs: list[Message],
    txns: list[Transaction],
    all_msgs: list[Message],
    retrans: set[int],
    capture_end: float,
) -> Call:
    requests = [m for m in msgs if m.sip.is_request and m.index not in retrans]
    opening = next((m for m in requests if m.sip.method not in ("ACK", "CANCEL")), None)
    if opening is not None:
        method = opening.sip.method or "?"
    else:
        cseq = msgs[0].sip.cseq
        method = cseq.method if cseq else "?"
    caller = opening.src if opening is not None else None
    # The caller's opening transactions: out-of-dialog (no To tag) requests of
    # the opening method sent by the caller (not the proxy's forwarded copies).
    attempts = [
        t
        for t in txns
        if t.request is not None
        and t.method == method
        and all_msgs[t.request].sip.to_tag is None
        and (caller is None or all_msgs[t.request].src == caller)
    ]
    attempts.sort(key=lambda t: all_msgs[t.request or 0].index)
    cancelled = any(
        m.sip.method == "CANCEL" and (caller is None or m.src == caller) for m in requests
    )
    challenges = sum(
        1 for t in attempts if t.final is not None and all_msgs[t.final].sip.status in CHALLENGES
    )
    outcome, final = _outcome(attempts, all_msgs, cancelled, capture_end)
    first = opening or msgs[0]
    final_msg = all_msgs[final] if final is not None else None
    return Call(
        call_id=call_id,
        method=method,
        outcome=outcome,
        final_status=final_msg.sip.status if final_msg else None,
        final_reason=final_msg.sip.reason if final_msg else None,
        final_message=final,
        from_=first.sip.from_,
        to=first.sip.to,
        start=msgs[0].time,
        end=msgs[-1].time,
        messages=tuple(m.index for m in msgs),
        frames=tuple(sorted({m.frame for m in msgs})),
        attempts=len(attempts),
        challenges=challenges,
        cancelled=cancelled,
        capture=msgs[0].capture,
    )


def _outcome(
    attempts: list[Transaction],
    all_msgs: list[Message],
    cancelled: bool,
    capture_end: float,
) -> tuple[str, int | None]:
    """Outcome and deciding response index from the caller's attempts."""
    if not attempts:
        return "incomplete", None
    last = attempts[-1]
    if last.final is None:
        start = all_msgs[last.request or 0].time
        # RFC 3261 §17.1.1.2 / §17.1.2.2: Timer B (INVITE) and F (others) are 64*T1.
        return ("no_response" if capture_end - start >= TIMER_B else "incomplete"), None
    final = all_msgs[last.final]
    status = final.sip.status or 0
    request = all_msgs[last.request or 0].sip
    sent_credentials = any(request.has(h) for h in _CREDENTIAL_HEADERS)
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
