"""Self-contained HTML report: one file, no external assets, safe to open on any capture.

The page is made of escaped text only: every string from a capture (Call-IDs,
URIs, reason phrases, finding texts that quote them, file paths, warnings)
goes through `inert()` and `html.escape(..., quote=True)`, attribute values
included. Ladder diagrams are drawn here as inline SVG; the one inline script
only sorts, filters and moves elements that are already in the page, so it
never writes capture text. A Content-Security-Policy forbids all network
access and lets only that script run (by its SHA-256), so even markup that
slipped through could load nothing and run nothing. The output depends on the
analysis alone: no generation time, no randomness.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from .. import __version__
from ..analysis import Analysis
from ..batch.gates import gate_dict
from ..catalogue import text
from ..correlate import Call
from ..select import error_call_ids, is_failed
from .interface import RenderOptions
from .ladder import Ladder, call_filter, ladder, ladder_calls
from .terminal import metric_rows, ms, response_groups, short_uri, timestamp
from .text import gate_lines, inert

MAX_CALL_ROWS = 2000
"""Rows of the call table; more calls are counted and left to `--format json`."""
MAX_LADDERS = 500
"""Ladder diagrams per report: each is drawn in full, so they bound the file size."""
MAX_WARNINGS = 20
"""Capture warnings listed per capture."""
MAX_FRAMES_LISTED = 24
"""Evidence frames listed per response status or finding (the display filter has all)."""

_SEVERITIES = ("error", "warning", "info")
_GOOD_OUTCOMES = frozenset({"answered", "registered", "deregistered", "active", "terminated"})
_MILD_OUTCOMES = frozenset({"busy", "no_answer", "cancelled", "pending"})
_NEUTRAL_OUTCOMES = frozenset({"redirected", "incomplete"})


# -- escaping -----------------------------------------------------------------


def escape(value: object, limit: int | None = None) -> str:
    """Any value as HTML text or attribute value: control characters and bidi
    overrides made visible (`inert`), optionally shortened to `limit` characters,
    then `&`, `<`, `>`, `"` and `'` escaped. Safe for untrusted capture strings."""
    return html.escape(inert(str(value), limit), quote=True)


_e = escape  # the short name this module uses throughout


_SLOTS = re.compile("[\ue000-\ue0ff]")
"""Private-use characters standing for <code> values in a sentence until it is escaped."""

_CODE_SPAN = re.compile(r"`([^`]+)`")


def _prose(value: str) -> str:
    """A text with its `code spans` set as <code>. The text is escaped first, so a
    backtick from a capture can at most make a harmless <code> element."""
    return _CODE_SPAN.sub(r"<code>\1</code>", _e(value))


def _t(lang: str, key: str, code: dict[str, str] | None = None, **values: object) -> str:
    """A UI string, filled in and escaped (values may come from the capture); the
    `code` values (options, Call-IDs) are set in <code>."""
    if not code:
        return _e(text(lang, key, **values))
    slots = {name: chr(0xE000 + i) for i, name in enumerate(code)}
    spans = {slot: f"<code>{_e(code[name], 300)}</code>" for name, slot in slots.items()}
    sentence = _e(text(lang, key, **values, **slots))
    return _SLOTS.sub(lambda m: spans.get(m.group(), m.group()), sentence)


# -- formatting ---------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    """A duration as the terminal shows it; empty when unknown."""
    return "" if seconds is None else ms(seconds)


def _num(value: float | None) -> str:
    """A sort key for the script: fixed notation, empty when unknown."""
    return "" if value is None else f"{value:.6f}"


def _outcome_class(outcome: str) -> str:
    if outcome in _GOOD_OUTCOMES:
        return "good"
    if outcome in _MILD_OUTCOMES:
        return "mild"
    if outcome in _NEUTRAL_OUTCOMES:
        return "neutral"
    return "bad"


def badge(outcome: str) -> str:
    """A call or registration outcome as a coloured pill (`good`, `mild`, `neutral` or
    `bad`, styled by `BASE_STYLE`)."""
    return f'<span class="badge {_outcome_class(outcome)}">{_e(outcome)}</span>'


_badge = badge


def _frames(frames: Iterable[int]) -> str:
    listed = sorted(set(frames))
    shown = ", ".join(str(f) for f in listed[:MAX_FRAMES_LISTED])
    return shown + (f", … (+{more})" if (more := len(listed) - MAX_FRAMES_LISTED) > 0 else "")


# -- the document ---------------------------------------------------------------


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the report as one HTML document (UTF-8 text, ends with a newline)."""
    return "".join(_document(analysis, options))


def _document(analysis: Analysis, options: RenderOptions) -> Iterator[str]:
    lang = analysis.lang
    names = ", ".join(a.path.rsplit("/", 1)[-1] for a in analysis.captures)
    yield (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{_t(lang, 'report.title')}: {_e(names, 200)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
    )
    yield _header(analysis)
    yield "<main>\n"
    yield _captures(analysis)
    yield _gates(analysis)
    yield _summary(analysis)
    yield _findings(analysis)
    yield _metrics(analysis)
    yield from _calls(analysis, options)
    yield _registrations(analysis)
    yield _subscriptions(analysis)
    yield "</main>\n"
    tool = f"sip-analyzer {__version__}"
    yield f"<footer>{_t(lang, 'report.generated', tool=tool)}</footer>\n"
    yield _MARKERS
    yield f"<script>{SCRIPT}</script>\n</body>\n</html>\n"


def _header(analysis: Analysis) -> str:
    lang = analysis.lang
    firsts = [a.first_time for a in analysis.captures if a.first_time is not None]
    lasts = [a.last_time for a in analysis.captures if a.last_time is not None]
    span = f"{timestamp(min(firsts))} – {timestamp(max(lasts))} UTC" if firsts and lasts else ""
    files = " · ".join(f"<code>{_e(a.path, 200)}</code>" for a in analysis.captures)
    nav = [
        ("captures", text(lang, "report.captures")),
        ("summary", text(lang, "report.summary")),
        ("findings", text(lang, "report.findings", n=len(analysis.finding_records))),
        ("metrics", text(lang, "report.metrics")),
        ("calls", _calls_title(analysis)),
    ]
    if analysis.registration_records:
        n = len(analysis.registration_records)
        nav.append(("registrations", text(lang, "report.registrations", n=n)))
    if analysis.subscription_records:
        n = len(analysis.subscription_records)
        nav.append(("subscriptions", text(lang, "report.subscriptions", n=n)))
    links = "".join(f'<a href="#{key}">{_e(label)}</a>' for key, label in nav)
    selection = ""
    if analysis.selection is not None:
        # The option text is set in <code> inside the translated sentence.
        line = _t(
            lang,
            "report.selection",
            {"what": analysis.selection.describe()},
            n=len(analysis.call_records),
            total=len(analysis.all_call_records),
        )
        selection = f'<p class="selection">{line}</p>\n'
    return (
        f'<header class="top">\n<h1>{_t(lang, "report.title")}</h1>\n'
        f'<p class="meta">{files}{" · " + _e(span) if span else ""}</p>\n{selection}'
        f"<nav>{links}</nav>\n"
        f'<noscript><p class="note">{_t(lang, "report.html.noscript")}</p></noscript>\n'
        "</header>\n"
    )


def _table(head: Iterable[tuple[str, str]], rows: Iterable[str], cls: str = "") -> str:
    """A table; `head` is (label, class) per column, `rows` are ready `<tr>` strings."""
    ths = "".join(
        f'<th class="{c}">{_e(label)}</th>' if c else f"<th>{_e(label)}</th>" for label, c in head
    )
    klass = f' class="{cls}"' if cls else ""
    body = "".join(rows)
    return f"<table{klass}>\n<thead><tr>{ths}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _captures(analysis: Analysis) -> str:
    lang = analysis.lang
    cols = ("file", "format", "packets", "sip_packets", "non_sip", "skipped", "sip_messages")
    head = [
        (text(lang, f"report.col.{c}"), "" if c in ("file", "format", "skipped") else "num")
        for c in cols
    ]
    rows = []
    notes = []
    for a in analysis.captures:
        skipped = "".join(f"<li>{_e(k)}: {v}</li>" for k, v in sorted(a.skipped.items()))
        rows.append(
            f"<tr><td><code>{_e(a.path, 200)}</code></td><td>{_e(a.format)}</td>"
            f'<td class="num">{a.packets}</td><td class="num">{a.sip}</td>'
            f'<td class="num">{a.non_sip}</td>'
            f"<td>{f'<ul class=plain>{skipped}</ul>' if skipped else '0'}</td>"
            f'<td class="num">{a.sip_messages}</td></tr>\n'
        )
        label = text(lang, "report.warning")
        notes += [f"<li>{_e(label)}: {_e(w, 500)}</li>" for w in a.warnings[:MAX_WARNINGS]]
        more = len(a.warnings) + a.warnings_suppressed - MAX_WARNINGS
        if more > 0:
            notes.append(f"<li>{_t(lang, 'report.more_warnings', n=more)}</li>")
        if sum(a.sip_errors.values()):
            errs = ", ".join(f"{k}: {v}" for k, v in sorted(a.sip_errors.items()))
            notes.append(f"<li>{_t(lang, 'report.unparsed')}: {_e(errs)}</li>")
    warnings = f'<ul class="warnings">{"".join(notes)}</ul>\n' if notes else ""
    return (
        f'<section id="captures">\n<h2>{_t(lang, "report.captures")}</h2>\n'
        f"{_table(head, rows, 'captures')}{warnings}</section>\n"
    )


def _gates(analysis: Analysis) -> str:
    """`--fail-on` gates, when given: a badge per gate, tripped ones first in colour."""
    if not analysis.gates:
        return ""
    items = []
    for tripped, line in gate_lines([gate_dict(g) for g in analysis.gates]):
        verdict, rest = line.split("  ", 1)
        cls = "bad" if tripped else "good"
        items.append(
            f'<li><span class="badge {cls}">{_e(verdict)}</span> <code>{_e(rest)}</code></li>'
        )
    return (
        f'<section id="gates">\n<h2>{_t(analysis.lang, "report.gates")}</h2>\n'
        f'<ul class="plain">{"".join(items)}</ul>\n</section>\n'
    )


# -- summary ------------------------------------------------------------------------


def _summary(analysis: Analysis) -> str:
    """Summary tiles, outcomes and responses: these cover the whole capture, whatever
    the selection (the findings tiles count the findings this report lists)."""
    lang = analysis.lang
    by_sev = Counter(f.severity for f in analysis.finding_records)
    tiles = [
        ("calls", len(analysis.all_call_records), text(lang, "report.html.stat.calls"), ""),
        ("messages", len(analysis.store), text(lang, "report.html.stat.messages"), ""),
    ] + [(s, by_sev.get(s, 0), text(lang, f"severity.{s}"), f" sev-{s}") for s in _SEVERITIES]
    stats = "".join(
        f'<div class="stat{cls}" data-stat="{key}"><b>{n}</b><span>{_e(label)}</span></div>'
        for key, n, label, cls in tiles
    )
    return (
        f'<section id="summary">\n<h2>{_t(lang, "report.summary")}</h2>\n'
        f'<div class="stats">{stats}</div>\n{_outcomes(analysis)}{_responses(analysis)}'
        "</section>\n"
    )


def _outcomes(analysis: Analysis) -> str:
    lang = analysis.lang
    counts = analysis.outcome_counts()
    by_method: dict[str, Counter[str]] = defaultdict(Counter)
    for c in analysis.all_call_records:
        by_method[c.method][c.outcome] += 1
    methods = sorted(by_method)
    head = [
        (text(lang, "report.col.outcome"), ""),
        *((m, "num") for m in methods),
        (text(lang, "report.col.total"), "num"),
    ]
    rows = [
        f'<tr data-outcome="{_e(outcome)}"><td>{_badge(outcome)}</td>'
        + "".join(f'<td class="num">{by_method[m][outcome] or ""}</td>' for m in methods)
        + f'<td class="num total">{n}</td></tr>\n'
        for outcome, n in counts.items()
        if n
    ]
    title = _t(lang, "report.outcomes", n=sum(counts.values()))
    return f"<h3>{title}</h3>\n{_table(head, rows, 'outcomes')}"


def _responses(analysis: Analysis) -> str:
    """Each response status seen, with its count, frames and catalogue entry, and the
    Reason / Warning headers that came with it."""
    lang = analysis.lang
    frames, notes = response_groups(analysis)
    if not frames:
        return ""
    head = [
        (text(lang, "report.col.code"), ""),
        (text(lang, "report.col.class"), ""),
        (text(lang, "report.col.count"), "num"),
        (text(lang, "heading.meaning"), ""),
        (text(lang, "heading.rfc"), ""),
    ]
    when, fix = _t(lang, "heading.when"), _t(lang, "heading.fix")
    more = f"{when} · {fix}"
    rows = []
    for status in sorted(frames):
        e = analysis.annotations[status]
        said = "".join(
            f"<li>{_e(line)}{f' ×{n}' if n > 1 else ''}</li>"
            for line, n in notes[status].most_common(8)
        )
        rows.append(
            f'<tr class="sev-{_e(e.severity)}" data-status="{status}">'
            f'<td class="code"><b>{status}</b> {_e(e.reason)}</td><td>{_e(e.klass)}</td>'
            f'<td class="num">{len(frames[status])}</td>'
            f"<td><p>{_prose(e.meaning)}</p>"
            + (f'<ul class="said">{said}</ul>' if said else "")
            + f"<details><summary>{more}</summary>"
            f'<p class="when"><b>{when}:</b> {_prose(e.when)}</p>'
            f'<p class="fix"><b>{fix}:</b> {_prose(e.fix)}</p></details>'
            f'<p class="frames">{_t(lang, "report.frames")}: {_frames(frames[status])}</p>'
            f"</td><td>{_e(', '.join(e.rfc))}</td></tr>\n"
        )
    return f"<h3>{_t(lang, 'report.responses')}</h3>\n{_table(head, rows, 'responses')}"


# -- findings -----------------------------------------------------------------------


def _findings(analysis: Analysis) -> str:
    lang = analysis.lang
    records = analysis.finding_records
    if not records:
        return f'<section id="findings">\n<h2>{_t(lang, "report.findings_none")}</h2>\n</section>\n'
    anchors = _call_anchors(analysis)
    out = [f'<section id="findings">\n<h2>{_t(lang, "report.findings", n=len(records))}</h2>\n']
    for severity in _SEVERITIES:
        group = [f for f in records if f.severity == severity]
        if not group:
            continue
        label = _t(lang, f"severity.{severity}")
        out.append(f'<h3 class="sev-{severity}">{label} ({len(group)})</h3>\n')
        for f in group:
            facts = []
            if f.rfc:
                facts.append((text(lang, "heading.rfc"), _e(f.rfc)))
            if f.call_id:
                anchor = anchors.get(f.call_id)
                cid = f"<code>{_e(f.call_id, 120)}</code>"
                facts.append(("Call-ID", f'<a href="#{anchor}">{cid}</a>' if anchor else cid))
            if f.frames:
                facts.append((text(lang, "report.evidence"), _e(_frames(f.frames))))
                wf = f'<code class="wf">{_e(f.display_filter)}</code>'
                facts.append((text(lang, "report.ladder_filter"), wf))
            dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in facts)
            out.append(
                f'<article class="finding sev-{severity}" data-id="{_e(f.id)}">\n'
                f'<h4><span class="badge sev-{severity}">{label}</span> {_e(f.title, 300)}'
                f' <code class="fid">{_e(f.id)}</code></h4>\n'
                f"<p>{_prose(f.detail)}</p>\n"
                f'<p class="fix"><b>{_t(lang, "report.fix")}:</b> {_prose(f.fix)}</p>\n'
                f'<dl class="facts">{dl}</dl>\n</article>\n'
            )
    out.append("</section>\n")
    return "".join(out)


def _call_anchors(analysis: Analysis) -> dict[str, str]:
    """The element id of each call shown in the call table, by Call-ID."""
    return {c.call_id: f"call-{i}" for i, c in enumerate(analysis.call_records[:MAX_CALL_ROWS])}


# -- metrics ------------------------------------------------------------------------


def _metrics(analysis: Analysis) -> str:
    """RFC 6076 metrics, the rows the terminal report shows."""
    lang = analysis.lang
    rows = [
        f'<tr><td>{_e(name)}</td><td class="num">{_e(value)}</td><td>{_e(basis)}</td></tr>\n'
        for name, value, basis in metric_rows(analysis)
    ]
    head = [
        (text(lang, "report.col.metric"), ""),
        (text(lang, "report.col.value"), "num"),
        (text(lang, "report.col.basis"), ""),
    ]
    none = f'<p class="muted">{_t(lang, "report.html.none")}</p>\n'
    body = _table(head, rows, "metrics") if rows else none
    return f'<section id="metrics">\n<h2>{_t(lang, "report.metrics")}</h2>\n{body}</section>\n'


# -- calls and their ladders ------------------------------------------------------------


def _calls_title(analysis: Analysis) -> str:
    calls = analysis.call_records
    return text(analysis.lang, "report.calls", day=timestamp(calls[0].start)[:10] if calls else "")


def _calls(analysis: Analysis, options: RenderOptions) -> Iterator[str]:
    """The sortable, filterable call table; a click on a row shows the call's panel
    (its Wireshark filter and, if the report has one, its ladder)."""
    lang = analysis.lang
    calls = analysis.call_records
    shown = calls[:MAX_CALL_ROWS]
    errors = error_call_ids(analysis.finding_records)
    # The calls `--ladder` asks for (by identity: a Call-ID may recur across captures),
    # of which the first MAX_LADDERS in the table are drawn.
    wanted = {id(c) for c in ladder_calls(analysis, options.ladder)}
    drawn = {id(c) for c in [c for c in shown if id(c) in wanted][:MAX_LADDERS]}
    yield f'<section id="calls">\n<h2>{_e(_calls_title(analysis))}</h2>\n'
    if not calls:
        yield f'<p class="muted">{_t(lang, "report.html.none")}</p>\n</section>\n'
        return
    yield f'<p class="hint">{_t(lang, "report.html.hint")}</p>\n'
    note = ""
    if options.ladder == "failed":
        note = _t(lang, "report.html.ladders.failed", {"option": "--ladder all"}, n=len(wanted))
    elif options.ladder == "none":
        flags = {"option": "--ladder none", "other": "--ladder all"}
        note = _t(lang, "report.html.ladders.none", flags)
    if len(wanted) > len(drawn) and options.ladder != "none":
        narrow = {"option": "--calls, --status, --since, --until"}
        note += " " + _t(lang, "report.html.ladders.capped", narrow, n=len(drawn))
    if note:
        yield f'<p class="note ladders">{note.strip()}</p>\n'
    yield _controls(analysis)
    yield _legend(lang)
    head = [
        # (label, sort as, align right)
        (text(lang, "report.col.time"), "num", False),
        (text(lang, "report.col.method"), "text", False),
        (text(lang, "report.col.from_to"), "text", False),
        (text(lang, "report.col.outcome"), "text", False),
        (text(lang, "report.col.final"), "num", False),
        (text(lang, "report.col.setup"), "num", True),
        (text(lang, "report.col.talk"), "num", True),
        (text(lang, "report.col.hangup"), "text", False),
        (text(lang, "report.col.frames"), "num", True),
        ("Call-ID", "text", False),
    ]
    ths = "".join(
        f'<th data-type="{kind}" aria-sort="none"{" class=num" if right else ""}>'
        f'<button type="button">{_e(label)}</button></th>'
        for label, kind, right in head
    )
    yield (
        '<div class="wrap"><table id="call-table" class="calls">\n'
        f"<thead><tr>{ths}</tr></thead>\n<tbody>\n"
    )
    for i, call in enumerate(shown):
        yield _call_row(analysis, i, call, is_failed(call, errors), id(call) in drawn)
    yield "</tbody>\n</table></div>\n"
    if len(calls) > MAX_CALL_ROWS:
        more = _t(lang, "report.more_calls", n=len(calls) - MAX_CALL_ROWS)
        yield f'<p class="note">{more}</p>\n'
    yield '<div id="call-details">\n'
    for i, call in enumerate(shown):
        why = "capped" if id(call) in wanted else options.ladder
        if id(call) in drawn:
            why = "drawn"
        yield _call_detail(analysis, i, call, why)
    yield "</div>\n</section>\n"


def _controls(analysis: Analysis) -> str:
    lang = analysis.lang
    n = len(analysis.call_records[:MAX_CALL_ROWS])
    options = [
        f'<option value="">{_t(lang, "report.html.all_outcomes")}</option>',
        f'<option value="@failed">{_t(lang, "report.html.failed_calls")}</option>',
    ] + [
        f'<option value="{_e(o)}">{_e(o)} ({c})</option>'
        for o, c in Counter(c.outcome for c in analysis.call_records[:MAX_CALL_ROWS]).most_common()
    ]
    placeholder = _t(lang, "report.html.filter")
    template = text(lang, "report.html.shown")
    return (
        '<div class="controls">'
        f'<input type="search" id="call-search" placeholder="{placeholder}" '
        f'aria-label="{placeholder}" autocomplete="off">'
        f'<select id="call-outcome" aria-label="{_t(lang, "report.col.outcome")}">'
        f"{''.join(options)}</select>"
        f'<span id="call-count" data-template="{_e(template)}" aria-live="polite">'
        f"{_t(lang, 'report.html.shown', n=n, total=n)}</span></div>\n"
    )


def _legend(lang: str) -> str:
    items = [("req", text(lang, "report.html.legend.request"))] + [
        (str(k), text(lang, f"class.{k}")) for k in range(1, 7)
    ]
    spans = "".join(f'<span class="k{k}"><i></i>{_e(label)}</span>' for k, label in items)
    retrans = _t(lang, "report.html.legend.retransmission")
    return f'<p class="legend">{spans}<span class="rt"><i></i>{retrans}</span></p>\n'


def _call_row(analysis: Analysis, i: int, c: Call, failed: bool, drawn: bool) -> str:
    lang = analysis.lang
    final = f"{c.final_status} {c.final_reason or ''}".rstrip() if c.final_status else ""
    classes = "call" + (" has-ladder" if drawn else "")
    frames = f"{c.frames[0]}–{c.frames[-1]}" if c.frames else ""
    hangup = text(lang, f"report.hangup.{c.hangup}") if c.hangup else ""
    ft = f"{short_uri(c.from_)} → {short_uri(c.to)}"
    return (
        f'<tr class="{classes}" id="row-{i}" data-detail="call-{i}" '
        f'data-outcome="{_e(c.outcome)}" data-failed="{int(failed)}" tabindex="0" '
        'aria-expanded="false">'
        f'<td class="time" data-v="{_num(c.start)}" title="{_e(timestamp(c.start))} UTC">'
        f"{_e(timestamp(c.start)[11:])}</td>"
        f"<td>{_e(c.method, 40)}</td>"
        f'<td class="ft">{_e(ft, 160)}</td>'
        f"<td>{_badge(c.outcome)}</td>"
        f'<td data-v="{c.final_status or ""}">{_e(final, 60)}</td>'
        f'<td class="num" data-v="{_num(c.setup.seconds if c.setup else None)}">'
        f"{_ms(c.setup.seconds) if c.setup else ''}</td>"
        f'<td class="num" data-v="{_num(c.sdt.seconds if c.sdt else None)}">'
        f"{_ms(c.sdt.seconds) if c.sdt else ''}</td>"
        f"<td>{_e(hangup)}</td>"
        f'<td class="num" data-v="{c.frames[0] if c.frames else ""}">{frames}</td>'
        f'<td class="cid"><a href="#call-{i}" title="{_e(c.call_id, 300)}">'
        f"{_e(c.call_id, 300)}</a></td></tr>\n"
    )


def _call_detail(analysis: Analysis, i: int, c: Call, why: str) -> str:
    """The panel a click on the call's row shows: its filter and its ladder (or why not)."""
    lang = analysis.lang
    final = f"{c.final_status} {c.final_reason or ''}".rstrip() if c.final_status else ""
    sub = " · ".join(
        _e(x, 200) for x in (c.method, f"{short_uri(c.from_)} → {short_uri(c.to)}", final) if x
    )
    if why == "drawn":
        body = _svg(ladder(analysis, c), lang)
    else:
        if why == "failed":
            note = _t(lang, "report.html.no_ladder.failed", {"option": "--ladder all"})
        elif why == "capped":
            option = {"option": f"--calls {shlex.quote(c.call_id)}"}
            note = _t(lang, "report.html.no_ladder.capped", option, n=MAX_LADDERS)
        else:
            flags = {"option": "--ladder none", "other": "--ladder all"}
            note = _t(lang, "report.html.no_ladder.none", flags)
        body = f'<p class="note no-ladder">{note}</p>'
    return (
        f'<section class="call-detail" id="call-{i}" data-row="row-{i}">\n'
        f"<h3><code>{_e(c.call_id, 300)}</code> {_badge(c.outcome)}</h3>\n"
        f'<p class="sub">{sub}</p>\n'
        f'<p class="wfl">{_t(lang, "report.ladder_filter")}: '
        f'<code class="wf">{_e(call_filter(c))}</code></p>\n'
        f"{body}\n</section>\n"
    )


# Ladder geometry, in SVG user units (px).
_LEFT = 112  # frame number and time offset
_HEAD = 46  # participant boxes
_ROW = 26
_CHAR = 7  # average width of a 12px character
_LABEL = 44  # characters of a label before it is shortened


def _svg(lad: Ladder, lang: str) -> str:
    """A ladder as inline SVG: participants as columns, one arrow per message with its
    frame number and time offset; colour by response class, retransmissions dashed."""
    n = max(len(lad.participants), 1)
    retrans = text(lang, "report.html.retransmission")
    labels = [
        inert(a.label, _LABEL) + (f" ({retrans})" if a.retransmission else "") for a in lad.arrows
    ]
    names = [inert(p, 48) for p in lad.participants]
    widest = max([len(s) for s in labels] + [0])
    col = min(max(widest * _CHAR + 40, max([len(p) for p in names] + [0]) * 7 + 24, 170), 420)
    width = _LEFT + n * col + 16
    bottom = _HEAD + len(lad.arrows) * _ROW + 10
    height = bottom + (24 if lad.omitted else 8)

    def x(c: int) -> int:
        return _LEFT + col // 2 + c * col

    aria = f"{text(lang, 'report.html.ladder')}: {lad.call_id}"
    out = [
        f'<div class="ladder"><svg class="lad" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(aria, 300)}">'
    ]
    for c, name in enumerate(names):
        out.append(
            f'<line class="life" x1="{x(c)}" y1="{_HEAD - 10}" x2="{x(c)}" y2="{bottom}"/>'
            f'<rect class="p" x="{x(c) - (col - 16) // 2}" y="6" width="{col - 16}" '
            'height="26" rx="4"/>'
            f'<text class="pt" x="{x(c)}" y="23">{html.escape(name, quote=True)}</text>'
        )
    for row, (a, label) in enumerate(zip(lad.arrows, labels, strict=True)):
        y = _HEAD + 8 + row * _ROW
        kind = "req" if a.status is None else str(min(max(a.status // 100, 1), 6))
        cls = f"a k{kind}" + (" rt" if a.retransmission else "")
        tip = f"#{a.frame} {timestamp(a.time)[11:]} UTC {a.transport} {a.label}"
        x1, x2 = x(a.src), x(a.dst)
        if x1 == x2:  # to itself: a small loop
            shape = f'<path d="M{x1} {y}h36v10h-34"/>'
            lx, text_class = x1 + 42, "lb self"
        else:
            shape = f'<line x1="{x1}" y1="{y}" x2="{x2 - 2 if x2 > x1 else x2 + 2}" y2="{y}"/>'
            lx, text_class = (x1 + x2) // 2, "lb"
        out.append(
            f'<g class="{cls}"><title>{_e(tip, 300)}</title>'
            f'<text class="fn" x="40" y="{y + 4}">{a.frame}</text>'
            f'<text class="off" x="48" y="{y + 4}">+{a.offset:.3f}</text>'
            f'{shape}<text class="{text_class}" x="{lx}" y="{y - 5}">'
            f"{html.escape(label, quote=True)}</text></g>"
        )
    if lad.omitted:
        out.append(
            f'<text class="omitted" x="{_LEFT}" y="{bottom + 16}">'
            f"{_t(lang, 'report.more_arrows', n=lad.omitted)}</text>"
        )
    out.append("</svg></div>")
    return "".join(out)


# -- registrations and subscriptions ------------------------------------------------------


def _registrations(analysis: Analysis) -> str:
    regs = analysis.registration_records
    if not regs:
        return ""
    lang = analysis.lang
    anchors = _call_anchors(analysis)
    head = [
        (text(lang, "report.col.aor"), ""),
        (text(lang, "report.col.contact"), ""),
        (text(lang, "report.col.outcome"), ""),
        (text(lang, "report.col.final"), "num"),
        (text(lang, "report.col.expires"), "num"),
        (text(lang, "report.col.refreshes"), "num"),
        ("RRD", "num"),
        ("Call-ID", ""),
    ]
    rows = [
        f"<tr><td>{_e(short_uri(r.aor), 120)}</td><td>{_e(r.contact or '', 120)}</td>"
        f"<td>{_badge(r.outcome)}</td><td class=num>{r.final_status or ''}</td>"
        f"<td class=num>{'' if r.expires_granted is None else r.expires_granted}</td>"
        f"<td class=num>{r.refreshes}</td>"
        f"<td class=num>{_ms(r.rrd[0].seconds) if r.rrd else ''}</td>"
        f"<td class=cid>{_call_link(anchors, r.call_id)}</td></tr>\n"
        for r in regs[:MAX_CALL_ROWS]
    ]
    return (
        f'<section id="registrations">\n<h2>{_t(lang, "report.registrations", n=len(regs))}</h2>\n'
        f"{_table(head, rows, 'registrations')}</section>\n"
    )


def _subscriptions(analysis: Analysis) -> str:
    subs = analysis.subscription_records
    if not subs:
        return ""
    lang = analysis.lang
    anchors = _call_anchors(analysis)
    head = [
        (text(lang, "report.col.event"), ""),
        (text(lang, "report.col.from_to"), ""),
        (text(lang, "report.col.outcome"), ""),
        (text(lang, "report.col.final"), "num"),
        ("NOTIFY", "num"),
        (text(lang, "report.col.state"), ""),
        ("Call-ID", ""),
    ]
    rows = [
        f"<tr><td>{_e(x.event or '', 40)}</td>"
        f"<td>{_e(f'{short_uri(x.subscriber)} → {short_uri(x.resource)}', 160)}</td>"
        f"<td>{_badge(x.outcome)}</td><td class=num>{x.final_status or ''}</td>"
        f"<td class=num>{x.notifies}</td><td>{_e(x.state or '', 40)}</td>"
        f"<td class=cid>{_call_link(anchors, x.call_id)}</td></tr>\n"
        for x in subs[:MAX_CALL_ROWS]
    ]
    return (
        f'<section id="subscriptions">\n<h2>{_t(lang, "report.subscriptions", n=len(subs))}</h2>\n'
        f"{_table(head, rows, 'subscriptions')}</section>\n"
    )


def _call_link(anchors: dict[str, str], call_id: str) -> str:
    anchor = anchors.get(call_id)
    shown = _e(call_id, 300)
    return f'<a href="#{anchor}" title="{shown}">{shown}</a>' if anchor else shown


# -- style, markers and script ------------------------------------------------------------

BASE_STYLE = """
:root{--fg:#1f2933;--muted:#5f6b7a;--bg:#fff;--panel:#f5f7fa;--line:#dde3ea;--accent:#1d5fd1;
--good:#16803c;--good-bg:#e6f4ea;--mild:#a15c00;--mild-bg:#fff3dc;--bad:#c0262d;--bad-bg:#fdeaea;
--neutral:#52606d;--neutral-bg:#eef1f4;--info:#0b6aa2;--info-bg:#e5f2fa;
--kreq:#2f3b4c;--k1:#7b8794;--k2:#16803c;--k3:#1d5fd1;--k4:#c2560c;--k5:#c0262d;--k6:#7a2db8}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7eb;--muted:#9aa5b1;--bg:#14181d;
--panel:#1d232a;--line:#323a44;--accent:#7fb0ff;--good:#5cc27c;--good-bg:#173222;--mild:#f0b050;
--mild-bg:#3a2a10;--bad:#ff7a7a;--bad-bg:#3d1a1c;--neutral:#b6c0ca;--neutral-bg:#2a3138;
--info:#6cc0f0;--info-bg:#13303f;--kreq:#d5dbe2;--k1:#9aa5b1;--k2:#5cc27c;--k3:#7fb0ff;
--k4:#f59a4a;--k5:#ff7a7a;--k6:#c794f5}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
code,.wf,.cid,.lad text{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,
"DejaVu Sans Mono",monospace}
code{font-size:.92em;overflow-wrap:anywhere}
header.top{padding:20px 32px 12px;border-bottom:1px solid var(--line);background:var(--panel)}
h1{margin:0 0 4px;font-size:24px;font-weight:650}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:22px 0 8px}
h4{font-size:14px;margin:0 0 6px}
.meta{margin:0 0 10px;color:var(--muted)}
nav{display:flex;flex-wrap:wrap;gap:6px}
nav a{padding:3px 10px;border:1px solid var(--line);border-radius:999px;background:var(--bg);
color:var(--accent);text-decoration:none;font-size:13px}
nav a:hover{border-color:var(--accent)}
main{padding:0 32px 40px;max-width:1500px}
footer{padding:12px 32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
a{color:var(--accent)}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{padding:5px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.03em;
background:var(--panel);white-space:nowrap}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.num{font-size:13px}
ul.plain{margin:0;padding:0;list-style:none}
.warnings{color:var(--mild);padding-left:20px}
.muted,.hint{color:var(--muted)}
.note{background:var(--panel);border-left:3px solid var(--accent);padding:6px 12px;margin:8px 0}
.selection{margin:0 0 10px;font-weight:600}
.stats{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0 4px}
.stat{min-width:120px;padding:10px 14px;border:1px solid var(--line);border-radius:8px;
background:var(--panel)}
.stat b{display:block;font-size:24px;line-height:1.1;font-variant-numeric:tabular-nums}
.stat span{color:var(--muted);font-size:12px}
.stat.sev-error b{color:var(--bad)}.stat.sev-warning b{color:var(--mild)}
.stat.sev-info b{color:var(--info)}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;
white-space:nowrap;line-height:20px}
.badge.good{color:var(--good);background:var(--good-bg)}
.badge.mild,.badge.sev-warning{color:var(--mild);background:var(--mild-bg)}
.badge.bad,.badge.sev-error{color:var(--bad);background:var(--bad-bg)}
.badge.neutral{color:var(--neutral);background:var(--neutral-bg)}
.badge.sev-info{color:var(--info);background:var(--info-bg)}
"""
"""The report's palette (light and dark), typography, header, tables, `.num` cells,
notes, stat tiles and badges: the part of its style other pages (the batch index)
share. Ends with a newline, so more rules can follow."""

_STYLE = (
    BASE_STYLE
    + """\
h3.sev-error{color:var(--bad)}h3.sev-warning{color:var(--mild)}h3.sev-info{color:var(--info)}
table.outcomes td.total{font-weight:600}
table.responses{width:100%}
table.responses td.code{white-space:nowrap}
table.responses tr{border-left:4px solid var(--line)}
table.responses tr.sev-error{border-left-color:var(--bad)}
table.responses tr.sev-warning{border-left-color:var(--mild)}
table.responses tr.sev-info{border-left-color:var(--info)}
table.responses p{margin:0 0 4px;max-width:100ch}
.when,.frames{color:var(--muted)}
table.responses details{margin:2px 0}
table.responses summary{cursor:pointer;color:var(--accent);font-size:13px}
table.responses details[open] summary{margin-bottom:4px}
.frames{font-size:12px}
.said{margin:4px 0;padding-left:18px;color:var(--info)}
.finding{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:6px;
padding:10px 14px;margin:8px 0;max-width:1100px}
.finding.sev-error{border-left-color:var(--bad)}
.finding.sev-warning{border-left-color:var(--mild)}
.finding.sev-info{border-left-color:var(--info)}
.finding p{margin:4px 0}
.fix b{color:var(--good)}
.fid{color:var(--muted);font-weight:400;font-size:12px;margin-left:4px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0;
font-size:13px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.wf{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:0 5px;
user-select:all;-webkit-user-select:all}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:10px;margin:10px 0 6px}
.controls input,.controls select{font:inherit;padding:5px 9px;border:1px solid var(--line);
border-radius:6px;background:var(--bg);color:var(--fg)}
.controls input{width:340px;max-width:100%}
#call-count{color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:4px 0}
.legend i{display:inline-block;width:22px;height:0;border-top:2px solid;vertical-align:middle;
margin-right:5px}
.legend .kreq i{border-color:var(--kreq)}.legend .k1 i{border-color:var(--k1)}
.legend .k2 i{border-color:var(--k2)}.legend .k3 i{border-color:var(--k3)}
.legend .k4 i{border-color:var(--k4)}.legend .k5 i{border-color:var(--k5)}
.legend .k6 i{border-color:var(--k6)}.legend .rt i{border-top-style:dashed;
border-color:var(--muted)}
.wrap{overflow-x:auto}
table.calls{width:100%}
table.calls thead th{position:sticky;top:0;z-index:1;padding:0}
table.calls th button{all:unset;box-sizing:border-box;display:block;width:100%;padding:6px 10px;
cursor:pointer}
table.calls th.num button{text-align:right}
table.calls th button:focus-visible{outline:2px solid var(--accent)}
table.calls th[aria-sort=ascending] button::after{content:" \\25B2";font-size:10px}
table.calls th[aria-sort=descending] button::after{content:" \\25BC";font-size:10px}
tr.call{cursor:pointer}
tr.call:hover td{background:var(--panel)}
tr.call.selected td{background:var(--info-bg)}
tr.call:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums;font-size:13px}
td.time::before{content:"";display:inline-block;width:14px;color:var(--accent)}
tr.call.has-ladder td.time::before{content:"\\25B8"}
td.ft{overflow-wrap:anywhere;min-width:200px}
td.cid{max-width:240px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:12px}
tr.detail-row>td{background:var(--bg);padding:4px 10px 16px;border-bottom:2px solid var(--accent)}
.call-detail{display:none;border:1px solid var(--line);border-radius:8px;padding:10px 14px;
margin:8px 0}
.call-detail.shown,.call-detail:target{display:block}
.js .call-detail:not(.shown){display:none}
.call-detail h3{margin:0 0 4px;font-size:14px}
.call-detail .sub{margin:0 0 4px;color:var(--muted)}
.call-detail .wfl{margin:0 0 8px}
.ladder{overflow-x:auto}
.lad{display:block;font-size:12px}
.lad .life{stroke:var(--line);stroke-width:1.5;stroke-dasharray:4 3}
.lad .p{fill:var(--panel);stroke:var(--line)}
.lad .pt{text-anchor:middle;font-size:11px;font-weight:600;fill:var(--fg)}
.lad .fn{text-anchor:end;fill:var(--fg);font-weight:600}
.lad .off,.lad .omitted{fill:var(--muted);font-size:11px}
.lad .a line,.lad .a path{stroke-width:1.6;fill:none}
.lad .lb{font-size:12px;text-anchor:middle}.lad .lb.self{text-anchor:start}
.lad .rt line,.lad .rt path{stroke-dasharray:6 4}
.lad .rt .lb{font-style:italic}
.lad .kreq line,.lad .kreq path{stroke:var(--kreq);marker-end:url(#mreq)}
.lad .kreq .lb{fill:var(--kreq)}
.lad .k1 line,.lad .k1 path{stroke:var(--k1);marker-end:url(#m1)}.lad .k1 .lb{fill:var(--k1)}
.lad .k2 line,.lad .k2 path{stroke:var(--k2);marker-end:url(#m2)}.lad .k2 .lb{fill:var(--k2)}
.lad .k3 line,.lad .k3 path{stroke:var(--k3);marker-end:url(#m3)}.lad .k3 .lb{fill:var(--k3)}
.lad .k4 line,.lad .k4 path{stroke:var(--k4);marker-end:url(#m4)}.lad .k4 .lb{fill:var(--k4)}
.lad .k5 line,.lad .k5 path{stroke:var(--k5);marker-end:url(#m5)}.lad .k5 .lb{fill:var(--k5)}
.lad .k6 line,.lad .k6 path{stroke:var(--k6);marker-end:url(#m6)}.lad .k6 .lb{fill:var(--k6)}
.lad g.a:hover .lb{font-weight:700}
svg.markers{position:absolute;width:0;height:0;overflow:hidden}
@media print{nav,.controls,.hint,footer{display:none}header.top{background:none}
td.time::before{content:none}}
"""
)

_MARKERS = (
    '<svg class="markers" aria-hidden="true" focusable="false"><defs>'
    + "".join(
        f'<marker id="m{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" '
        f'style="fill:var(--k{k})"/></marker>'
        for k in ("req", "1", "2", "3", "4", "5", "6")
    )
    + "</defs></svg>\n"
)

# The page's only script. It reorders and shows/hides elements already in the page
# and sets text only through `textContent`; it reads no capture text into markup.
# Keep it ASCII: its SHA-256 in the CSP is computed over exactly these characters.
SORT_SCRIPT = """
  // Rows ordered by column `col` (`dir` 1 or -1): numbers or case-blind text, a cell's
  // data-v before its text, empty cells last, ties in their first order.
  function sortedRows(rows, col, numeric, dir) {
    const keyed = rows.map((row, n) => {
      const cell = row.cells[col];
      let k = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
      k = k.trim();
      const empty = k === "";
      if (numeric) k = empty ? 0 : Number(k); else k = k.toLowerCase();
      return {k: k, empty: empty, n: n, row: row};
    });
    keyed.sort((a, b) => {
      if (a.empty !== b.empty) return a.empty ? 1 : -1;
      let c = 0;
      if (numeric) c = a.k - b.k; else c = a.k < b.k ? -1 : (a.k > b.k ? 1 : 0);
      return c * dir || a.n - b.n;
    });
    return keyed.map((item) => item.row);
  }
"""
"""The row sort both pages' tables use (inlined into each page's one script)."""

SCRIPT = (
    """
(() => {
  "use strict";
  const doc = document;
  doc.documentElement.classList.add("js");
"""
    + SORT_SCRIPT
    + """
  const table = doc.getElementById("call-table");
  if (!table) return;
  const tbody = table.tBodies[0];
  const rows = Array.from(tbody.rows);
  const heads = Array.from(table.tHead.rows[0].cells);
  const search = doc.getElementById("call-search");
  const outcome = doc.getElementById("call-outcome");
  const counter = doc.getElementById("call-count");
  const store = doc.getElementById("call-details");
  let open = null;
  let sortCol = -1;
  let sortDir = 1;

  function close() {
    if (!open) return;
    open.detail.classList.remove("shown");
    store.appendChild(open.detail);
    open.tr.remove();
    open.row.classList.remove("selected");
    open.row.setAttribute("aria-expanded", "false");
    open = null;
  }

  function show(row) {
    const detail = doc.getElementById(row.getAttribute("data-detail"));
    if (!detail) return;
    const tr = doc.createElement("tr");
    tr.className = "detail-row";
    const td = doc.createElement("td");
    td.colSpan = row.cells.length;
    td.appendChild(detail);
    tr.appendChild(td);
    row.after(tr);
    detail.classList.add("shown");
    row.classList.add("selected");
    row.setAttribute("aria-expanded", "true");
    open = {row: row, tr: tr, detail: detail};
  }

  function toggle(row) {
    const same = open && open.row === row;
    close();
    if (!same) show(row);
  }

  function sortBy(col) {
    const numeric = heads[col].getAttribute("data-type") === "num";
    sortDir = sortCol === col ? -sortDir : 1;
    sortCol = col;
    const frag = doc.createDocumentFragment();
    for (const row of sortedRows(rows, col, numeric, sortDir)) frag.appendChild(row);
    tbody.appendChild(frag);
    if (open) open.row.after(open.tr);
    heads.forEach((th, j) => {
      const dir = sortDir > 0 ? "ascending" : "descending";
      th.setAttribute("aria-sort", j === col ? dir : "none");
    });
  }

  function filter() {
    const words = search.value.toLowerCase().split(/\\s+/).filter((w) => w);
    const want = outcome.value;
    let shown = 0;
    for (const row of rows) {
      let ok = !want || (want === "@failed"
        ? row.getAttribute("data-failed") === "1"
        : row.getAttribute("data-outcome") === want);
      if (ok && words.length) {
        const hay = row.textContent.toLowerCase();
        ok = words.every((w) => hay.includes(w));
      }
      row.hidden = !ok;
      if (ok) shown += 1;
    }
    if (open && open.row.hidden) close();
    counter.textContent = counter.getAttribute("data-template")
      .replace("{n}", String(shown)).replace("{total}", String(rows.length));
  }

  function reveal(id) {
    const row = rows.find((r) => r.getAttribute("data-detail") === id);
    if (!row) return false;
    if (row.hidden) {
      search.value = "";
      outcome.value = "";
      filter();
    }
    if (!open || open.row !== row) toggle(row);
    row.scrollIntoView({block: "start"});
    return true;
  }

  heads.forEach((th, i) => th.addEventListener("click", () => sortBy(i)));
  search.addEventListener("input", filter);
  outcome.addEventListener("change", filter);
  tbody.addEventListener("click", (ev) => {
    const row = ev.target.closest("tr.call");
    if (!row) return;
    if (ev.target.closest("a")) ev.preventDefault();
    toggle(row);
  });
  tbody.addEventListener("keydown", (ev) => {
    const row = ev.target.closest("tr.call");
    if (!row || ev.target !== row || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    toggle(row);
  });
  doc.addEventListener("click", (ev) => {
    const link = ev.target.closest("a[href^='#call-']");
    if (!link || tbody.contains(link)) return;
    if (reveal(link.getAttribute("href").slice(1))) ev.preventDefault();
  });
  if (location.hash.startsWith("#call-")) reveal(location.hash.slice(1));
})();
"""
)


def csp_for(script: str) -> str:
    """A Content-Security-Policy for a self-contained page: no network at all, inline
    style, and only `script` (by its SHA-256, over its UTF-8 text exactly as inlined)."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )


CSP = csp_for(SCRIPT)
"""The page's Content-Security-Policy: no network at all, inline style, and only the
script above (by its hash)."""
