"""`call.*`: every call that did not end answered, with the catalogue's fix for its final
response (dropped when a more specific rule explained the same response)."""

from __future__ import annotations

from collections.abc import Iterator

from ...catalogue import lookup
from ..context import Context
from ..model import Finding
from ..rule import Rule
from .traffic import SCANNER_UA

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
    # A scanner's probes are summarised once by traffic.scanner, not call by call.
    scans = ctx.messages.with_user_agent(lambda v: bool(SCANNER_UA.search(v)))
    probes = {ctx.messages[i].call_id for rows in scans.values() for i in rows}
    for call in ctx.correlation.calls:
        if call.outcome == "answered" or call.call_id in probes:
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


RULES = (
    Rule(
        "call.*",
        "RFC 3261 §13.2.2.4, §21",
        "A call, registration or other request that did not end answered, with the "
        "catalogue's fix for its final response.",
        _call_outcome,
    ),
)
