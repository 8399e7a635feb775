"""The aggregated report as a web page, `batch.html`: the nightly index of a batch.

One self-contained file, like the per-capture HTML report (analyzer/report/html.py)
whose escaping, palette and Content-Security-Policy it shares. Every string that
comes from a capture or a file name (keys, paths, error messages, finding titles,
gate expressions) is untrusted: it goes through `escape()` (`inert()`, then
`html.escape`), attribute values included. Links go only to the per-capture reports,
as relative paths with every segment percent-encoded, or to rows of this page. The
one inline script, allowed by its SHA-256, only sorts and filters rows that are
already in the page and sets text through `textContent`; without it the page is the
same tables, unsorted and unfiltered. The page depends on the document alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..catalogue import lookup, text
from ..correlate import OUTCOMES, REG_OUTCOMES
from ..report.html import BASE_STYLE, SORT_SCRIPT, badge, csp_for, escape
from ..report.terminal import ms
from .aggregate import SCHEMA

_RATIOS = ("ser", "seer", "isa", "scr", "ira")
_DELAYS = ("setup", "ring", "srd", "srd_failed", "sdd", "sdt", "rrd")
_SEVERITIES = ("error", "warning", "info")
_NAME_LIMIT = 200
"""Characters of a capture name shown (the rest is cut with `…`)."""
_GATE_CAPTURES = 20
"""Captures listed per gate and per baseline category line; the rest are counted."""


def render(doc: Mapping[str, Any]) -> str:
    """`batch.html` for a `sip-analyzer-batch/1` document (UTF-8 text, ends with a newline)."""
    return "".join(_document(doc))


def report_href(rel: str) -> str | None:
    """A per-capture report's path (relative to the output directory, `/`-separated) as
    a relative URL with every segment percent-encoded, so that no name can turn it into
    a scheme, a query, a fragment or another directory; None if `rel` is not a plain
    relative path."""
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return "/".join(quote(p, safe="") for p in parts)


# -- the document ---------------------------------------------------------------------


def _document(doc: Mapping[str, Any]) -> Iterator[str]:
    anchors = {c["key"]: f"cap-{i}" for i, c in enumerate(doc["captures"])}
    yield (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{escape(_title(doc))}</title>\n"
        f"<style>{BASE_STYLE}{_STYLE}</style>\n</head>\n<body>\n"
    )
    yield _header(doc)
    yield "<main>\n"
    if doc["gates"]:
        yield _gates(doc["gates"], anchors)
    if doc["baseline"] is not None:
        yield _baseline(doc["baseline"], anchors)
    yield _captures(doc)
    yield _totals(doc)
    yield _findings(doc)
    yield "</main>\n"
    yield (
        f"<footer>Made by sip-analyzer {escape(__version__)} from <code>batch.json</code> "
        f"({escape(SCHEMA)}).</footer>\n"
    )
    yield f"<script>{SCRIPT}</script>\n</body>\n</html>\n"


def _title(doc: Mapping[str, Any]) -> str:
    t = doc["totals"]
    tripped = sum(g["tripped"] for g in doc["gates"])
    verdict = f", {tripped} gate{_s(tripped)} tripped" if tripped else ""
    return f"sip-analyzer batch: {t['captures']} capture{_s(t['captures'])}{verdict}"


def _when(iso: object) -> str:
    """A run's ISO 8601 start time as `2026-11-21 21:13:25 UTC`."""
    return str(iso).replace("T", " ").replace("+00:00", " UTC")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1f} %"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _key(v: float | None) -> str:
    """A sort key for the script: fixed notation, empty when unknown."""
    return "" if v is None else f"{v:.6f}"


def _cap_link(key: str | None, anchors: Mapping[str, str]) -> str:
    """A capture's name, linked to its row when the table has one; None: the totals."""
    if key is None:
        return "<i>totals</i>"
    name = f"<code>{escape(key, _NAME_LIMIT)}</code>"
    anchor = anchors.get(key)
    return f'<a href="#{anchor}">{name}</a>' if anchor else name


def _table(head: Iterable[tuple[str, str]], rows: Iterable[str], cls: str, foot: str = "") -> str:
    """A table; `head` is (label, class) per column, `rows` are ready `<tr>` strings."""
    ths = "".join(
        f'<th class="{c}">{escape(label)}</th>' if c else f"<th>{escape(label)}</th>"
        for label, c in head
    )
    tfoot = f"<tfoot>{foot}</tfoot>\n" if foot else ""
    return (
        f'<table class="{cls}">\n<thead><tr>{ths}</tr></thead>\n<tbody>\n{"".join(rows)}'
        f"</tbody>\n{tfoot}</table>\n"
    )


# -- header ---------------------------------------------------------------------------


def _header(doc: Mapping[str, Any]) -> str:
    t = doc["totals"]
    acc = t["accounting"]
    sev = t["findings_by_severity"]
    tiles = [
        ("captures", t["captures"], "captures", ""),
        ("analysed", t["analysed"], "analysed", ""),
        ("errors", t["errors"], "with errors", " bad" if t["errors"] else ""),
        ("packets", acc["packets"], "packets", ""),
        ("sip_messages", acc["sip_messages"], "SIP messages", ""),
        ("calls", t["calls"], "calls", ""),
        ("failed_calls", t["failed_calls"], "failed calls", " mild" if t["failed_calls"] else ""),
        *((s, sev[s], f"{s} findings", f" sev-{s}") for s in _SEVERITIES),
    ]
    stats = "".join(
        f'<div class="stat{cls}" data-stat="{key}"><b>{n}</b><span>{escape(label)}</span></div>'
        for key, n, label, cls in tiles
    )
    summary = (
        f"{t['captures']} capture{_s(t['captures'])} ({t['analysed']} analysed, "
        f"{t['errors']} with errors): {acc['packets']} packets, {acc['sip_messages']} SIP "
        f"messages, {t['calls']} calls ({t['failed_calls']} failed), {t['registrations']} "
        f"registrations; findings {sev['error']} error, {sev['warning']} warning, "
        f"{sev['info']} info"
    )
    nav = [("captures", "Captures"), ("totals", "Totals"), ("findings", "Findings")]
    if doc["baseline"] is not None:
        nav.insert(0, ("baseline", "Since the baseline"))
    if doc["gates"]:
        nav.insert(0, ("gates", "Gates"))
    links = "".join(f'<a href="#{key}">{escape(label)}</a>' for key, label in nav)
    return (
        '<header class="top">\n<h1>sip-analyzer batch report</h1>\n'
        f"{_verdict(doc)}"
        f'<p class="summary">{escape(summary)}</p>\n'
        f'<div class="stats">{stats}</div>\n'
        f'<p class="meta run">{_run_facts(doc)}</p>\n'
        f"<nav>{links}</nav>\n</header>\n"
    )


def _verdict(doc: Mapping[str, Any]) -> str:
    """One line saying whether the night was good: the gates, and captures not analysed."""
    gates = doc["gates"]
    errors = doc["totals"]["errors"]
    parts = []
    bad = errors > 0
    if gates:
        tripped = [g for g in gates if g["tripped"]]
        if tripped:
            bad = True
            exprs = ", ".join(f"<code>{escape(g['expr'], 200)}</code>" for g in tripped)
            parts.append(f"{len(tripped)} of {len(gates)} gate{_s(len(gates))} tripped: {exprs}")
        else:
            parts.append(f"all {len(gates)} gate{_s(len(gates))} passed")
    if errors:
        parts.append(f"{errors} capture{_s(errors)} could not be analysed")
    if not parts:
        return ""
    cls = "bad" if bad else "good"
    return f'<p class="verdict {cls}">{"; ".join(parts)}</p>\n'


def _run_facts(doc: Mapping[str, Any]) -> str:
    run = doc["run"]
    t = doc["totals"]
    facts = []
    if run.get("started"):
        facts.append(f"started {escape(_when(run['started']))}")
    if run.get("seconds") is not None:
        facts.append(f"took {escape(_num(run['seconds']))} s")
    if run.get("scheduler"):
        facts.append(f"Dask scheduler <code>{escape(run['scheduler'], 200)}</code>")
    elif run.get("workers") is not None:
        facts.append(f"{escape(run['workers'])} worker{_s(run['workers'])}")
    if run.get("host"):
        facts.append(f"host <code>{escape(run['host'], 100)}</code>")
    if run.get("inputs"):
        inputs = " ".join(f"<code>{escape(i, 200)}</code>" for i in run["inputs"][:10])
        facts.append(f"inputs {inputs}" + (" …" if len(run["inputs"]) > 10 else ""))
    if doc["formats"]:
        facts.append(f"reports {escape(', '.join(doc['formats']))}")
    facts.append(f"language {escape(doc['lang'])}")
    if t["ignored_files"]:
        n = t["ignored_files"]
        facts.append(f"{n} file{_s(n)} without a capture suffix passed over")
    return " · ".join(facts)


# -- gates and baseline -------------------------------------------------------------------


def _captures_named(keys: Sequence[str], anchors: Mapping[str, str]) -> str:
    shown = ", ".join(_cap_link(k, anchors) for k in keys[:_GATE_CAPTURES])
    more = len(keys) - _GATE_CAPTURES
    return shown + (f" and {more} more" if more > 0 else "")


def _gates(gates: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]) -> str:
    tripped = sum(g["tripped"] for g in gates)
    rows = []
    for g in gates:
        state, cls = ("tripped", "bad") if g["tripped"] else ("passed", "good")
        scope = "each capture" if g["scope"] == "each" else "totals"
        rows.append(
            f'<tr class="{state}"><td><span class="badge {cls}">{state}</span></td>'
            f"<td><code>{escape(g['expr'], 200)}</code></td>"
            f"<td>{escape(scope)}</td><td>{escape(g['detail'], 500)}</td>"
            f'<td class="names">{_captures_named(g["captures"], anchors)}</td></tr>\n'
        )
    head = [("verdict", ""), ("gate", ""), ("checked on", ""), ("detail", ""), ("captures", "")]
    title = f"Gates (<code>--fail-on</code>): {tripped} tripped, {len(gates) - tripped} passed"
    return f'<section id="gates">\n<h2>{title}</h2>\n{_table(head, rows, "gates")}</section>\n'


def _baseline(base: Mapping[str, Any], anchors: Mapping[str, str]) -> str:
    diff = base["diff"]
    run = base.get("run")
    started = run.get("started") if isinstance(run, Mapping) else None
    when = f" (its run started {escape(_when(started))})" if started else ""
    n_worse = sum(1 for m in diff["moved"] if m["worse"])
    changes = sum(
        len(diff[k])
        for k in (
            "appeared",
            "disappeared",
            "became_unreadable",
            "readable_again",
            "new_statuses",
            "new_findings",
            "moved",
            "gone_statuses",
            "resolved_findings",
        )
    )
    out = [
        '<section id="baseline">\n<h2>Since the baseline</h2>\n'
        f"<p>Compared with <code>{escape(base['path'], 300)}</code>{when}, tolerance "
        f"{escape(_num(diff['tolerance']))} %: {changes} change{_s(changes)}"
        + (f', <b class="worse">{n_worse} measure{_s(n_worse)} worse</b>' if n_worse else "")
        + ".</p>\n"
    ]
    if not changes:
        out.append('<p class="muted">Nothing changed.</p>\n</section>\n')
        return "".join(out)

    def cap(item: Mapping[str, Any]) -> str:
        return _cap_link(item.get("capture"), anchors)

    def listed(key: str, title: str, cls: str = "") -> None:
        items = diff[key]
        if items:
            klass = f' class="{cls}"' if cls else ""
            names = _captures_named([i["capture"] for i in items], anchors)
            out.append(f"<h3{klass}>{title} ({len(items)})</h3>\n<p>{names}</p>\n")

    def table(key: str, title: str, head: list[tuple[str, str]], cls: str = "") -> None:
        items = diff[key]
        if items:
            klass = f' class="{cls}"' if cls else ""
            rows = [_diff_row(key, i, cap(i)) for i in items]
            out.append(f"<h3{klass}>{title} ({len(items)})</h3>\n{_table(head, rows, key)}")

    listed("appeared", "Appeared")
    listed("disappeared", "Disappeared", "bad")
    table("became_unreadable", "Became unreadable", [("capture", ""), ("error", "")], "bad")
    listed("readable_again", "Readable again", "good")
    table(
        "new_statuses",
        "New response codes",
        [("capture", ""), ("status", ""), ("count", "num")],
        "mild",
    )
    table(
        "new_findings",
        "New findings",
        [("capture", ""), ("finding", ""), ("severity", ""), ("count", "num"), ("title", "")],
        "mild",
    )
    table(
        "moved",
        "Moved beyond the tolerance",
        [
            ("capture", ""),
            ("measure", ""),
            ("before", "num"),
            ("after", "num"),
            ("change", "num"),
            ("", ""),
        ],
    )
    table("gone_statuses", "Response codes gone", [("capture", ""), ("status", "")])
    table("resolved_findings", "Findings resolved", [("capture", ""), ("finding", "")], "good")
    out.append("</section>\n")
    return "".join(out)


def _diff_row(kind: str, item: Mapping[str, Any], capture: str) -> str:
    """A row of a baseline-diff table (`kind` is the diff's category)."""
    cells: list[tuple[str, str]]  # (content, class)
    cls = ""
    if kind == "became_unreadable":
        cells = [(capture, ""), (escape(item["error"], 300), "err")]
    elif kind in ("new_statuses", "gone_statuses"):
        cells = [(capture, ""), (_status(int(item["status"])), "")]
        if kind == "new_statuses":
            cells.append((escape(item["count"]), "num"))
    elif kind == "new_findings":
        sev = escape(item["severity"], 20)
        cells = [
            (capture, ""),
            (f"<code>{escape(item['id'], 100)}</code>", ""),
            (f'<span class="badge sev-{sev}">{sev}</span>', ""),
            (escape(item["count"]), "num"),
            (escape(item["title"], 300), ""),
        ]
    elif kind == "resolved_findings":
        cells = [(capture, ""), (f"<code>{escape(item['id'], 100)}</code>", "")]
    else:  # moved
        unit = f" {item['unit']}" if item["unit"] else ""
        sign = "+" if item["change"] > 0 else ""
        worse = item["worse"]
        if worse:
            mark, cls = '<span class="badge bad">worse</span>', ' class="worse"'
        elif worse is False:
            mark = '<span class="badge good">better</span>'
        else:
            mark = ""
        cells = [
            (capture, ""),
            (f"<code>{escape(item['measure'], 60)}</code>", ""),
            (escape(_num(item["before"]) + unit), "num"),
            (escape(_num(item["after"]) + unit), "num"),
            (escape(sign + _num(item["change"]) + unit), "num"),
            (mark, ""),
        ]
    tds = "".join(f'<td class="{c}">{v}</td>' if c else f"<td>{v}</td>" for v, c in cells)
    return f"<tr{cls}>{tds}</tr>\n"


def _status(code: int) -> str:
    """A response code with its reason phrase from the catalogue."""
    try:
        reason = lookup(code).reason
    except ValueError:
        reason = ""
    return f"<b>{code}</b> {escape(reason)}".rstrip()


# -- the capture table ------------------------------------------------------------------

_COLUMNS = (
    # (data-col, label, sort as, tooltip)
    ("capture", "capture", "text", "the capture's path under its input directory"),
    ("packets", "packets", "num", "packets read"),
    ("sip_messages", "SIP msgs", "num", "SIP messages"),
    ("calls", "calls", "num", "INVITE dialogs"),
    ("answered", "answered", "num", "calls answered"),
    ("failed", "failed", "num", "failed calls"),
    ("ser", "SER", "num", "session establishment ratio (RFC 6076)"),
    ("errors", "E", "num", "error findings"),
    ("warnings", "W", "num", "warning findings"),
    ("infos", "I", "num", "info findings"),
    ("status", "status", "text", "ok, or why the capture could not be analysed"),
    ("reports", "reports", "text", "the capture's own reports"),
)


def _captures(doc: Mapping[str, Any]) -> str:
    captures = doc["captures"]
    n = len(captures)
    ths = "".join(
        f'<th data-col="{col}" data-type="{kind}" aria-sort="none" title="{escape(tip)}"'
        f"{' class=num' if kind == 'num' else ''}>"
        f'<button type="button">{escape(label)}</button></th>'
        for col, label, kind, tip in _COLUMNS
    )
    rows = "".join(_capture_row(i, c) for i, c in enumerate(captures))
    template = "{n} of {total} captures shown"
    return (
        f'<section id="captures">\n<h2>Captures ({n})</h2>\n'
        '<p class="hint">E / W / I: findings by severity (error, warning, info). '
        "A capture's name opens its own report.</p>\n"
        '<div class="controls">'
        '<input type="search" id="cap-search" placeholder="Filter by name or status" '
        'aria-label="Filter captures by name or status" autocomplete="off">'
        '<label><input type="checkbox" id="cap-problems"> only captures with errors, '
        "failed calls or error findings</label>"
        f'<span id="cap-count" data-template="{template}" aria-live="polite">'
        f"{n} of {n} captures shown</span></div>\n"
        '<div class="wrap"><table id="cap-table" class="captures sortable">\n'
        f"<thead><tr>{ths}</tr></thead>\n<tbody>\n{rows}</tbody>\n"
        f"<tfoot>{_totals_row(doc)}</tfoot>\n</table></div>\n</section>\n"
    )


def _numbers(row: Mapping[str, Any]) -> list[tuple[str, float | None, str]]:
    """(data-col, value, extra class) of a row's number cells; None when not measured."""
    if "calls" not in row:
        return [(col, None, "") for col, _, kind, _ in _COLUMNS if kind == "num"]
    sev = row["findings_by_severity"]
    failed = row["failed_calls"]
    return [
        ("packets", row["accounting"]["packets"], ""),
        ("sip_messages", row["accounting"]["sip_messages"], ""),
        ("calls", row["calls"], ""),
        ("answered", row["outcomes"].get("answered", 0), ""),
        ("failed", failed, " mild" if failed else ""),
        ("ser", row["kpis"]["ser"]["value"], ""),
        ("errors", sev["error"], " bad" if sev["error"] else ""),
        ("warnings", sev["warning"], " mild" if sev["warning"] else ""),
        ("infos", sev["info"], ""),
    ]


def _number_cells(row: Mapping[str, Any], tag: str = "td") -> str:
    cells = []
    for col, value, cls in _numbers(row):
        shown = _pct(value) if col == "ser" else "" if value is None else str(value)
        cells.append(
            f'<{tag} class="num{cls}" data-col="{col}" data-v="{_key(value)}">{shown}</{tag}>'
        )
    return "".join(cells)


def _problem(c: Mapping[str, Any]) -> bool:
    return (
        c["status"] != "ok"
        or bool(c.get("failed_calls"))
        or bool(c.get("findings_by_severity", {}).get("error"))
    )


def _capture_row(i: int, c: Mapping[str, Any]) -> str:
    reports = c["reports"]
    main = next((reports[f] for f in ("html", "markdown", "json") if f in reports), None)
    href = report_href(main) if main else None
    name = f"<code>{escape(c['key'], _NAME_LIMIT)}</code>"
    key = f'<a href="{escape(href)}">{name}</a>' if href else name
    if c["status"] == "ok":
        status = '<span class="badge good">ok</span>'
    else:
        err = c["error"]
        status = (
            f'<span class="badge bad">{escape(err["kind"], 40)}</span> '
            f'<span class="err">{escape(err["message"], 300)}</span>'
        )
    links = []
    for fmt, rel in reports.items():
        target = report_href(rel)
        if target:
            links.append(f'<a href="{escape(target)}">{escape(fmt, 20)}</a>')
    cls = "ok" if c["status"] == "ok" else "error"
    return (
        f'<tr id="cap-{i}" class="{cls}" data-problem="{int(_problem(c))}">'
        f'<td class="key" data-col="capture">{key}</td>'
        f"{_number_cells(c)}"
        f'<td class="status" data-col="status">{status}</td>'
        f'<td class="reports" data-col="reports">{" ".join(links)}</td></tr>\n'
    )


def _totals_row(doc: Mapping[str, Any]) -> str:
    t = doc["totals"]
    errors = f", {t['errors']} with errors" if t["errors"] else ""
    return (
        '<tr class="totals"><th scope="row" data-col="capture">totals</th>'
        f"{_number_cells(t)}"
        f'<td data-col="status">{t["analysed"]} of {t["captures"]} analysed{errors}</td>'
        '<td data-col="reports"></td></tr>\n'
    )


# -- totals and findings ------------------------------------------------------------------


def _totals(doc: Mapping[str, Any]) -> str:
    t = doc["totals"]
    blocks = [
        _outcomes("Call outcomes", t["outcomes"], OUTCOMES, "calls"),
        _outcomes(
            "Registration outcomes", t["registration_outcomes"], REG_OUTCOMES, "registrations"
        ),
        _responses(doc),
        _methods(t["requests_by_method"]),
        _accounting(t),
    ]
    grid = "".join(f"<div>{b}</div>\n" for b in blocks if b)
    return (
        '<section id="totals">\n<h2>Totals</h2>\n'
        f'<div class="grid">\n{grid}</div>\n{_metrics(t)}</section>\n'
    )


def _outcomes(title: str, counts: Mapping[str, int], order: Sequence[str], what: str) -> str:
    total = sum(counts.values())
    if not total:
        return f'<h3>{escape(title)}</h3>\n<p class="muted">No {escape(what)}.</p>\n'
    names = [o for o in order if counts.get(o)] + [
        o for o in counts if o not in order and counts[o]
    ]
    rows = [
        f'<tr data-outcome="{escape(o)}"><td>{badge(o)}</td>'
        f'<td class="num">{counts[o]}</td><td class="num">{100 * counts[o] / total:.1f} %</td>'
        "</tr>\n"
        for o in names
    ]
    foot = (
        f'<tr class="totals"><th scope="row">total</th><td class="num">{total}</td><td></td></tr>'
    )
    head = [("outcome", ""), (what, "num"), ("share", "num")]
    return f"<h3>{escape(title)}</h3>\n{_table(head, rows, f'outcomes {what}', foot)}"


def _responses(doc: Mapping[str, Any]) -> str:
    by_status = doc["totals"]["responses_by_status"]
    if not by_status:
        return '<h3>Responses</h3>\n<p class="muted">No responses.</p>\n'
    per: dict[str, int] = {}
    for c in doc["captures"]:
        for code in c.get("responses_by_status", {}):
            per[code] = per.get(code, 0) + 1
    rows = []
    for code in sorted(by_status, key=int):
        klass = int(code) // 100
        rows.append(
            f'<tr class="k{klass}" data-status="{escape(code)}">'
            f"<td>{_status(int(code))}</td>"
            f'<td class="num">{by_status[code]}</td><td class="num">{per.get(code, 0)}</td></tr>\n'
        )
    head = [("status", ""), ("responses", "num"), ("captures", "num")]
    return f"<h3>Responses by status</h3>\n{_table(head, rows, 'responses')}"


def _methods(by_method: Mapping[str, int]) -> str:
    if not by_method:
        return ""
    rows = [
        f'<tr><td><code>{escape(m, 40)}</code></td><td class="num">{n}</td></tr>\n'
        for m, n in sorted(by_method.items(), key=lambda mn: (-mn[1], mn[0]))
    ]
    head = [("method", ""), ("requests", "num")]
    return f"<h3>Requests by method</h3>\n{_table(head, rows, 'methods')}"


def _accounting(t: Mapping[str, Any]) -> str:
    acc = t["accounting"]
    facts = [
        ("formats", escape(", ".join(str(acc["format"] or "-").split(",")), 100)),
        ("packets", acc["packets"]),
        ("SIP packets", acc["sip_packets"]),
        ("not SIP", acc["non_sip"]),
        ("skipped", acc["skipped"]),
        ("SIP messages", acc["sip_messages"]),
        ("unparsable SIP", acc["sip_errors"]),
        ("TCP gaps", acc["tcp_gaps"]),
        ("warnings", acc["warnings"]),
        ("truncated", acc["truncated"]),
        ("unreadable captures", t["unreadable"]),
    ]
    rows = [f'<tr><td>{escape(k)}</td><td class="num">{v}</td></tr>\n' for k, v in facts]
    return f"<h3>Capture accounting</h3>\n{_table([('', ''), ('', 'num')], rows, 'accounting')}"


def _metrics(t: Mapping[str, Any]) -> str:
    k = t["kpis"]
    ratios = [
        f'<tr data-metric="{n}"><td>{escape(text("en", f"report.metric.{n}"))}</td>'
        f'<td class="num">{_pct(k[n]["value"])}</td>'
        f'<td class="num">{k[n]["numerator"]} / {k[n]["denominator"]}</td>'
        f"<td>{escape(k[n]['rfc'] or '')}</td></tr>\n"
        for n in _RATIOS
        if k[n]["value"] is not None
    ]
    delays = [
        f'<tr data-metric="{n}"><td>{escape(text("en", f"report.metric.{n}"))}</td>'
        f'<td class="num">{k[n]["count"]}</td>'
        + "".join(f'<td class="num">{escape(ms(k[n][s]))}</td>' for s in ("mean", "p50", "p95"))
        + f'<td class="num">{escape(ms(k[n]["max"]))}</td>'
        f"<td>{escape(k[n]['rfc'] or '')}</td></tr>\n"
        for n in _DELAYS
        if k[n]["count"]
    ]
    out = ["<h3>Metrics (all captures pooled)</h3>\n"]
    if not ratios and not delays:
        out.append('<p class="muted">Nothing to measure.</p>\n')
    if ratios:
        head = [("ratio", ""), ("value", "num"), ("of", "num"), ("defined in", "")]
        out.append(_table(head, ratios, "metrics ratios"))
    if delays:
        head = [
            ("delay", ""),
            ("samples", "num"),
            ("mean", "num"),
            ("p50", "num"),
            ("p95", "num"),
            ("max", "num"),
            ("defined in", ""),
        ]
        out.append(_table(head, delays, "metrics delays"))
    return "".join(out)


def _findings(doc: Mapping[str, Any]) -> str:
    findings = doc["totals"]["findings"]
    if not findings:
        return (
            '<section id="findings">\n<h2>Findings</h2>\n<p class="muted">None.</p>\n</section>\n'
        )
    per: dict[str, int] = {}
    for c in doc["captures"]:
        for fid in c.get("findings", {}):
            per[fid] = per.get(fid, 0) + 1
    rank = {s: i for i, s in enumerate(_SEVERITIES)}
    order = sorted(
        findings, key=lambda f: (rank.get(findings[f]["severity"], 9), -findings[f]["count"], f)
    )
    rows = []
    for fid in order:
        f = findings[fid]
        sev = str(f["severity"])
        rows.append(
            f'<tr class="sev-{escape(sev)}"><td><code>{escape(fid, 100)}</code></td>'
            f'<td data-v="{rank.get(sev, 9)}"><span class="badge sev-{escape(sev)}">'
            f"{escape(sev)}</span></td>"
            f'<td class="num">{f["count"]}</td><td class="num">{per.get(fid, 0)}</td>'
            f'<td class="example">{escape(f["title"], 300)}</td></tr>\n'
        )
    head = [
        ("finding", "text", ""),
        ("severity", "text", ""),
        ("count", "num", "num"),
        ("captures", "num", "num"),
        ("for example", "text", ""),
    ]
    ths = "".join(
        f'<th data-type="{kind}" aria-sort="none"{f" class={cls}" if cls else ""}>'
        f'<button type="button">{escape(label)}</button></th>'
        for label, kind, cls in head
    )
    n = len(findings)
    return (
        f'<section id="findings">\n<h2>Findings ({n} kind{_s(n)})</h2>\n'
        '<div class="wrap"><table id="finding-table" class="findings sortable">\n'
        f"<thead><tr>{ths}</tr></thead>\n<tbody>\n{''.join(rows)}</tbody>\n</table></div>\n"
        "</section>\n"
    )


# -- style and script -----------------------------------------------------------------------

_STYLE = """\
header.top .summary{margin:0 0 4px;color:var(--muted)}
.verdict{margin:6px 0;font-weight:650;font-size:15px}
.verdict.bad{color:var(--bad)}.verdict.good{color:var(--good)}
.stat.bad b{color:var(--bad)}.stat.mild b{color:var(--mild)}
.stat{min-width:104px}
.run{margin:8px 0 10px;font-size:13px}
.hint{font-size:13px;margin:0 0 4px}
.err{color:var(--bad)}
.wrap{overflow-x:auto}
.controls{display:none;flex-wrap:wrap;align-items:center;gap:10px 18px;margin:8px 0 6px}
.js .controls{display:flex}
.controls input[type=search]{font:inherit;padding:5px 9px;border:1px solid var(--line);
border-radius:6px;background:var(--bg);color:var(--fg);width:320px;max-width:100%}
#cap-count{color:var(--muted)}
table.sortable thead th{padding:0}
table.sortable th button{all:unset;box-sizing:border-box;display:block;width:100%;
padding:5px 10px}
.js table.sortable th button{cursor:pointer}
.js table.sortable th button:hover{color:var(--accent)}
table.sortable th.num button{text-align:right}
table.sortable th button:focus-visible{outline:2px solid var(--accent)}
table.sortable th[aria-sort=ascending] button::after{content:" \\25B2";font-size:10px}
table.sortable th[aria-sort=descending] button::after{content:" \\25BC";font-size:10px}
table.captures{min-width:100%}
table.captures td.key{max-width:460px;overflow-wrap:anywhere}
table.captures td.key a{text-decoration:none}
table.captures td.key a:hover{text-decoration:underline}
table.captures td.status{max-width:420px;overflow-wrap:anywhere}
table.captures tbody tr:hover td{background:var(--panel)}
table.captures tr.error td{background:var(--bad-bg)}
table.captures tr.error td.key{box-shadow:inset 4px 0 var(--bad)}
tr:target td{outline:2px solid var(--accent);outline-offset:-2px}
td.bad{color:var(--bad);font-weight:650}td.mild{color:var(--mild);font-weight:650}
td.reports{white-space:nowrap}
td.reports a{margin-right:6px;font-size:12px}
tfoot th,tfoot td{font-weight:650;border-top:2px solid var(--line);border-bottom:0;
background:var(--panel)}
tfoot th{text-align:left;color:var(--fg);text-transform:none;letter-spacing:0;font-size:14px}
table.gates td{vertical-align:top}
table.gates tr.tripped td:first-child{box-shadow:inset 4px 0 var(--bad)}
table.gates tr.passed td:first-child{box-shadow:inset 4px 0 var(--good)}
table.gates td.names{max-width:520px;overflow-wrap:anywhere}
#baseline p{max-width:120ch;overflow-wrap:anywhere}
h3.bad,.worse{color:var(--bad)}h3.mild{color:var(--mild)}h3.good{color:var(--good)}
tr.worse td{background:var(--bad-bg)}
.grid{display:flex;flex-wrap:wrap;gap:0 48px;align-items:flex-start}
table.responses tr.k4 b{color:var(--mild)}
table.responses tr.k5 b,table.responses tr.k6 b{color:var(--bad)}
table.responses tr.k2 b{color:var(--good)}
table.accounting thead{display:none}
table.findings td.example{color:var(--muted);max-width:560px;overflow-wrap:anywhere}
@media print{nav,.controls,footer{display:none}header.top{background:none}}
"""

# The page's only script. It reorders and shows/hides rows already in the page and sets
# text only through `textContent`; it reads no capture text into markup. Keep it ASCII:
# its SHA-256 in the CSP is computed over exactly these characters.
SCRIPT = (
    """
(() => {
  "use strict";
  const doc = document;
  doc.documentElement.classList.add("js");
"""
    + SORT_SCRIPT
    + """

  function sortable(table) {
    const tbody = table.tBodies[0];
    const rows = Array.from(tbody.rows);
    const heads = Array.from(table.tHead.rows[0].cells);
    let sortCol = -1;
    let sortDir = 1;
    function sortBy(col) {
      const numeric = heads[col].getAttribute("data-type") === "num";
      sortDir = sortCol === col ? -sortDir : 1;
      sortCol = col;
      const frag = doc.createDocumentFragment();
      for (const row of sortedRows(rows, col, numeric, sortDir)) frag.appendChild(row);
      tbody.appendChild(frag);
      heads.forEach((th, j) => {
        const dir = sortDir > 0 ? "ascending" : "descending";
        th.setAttribute("aria-sort", j === col ? dir : "none");
      });
    }
    heads.forEach((th, i) => th.addEventListener("click", () => sortBy(i)));
    return rows;
  }

  for (const table of doc.querySelectorAll("table.sortable")) {
    if (table.id !== "cap-table") sortable(table);
  }
  const table = doc.getElementById("cap-table");
  if (!table) return;
  const rows = sortable(table);
  const search = doc.getElementById("cap-search");
  const problems = doc.getElementById("cap-problems");
  const counter = doc.getElementById("cap-count");

  function filter() {
    const words = search.value.toLowerCase().split(/\\s+/).filter((w) => w);
    const only = problems.checked;
    let shown = 0;
    for (const row of rows) {
      let ok = !only || row.getAttribute("data-problem") === "1";
      if (ok && words.length) {
        const hay = (row.cells[0].textContent + " " +
          row.querySelector("td.status").textContent).toLowerCase();
        ok = words.every((w) => hay.includes(w));
      }
      row.hidden = !ok;
      if (ok) shown += 1;
    }
    counter.textContent = counter.getAttribute("data-template")
      .replace("{n}", String(shown)).replace("{total}", String(rows.length));
  }

  search.addEventListener("input", filter);
  problems.addEventListener("change", filter);
  doc.addEventListener("click", (ev) => {
    const link = ev.target.closest("a[href^='#cap-']");
    if (!link) return;
    const row = doc.getElementById(link.getAttribute("href").slice(1));
    if (row && row.hidden) {
      search.value = "";
      problems.checked = false;
      filter();
    }
  });
  filter();
})();
"""
)
CSP = csp_for(SCRIPT)
"""The page's Content-Security-Policy: no network, inline style, only the script above."""
