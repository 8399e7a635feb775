"""The response-code catalogue: every IANA SIP response code explained, in four languages.

Data lives in `data/codes.json` (language-independent facts: reason phrase,
RFC, severity, related codes), `data/<lang>.json` (texts per code),
`data/ui.json` (headings and sentence templates per language), and the
companion tables `data/q850.json` and `data/warning.json` (see `tables`).
Unknown codes fall back to their class's x00 entry, as RFC 3261 §8.1.3.2
requires of a UA.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "ru", "ja", "vi")
"""Languages with catalogue texts (ISO 639-1)."""

# RFC 3261 §7.2 / §21: the six response classes (English; `class_name` translates).
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
    """What the catalogue says about one response code, in one language."""

    code: int
    """The status code asked about."""
    reason: str
    """Registered reason phrase (of the fallback code when `fallback`); English, as on the wire."""
    klass: str
    """Response class in the entry's language, e.g. `4xx Client Failure`."""
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
    lang: str = "en"
    """Language of the texts."""

    @property
    def base(self) -> int:
        """The registered code the texts describe (the class's x00 for a fallback)."""
        return (self.code // 100) * 100 if self.fallback else self.code


@cache
def _load(name: str) -> Any:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _facts() -> dict[int, dict[str, Any]]:
    return {int(e["code"]): e for e in _load("codes.json")["codes"]}


def check_lang(lang: str) -> str:
    """`lang` if the catalogue has it; raises `ValueError` naming the choices otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue language {lang!r}; have {', '.join(LANGUAGES)}")
    return lang


def default_lang(environ: Mapping[str, str]) -> str:
    """The language the locale asks for, as POSIX reads it (`LC_ALL`, then
    `LC_MESSAGES`, then `LANG`); English when it is none of `LANGUAGES`."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            code = value.split(".")[0].split("_")[0].split("@")[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def text(lang: str, key: str, **values: object) -> str:
    """UI string `key` in `lang` (headings, class names, sentence templates), filled in."""
    template: str = _load("ui.json")[check_lang(lang)][key]
    return template.format(**values) if values else template


def class_name(code: int, lang: str = "en") -> str:
    """The response class of `code`, e.g. `4xx Client Failure`, in `lang`."""
    return text(lang, f"class.{code // 100}")


def codes() -> list[int]:
    """Every registered code in the catalogue, ascending."""
    return sorted(_facts())


def lookup(code: int, lang: str = "en") -> Entry:
    """The catalogue entry for `code`; unregistered codes get their class's x00 entry.

    Raises `ValueError` for a code outside 100-699 or an unknown language.
    """
    check_lang(lang)
    if not 100 <= code <= 699:
        raise ValueError(text(lang, "error.not_a_code", value=code))
    facts = _facts()
    fallback = code not in facts
    key = (code // 100) * 100 if fallback else code
    fact = facts[key]
    texts = _load(f"{lang}.json")["codes"][str(key)]
    meaning = texts["meaning"]
    if fallback:
        # RFC 3261 §8.1.3.2: treat an unrecognised final response as the x00 of its class.
        note = text(lang, "fallback", code=code, base=key, reason=fact["reason"])
        meaning = f"{note} {meaning}"
    return Entry(
        code=code,
        reason=fact["reason"],
        klass=class_name(code, lang),
        meaning=meaning,
        when=texts["when"],
        fix=texts["fix"],
        rfc=tuple(fact["rfc"]),
        severity=fact["severity"],
        related=tuple(fact.get("related", ())),
        fallback=fallback,
        lang=lang,
    )


__all__ = [
    "CLASS_NAMES",
    "LANGUAGES",
    "Entry",
    "check_lang",
    "class_name",
    "codes",
    "default_lang",
    "lookup",
    "text",
]
