"""Diagnosis rules: each is data (id, RFC) plus a function over the `Context`.

Adding a rule touches this file only: write a function yielding `Finding`s
and register it in `RULES` with its RFC section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..catalogue import lookup
from ..correlate import Message
from .context import Context
from .model import Finding

RuleFn = Callable[[Context], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One diagnosis rule."""

    id: str
    """Finding id (or id prefix) it produces."""
    rfc: str
    """The RFC section it rests on."""
    check: RuleFn
    """Produces the findings."""


# Outcomes that are a user's choice, not a fault, are info; these two are errors
# whatever the final code's catalogue severity (401/407 are "info" as challenges).
_OUTCOME_SEVERITY = {
    "cancelled": "info",
    "busy": "info",
    "no_answer": "info",
    "auth_failed": "error",
    "no_response": "error",
}


def _call_outcome(ctx: Context) -> Iterator[Finding]:
    """Every call that did not end answered gets a finding with the catalogue's fix."""
    for call in ctx.correlation.calls:
        if call.outcome == "answered":
            continue
        slug = call.outcome.replace("_", "-")
        frames = [ctx.messages[i].frame for i in call.messages[:1]]
        if call.final_message is None or call.final_status is None:
            severity = "error" if call.outcome == "no_response" else "info"
            timed_out = call.outcome == "no_response"
            why = "Timer B/F expired" if timed_out else "the capture ended first"
            detail = (
                f"{call.method} from {call.from_ or '?'} to {call.to or '?'} got no final "
                f"response ({why})."
            )
            fix = (
                "Check that the next hop is reachable and listening on that transport and port."
                if call.outcome == "no_response"
                else "Capture for longer to see how the call ended."
            )
            yield Finding(
                f"call.{slug}",
                severity,
                f"{call.method} {call.outcome}",
                detail,
                fix,
                tuple(frames),
                None,
                call.call_id,
                "RFC 3261 §17.1.1.2",
            )
            continue
        final = ctx.messages[call.final_message]
        entry = lookup(call.final_status)
        frames.append(final.frame)
        severity = _OUTCOME_SEVERITY.get(call.outcome, entry.severity)
        fix = entry.fix
        if call.outcome == "auth_failed":
            fix = (
                "The credentials sent were rejected: check the username (auth ID), password and "
                "realm configured on the UA against the server's. "
                if call.attempts > 1
                else "The UA never answered the challenge: configure credentials on it. "
            ) + entry.fix
        detail = (
            f"{call.method} from {call.from_ or '?'} to {call.to or '?'} ended with "
            f"{final.label} from {final.src} (frame {final.frame})"
            f"{f' after {call.attempts} attempts' if call.attempts > 1 else ''}. {entry.meaning}"
        )
        yield Finding(
            f"call.{slug}",
            severity,
            f"{call.method} ended {final.label} ({call.outcome})",
            detail,
            fix,
            tuple(frames),
            call.final_status,
            call.call_id,
            entry.rfc[0] if entry.rfc else None,
        )


def _challenge_resolved(ctx: Context) -> Iterator[Finding]:
    """A 401/407 answered by a retry with credentials that succeeded is normal digest auth."""
    for call in ctx.correlation.calls:
        if call.challenges and call.outcome == "answered":
            msgs = [ctx.messages[i] for i in call.messages]
            challenges = [m for m in msgs if m.status in (401, 407)]
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


def _outbound_439(ctx: Context) -> Iterator[Finding]:
    """439: the registrar saw an outbound REGISTER whose first hop added no `Path;ob`."""
    for resp in ctx.origin_responses(439):
        req = ctx.request_of(resp)
        if req is None:
            continue
        sip = req.sip
        tags = set(sip.option_tags("supported")) | set(sip.option_tags("require"))
        contacts = sip.contacts
        reg_id = next((c.params["reg-id"] for c in contacts if "reg-id" in c.params), None)
        instance = next(
            (c.params["+sip.instance"] for c in contacts if "+sip.instance" in c.params), None
        )
        paths = sip.path
        # RFC 5626 §5.1: the edge proxy marks its Path URI with the `ob` parameter.
        path_ob = any(
            "ob" in p.params or (p.uri is not None and "ob" in p.uri.params) for p in paths
        )
        vias = sip.vias
        # The UA's own Via is at the bottom; the one above it is the first hop.
        first_hop = vias[-2].sent_by if len(vias) >= 2 else req.src
        evidence = [
            f"`Supported`/`Require` has outbound: {'yes' if 'outbound' in tags else 'no'}",
            f"Contact `reg-id`: {reg_id or 'absent'}",
            f"Contact `+sip.instance`: {instance or 'absent'}",
            f"`Path` headers: {len(paths)}{' (one with ;ob)' if path_ob else ', none with ;ob'}",
            f"Via hops: {len(vias)}",
        ]
        yield Finding(
            "outbound.first-hop-lacks-support",
            "error",
            f"439: first hop {first_hop} lacks SIP Outbound support",
            f"{resp.src} answered the REGISTER (frame {req.frame}) with {resp.label} "
            f"(frame {resp.frame}): the UA asked for RFC 5626 outbound but the first hop "
            f"{first_hop} did not add a `Path` with `;ob`. " + "; ".join(evidence) + ".",
            f"Enable RFC 5626 outbound on the edge proxy {first_hop} so that it adds "
            "`Path: <sip:...;lr;ob>` (kamailio: load the `outbound` module and call "
            "`add_path()`), or configure the UA not to request outbound (drop `reg-id` and "
            "`+sip.instance` from its Contact and `outbound` from `Supported`).",
            (req.frame, resp.frame),
            439,
            sip.call_id,
            "RFC 5626 §5.1, §6",
        )


def _extensions(ctx: Context) -> Iterator[Finding]:
    """420 names the unsupported option tags; 421 the ones the server requires."""
    for resp in ctx.origin_responses(420, 421):
        status = resp.status
        req = ctx.request_of(resp)
        frames = (req.frame, resp.frame) if req else (resp.frame,)
        if status == 420:
            tags = resp.sip.option_tags("unsupported")
            names = ", ".join(tags) or "an option tag"
            detail, fix = _bad_extension_evidence(req, tags, names, resp.src)
            yield Finding(
                "extension.bad-extension",
                "error",
                f"420: {resp.src} does not support {names}",
                f"{resp.src} rejected the request (frame {frames[0]}) with "
                f"`Unsupported: {names}`. {detail}",
                fix,
                frames,
                420,
                resp.call_id,
                "RFC 3261 §8.2.2.3, §21.4.15",
            )
        else:
            tags = resp.sip.option_tags("require")
            yield Finding(
                "extension.required",
                "error",
                f"421: {resp.src} requires {', '.join(tags) or 'an extension'}",
                f"{resp.src} will only process the request (frame {frames[0]}) if the client "
                f"supports `{', '.join(tags)}` (from the 421's `Require`); the request's "
                f"`Supported` was: {', '.join(req.sip.option_tags('supported')) if req else '?'}.",
                f"Enable {', '.join(tags)} on the client and list it in `Supported`, or relax "
                f"the server's policy (e.g. kamailio `outbound_mode`).",
                frames,
                421,
                resp.call_id,
                "RFC 3261 §21.4.16",
            )


def _bad_extension_evidence(
    req: Message | None, tags: list[str], names: str, server: str
) -> tuple[str, str]:
    """Say which header demanded the unsupported tags, and what to change."""
    if req is None:
        return "The request itself is not in the capture.", f"Stop requiring {names}."
    sip = req.sip
    if any(t in sip.option_tags("proxy-require") for t in tags):
        return (
            f"The request listed it in `Proxy-Require: {sip.get('proxy-require')}` and a proxy "
            "on the path does not support it.",
            f"Remove {names} from the UA's `Proxy-Require`, or enable the extension on {server}.",
        )
    if any(t in sip.option_tags("require") for t in tags):
        return (
            f"The request listed it in `Require: {', '.join(sip.option_tags('require'))}`.",
            f"Remove {names} from the UA's `Require`, or enable the extension on {server}.",
        )
    if "path" in tags and sip.has("path"):
        # RFC 3327 §5.3: a registrar rejects a Path the UA did not declare support for.
        return (
            "A proxy added a `Path` header but the UA's `Supported` "
            f"({', '.join(sip.option_tags('supported')) or 'absent'}) lacks `path`.",
            "Have the UA send `Supported: path`, or stop the edge proxy adding `Path` "
            "for UAs that do not support it.",
        )
    return (
        "The request used the extension without declaring it.",
        f"Declare {names} in `Supported` or stop using it.",
    )


def _service_unavailable(ctx: Context) -> Iterator[Finding]:
    """503 with Retry-After, and a 500 carrying "Service Unavailable" (a rewritten 503)."""
    for resp in ctx.origin_responses(500, 503):
        if resp.status == 503:
            ra = resp.sip.retry_after
            yield Finding(
                "server.service-unavailable",
                "error",
                f"503 from {resp.src}" + (f", Retry-After {ra}s" if ra is not None else ""),
                f"{resp.src} is temporarily unable to process the request (frame {resp.frame})"
                + (f" and asks clients not to retry for {ra} s." if ra is not None else "."),
                "Find why that server is overloaded or in maintenance; clients and proxies "
                "should honour Retry-After and try another server meanwhile.",
                (resp.frame,),
                503,
                resp.call_id,
                "RFC 3261 §21.5.4",
            )
        elif resp.status == 500 and (resp.reason or "").strip().lower() == "service unavailable":
            yield Finding(
                "proxy.503-rewritten-as-500",
                "warning",
                f'500 "Service Unavailable" from {resp.src}: a proxy rewrote a 503',
                f"{resp.src} sent 500 with the reason phrase of a 503 (frame {resp.frame}): a "
                "proxy received 503 downstream and, as RFC 3261 §16.7 requires, did not forward "
                "it as 503. The real cause is the downstream server that answered 503.",
                "Look at the proxy's downstream leg for the 503 and fix that server; the 500 "
                "itself is the proxy behaving correctly.",
                (resp.frame,),
                500,
                resp.call_id,
                "RFC 3261 §16.7",
            )


def _transaction_checks(ctx: Context) -> Iterator[Finding]:
    """The correlate stage's transaction checks (RFC 3261 §17, §12.2, §14.1, §16.3)."""
    for c in ctx.correlation.checks:
        yield Finding(
            c.id, c.severity, c.title, c.detail, c.fix, c.frames, c.status, c.call_id, c.rfc
        )


RULES: tuple[Rule, ...] = (
    Rule("call.*", "RFC 3261 §13.2.2.4, §21", _call_outcome),
    Rule("auth.challenge-resolved", "RFC 3261 §22.2", _challenge_resolved),
    Rule("outbound.first-hop-lacks-support", "RFC 5626 §5.1", _outbound_439),
    Rule("extension.*", "RFC 3261 §8.2.2.3", _extensions),
    Rule("server.*", "RFC 3261 §21.5.4, §16.7", _service_unavailable),
    Rule("txn.*", "RFC 3261 §17", _transaction_checks),
)
