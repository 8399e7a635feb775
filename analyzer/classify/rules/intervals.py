"""422 Session Interval Too Small and 423 Interval Too Brief: the minimum the server
named (Min-SE / Min-Expires) against what the request asked, and whether the UA retried
with enough."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ...sip import SipMessage
from ..context import Context
from ..model import Finding
from ..rule import Rule


@dataclass(frozen=True, slots=True)
class _Interval:
    """How one response code names a minimum and how a request asks for an interval."""

    status: int
    id: str
    header: str
    """The response header with the minimum."""
    asked: Callable[[SipMessage], int | None]
    minimum: Callable[[SipMessage], int | None]
    what: str
    fix: str
    rfc: str


def _session_expires(sip: SipMessage) -> int | None:
    se = sip.session_expires
    return se.seconds if se is not None else None


def _register_expires(sip: SipMessage) -> int | None:
    """RFC 3261 §10.2.1.1: a Contact's `expires` parameter, else the Expires header."""
    for c in sip.contacts:
        if c.expires is not None:
            return c.expires
    return sip.expires


_SESSION = _Interval(
    422,
    "session.interval-too-small",
    "Min-SE",
    _session_expires,
    lambda s: s.min_se,
    "Session-Expires",
    "Configure the UA's session-timer interval (Session-Expires) to at least {minimum} s, "
    "or lower the server's minimum (kamailio sst `sst_min_se`); a UA must retry by itself "
    "with Session-Expires and Min-SE of at least the Min-SE received (RFC 4028 §7.4).",
    "RFC 4028 §6, §7.4",
)
_REGISTER = _Interval(
    423,
    "register.interval-too-brief",
    "Min-Expires",
    _register_expires,
    lambda s: s.min_expires,
    "registration expiry",
    "Configure the UA's registration interval to at least {minimum} s, or lower the "
    "registrar's minimum (kamailio registrar `min_expires`); a UA must retry by itself with "
    "an expiry of at least Min-Expires (RFC 3261 §10.2.8).",
    "RFC 3261 §10.2.8, §21.4.17",
)


def _check(ctx: Context, kind: _Interval) -> Iterator[Finding]:
    for resp in ctx.origin_responses(kind.status):
        req = ctx.request_of(resp)
        if req is None:
            continue
        ua = ctx.ua_copy(req)
        asked = kind.asked(ua.sip)
        minimum = kind.minimum(resp.sip)
        retry = ctx.retry_of(ua)
        retry_asked = kind.asked(retry.sip) if retry is not None else None
        final = ctx.origin_final(retry) if retry is not None else None
        frames = [ua.frame, resp.frame]
        if retry is not None:
            frames.append(retry.frame)
        if final is not None:
            frames.append(final.frame)
        enough = retry_asked is not None and minimum is not None and retry_asked >= minimum
        asked_text = f"{asked} s" if asked is not None else "no value"
        min_text = f"{minimum} s" if minimum is not None else "no value (the header is missing)"
        if retry is None:
            then = "The UA did not retry"
        else:
            then = (
                f"The UA retried (frame {retry.frame}) asking {retry_asked} s"
                if retry_asked is not None
                else f"The UA retried (frame {retry.frame}) without a {kind.what}"
            )
            then += f", answered {final.label}" if final is not None else ""
        ok = enough and final is not None and final.is_success
        severity = "info" if ok else ("warning" if enough else "error")
        yield Finding(
            kind.id,
            severity,
            f"{resp.label}: {kind.what} {asked_text} below the {kind.header} {min_text}",
            f"{resp.src} answered the {ua.method} (frame {ua.frame}) asking a {kind.what} of "
            f"{asked_text} with {resp.label} (frame {resp.frame}) and `{kind.header}: "
            f"{minimum if minimum is not None else '?'}`. {then}.",
            "Nothing to fix: the UA retried with an interval the server accepts."
            if ok
            else kind.fix.format(minimum=minimum if minimum is not None else "the minimum"),
            tuple(frames),
            kind.status,
            resp.call_id,
            kind.rfc,
        )


RULES = (
    Rule(
        _SESSION.id,
        _SESSION.rfc,
        "422: the Session-Expires asked against the Min-SE required, and the UA's retry.",
        lambda ctx: _check(ctx, _SESSION),
    ),
    Rule(
        _REGISTER.id,
        _REGISTER.rfc,
        "423: the registration expiry asked against the Min-Expires required, and the UA's retry.",
        lambda ctx: _check(ctx, _REGISTER),
    ),
)
