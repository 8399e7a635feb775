"""Classify: catalogue annotations for every response and findings from the rules."""

from __future__ import annotations

from ..catalogue import Entry, lookup
from ..correlate import Correlation, MessageStore
from .context import Context
from .model import SEVERITIES, Finding, ReasonNote, WarningNote
from .notes import reason_notes, warning_notes
from .rule import Rule
from .rules import RULES

_ORDER = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def annotate(messages: MessageStore, lang: str = "en") -> dict[int, Entry]:
    """Catalogue entry for every status code among the responses, keyed by status."""
    statuses = set(messages.status_counts())
    return {status: lookup(status, lang) for status in sorted(statuses)}


def classify(messages: MessageStore, correlation: Correlation) -> list[Finding]:
    """Run every rule; findings sorted by severity (errors first), then first frame."""
    ctx = Context.build(messages, correlation)
    findings = _without_redundant_outcomes([f for rule in RULES for f in rule.check(ctx)])
    findings.sort(key=lambda f: (_ORDER[f.severity], f.frames[0] if f.frames else 0))
    return findings


# A general finding yields to a specific one about the same call: (general id prefix,
# specific id prefixes; empty: any non-`call.` finding with the same status).
_SUPERSEDED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("call.", ()),
    ("txn.max-forwards-zero", ("loop.",)),
    ("txn.unanswered", ("timeout.",)),
)


def _without_redundant_outcomes(findings: list[Finding]) -> list[Finding]:
    """Drop a call's general finding when a specific rule explained the same thing: a
    `call.*` outcome whose final response a rule explained, a Max-Forwards 0 that a
    loop rule explained, an unanswered leg behind a 408 the timeout rule explained."""
    explained = {(f.call_id, f.status) for f in findings if not f.id.startswith("call.")}
    by_call: dict[str | None, set[str]] = {}
    for f in findings:
        by_call.setdefault(f.call_id, set()).add(f.id)

    def superseded(f: Finding) -> bool:
        for general, specific in _SUPERSEDED:
            if not f.id.startswith(general):
                continue
            if not specific:
                return f.status is not None and (f.call_id, f.status) in explained
            return any(i.startswith(specific) for i in by_call[f.call_id])
        return False

    return [f for f in findings if not superseded(f)]


__all__ = [
    "RULES",
    "SEVERITIES",
    "Finding",
    "ReasonNote",
    "Rule",
    "WarningNote",
    "annotate",
    "classify",
    "reason_notes",
    "warning_notes",
]
