"""Registrations (RFC 3261 §10) and subscriptions (RFC 6665), one record per dialog.

A UA keeps one Call-ID per registrar (RFC 3261 §10.2), so a registration is
the REGISTERs of one Call-ID sent by one UA; copies a proxy forwarded are
part of its ladder but not counted again. Attempts follow RFC 6076 §4.1: an
initial REGISTER with the retries its challenges asked for is one attempt.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

from ..sip import SipMessage
from .model import Interval, Message, Registration, Subscription, Transaction

# RFC 3261 §17.1.2.2: Timer F = 64*T1, T1 = 500 ms.
TIMER_F = 64 * 0.5
CHALLENGES = frozenset({401, 407})
# 423 Interval Too Brief asks for a retry with a longer expiry (§10.2.8), like a challenge.
RETRY_ASKED = CHALLENGES | {423}

At = Callable[[int], Message]


def _uri(text: str) -> str:
    # Bindings compare by URI; parameters (transport, ob...) stay, angle brackets go.
    return text.strip().strip("<>")


def _own_transactions(
    txns: Sequence[Transaction], method: str, ua: str, at: At
) -> list[Transaction]:
    """The UA's own `method` transactions (not a proxy's forwarded copies), in order."""
    own = [
        t for t in txns if t.request is not None and t.method == method and at(t.request).src == ua
    ]
    own.sort(key=lambda t: t.request or 0)
    return own


def _granted(reply: SipMessage, contact: str | None, asked: int | None) -> int | None:
    """The expiry the registrar granted the binding (§10.3 item 8, §10.2.4)."""
    for c in reply.contacts:
        if contact is not None and _uri(c.uri_text) == contact and c.expires is not None:
            return c.expires
    header = reply.expires
    return header if header is not None else asked


def registration(
    call_id: str, msgs: Sequence[Message], txns: Sequence[Transaction], at: At, capture_end: float
) -> Registration | None:
    """The registration of one Call-ID, or None when it holds no REGISTER request."""
    first = next((m for m in msgs if m.is_request and m.method == "REGISTER"), None)
    if first is None:
        return None
    ua = first.src
    own = _own_transactions(txns, "REGISTER", ua, at)
    contacts: list[str] = []
    state, status = "incomplete", None
    challenges = attempts = failed = successes = 0
    asked = granted = None
    expires_at = None
    rrd: list[Interval] = []
    chain: Message | None = None  # first REGISTER of the attempt under way
    for t in own:
        req = at(t.request or 0)
        sip = req.sip
        for c in sip.contacts:
            uri = "*" if c.is_wildcard else _uri(c.uri_text)
            if uri not in contacts:
                contacts.append(uri)
        mine = sip.contacts[0] if sip.contacts else None
        asked = mine.expires if mine is not None and mine.expires is not None else sip.expires
        wildcard = mine is not None and mine.is_wildcard
        if chain is None:
            chain = req
            attempts += 1
        reply = at(t.final) if t.final is not None else None
        status = reply.status if reply is not None else None
        if reply is None:
            if capture_end - req.time >= TIMER_F:
                state, chain = "no_response", None
                failed += 1
            else:
                state = "incomplete"
            continue
        code = reply.status or 0
        if code in RETRY_ASKED:
            challenges += code in CHALLENGES
            # Credentials answered by another challenge: the password or realm is wrong.
            state = "auth_failed" if code in CHALLENGES else "failed"
            continue
        if 200 <= code < 300:
            contact_uri = None if mine is None or wildcard else _uri(mine.uri_text)
            granted = 0 if wildcard else _granted(reply.sip, contact_uri, asked)
            removed = wildcard or granted == 0
            state = "deregistered" if removed else "registered"
            expires_at = None if removed or granted is None else reply.time + granted
            successes += 1
            rrd.append(Interval(chain.time, reply.time, chain.frame, reply.frame))
            chain = None
            continue
        failed += 1
        chain = None
        state = "auth_failed" if code == 403 and req.has_credentials else "failed"
    if chain is not None and state in ("auth_failed", "failed"):
        failed += 1  # the last attempt ended on a challenge or 423 nobody answered
    return Registration(
        call_id=call_id,
        aor=first.sip.to,
        contact=contacts[0] if contacts else None,
        contacts=tuple(contacts),
        ua=ua,
        outcome=state,
        final_status=status,
        requests=len(own),
        challenges=challenges,
        attempts=attempts,
        failed_attempts=failed,
        refreshes=max(successes - 1, 0),
        expires_requested=asked,
        expires_granted=granted,
        expires_at=expires_at,
        rrd=tuple(rrd),
        start=msgs[0].time,
        end=msgs[-1].time,
        frames=array("I", sorted({m.frame for m in msgs})),
    )


def _state(value: str | None) -> tuple[str | None, str | None]:
    """Subscription-State (RFC 6665 §8.2.3): the state and its `reason` parameter."""
    if not value:
        return None, None
    state, *params = (p.strip() for p in value.split(";"))
    reason = next((p.split("=", 1)[1] for p in params if p.lower().startswith("reason=")), None)
    return state.lower() or None, reason


def subscription(
    call_id: str,
    msgs: Sequence[Message],
    txns: Sequence[Transaction],
    at: At,
    retrans: AbstractSet[int],
    capture_end: float,
) -> Subscription | None:
    """The subscription of one Call-ID, or None when it holds no SUBSCRIBE request."""
    first = next((m for m in msgs if m.is_request and m.method == "SUBSCRIBE"), None)
    if first is None:
        return None
    subscriber = first.src
    own = _own_transactions(txns, "SUBSCRIBE", subscriber, at)
    challenges = accepted = 0
    outcome, status, granted = "incomplete", None, None
    for t in own:
        req = at(t.request or 0)
        reply = at(t.final) if t.final is not None else None
        status = reply.status if reply is not None else None
        if reply is None:
            outcome = "no_response" if capture_end - req.time >= TIMER_F else "incomplete"
            continue
        code = reply.status or 0
        if code in CHALLENGES:
            challenges += 1
            outcome = "auth_failed"
        elif 200 <= code < 300:
            accepted += 1
            granted = reply.sip.expires
            outcome = "terminated" if granted == 0 else "active"
        else:
            outcome = "auth_failed" if code == 403 and req.has_credentials else "failed"
    # The NOTIFYs the subscriber received (a B2BUA renumbers them on its other side);
    # when the capture holds none of those, every NOTIFY, each CSeq once.
    notifies = [m for m in msgs if m.is_request and m.method == "NOTIFY" and m.index not in retrans]
    notifies = [m for m in notifies if m.dst == subscriber] or notifies
    seen: set[int] = set()
    last_notify: Message | None = None
    for m in notifies:
        number = m.cseq.number if m.cseq else -1
        if number not in seen:
            seen.add(number)
            last_notify = m
    state, reason = _state(last_notify.sip.get("subscription-state") if last_notify else None)
    if outcome in ("active", "incomplete") and state in ("active", "pending", "terminated"):
        # The notifier's last word decides (RFC 6665 §4.1.3): a NOTIFY can come before
        # the 2xx, and a terminated state ends an accepted subscription.
        outcome = state
    return Subscription(
        call_id=call_id,
        event=(first.sip.get("event") or "").split(";")[0].strip() or None,
        subscriber=first.sip.from_,
        resource=first.sip.to,
        outcome=outcome,
        final_status=status,
        requests=len(own),
        refreshes=max(accepted - 1, 0),
        challenges=challenges,
        notifies=len(seen),
        state=state,
        state_reason=reason,
        expires_granted=granted,
        start=msgs[0].time,
        end=msgs[-1].time,
        frames=array("I", sorted({m.frame for m in msgs})),
    )
