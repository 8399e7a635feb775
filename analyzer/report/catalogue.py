"""Catalogue pages: `explain` (one code) and `compare` (two codes) as terminal text,
Markdown or JSON (contract `sip-analyzer-catalogue/1`, analyzer/schema/).

The texts are the project's own (no capture strings), but headings and layout
are shared with the analysis reports: terminal via rich, Markdown for tickets.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.text import Text

from ..catalogue import Entry, text
from ..catalogue.compare import Comparison
from .interface import RenderOptions
from .terminal import console_for

SCHEMA = "sip-analyzer-catalogue/1"

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "green"}
_FIELDS = ("meaning", "when", "fix")


def entry_dict(entry: Entry) -> dict[str, Any]:
    """An entry as the JSON object both commands use."""
    return {
        "code": entry.code,
        "reason": entry.reason,
        "class": entry.klass,
        "meaning": entry.meaning,
        "when": entry.when,
        "fix": entry.fix,
        "rfc": list(entry.rfc),
        "severity": entry.severity,
        "related": list(entry.related),
        "fallback": entry.fallback,
        "fallback_code": entry.base if entry.fallback else None,
    }


def _title(entry: Entry) -> str:
    return f"SIP {entry.code}" if entry.fallback else f"SIP {entry.code} {entry.reason}"


def _facts_line(entry: Entry) -> str:
    lang = entry.lang
    return " · ".join(
        (
            entry.klass,
            f"{text(lang, 'heading.rfc')}: {', '.join(entry.rfc)}",
            f"{text(lang, 'heading.severity')}: {text(lang, f'severity.{entry.severity}')}",
        )
    )


def _related_line(entry: Entry) -> str | None:
    if not entry.related:
        return None
    return f"{text(entry.lang, 'heading.related')}: {', '.join(str(c) for c in entry.related)}"


# -- explain --------------------------------------------------------------------


def explain_json(entry: Entry) -> str:
    data = {"schema": SCHEMA, "kind": "explain", "lang": entry.lang, "entry": entry_dict(entry)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def explain_markdown(entry: Entry) -> str:
    lang = entry.lang
    out = [f"# {_title(entry)}", "", _facts_line(entry), ""]
    for field in _FIELDS:
        out += [f"## {text(lang, f'heading.{field}')}", "", getattr(entry, field), ""]
    related = _related_line(entry)
    if related:
        out += [related, ""]
    return "\n".join(out)


def _text_of(buf: io.StringIO) -> str:
    # rich leaves the space it wrapped at on the end of the line.
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


def _entry_block(console: Console, entry: Entry, level: str) -> None:
    console.print(Text(_title(entry), style=f"bold {_SEVERITY_STYLE.get(entry.severity, '')}"))
    console.print(Text(_facts_line(entry), style="dim"))
    for field in _FIELDS:
        console.print()
        console.print(Text(text(entry.lang, f"heading.{field}"), style=level))
        console.print(Text(getattr(entry, field)), overflow="fold")


def explain_terminal(entry: Entry, options: RenderOptions) -> str:
    console, buf = console_for(options)
    _entry_block(console, entry, "bold underline")
    related = _related_line(entry)
    if related:
        console.print()
        console.print(Text(related, style="dim"))
    return _text_of(buf)


# -- compare --------------------------------------------------------------------


def compare_json(cmp: Comparison) -> str:
    data = {
        "schema": SCHEMA,
        "kind": "compare",
        "lang": cmp.lang,
        "title": cmp.title,
        "intro": list(cmp.intro),
        "codes": [entry_dict(cmp.a), entry_dict(cmp.b)],
        "differences": list(cmp.differences),
        "which": list(cmp.which),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def compare_markdown(cmp: Comparison) -> str:
    lang = cmp.lang
    out = [f"# {cmp.title}", "", " ".join(cmp.intro), ""]
    for entry in (cmp.a, cmp.b):
        out += [f"## {_title(entry)}", "", _facts_line(entry), ""]
        for field in _FIELDS:
            out += [f"### {text(lang, f'heading.{field}')}", "", getattr(entry, field), ""]
    out += [f"## {text(lang, 'heading.differences')}", ""]
    out += [f"{n}. {point}" for n, point in enumerate(cmp.differences, 1)]
    out += ["", f"## {text(lang, 'heading.which')}", "", cmp.which[0], ""]
    out += [f"- {point}" for point in cmp.which[1:]]
    return "\n".join(out) + "\n"


def compare_terminal(cmp: Comparison, options: RenderOptions) -> str:
    console, buf = console_for(options)
    lang = cmp.lang
    console.print(Text(cmp.title, style="bold"))
    console.print()
    console.print(Text(" ".join(cmp.intro)))
    for entry in (cmp.a, cmp.b):
        console.print()
        console.rule(style="dim")
        _entry_block(console, entry, "bold")
    console.print()
    console.rule(style="dim")
    console.print(Text(text(lang, "heading.differences"), style="bold underline"))
    for n, point in enumerate(cmp.differences, 1):
        console.print(Text(f"{n:>2}. {point}"))
    console.print()
    console.print(Text(text(lang, "heading.which"), style="bold underline"))
    console.print(Text(cmp.which[0]))
    for point in cmp.which[1:]:
        console.print(Text(f" • {point}"))
    return _text_of(buf)
