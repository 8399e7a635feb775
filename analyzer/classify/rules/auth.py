"""401 / 407 digest authentication: a challenge resolved by a retry (normal), credentials
rejected (403, or a new challenge that is not `stale`), a stale nonce, a nonce reused
without a fresh nonce-count, and credentials whose realm is not the challenge's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ...correlate import Message
from ...sip import Auth
from ..context import Context
from ..model import Finding
from ..rule import Rule

_CHALLENGES = (401, 407)


def _challenges(m: Message) -> tuple[Auth, ...]:
    sip = m.sip
    return sip.www_authenticate + sip.proxy_authenticate


def _credentials(m: Message) -> tuple[Auth, ...]:
    sip = m.sip
    return sip.authorization + sip.proxy_authorization


def _realms(auths: tuple[Auth, ...]) -> list[str]:
    return list(dict.fromkeys(a.realm for a in auths if a.realm is not None))


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One request sent with credentials, the challenge before it and its final answer."""

    request: Message
    challenge: Message | None
    final: Message | None


def _attempts(ctx: Context, call_id: str | None) -> list[_Attempt]:
    """The requests with credentials in one Call-ID, as their UA sent them (one copy per
    CSeq), each with the latest challenge before it and the originating final response."""
    ua: dict[tuple[int, str], Message] = {}
    finals: dict[tuple[int, str], Message] = {}
    challenges: list[Message] = []
    for m in ctx.in_call(call_id):
        if m.cseq is None or ctx.is_retransmission(m):
            continue
        key = (m.cseq.number, m.cseq.method)
        if m.is_request:
            have = ua.get(key)
            if have is None or m.via_count < have.via_count:
                ua[key] = m
        elif m.status is not None and m.status >= 200:
            have = finals.get(key)
            if have is None or m.via_count > have.via_count:
                finals[key] = m
            if m.status in _CHALLENGES:
                challenges.append(m)
    attempts = []
    for key, req in sorted(ua.items(), key=lambda kv: kv[1].index):
        if not req.has_credentials:
            continue
        before = [
            c for c in challenges if c.index < req.index and c.cseq and c.cseq.number < key[0]
        ]
        attempts.append(_Attempt(req, before[-1] if before else None, finals.get(key)))
    return attempts


def _call_ids_with_credentials(ctx: Context) -> list[str | None]:
    seen: dict[str | None, None] = {}
    for i in ctx.messages.with_credentials():
        seen.setdefault(ctx.messages[i].call_id)
    return list(seen)


def _is_stale(m: Message | None) -> bool:
    return m is not None and m.status in _CHALLENGES and any(a.stale for a in _challenges(m))


def _mismatched(a: _Attempt) -> tuple[list[str], list[str]] | None:
    """The realms offered and the realms answered, when none of the answered was offered."""
    if a.challenge is None:
        return None
    asked = _realms(_challenges(a.challenge))
    sent = _realms(_credentials(a.request))
    if not asked or not sent or set(sent) & set(asked):
        return None
    return asked, sent


def _realm_mismatch(ctx: Context) -> Iterator[Finding]:
    for cid in _call_ids_with_credentials(ctx):
        for a in _attempts(ctx, cid):
            realms = _mismatched(a)
            if realms is None or a.challenge is None:
                continue
            asked, sent = realms
            req, ch = a.request, a.challenge
            frames = (ch.frame, req.frame) + ((a.final.frame,) if a.final else ())
            outcome = f", answered {a.final.label} (frame {a.final.frame})" if a.final else ""
            yield Finding(
                "auth.realm-mismatch",
                "error",
                f"{req.method} credentials for realm {sent[0]!r}, challenge was for {asked[0]!r}",
                f"{ch.src} challenged {ch.label} (frame {ch.frame}) for realm "
                f"{', '.join(repr(r) for r in asked)}; {req.src} answered with credentials for "
                f"realm {', '.join(repr(r) for r in sent)} (frame {req.frame}){outcome}. The "
                "server cannot find a password for a realm it did not offer, so the "
                "credentials can never be accepted, whatever the password.",
                f"Set the UA's authentication realm to {asked[0]!r} (or leave it empty so the "
                "UA takes the realm from the challenge, RFC 3261 §22.1), or change the "
                "server's realm to the one the UA is provisioned with.",
                frames,
                a.final.status if a.final else ch.status,
                req.call_id,
                "RFC 3261 §22.1, §22.2",
            )
            break  # one per Call-ID: the UA repeats the same mistake


def _stale_nonce(ctx: Context) -> Iterator[Finding]:
    for cid in _call_ids_with_credentials(ctx):
        attempts = _attempts(ctx, cid)
        for n, a in enumerate(attempts):
            if not _is_stale(a.final):
                continue
            assert a.final is not None
            fresh = {x.nonce for x in _challenges(a.final)}
            retry = next(
                (
                    b
                    for b in attempts[n + 1 :]
                    if {x.nonce for x in _credentials(b.request)} & fresh
                ),
                None,
            )
            req = a.request
            frames = [req.frame, a.final.frame]
            if retry is not None:
                frames.append(retry.request.frame)
                if retry.final is not None:
                    frames.append(retry.final.frame)
            ok = retry is not None and retry.final is not None and retry.final.is_success
            then = (
                f"The UA retried with the new nonce (frame {retry.request.frame})"
                + (f", answered {retry.final.label}." if retry.final else ".")
                if retry is not None
                else "The UA did not retry with the new nonce."
            )
            yield Finding(
                "auth.stale-nonce",
                "info" if ok else "warning",
                f"{req.method} credentials used an expired nonce (stale=true)",
                f"{a.final.src} answered the {req.method} with credentials (frame {req.frame}) "
                f"with {a.final.label} carrying `stale=true` (frame {a.final.frame}): the "
                f"password was right but the nonce had expired. {then}",
                "Nothing to fix: the UA retried with the fresh nonce."
                if ok
                else "The UA must retry with the new nonce without asking for a password "
                "(RFC 2617 §3.2.1); if stale nonces are frequent, raise the server's nonce "
                "lifetime (kamailio auth `nonce_expire`) above the UA's re-use interval.",
                tuple(frames),
                a.final.status,
                req.call_id,
                "RFC 2617 §3.2.1; RFC 3261 §22.4",
            )


def _refused(a: _Attempt) -> bool:
    """Credentials answered by 403, or by a challenge for a realm they already answered
    without stale=true (a challenge for a new realm is the next proxy asking, RFC 3261
    §22.3: credentials for each realm accumulate)."""
    if a.final is None:
        return False
    if a.final.status == 403:
        return True
    if a.final.status not in _CHALLENGES or _is_stale(a.final):
        return False
    return bool(set(_realms(_challenges(a.final))) & set(_realms(_credentials(a.request))))


def _credentials_rejected(ctx: Context) -> Iterator[Finding]:
    for cid in _call_ids_with_credentials(ctx):
        attempts = _attempts(ctx, cid)
        rejected = [a for a in attempts if _refused(a)]
        if not rejected:
            continue
        if any(_mismatched(a) for a in rejected):
            continue  # auth.realm-mismatch says why
        first = rejected[0]
        assert first.final is not None
        req = first.request
        creds = _credentials(req)
        user = next((c.username for c in creds if c.username), None)
        realm = next((c.realm for c in creds if c.realm), None)
        last = attempts[-1]
        recovered = last.final is not None and last.final.is_success
        frames = sorted({a.request.frame for a in rejected} | {first.final.frame})
        how = (
            "403 Forbidden"
            if first.final.status == 403
            else f"a new {first.final.status} challenge without stale=true"
        )
        yield Finding(
            "auth.credentials-rejected",
            "warning" if recovered else "error",
            f"{req.method} credentials for {user or '?'} rejected by {first.final.src}",
            f"{first.final.src} answered the {req.method} sent with credentials (user "
            f"{user or '?'!r}, realm {realm or '?'!r}, frame {req.frame}) with {how} "
            f"(frame {first.final.frame}); {len(rejected)} of {len(attempts)} attempt(s) with "
            "credentials were refused"
            + (", then one succeeded." if recovered else " and none succeeded."),
            "Check the password and the authentication user name (auth ID, which may differ "
            "from the SIP user) configured on the UA against the server's user database; a 403 "
            "can also mean the user is not allowed from this address or to this destination.",
            tuple(frames),
            first.final.status,
            req.call_id,
            "RFC 3261 §22.2, §22.3",
        )


def _nonce_reused(ctx: Context) -> Iterator[Finding]:
    """A nonce used again without a challenge in between and without a higher nc."""
    if not any(True for _ in ctx.messages.with_credentials()):
        return
    # Per nonce, the last event: issued in a challenge, or used (with its nc).
    last: dict[str, tuple[str, Message, str | None]] = {}
    issued_by: dict[str, Message] = {}
    reported: set[str] = set()
    credentials = set(ctx.messages.with_credentials())
    challenges = set(ctx.messages.with_status(_CHALLENGES))
    seen_requests: set[tuple[str | None, object, str | None]] = set()
    for i in sorted(credentials | challenges):
        m = ctx.messages[i]
        if ctx.is_retransmission(m):
            continue
        if not m.is_request:
            for ch in _challenges(m):
                if ch.nonce:
                    last[ch.nonce] = ("issued", m, None)
                    issued_by.setdefault(ch.nonce, m)
            continue
        if m.method in ("ACK", "CANCEL"):
            continue  # they must repeat the INVITE's credentials (RFC 3261 §13.2.2.4, §9.1)
        key = (m.call_id, m.cseq, m.method)
        if key in seen_requests:
            continue  # the same request relayed by a proxy
        seen_requests.add(key)
        for cr in _credentials(m):
            nonce = cr.nonce
            if not nonce:
                continue
            nc = cr.get("nc")
            prev = last.get(nonce)
            last[nonce] = ("used", m, nc)
            if prev is None or prev[0] != "used" or nonce in reported:
                continue
            if prev[1].src != m.src:
                continue  # a proxy or B2BUA relaying the UA's credentials, not a re-use
            first, prev_nc = prev[1], prev[2]
            if nc is not None and prev_nc is not None and _nc(nc) > _nc(prev_nc):
                continue  # RFC 2617 §3.2.2: a higher nonce-count is a legitimate re-use
            reported.add(nonce)
            final = ctx.final_of(m)
            accepted = final is not None and final.is_success
            # With qop, accepting a repeated nc breaks RFC 2617 §3.2.2; without qop there
            # is no nc to check (RFC 2069 digest): replayable until the nonce expires.
            severity = "warning" if accepted and nc is not None else "info"
            fix = (
                "On the server, reject a repeated nonce-count (kamailio auth: "
                "`nonce_count=1` or `one_time_nonce=1`) so re-used credentials get a new "
                "challenge with stale=true; the UA should increment `nc` for each request "
                "with the same nonce (RFC 2617 §3.2.2) or wait for a new challenge."
                if nc is not None
                else 'Challenge with `qop="auth"` (kamailio `www_challenge` flag 1) so '
                "credentials carry a nonce-count the server can check, and enable "
                "`nonce_count` or `one_time_nonce`; without qop a captured request can be "
                "replayed until its nonce expires (RFC 2617 §4.5)."
            )
            counted = f"the same nonce-count nc={nc}" if nc else "no nonce-count (no qop)"
            verdict = (
                "its answer is not in the capture"
                if final is None
                else f"{final.src} {'accepted' if accepted else 'answered'} it with "
                f"{final.label} (frame {final.frame})"
            )
            frames = (first.frame, m.frame) + ((final.frame,) if final else ())
            yield Finding(
                "auth.nonce-reused",
                severity,
                f"{m.method} re-used a nonce with {counted}",
                f"{m.src} sent the {m.method} (frame {m.frame}) with credentials for the nonce "
                f"it had already used in frame {first.frame}, with {counted}, and no "
                f"challenge in between; {verdict}. A server that accepts this would also "
                "accept a replay of the captured request.",
                fix,
                frames,
                final.status if final else None,
                m.call_id,
                "RFC 2617 §3.2.2, §4.5; RFC 3261 §22.4",
            )


def _nc(value: str) -> int:
    try:
        return int(value, 16)
    except ValueError:
        return -1


def _challenge_resolved(ctx: Context) -> Iterator[Finding]:
    """A 401/407 answered by a retry with credentials that succeeded is normal digest auth."""
    for call in ctx.correlation.calls:
        if call.challenges and call.outcome == "answered":
            msgs = [ctx.messages[i] for i in call.messages]
            challenges = [m for m in msgs if m.status in _CHALLENGES]
            frames = tuple(m.frame for m in challenges)
            if call.final_message is not None:
                frames += (ctx.messages[call.final_message].frame,)
            yield Finding(
                "auth.challenge-resolved",
                "info",
                f"{call.method} challenged {challenges[0].status if challenges else ''}, "
                "then accepted with credentials",
                f"{call.method} from {call.from_ or '?'} was challenged {call.challenges} time(s) "
                "and the retry with credentials succeeded: ordinary digest authentication.",
                "Nothing to fix.",
                frames,
                challenges[0].status if challenges else None,
                call.call_id,
                "RFC 3261 §22.2",
            )


RULES = (
    Rule(
        "auth.challenge-resolved",
        "RFC 3261 §22.2",
        "A 401/407 challenge answered by a retry with credentials that succeeded (info).",
        _challenge_resolved,
    ),
    Rule(
        "auth.credentials-rejected",
        "RFC 3261 §22.2, §22.3",
        "Credentials answered by 403 or by a new challenge without stale=true: wrong "
        "password or auth ID.",
        _credentials_rejected,
    ),
    Rule(
        "auth.stale-nonce",
        "RFC 2617 §3.2.1",
        "A challenge with stale=true after credentials, and whether the UA retried with the "
        "fresh nonce.",
        _stale_nonce,
    ),
    Rule(
        "auth.nonce-reused",
        "RFC 2617 §3.2.2",
        "Credentials re-using a nonce without a challenge in between and without a higher "
        "nonce-count, and whether the server accepted the replay.",
        _nonce_reused,
    ),
    Rule(
        "auth.realm-mismatch",
        "RFC 3261 §22.1",
        "Credentials whose realm is not one the challenge offered.",
        _realm_mismatch,
    ),
)
