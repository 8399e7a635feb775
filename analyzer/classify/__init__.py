"""Classify: catalogue annotations for every response and findings from the rules."""

from __future__ import annotations

from ..catalogue import Entry, lookup
from ..catalogue.tables import q850, warn_code
from ..correlate import Correlation, MessageStore
from ..sip import SipMessage
from .context import Context
from .model import SEVERITIES, Finding, ReasonNote, WarningNote
from .rule import Rule
from .rules import RULES

_ORDER = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def annotate(messages: MessageStore, lang: str = "en") -> dict[int, Entry]:
    """Catalogue entry for every status code among the responses, keyed by status."""
    statuses = set(messages.status_counts())
    return {status: lookup(status, lang) for status in sorted(statuses)}


def reason_notes(sip: SipMessage, lang: str = "en") -> tuple[ReasonNote, ...]:
    """The message's Reason headers explained (RFC 3326; Q.850 causes per RFC 3398)."""
    notes = []
    for r in sip.reasons:
        name = meaning = None
        status = None
        proto = r.protocol.upper()
        if proto == "Q.850" and r.cause is not None:
            cause = q850(r.cause, lang)
            if cause is not None:
                name, meaning, status = cause.name, cause.meaning, cause.sip
        elif proto == "SIP" and r.cause is not None and 100 <= r.cause <= 699:
            entry = lookup(r.cause, lang)
            name, meaning = entry.reason, entry.meaning
        notes.append(ReasonNote(r.protocol, r.cause, r.text, name, meaning, status))
    return tuple(notes)


def warning_notes(sip: SipMessage, lang: str = "en") -> tuple[WarningNote, ...]:
    """The message's Warning headers explained (RFC 3261 §20.43)."""
    notes = []
    for w in sip.warnings:
        known = warn_code(w.code, lang) if w.code is not None else None
        notes.append(
            WarningNote(
                w.code,
                w.agent,
                w.text,
                known.text if known else None,
                known.meaning if known else None,
            )
        )
    return tuple(notes)


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
