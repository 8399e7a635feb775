"""Terminal report (rich): capture facts, outcomes, responses explained, findings, calls.

Capture strings go into `rich.text.Text` objects (never markup) after
`inert()`, so a header cannot inject markup or escape sequences.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analysis import Analysis
from ..batch.gates import gate_dict
from ..catalogue import text
from ..classify import reason_notes, warning_notes
from ..correlate import Delay, Ratio
from ..sip import SipMessage, address_uri
from .interface import RenderOptions
from .text import gate_lines, inert

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


def timestamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def console_for(options: RenderOptions) -> tuple[Console, io.StringIO]:
    """A rich console writing into a string buffer: ANSI colour only if `options.color`,
    and no markup, emoji or highlighting (capture strings must stay inert)."""
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
    return console, buf


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the terminal report to a string (ANSI colour only if `options.color`)."""
    console, buf = console_for(options)
    _captures(console, analysis)
    if analysis.selection is not None:
        line = text(
            analysis.lang,
            "report.selection",
            what=inert(analysis.selection.describe(), 200),
            n=len(analysis.call_records),
            total=len(analysis.all_call_records),
        )
        console.print(Text(line, style="bold"))
        console.print()
    _gates(console, analysis)
    _outcomes(console, analysis)
    _metrics(console, analysis)
    _responses(console, analysis)
    _findings(console, analysis)
    _calls(console, analysis)
    _registrations(console, analysis)
    _subscriptions(console, analysis)
    return buf.getvalue()


def _captures(console: Console, analysis: Analysis) -> None:
    lang = analysis.lang
    table = Table(title=text(lang, "report.captures"), box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("file", "format", "packets", "sip_packets", "non_sip", "skipped", "sip_messages"):
        table.add_column(
            text(lang, f"report.col.{col}"),
            justify="left" if col in ("file", "format", "skipped") else "right",
        )
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
            console.print(Text(f"{text(lang, 'report.warning')}: {inert(w)}", style="yellow"))
        if len(a.warnings) > 20:
            more = text(lang, "report.more_warnings", n=len(a.warnings) - 20)
            console.print(Text(more, style="yellow"))
        if sum(a.sip_errors.values()):
            errs = ", ".join(f"{k}: {v}" for k, v in sorted(a.sip_errors.items()))
            unparsed = text(lang, "report.unparsed")
            console.print(Text(f"{unparsed}: {inert(errs)}", style="yellow"))


def _gates(console: Console, analysis: Analysis) -> None:
    if not analysis.gates:
        return
    console.print(Text(text(analysis.lang, "report.gates"), style="bold"))
    for tripped, line in gate_lines([gate_dict(g) for g in analysis.gates]):
        console.print(Text(f"  {line}", style="bold red" if tripped else "green"))
    console.print()


def _outcomes(console: Console, analysis: Analysis) -> None:
    counts = analysis.outcome_counts()
    by_method: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in analysis.all_call_records:
        by_method[c.method][c.outcome] += 1
    lang = analysis.lang
    table = Table(
        title=text(lang, "report.outcomes", n=len(analysis.all_call_records)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column(text(lang, "report.col.outcome"))
    methods = sorted(by_method)
    for m in methods:
        table.add_column(Text(inert(m)), justify="right")
    table.add_column(text(lang, "report.col.total"), justify="right")
    for outcome, n in counts.items():
        if not n:
            continue
        cells = [str(by_method[m].get(outcome, 0) or "") for m in methods]
        table.add_row(Text(outcome, style=_OUTCOME_STYLE.get(outcome, "red")), *cells, str(n))
    console.print(table)


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def metric_rows(analysis: Analysis) -> list[tuple[str, str, str]]:
    """RFC 6076 metrics as (name, value, basis) rows in the analysis language: ratios
    with their counts, delays with their spread; metrics without data are left out."""
    m = analysis.metrics
    lang = analysis.lang
    rows = []
    ratios: list[tuple[str, Ratio]] = [
        ("ser", m.ser),
        ("seer", m.seer),
        ("isa", m.isa),
        ("scr", m.scr),
        ("ira", m.ira),
    ]
    for key, ratio in ratios:
        if ratio.value is not None:
            rows.append(
                (
                    text(lang, f"report.metric.{key}"),
                    f"{ratio.value:.1f} %",
                    f"{ratio.numerator} / {ratio.denominator}",
                )
            )
    delays: list[tuple[str, Delay]] = [
        ("setup", m.setup),
        ("ring", m.ring),
        ("srd", m.srd),
        ("srd_failed", m.srd_failed),
        ("sdd", m.sdd),
        ("sdt", m.sdt),
        ("rrd", m.rrd),
    ]
    for key, delay in delays:
        if delay.count:
            basis = text(
                lang,
                "report.samples",
                n=delay.count,
                p50=ms(delay.percentile(50)),
                p95=ms(delay.percentile(95)),
                max=ms(delay.maximum),
            )
            rows.append((text(lang, f"report.metric.{key}"), ms(delay.mean), basis))
    if m.sdd_failed:
        rows.append((text(lang, "report.metric.sdd_failed"), str(m.sdd_failed), ""))
    return rows


def _metrics(console: Console, analysis: Analysis) -> None:
    lang = analysis.lang
    table = Table(title=text(lang, "report.metrics"), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(text(lang, "report.col.metric"))
    table.add_column(text(lang, "report.col.value"), justify="right")
    table.add_column(text(lang, "report.col.basis"))
    for row in metric_rows(analysis):
        table.add_row(*row)
    if table.row_count:
        console.print(table)


def response_groups(analysis: Analysis) -> tuple[dict[int, list[int]], dict[int, Counter[str]]]:
    """Per status with a catalogue entry, over the whole capture (a summary, whatever the
    selection): its frames, and its distinct Reason / Warning lines with how often each
    was seen."""
    frames: dict[int, list[int]] = defaultdict(list)
    notes: dict[int, Counter[str]] = defaultdict(Counter)
    for msg in analysis.store.responses():
        if msg.status is not None and msg.status in analysis.annotations:
            frames[msg.status].append(msg.frame)
            if msg.has_reason or msg.has_warning:
                notes[msg.status].update(note_lines(msg.sip, analysis.lang))
    return dict(sorted(frames.items())), notes


def _responses(console: Console, analysis: Analysis) -> None:
    lang = analysis.lang
    groups, notes = response_groups(analysis)
    console.print(Text(text(lang, "report.responses"), style="bold"))
    for status in groups:
        e = analysis.annotations[status]
        frames = groups[status]
        shown = ", ".join(str(f) for f in frames[:12]) + (" ..." if len(frames) > 12 else "")
        head = Text(f"{status} {e.reason}", style=_SEVERITY_STYLE.get(e.severity, ""))
        head.append(f"  ×{len(frames)}  {e.klass}  {', '.join(e.rfc)}", style="dim")
        console.print(head)
        console.print(Text(f"    {text(lang, 'report.frames')}: {shown}", style="dim"))
        for field in ("meaning", "when", "fix"):
            console.print(Text(f"    {text(lang, f'heading.{field}')}: {getattr(e, field)}"))
        for line, n in notes[status].most_common(8):
            console.print(Text(f"    {line}" + (f"  ×{n}" if n > 1 else ""), style="cyan"))
    console.print()


def note_lines(sip: SipMessage, lang: str) -> list[str]:
    """One line per Reason / Warning header: as written, then what it means."""
    lines = []
    for r in reason_notes(sip, lang):
        said = f"{r.protocol};cause={r.cause}" + (f' "{r.text}"' if r.text else "")
        known = f" = {r.name}: {r.meaning}" if r.meaning else ""
        mapped = f" → SIP {r.sip_status}" if r.sip_status else ""
        lines.append(f"{text(lang, 'report.reason_header')}: {inert(said, 120)}{known}{mapped}")
    for w in warning_notes(sip, lang):
        said = f'{w.code} {w.agent} "{w.text}"'
        known = f" = {w.registered_text}: {w.meaning}" if w.meaning else ""
        lines.append(f"{text(lang, 'report.warning_header')}: {inert(said, 120)}{known}")
    return lines


def _findings(console: Console, analysis: Analysis) -> None:
    lang = analysis.lang
    if not analysis.finding_records:
        console.print(Text(text(lang, "report.findings_none"), style="bold"))
        return
    console.print(
        Text(text(lang, "report.findings", n=len(analysis.finding_records)), style="bold")
    )
    # Grouped by severity, errors first (the classifier already sorted them so).
    for severity in ("error", "warning", "info"):
        group = [f for f in analysis.finding_records if f.severity == severity]
        if not group:
            continue
        label = text(lang, f"severity.{severity}")
        console.print(Text(f"{label} ({len(group)})", style=_SEVERITY_STYLE[severity]))
        for f in group:
            line = Text(f"[{label}] ", style=_SEVERITY_STYLE[severity])
            line.append(f"{f.id}: ", style="bold")
            line.append(inert(f.title))
            console.print(line)
            console.print(Text(f"    {inert(f.detail)}"))
            console.print(Text(f"    {text(lang, 'report.fix')}: {inert(f.fix)}", style="green"))
            evidence = text(lang, "report.evidence")
            rfc = f"  ({f.rfc})" if f.rfc else ""
            console.print(Text(f"    {evidence}: {f.display_filter}{rfc}", style="dim"))
    console.print()


def short_uri(value: str | None) -> str:
    return address_uri(value).removeprefix("sip:").removeprefix("sips:") if value else "?"


def _calls(console: Console, analysis: Analysis) -> None:
    day = timestamp(analysis.call_records[0].start)[:10] if analysis.call_records else ""
    lang = analysis.lang
    table = Table(
        title=text(lang, "report.calls", day=day), box=box.SIMPLE_HEAD, title_justify="left"
    )
    table.add_column(text(lang, "report.col.time"), no_wrap=True, min_width=12)
    table.add_column(text(lang, "report.col.method"), no_wrap=True)
    table.add_column(text(lang, "report.col.from_to"), overflow="fold", min_width=16)
    table.add_column(text(lang, "report.col.outcome"), no_wrap=True)
    table.add_column(text(lang, "report.col.final"), overflow="fold", min_width=10)
    table.add_column(
        f"{text(lang, 'report.col.setup')} / {text(lang, 'report.col.talk')}",
        justify="right",
        overflow="fold",
    )
    table.add_column(text(lang, "report.col.hangup"), no_wrap=True)
    table.add_column(text(lang, "report.col.frames"), no_wrap=True)
    table.add_column("Call-ID", overflow="ellipsis", no_wrap=True, min_width=10, max_width=24)
    for c in analysis.call_records[:MAX_CALL_ROWS]:
        final = f"{c.final_status} {c.final_reason}" if c.final_status else "-"
        table.add_row(
            timestamp(c.start)[11:],
            Text(inert(c.method)),
            Text(inert(f"{short_uri(c.from_)} → {short_uri(c.to)}", 80)),
            Text(c.outcome, style=_OUTCOME_STYLE.get(c.outcome, "red")),
            Text(inert(final, 40)),
            " / ".join(
                x
                for x in (
                    ms(c.setup.seconds) if c.setup else "",
                    f"{c.sdt.seconds:.1f} s" if c.sdt else "",
                )
                if x
            ),
            text(lang, f"report.hangup.{c.hangup}") if c.hangup else "",
            f"{c.frames[0]}-{c.frames[-1]}" if c.frames else "",
            Text(inert(c.call_id)),
        )
    console.print(table)
    if len(analysis.call_records) > MAX_CALL_ROWS:
        more = text(lang, "report.more_calls", n=len(analysis.call_records) - MAX_CALL_ROWS)
        console.print(Text(more))


def _registrations(console: Console, analysis: Analysis) -> None:
    regs = analysis.registration_records
    if not regs:
        return
    lang = analysis.lang
    table = Table(
        title=text(lang, "report.registrations", n=len(regs)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column(text(lang, "report.col.aor"), overflow="fold", min_width=16)
    table.add_column(text(lang, "report.col.contact"), overflow="fold", min_width=16)
    table.add_column(text(lang, "report.col.outcome"), no_wrap=True)
    table.add_column(text(lang, "report.col.final"), no_wrap=True)
    table.add_column(text(lang, "report.col.expires"), justify="right")
    table.add_column(text(lang, "report.col.refreshes"), justify="right")
    table.add_column("RRD", justify="right", no_wrap=True)
    for r in regs[:MAX_CALL_ROWS]:
        good = r.outcome in ("registered", "deregistered")
        table.add_row(
            Text(inert(short_uri(r.aor), 60)),
            Text(inert(r.contact or "-", 60)),
            Text(r.outcome, style="green" if good else "red"),
            str(r.final_status or "-"),
            "-" if r.expires_granted is None else str(r.expires_granted),
            str(r.refreshes),
            ms(r.rrd[0].seconds) if r.rrd else "",
        )
    console.print(table)


def _subscriptions(console: Console, analysis: Analysis) -> None:
    subs = analysis.subscription_records
    if not subs:
        return
    lang = analysis.lang
    table = Table(
        title=text(lang, "report.subscriptions", n=len(subs)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column(text(lang, "report.col.event"), no_wrap=True)
    table.add_column(text(lang, "report.col.from_to"), overflow="fold", min_width=24)
    table.add_column(text(lang, "report.col.outcome"), no_wrap=True)
    table.add_column(text(lang, "report.col.final"), no_wrap=True)
    table.add_column("NOTIFY", justify="right")
    table.add_column(text(lang, "report.col.state"), no_wrap=True)
    for x in subs[:MAX_CALL_ROWS]:
        good = x.outcome in ("active", "pending", "terminated")
        table.add_row(
            Text(inert(x.event or "-", 30)),
            Text(inert(f"{short_uri(x.subscriber)} → {short_uri(x.resource)}", 80)),
            Text(x.outcome, style="green" if good else "red"),
            str(x.final_status or "-"),
            str(x.notifies),
            Text(inert(x.state or "-", 20)),
        )
    console.print(table)
