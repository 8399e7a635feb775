"""Markdown report for bug tickets (GitHub, GitLab, Jira): summary, findings, metrics,
calls, and a ladder per failed call as a Mermaid `sequenceDiagram` plus plain text.

Every string from a capture is untrusted. Inline, capture values go into code
spans (no links, mentions, HTML or emphasis can form inside one); prose that
quotes them (findings) is HTML-escaped and backslash-escaped, with every word
that could turn into a link, a mention or an issue reference (`://`, `@`,
`#`, `www.`) put in a code span. Mermaid text is reduced to a safe alphabet,
and plain-text ladders sit in a fence longer than any backtick run inside.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .. import __version__
from ..analysis import Analysis
from ..batch.gates import gate_dict
from ..catalogue import text
from .interface import RenderOptions
from .ladder import Ladder, arrow_text, call_filter, ladder, ladder_calls, plain
from .terminal import (
    MAX_CALL_ROWS,
    metric_rows,
    ms,
    response_groups,
    short_uri,
    timestamp,
)
from .text import gate_lines, inert

MAX_LADDERS = 100
"""Ladders drawn per report; a selection (`--calls`) narrows what is drawn."""

_WS = re.compile(r"[\r\n\t\v\f]+")
_ACTIVE = re.compile(r"(\S*(?:://|@|#|www\.)\S*)", re.IGNORECASE)
_PUNCT = re.compile(r"[\\`*_\[\]|~<>]")
_QUOTED = re.compile(r"`([^`]+)`")
_MERMAID_UNSAFE = re.compile(r"[^\w .,/()'+\-]")
_MERMAID_ENDPOINT_UNSAFE = re.compile(r"[^\w.:\[\]\-]")
_BACKTICKS = re.compile(r"`+")


def code(value: str | None, limit: int | None = 200, table: bool = False) -> str:
    """A capture value as an inline code span (escaped for a table cell if `table`)."""
    s = _WS.sub(" ", inert(value, limit))
    if not s:
        return ""
    run = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    fence = "`" * (run + 1)
    if s.startswith(("`", " ")) or s.endswith(("`", " ")):
        s = f" {s} "
    out = f"{fence}{s}{fence}"
    return out.replace("|", "\\|") if table else out


def prose(value: str | None) -> str:
    """Text that quotes capture values, safe as Markdown inline content. Backtick-quoted
    parts (the catalogue and findings quote header names so) stay code spans."""
    s = _WS.sub(" ", inert(value))
    out = []
    for i, chunk in enumerate(_QUOTED.split(s)):
        if i % 2:
            out.append(code(chunk, None, table=True))
            continue
        for j, part in enumerate(_ACTIVE.split(chunk)):
            out.append(code(part, None, table=True) if j % 2 else _escape(part))
    return "".join(out)


def _escape(text: str) -> str:
    return _PUNCT.sub(_escape_one, text.replace("&", "&amp;"))


def _escape_one(m: re.Match[str]) -> str:
    c = m.group()
    return {"<": "&lt;", ">": "&gt;"}.get(c, "\\" + c)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    sep = ["---:" if i in right else "---" for i in range(len(head))]
    return [_row([prose(h) for h in head]), _row(sep), *(_row(r) for r in rows), ""]


def render(analysis: Analysis, options: RenderOptions) -> str:
    """The Markdown report."""
    lang = analysis.lang
    lines: list[str] = []
    names = ", ".join(c.path.rsplit("/", 1)[-1] for c in analysis.captures)
    lines += [f"# {prose(text(lang, 'report.title'))}: {code(names)}", ""]
    lines += [prose(text(lang, "report.generated", tool=f"sip-analyzer {__version__}")), ""]
    if analysis.selection is not None:
        lines += [_selection_line(analysis), ""]
    _captures(lines, analysis)
    _gates(lines, analysis)
    _summary(lines, analysis)
    _findings(lines, analysis)
    _metrics(lines, analysis)
    _calls(lines, analysis)
    _registrations(lines, analysis)
    _ladders(lines, analysis, options)
    return "\n".join(lines).rstrip("\n") + "\n"


def _selection_line(analysis: Analysis) -> str:
    assert analysis.selection is not None
    what = code(analysis.selection.describe())
    line = text(
        analysis.lang,
        "report.selection",
        what="\ue000",
        n=len(analysis.call_records),
        total=len(analysis.all_call_records),
    )
    return "> " + prose(line).replace("\ue000", what)


def _captures(lines: list[str], analysis: Analysis) -> None:
    lang = analysis.lang
    lines += [f"## {prose(text(lang, 'report.captures'))}", ""]
    cols = ("file", "format", "packets", "sip_packets", "non_sip", "skipped", "sip_messages")
    rows = []
    for a in analysis.captures:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(a.skipped.items())) or "0"
        rows.append(
            [
                code(a.path, table=True),
                prose(a.format),
                str(a.packets),
                str(a.sip),
                str(a.non_sip),
                code(skipped, table=True) if a.skipped else "0",
                str(a.sip_messages),
            ]
        )
    lines += _table([text(lang, f"report.col.{c}") for c in cols], rows, {2, 3, 4, 6})
    for a in analysis.captures:
        for w in a.warnings[:20]:
            lines.append(f"> {prose(text(lang, 'report.warning'))}: {prose(w)}  ")
        if len(a.warnings) > 20:
            lines.append(f"> {prose(text(lang, 'report.more_warnings', n=len(a.warnings) - 20))}")
        if sum(a.sip_errors.values()):
            errs = ", ".join(f"{k}: {v}" for k, v in sorted(a.sip_errors.items()))
            lines.append(f"> {prose(text(lang, 'report.unparsed'))}: {code(errs)}")
    if lines[-1] != "":
        lines.append("")


def _gates(lines: list[str], analysis: Analysis) -> None:
    if not analysis.gates:
        return
    lines += [f"## {prose(text(analysis.lang, 'report.gates'))}", ""]
    lines += gate_items([gate_dict(g) for g in analysis.gates])
    lines.append("")


def gate_items(gates: Sequence[Mapping[str, Any]]) -> list[str]:
    """A list item per gate: the verdict in bold when tripped, the rest in a code span."""
    out = []
    for tripped, line in gate_lines(gates):
        verdict, rest = line.split("  ", 1)
        out.append(f"- {'**' + verdict + '**' if tripped else verdict}: {code(rest, 500)}")
    return out


def _summary(lines: list[str], analysis: Analysis) -> None:
    lang = analysis.lang
    lines += [f"## {prose(text(lang, 'report.summary'))}", ""]
    counts = analysis.outcome_counts()
    by_method: dict[str, Counter[str]] = defaultdict(Counter)
    for c in analysis.all_call_records:
        by_method[c.method][c.outcome] += 1
    methods = sorted(by_method)
    head = [text(lang, "report.col.outcome"), *methods, text(lang, "report.col.total")]
    rows = [
        [f"**{o}**", *(str(by_method[m][o] or "") for m in methods), str(n)]
        for o, n in counts.items()
        if n
    ]
    lines += [f"### {prose(text(lang, 'report.outcomes', n=sum(counts.values())))}", ""]
    lines += _table(head, rows, set(range(1, len(head))))
    lines += [f"### {prose(text(lang, 'report.responses'))}", ""]
    frames, notes = response_groups(analysis)
    for status in sorted(frames):
        e = analysis.annotations[status]
        shown = ", ".join(str(f) for f in frames[status][:12])
        more = " …" if len(frames[status]) > 12 else ""
        lines.append(
            f"- **{status} {prose(e.reason)}** ×{len(frames[status])} · {prose(e.klass)} · "
            f"{prose(', '.join(e.rfc))} · {prose(text(lang, 'report.frames'))} {shown}{more}  "
        )
        lines.append(f"  {prose(text(lang, 'heading.meaning'))}: {prose(e.meaning)}  ")
        lines.append(f"  {prose(text(lang, 'heading.fix'))}: {prose(e.fix)}")
        for note, n in notes[status].most_common(8):
            lines.append(f"  - {prose(note)}" + (f" ×{n}" if n > 1 else ""))
    lines.append("")


def _findings(lines: list[str], analysis: Analysis) -> None:
    lang = analysis.lang
    found = analysis.finding_records
    if not found:
        lines += [f"## {prose(text(lang, 'report.findings_none'))}", ""]
        return
    lines += [f"## {prose(text(lang, 'report.findings', n=len(found)))}", ""]
    for severity in ("error", "warning", "info"):
        group = [f for f in found if f.severity == severity]
        if not group:
            continue
        label = text(lang, f"severity.{severity}")
        lines += [f"### {prose(label)} ({len(group)})", ""]
        for f in group:
            rfc = f" ({prose(f.rfc)})" if f.rfc else ""
            lines.append(f"- **{code(f.id)}** {prose(f.title)}{rfc}  ")
            lines.append(f"  {prose(f.detail)}  ")
            lines.append(f"  **{prose(text(lang, 'report.fix'))}:** {prose(f.fix)}  ")
            lines.append(f"  {prose(text(lang, 'report.evidence'))}: {code(f.display_filter)}")
        lines.append("")


def _metrics(lines: list[str], analysis: Analysis) -> None:
    rows = metric_rows(analysis)
    if not rows:
        return
    lang = analysis.lang
    lines += [f"## {prose(text(lang, 'report.metrics'))}", ""]
    head = [text(lang, f"report.col.{c}") for c in ("metric", "value", "basis")]
    lines += _table(head, [[prose(a), prose(b), prose(c)] for a, b, c in rows], {1})


def _calls(lines: list[str], analysis: Analysis) -> None:
    calls = analysis.call_records
    if not calls:
        return
    lang = analysis.lang
    day = timestamp(calls[0].start)[:10]
    lines += [f"## {prose(text(lang, 'report.calls', day=day))}", ""]
    cols = ("time", "method", "from_to", "outcome", "final", "setup", "duration", "hangup")
    head = [*(text(lang, f"report.col.{c}") for c in cols), text(lang, "report.col.frames")]
    head.append("Call-ID")
    rows = []
    for c in calls[:MAX_CALL_ROWS]:
        final = f"{c.final_status} {c.final_reason or ''}".strip() if c.final_status else "-"
        rows.append(
            [
                timestamp(c.start)[11:],
                code(c.method, table=True),
                code(f"{short_uri(c.from_)} → {short_uri(c.to)}", 120, table=True),
                f"**{c.outcome}**" if c.outcome != "answered" else c.outcome,
                code(final, 60, table=True),
                ms(c.setup.seconds) if c.setup else "",
                f"{c.end - c.start:.3f} s",
                prose(text(lang, f"report.hangup.{c.hangup}")) if c.hangup else "",
                f"{c.frames[0]}–{c.frames[-1]}" if c.frames else "",
                code(c.call_id, 120, table=True),
            ]
        )
    lines += _table(head, rows, {5, 6})
    if len(calls) > MAX_CALL_ROWS:
        lines += [prose(text(lang, "report.more_calls", n=len(calls) - MAX_CALL_ROWS)), ""]


def _registrations(lines: list[str], analysis: Analysis) -> None:
    regs = analysis.registration_records
    if not regs:
        return
    lang = analysis.lang
    lines += [f"## {prose(text(lang, 'report.registrations', n=len(regs)))}", ""]
    cols = ("aor", "contact", "outcome", "final", "expires", "refreshes")
    rows = [
        [
            code(short_uri(r.aor), 100, table=True),
            code(r.contact or "-", 100, table=True),
            r.outcome if r.outcome in ("registered", "deregistered") else f"**{r.outcome}**",
            str(r.final_status or "-"),
            "-" if r.expires_granted is None else str(r.expires_granted),
            str(r.refreshes),
        ]
        for r in regs[:MAX_CALL_ROWS]
    ]
    lines += _table([text(lang, f"report.col.{c}") for c in cols], rows, {4, 5})


def _ladders(lines: list[str], analysis: Analysis, options: RenderOptions) -> None:
    calls = ladder_calls(analysis, options.ladder)
    if not calls:
        return
    lang = analysis.lang
    which = text(lang, f"report.ladders_{options.ladder}")
    lines += [f"## {prose(text(lang, 'report.ladders'))}", ""]
    lines += [prose(text(lang, "report.ladders_scope", which=which, n=len(calls))), ""]
    for call in calls[:MAX_LADDERS]:
        lad = ladder(analysis, call)
        final = (
            f" {call.final_status} {call.final_reason or ''}".rstrip() if call.final_status else ""
        )
        lines += [f"### {code(call.call_id, 120)}: {call.outcome}{prose(final)}", ""]
        lines += [f"{prose(text(lang, 'report.ladder_filter'))}: {code(call_filter(call))}", ""]
        lines += ["```mermaid", *mermaid(lad), "```", ""]
        body = plain(lad)
        fence = "`" * max(3, max((len(m) for m in _BACKTICKS.findall(body)), default=0) + 1)
        lines += [f"{fence}text", body.rstrip("\n"), fence, ""]
    if len(calls) > MAX_LADDERS:
        lines += [prose(text(lang, "report.more_ladders", n=len(calls) - MAX_LADDERS)), ""]


def _mermaid_text(value: str, limit: int = 60, unsafe: re.Pattern[str] | None = None) -> str:
    s = (unsafe or _MERMAID_UNSAFE).sub(" ", _WS.sub(" ", value))
    s = re.sub(r" {2,}", " ", s).strip()
    return s[:limit] or "?"


def mermaid(lad: Ladder) -> list[str]:
    """The ladder as Mermaid `sequenceDiagram` lines (text reduced to a safe alphabet)."""
    out = ["sequenceDiagram"]
    for i, p in enumerate(lad.participants):
        out.append(f"    participant P{i} as {_mermaid_text(p, 60, _MERMAID_ENDPOINT_UNSAFE)}")
    for a in lad.arrows:
        arrow = "->>" if a.status is None else "-->>"
        if a.retransmission:
            arrow = "-)"
        label = _mermaid_text(arrow_text(a))
        out.append(f"    P{a.src}{arrow}P{a.dst}: {label} (frame {a.frame}, +{a.offset:.3f} s)")
    if lad.omitted:
        out.append(f"    Note over P0: {lad.omitted} more messages not drawn")
    return out
