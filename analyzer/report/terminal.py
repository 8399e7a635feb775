"""Terminal report (rich): capture facts, outcomes, responses explained, findings, calls.

Capture strings go into `rich.text.Text` objects (never markup) after
`inert()`, so a header cannot inject markup or escape sequences.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analysis import Analysis
from ..catalogue import Entry
from ..sip import address_uri
from .interface import RenderOptions
from .text import inert

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_OUTCOME_STYLE = {
    "answered": "green",
    "busy": "yellow",
    "no_answer": "yellow",
    "cancelled": "yellow",
    "redirected": "cyan",
    "incomplete": "dim",
}
MAX_CALL_ROWS = 500


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the terminal report to a string (ANSI colour only if `options.color`)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=options.width,
        force_terminal=options.color,
        color_system="standard" if options.color else None,
        no_color=not options.color,
        highlight=False,
        emoji=False,
        markup=False,
    )
    _captures(console, analysis)
    _outcomes(console, analysis)
    _responses(console, analysis)
    _findings(console, analysis)
    _calls(console, analysis)
    return buf.getvalue()


def _captures(console: Console, analysis: Analysis) -> None:
    table = Table(title="Captures", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("file", "format", "packets", "SIP pkts", "non-SIP", "skipped", "SIP msgs"):
        table.add_column(col, justify="left" if col in ("file", "format", "skipped") else "right")
    for a in analysis.captures:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(a.skipped.items())) or "0"
        table.add_row(
            Text(inert(a.path)),
            a.format,
            str(a.packets),
            str(a.sip),
            str(a.non_sip),
            Text(inert(skipped)),
            str(a.sip_messages),
        )
    console.print(table)
    for a in analysis.captures:
        for w in a.warnings[:20]:
            console.print(Text(f"warning: {inert(w)}", style="yellow"))
        if len(a.warnings) > 20:
            console.print(Text(f"... and {len(a.warnings) - 20} more warnings", style="yellow"))
        if sum(a.sip_errors.values()):
            errs = ", ".join(f"{k}: {v}" for k, v in sorted(a.sip_errors.items()))
            console.print(Text(f"unparsed SIP messages: {inert(errs)}", style="yellow"))


def _outcomes(console: Console, analysis: Analysis) -> None:
    counts = analysis.outcome_counts()
    by_method: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in analysis.calls:
        by_method[c.method][c.outcome] += 1
    table = Table(
        title=f"Outcomes ({len(analysis.calls)} Call-IDs)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("outcome")
    methods = sorted(by_method)
    for m in methods:
        table.add_column(Text(inert(m)), justify="right")
    table.add_column("total", justify="right")
    for outcome, n in counts.items():
        if not n:
            continue
        cells = [str(by_method[m].get(outcome, 0) or "") for m in methods]
        table.add_row(Text(outcome, style=_OUTCOME_STYLE.get(outcome, "red")), *cells, str(n))
    console.print(table)


def _responses(console: Console, analysis: Analysis) -> None:
    groups: dict[int, list[int]] = defaultdict(list)
    entries: dict[int, Entry] = {}
    for msg in analysis.messages:
        entry = analysis.entry(msg)
        if entry is not None and msg.status is not None:
            groups[msg.status].append(msg.frame)
            entries[msg.status] = entry
    console.print(Text("Responses explained", style="bold"))
    for status in sorted(groups):
        e = entries[status]
        frames = groups[status]
        shown = ", ".join(str(f) for f in frames[:12]) + (" ..." if len(frames) > 12 else "")
        head = Text(f"{status} {e.reason}", style=_SEVERITY_STYLE.get(e.severity, ""))
        head.append(f"  ×{len(frames)}  {e.klass}  {', '.join(e.rfc)}", style="dim")
        console.print(head)
        console.print(Text(f"    frames: {shown}", style="dim"))
        console.print(Text(f"    meaning: {e.meaning}"))
        console.print(Text(f"    when:    {e.when}"))
        console.print(Text(f"    fix:     {e.fix}"))
    console.print()


def _findings(console: Console, analysis: Analysis) -> None:
    if not analysis.findings:
        console.print(Text("Findings: none", style="bold"))
        return
    console.print(Text(f"Findings ({len(analysis.findings)})", style="bold"))
    for f in analysis.findings:
        line = Text(f"[{f.severity}] ", style=_SEVERITY_STYLE[f.severity])
        line.append(f"{f.id}: ", style="bold")
        line.append(inert(f.title))
        console.print(line)
        console.print(Text(f"    {inert(f.detail)}"))
        console.print(Text(f"    fix: {inert(f.fix)}", style="green"))
        console.print(Text(f"    evidence: {f.display_filter}", style="dim"))
    console.print()


def _uri(value: str | None) -> str:
    return address_uri(value).removeprefix("sip:").removeprefix("sips:") if value else "?"


def _calls(console: Console, analysis: Analysis) -> None:
    day = _ts(analysis.calls[0].start)[:10] if analysis.calls else ""
    table = Table(title=f"Calls ({day} UTC)", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("time")
    table.add_column("method")
    table.add_column("from → to", overflow="fold", min_width=24)
    table.add_column("outcome", no_wrap=True)
    table.add_column("final", overflow="fold", min_width=14)
    table.add_column("frames", no_wrap=True)
    table.add_column("Call-ID", overflow="ellipsis", no_wrap=True, min_width=18, max_width=24)
    for c in analysis.calls[:MAX_CALL_ROWS]:
        final = f"{c.final_status} {c.final_reason}" if c.final_status else "-"
        table.add_row(
            _ts(c.start)[11:],
            Text(inert(c.method)),
            Text(inert(f"{_uri(c.from_)} → {_uri(c.to)}", 80)),
            Text(c.outcome, style=_OUTCOME_STYLE.get(c.outcome, "red")),
            Text(inert(final, 40)),
            f"{c.frames[0]}-{c.frames[-1]}" if c.frames else "",
            Text(inert(c.call_id)),
        )
    console.print(table)
    if len(analysis.calls) > MAX_CALL_ROWS:
        console.print(
            Text(f"... {len(analysis.calls) - MAX_CALL_ROWS} more calls in --format json")
        )
