"""Classify: catalogue annotations for every response and findings from the rules."""

from __future__ import annotations

from ..catalogue import Entry, lookup
from ..correlate import Correlation, MessageStore
from .context import Context
from .model import SEVERITIES, Finding
from .rules import RULES, Rule

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


def _without_redundant_outcomes(findings: list[Finding]) -> list[Finding]:
    """Drop a call's generic `call.*` finding when a specific rule explained its final response."""
    explained = {
        (f.call_id, f.status) for f in findings if not f.id.startswith("call.") and f.status
    }
    return [
        f for f in findings if not (f.id.startswith("call.") and (f.call_id, f.status) in explained)
    ]


__all__ = ["RULES", "SEVERITIES", "Finding", "Rule", "annotate", "classify"]
