"""Side-by-side comparison of two response codes, generated from their entries.

Nothing is stored per pair: the class contrast, finality and retry rules come
from RFC 3261 §7.2/§21 per class (templates in `ui.json`), the rest from each
code's entry. The sections follow the catalogue pages our users know: intro,
each code's description / when you see it / how to fix, key differences,
when to use which.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Entry, lookup, text


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two codes compared, in one language."""

    a: Entry
    """The first code's entry."""
    b: Entry
    """The second code's entry."""
    title: str
    """E.g. `SIP 200 OK vs 439 First Hop Lacks Outbound Support`."""
    intro: tuple[str, ...]
    """Opening paragraph, as sentences: the class contrast and both meanings."""
    differences: tuple[str, ...]
    """Key differences, one point each."""
    which: tuple[str, ...]
    """When to use which: a lead sentence, then one point per code."""
    lang: str
    """Language of the texts."""


def compare(code_a: int, code_b: int, lang: str = "en") -> Comparison:
    """Compare two response codes. Raises `ValueError` for a non-code or the same code twice."""
    a, b = lookup(code_a, lang), lookup(code_b, lang)
    if code_a == code_b:
        raise ValueError(text(lang, "cmp.same_code"))
    ca, cb = code_a // 100, code_b // 100
    names = {
        "a": code_a,
        "b": code_b,
        "reason_a": a.reason,
        "reason_b": b.reason,
        "class_a": a.klass,
        "class_b": b.klass,
    }
    same_class = ca == cb
    intro = (
        text(lang, "cmp.intro.same" if same_class else "cmp.intro.differ", **names),
        text(
            lang, "cmp.intro.meaning", a=code_a, b=code_b, meaning_a=a.meaning, meaning_b=b.meaning
        ),
    )
    about = {"about_a": text(lang, f"class.{ca}.about"), "about_b": text(lang, f"class.{cb}.about")}
    differences = [
        text(
            lang,
            "cmp.class.same" if same_class else "cmp.class.differ",
            a=code_a,
            b=code_b,
            **about,
        )
    ]
    if not same_class:
        # Finality and what the client may do next follow from the class (RFC 3261 §21).
        for code, cls in ((code_a, ca), (code_b, cb)):
            final = "final.1" if cls == 1 else "final.2" if cls == 2 else "final.x"
            differences.append(
                text(lang, final, code=code) + " " + text(lang, f"retry.{cls}", code=code)
            )
    differences += [
        text(lang, "cmp.meaning", code=code_a, text=a.meaning),
        text(lang, "cmp.meaning", code=code_b, text=b.meaning),
        text(lang, "cmp.when", code=code_a, text=a.when),
        text(lang, "cmp.when", code=code_b, text=b.when),
        text(lang, "cmp.rfc", a=code_a, b=code_b, rfc_a=", ".join(a.rfc), rfc_b=", ".join(b.rfc)),
    ]
    if a.severity != b.severity:
        differences.append(
            text(
                lang,
                "cmp.severity",
                a=code_a,
                b=code_b,
                severity_a=text(lang, f"severity.{a.severity}"),
                severity_b=text(lang, f"severity.{b.severity}"),
            )
        )
    a_lists_b, b_lists_a = b.base in a.related, a.base in b.related
    if a_lists_b and b_lists_a:
        differences.append(text(lang, "cmp.related.both"))
    elif a_lists_b or b_lists_a:
        first, second = (code_a, code_b) if a_lists_b else (code_b, code_a)
        differences.append(text(lang, "cmp.related.one", a=first, b=second))
    which = (
        text(lang, "cmp.which.intro"),
        text(lang, "cmp.which", code=code_a, reason=a.reason, fix=a.fix),
        text(lang, "cmp.which", code=code_b, reason=b.reason, fix=b.fix),
    )
    return Comparison(
        a=a,
        b=b,
        title=text(lang, "cmp.title", **names),
        intro=intro,
        differences=tuple(differences),
        which=which,
        lang=lang,
    )
