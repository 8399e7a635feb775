"""Companion tables: ISDN Q.850 cause values and SIP Warning codes, in four languages.

A `Reason: Q.850;cause=N` header (RFC 3326, RFC 6432) says why an ISDN/ISUP
side cleared a call; RFC 3398 §7.2.4.1 maps each cause to the SIP status a
gateway sends and §8.2.6.1 maps back. A `Warning` header (RFC 3261 §20.43)
carries a three-digit warn-code explaining, e.g., which SDP part was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from . import _load, check_lang


@dataclass(frozen=True, slots=True)
class Cause:
    """One Q.850 cause value."""

    cause: int
    """Cause value (1-127)."""
    name: str
    """Its Q.850 name, in `lang`."""
    meaning: str
    """What it means in practice, in `lang`."""
    sip: int | None
    """SIP status a gateway maps it to (RFC 3398 §7.2.4.1), None when no rule applies."""
    sip_rule: str | None
    """`table` (an explicit row of that table), `default` (its default rule) or None."""
    lang: str
    """Language of the texts."""


@dataclass(frozen=True, slots=True)
class WarnCode:
    """One SIP warn-code (RFC 3261 §20.43 and the IANA registry)."""

    code: int
    """Three-digit warn-code."""
    text: str
    """Registered warn-text (English, as on the wire)."""
    rfc: str
    """Where it is defined."""
    meaning: str
    """What it tells and what to check, in `lang`."""
    lang: str
    """Language of the texts."""


@cache
def _causes() -> dict[int, dict[str, Any]]:
    return {int(c["cause"]): c for c in _load("q850.json")["causes"]}


@cache
def _warn_codes() -> dict[int, dict[str, Any]]:
    return {int(c["code"]): c for c in _load("warning.json")["codes"]}


def q850_causes() -> list[int]:
    """Every cause value in the table, ascending."""
    return sorted(_causes())


def q850(cause: int, lang: str = "en") -> Cause | None:
    """The Q.850 cause `cause`, or None when Q.850 defines no such value."""
    check_lang(lang)
    row = _causes().get(cause)
    if row is None:
        return None
    return Cause(
        cause=cause,
        name=row["name"][lang],
        meaning=row["meaning"][lang],
        sip=row["sip"],
        sip_rule=row["sip_rule"],
        lang=lang,
    )


def q850_for_status(status: int) -> int | None:
    """The cause a gateway sends to ISUP for a SIP final status (RFC 3398 §8.2.6.1)."""
    for row in _load("q850.json")["from_sip"]:
        if row["status"] == status:
            cause: int = row["cause"]
            return cause
    return None


def warn_codes() -> list[int]:
    """Every warn-code in the table, ascending."""
    return sorted(_warn_codes())


def warn_code(code: int, lang: str = "en") -> WarnCode | None:
    """The warn-code `code`, or None when it is not registered."""
    check_lang(lang)
    row = _warn_codes().get(code)
    if row is None:
        return None
    return WarnCode(code, row["text"], row["rfc"], row["meaning"][lang], lang)


__all__ = ["Cause", "WarnCode", "q850", "q850_causes", "q850_for_status", "warn_code", "warn_codes"]
