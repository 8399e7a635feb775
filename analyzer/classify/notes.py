"""Reason (RFC 3326) and Warning (RFC 3261 §20.43) headers read with the catalogue's
Q.850, SIP and warn-code tables."""

from __future__ import annotations

from ..catalogue import lookup
from ..catalogue.tables import q850, warn_code
from ..sip import SipMessage
from .model import ReasonNote, WarningNote


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
            if not entry.fallback:  # an unregistered code has no name of its own
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
