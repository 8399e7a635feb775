"""The aggregated report in text: terminal (rich), Markdown and JUnit XML. Each reads
the `sip-analyzer-batch/1` document and returns text; only the CLI writes it.

Capture names, paths and error messages are untrusted (a file name can hold
escape sequences or Markdown): they go through `inert()`, code spans, or
ElementTree's escaping, as in the per-capture reports.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..correlate import OUTCOMES
from ..report.interface import RenderOptions
from ..report.junit import xml_text
from ..report.markdown import code, gate_items, prose
from ..report.terminal import console_for
from ..report.text import gate_lines, inert
from .diff import worse
from .html_index import report_href

_RATIOS = ("ser", "seer", "isa", "scr", "ira")
_DELAYS = ("setup", "ring", "srd", "srd_failed", "sdd", "sdt", "rrd")
_NAME_LIMIT = 120


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} %"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _sev(row: Mapping[str, Any]) -> str:
    s = row["findings_by_severity"]
    return f"{s['error']}/{s['warning']}/{s['info']}"


NUMBER_COLUMNS = ("packets", "SIP msgs", "calls", "answered", "failed", "SER", "E/W/I")
"""The numbers of a capture's row in the terminal and Markdown tables."""


def _cells(row: Mapping[str, Any]) -> list[str]:
    """A row's (or the totals') `NUMBER_COLUMNS`, as text."""
    return [
        str(row["accounting"]["packets"]),
        str(row["accounting"]["sip_messages"]),
        str(row["calls"]),
        str(row["outcomes"]["answered"]),
        str(row["failed_calls"]),
        _pct(row["kpis"]["ser"]["value"]),
        _sev(row),
    ]


def _change(m: Mapping[str, Any]) -> str:
    unit = f" {m['unit']}" if m["unit"] else ""
    sign = "+" if m["change"] > 0 else ""
    return f"{_num(m['before'])}{unit} → {_num(m['after'])}{unit} ({sign}{_num(m['change'])})"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def summary_line(doc: Mapping[str, Any]) -> str:
    """One line: captures, analysed, errors, packets, calls, findings."""
    t = doc["totals"]
    errors = f", {t['errors']} with errors" if t["errors"] else ""
    return (
        f"{t['captures']} captures ({t['analysed']} analysed{errors}): "
        f"{t['accounting']['packets']} packets, {t['accounting']['sip_messages']} SIP messages, "
        f"{t['calls']} calls ({t['failed_calls']} failed), {t['registrations']} registrations; "
        f"findings {_sev(t)} (error/warning/info)"
    )


def diff_lines(diff: Mapping[str, Any]) -> list[str]:
    """The baseline diff as plain sentences (capture names made inert)."""

    def cap(item: Mapping[str, Any]) -> str:
        c = item.get("capture")
        return "totals" if c is None else inert(c, _NAME_LIMIT)

    lines = []
    for item in diff["appeared"]:
        lines.append(f"appeared: {cap(item)}")
    for item in diff["disappeared"]:
        lines.append(f"disappeared: {cap(item)}")
    for item in diff["became_unreadable"]:
        lines.append(f"now unreadable: {cap(item)}: {inert(item['error'], 300)}")
    for item in diff["readable_again"]:
        lines.append(f"readable again: {cap(item)}")
    for item in diff["new_statuses"]:
        lines.append(f"new response code: {cap(item)}: {item['status']} ×{item['count']}")
    for item in diff["new_findings"]:
        lines.append(
            f"new finding: {cap(item)}: {inert(item['id'])} ({item['severity']}) "
            f"×{item['count']}: {inert(item['title'], 200)}"
        )
    for item in diff["moved"]:
        tag = {True: "worse", False: "better", None: "moved"}[item["worse"]]
        lines.append(f"{tag}: {cap(item)}: {item['measure']} {_change(item)}")
    for item in diff["gone_statuses"]:
        lines.append(f"response code gone: {cap(item)}: {item['status']}")
    for item in diff["resolved_findings"]:
        lines.append(f"finding gone: {cap(item)}: {inert(item['id'])}")
    return lines


def terminal(doc: Mapping[str, Any], options: RenderOptions) -> str:
    """The aggregated report for a terminal (ANSI colour only if `options.color`)."""
    console, buf = console_for(options)
    console.print(Text(f"sip-analyzer batch: {summary_line(doc)}", style="bold"))
    console.print()
    table = Table(box=box.SIMPLE_HEAD, title="Captures", title_justify="left")
    # Numbers never wrap or shorten; a long capture name folds instead.
    table.add_column("capture", overflow="fold", ratio=1)
    for name in NUMBER_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    table.add_column("status", no_wrap=True)
    for c in doc["captures"]:
        if c["status"] != "ok":
            table.add_row(
                Text(inert(c["key"], _NAME_LIMIT)),
                *([""] * 7),
                Text(c["error"]["kind"], style="bold red"),
            )
            continue
        cells = _cells(c)
        table.add_row(
            Text(inert(c["key"], _NAME_LIMIT)),
            *cells[:4],
            Text(cells[4], style="yellow" if c["failed_calls"] else ""),
            cells[5],
            Text(cells[6], style="bold red" if c["findings_by_severity"]["error"] else ""),
            "ok",
        )
    t = doc["totals"]
    table.add_section()
    table.add_row(Text("totals", style="bold"), *_cells(t), f"{t['analysed']}/{t['captures']}")
    console.print(table)
    for c in doc["captures"]:
        if c["status"] != "ok":
            err = c["error"]
            line = f"{err['kind']}: {inert(c['key'], _NAME_LIMIT)}: {inert(err['message'], 300)}"
            console.print(Text(line, style="bold red"))
    outcomes = ", ".join(f"{o} {t['outcomes'][o]}" for o in OUTCOMES if t["outcomes"].get(o))
    console.print(Text(f"Outcomes: {outcomes or 'no calls'}"))
    codes = ", ".join(f"{k} ×{v}" for k, v in t["responses_by_status"].items())
    console.print(Text(f"Responses: {codes or 'none'}"))
    console.print(Text(f"Metrics (captures pooled): {metrics_line(t)}"))
    if t["findings"]:
        console.print()
        ft = Table(box=box.SIMPLE_HEAD, title="Findings (totals)", title_justify="left")
        ft.add_column("finding")
        ft.add_column("severity")
        ft.add_column("count", justify="right")
        ft.add_column("captures", justify="right")
        per = _finding_captures(doc)
        for fid, f in t["findings"].items():
            ft.add_row(inert(fid), f["severity"], str(f["count"]), str(per.get(fid, 0)))
        console.print(ft)
    base = doc["baseline"]
    if base is not None:
        console.print()
        diff = base["diff"]
        console.print(
            Text(
                f"Since the baseline {inert(base['path'], 200)} "
                f"(tolerance {_num(diff['tolerance'])} %):",
                style="bold",
            )
        )
        lines = diff_lines(diff)
        for line in lines:
            bad = line.startswith(("new ", "worse", "now unreadable", "disappeared"))
            console.print(Text(f"  {line}", style="yellow" if bad else ""))
        if not lines:
            console.print(Text("  nothing changed"))
        n_worse = len(worse(diff))
        if n_worse:
            console.print(Text(f"  {n_worse} measure(s) got worse", style="yellow"))
    if doc["gates"]:
        console.print()
        console.print(Text("Gates (--fail-on):", style="bold"))
        for tripped, line in gate_lines(doc["gates"]):
            console.print(Text(f"  {line}", style="bold red" if tripped else "green"))
    return buf.getvalue()


def metrics_line(row: Mapping[str, Any]) -> str:
    """The RFC 6076 ratios and delay p95s that have data, on one line."""
    k = row["kpis"]
    parts = [f"{n.upper()} {_pct(k[n]['value'])}" for n in _RATIOS if k[n]["value"] is not None]
    parts += [f"{n} p95 {_ms(k[n]['p95'])}" for n in _DELAYS if k[n]["count"]]
    return ", ".join(parts) or "nothing to measure"


def _finding_captures(doc: Mapping[str, Any]) -> dict[str, int]:
    per: dict[str, int] = {}
    for c in doc["captures"]:
        for fid in c.get("findings", {}):
            per[fid] = per.get(fid, 0) + 1
    return per


def markdown(doc: Mapping[str, Any]) -> str:
    """The aggregated report in Markdown (a nightly summary for a ticket or a wiki)."""
    t = doc["totals"]
    lines = ["# sip-analyzer batch report", ""]
    lines += [prose(f"Made by sip-analyzer {__version__}. {summary_line(doc)}."), ""]
    if doc["gates"]:
        lines += ["## Gates", "", *gate_items(doc["gates"]), ""]
    head = ["capture", *NUMBER_COLUMNS, "status"]
    rows = []
    for c in doc["captures"]:
        name = code(c["key"], _NAME_LIMIT, table=True)
        report = c["reports"].get("markdown") or c["reports"].get("html")
        href = report_href(report) if report else None
        if href:
            name += f" ([report](<{href}>))"
        if c["status"] != "ok":
            err = c["error"]
            status = f"{err['kind']}: {code(err['message'], 300, table=True)}"
            rows.append([name, *[""] * len(NUMBER_COLUMNS), status])
            continue
        rows.append([name, *_cells(c), "ok"])
    rows.append(["**totals**", *_cells(t), f"{t['analysed']}/{t['captures']} analysed"])
    lines += ["## Captures", "", _md_row(head), _md_row(["---"] + ["---:"] * 7 + ["---"])]
    lines += [_md_row(r) for r in rows]
    lines.append("")
    lines += ["## Totals", ""]
    outcomes = ", ".join(f"{o} {t['outcomes'][o]}" for o in OUTCOMES if t["outcomes"].get(o))
    lines.append(f"- Outcomes: {outcomes or 'no calls'}")
    codes = ", ".join(f"{k} ×{v}" for k, v in t["responses_by_status"].items())
    lines.append(f"- Responses: {codes or 'none'}")
    lines.append(f"- Metrics (captures pooled): {metrics_line(t)}")
    lines.append("")
    if t["findings"]:
        lines += ["## Findings", "", _md_row(["finding", "severity", "count", "captures"])]
        lines.append(_md_row(["---", "---", "---:", "---:"]))
        per = _finding_captures(doc)
        for fid, f in t["findings"].items():
            lines.append(
                _md_row(
                    [
                        code(fid, 100, table=True),
                        f["severity"],
                        str(f["count"]),
                        str(per.get(fid, 0)),
                    ]
                )
            )
        lines.append("")
    base = doc["baseline"]
    if base is not None:
        diff = base["diff"]
        lines += ["## Since the baseline", ""]
        lines.append(f"Baseline {code(base['path'])}, tolerance {_num(diff['tolerance'])} %.")
        lines.append("")
        changes = diff_lines(diff)
        lines += [f"- {code(line, 500)}" for line in changes] or ["Nothing changed."]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def junit(doc: Mapping[str, Any]) -> str:
    """The aggregated report as JUnit XML: suite `captures` (a case per capture, failed
    when it could not be analysed or has error findings) and suite `gates` (a case per
    gate, failed when it tripped)."""
    root = ET.Element("testsuites", name="sip-analyzer batch")
    cases = ET.SubElement(root, "testsuite", name="captures")
    failures = 0
    for c in doc["captures"]:
        tc = ET.SubElement(
            cases,
            "testcase",
            classname="sip.batch.captures",
            name=xml_text(c["key"]),
            time=f"{c['seconds']:.3f}",
        )
        if c["status"] != "ok":
            failures += 1
            err = c["error"]
            ET.SubElement(
                tc,
                "failure",
                message=xml_text(f"{err['kind']}: {err['message']}", 500),
                type=err["kind"],
            )
        elif c["findings_by_severity"]["error"]:
            failures += 1
            errs = [
                f"{fid} ×{f['count']}: {f['title']}"
                for fid, f in c["findings"].items()
                if f["severity"] == "error"
            ]
            fail = ET.SubElement(
                tc, "failure", message=xml_text(f"{len(errs)} error finding(s)"), type="finding"
            )
            fail.text = xml_text("\n".join(errs))
        out = ET.SubElement(tc, "system-out")
        out.text = xml_text(
            f"calls {c.get('calls', 0)}, failed {c.get('failed_calls', 0)}; "
            + (metrics_line(c) if c["status"] == "ok" else "not analysed")
        )
    cases.set("tests", str(len(doc["captures"])))
    cases.set("failures", str(failures))
    cases.set("errors", "0")
    gates = ET.SubElement(root, "testsuite", name="gates")
    tripped = 0
    for g in doc["gates"]:
        tc = ET.SubElement(gates, "testcase", classname="sip.batch.gates", name=xml_text(g["expr"]))
        if g["tripped"]:
            tripped += 1
            fail = ET.SubElement(tc, "failure", message=xml_text(g["detail"]), type="gate")
            fail.text = xml_text("\n".join(g["captures"]))
    gates.set("tests", str(len(doc["gates"])))
    gates.set("failures", str(tripped))
    gates.set("errors", "0")
    root.set("tests", str(len(doc["captures"]) + len(doc["gates"])))
    root.set("failures", str(failures + tripped))
    root.set("errors", "0")
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
