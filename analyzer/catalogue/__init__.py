"""The response-code catalogue: every IANA SIP response code explained.

Data lives in `data/codes.json` (language-independent facts: reason phrase,
RFC, severity, related codes) and `data/<lang>.json` (texts). Unknown codes
fall back to their class's x00 entry, as RFC 3261 §8.1.3.2 requires of a UA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en",)
"""Languages with catalogue texts."""

# RFC 3261 §7.2 / §21: the six response classes.
CLASS_NAMES: dict[int, str] = {
    1: "1xx Provisional",
    2: "2xx Success",
    3: "3xx Redirection",
    4: "4xx Client Failure",
    5: "5xx Server Failure",
    6: "6xx Global Failure",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """What the catalogue says about one response code."""

    code: int
    """The status code asked about."""
    reason: str
    """Registered reason phrase (of the fallback code when `fallback`)."""
    klass: str
    """Response class, e.g. `4xx Client Failure`."""
    meaning: str
    """What the code means."""
    when: str
    """When you see it in a trace."""
    fix: str
    """How to fix it."""
    rfc: tuple[str, ...]
    """Defining RFC(s) and section."""
    severity: str
    """`info`, `warning` or `error`, for reports."""
    related: tuple[int, ...]
    """Codes worth comparing it with."""
    fallback: bool = False
    """True when the code is not registered and this is its class's x00 entry."""


@cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _facts() -> dict[int, dict[str, Any]]:
    return {int(e["code"]): e for e in _load("codes.json")["codes"]}


def codes() -> list[int]:
    """Every registered code in the catalogue, ascending."""
    return sorted(_facts())


def lookup(code: int, lang: str = "en") -> Entry:
    """The catalogue entry for `code`; unregistered codes get their class's x00 entry.

    Raises `ValueError` for a code outside 100-699.
    """
    if not 100 <= code <= 699:
        raise ValueError(f"{code} is not a SIP response code (100-699)")
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue language {lang!r}; have {', '.join(LANGUAGES)}")
    facts = _facts()
    fallback = code not in facts
    key = (code // 100) * 100 if fallback else code
    fact = facts[key]
    text = _load(f"{lang}.json")["codes"][str(key)]
    meaning = text["meaning"]
    if fallback:
        # RFC 3261 §8.1.3.2: treat an unrecognised final response as the x00 of its class.
        meaning = (
            f"{code} is not a registered SIP response code; per RFC 3261 §8.1.3.2 it is "
            f"treated as {key} ({fact['reason']}). {meaning}"
        )
    return Entry(
        code=code,
        reason=fact["reason"],
        klass=CLASS_NAMES[code // 100],
        meaning=meaning,
        when=text["when"],
        fix=text["fix"],
        rfc=tuple(fact["rfc"]),
        severity=fact["severity"],
        related=tuple(fact.get("related", ())),
        fallback=fallback,
    )


__all__ = ["CLASS_NAMES", "LANGUAGES", "Entry", "codes", "lookup"]
