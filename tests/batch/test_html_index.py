"""`batch.html`, the aggregated batch report as a web page: built from a real batch run
over lab captures, an empty file and hostile file names; safe (one script, by hash; no
handlers, no images; links only to the reports written), faithful to batch.json, and
sortable and filterable in a real browser (headless Chromium)."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from analyzer.batch import aggregate, html_index
from analyzer.cli import main
from analyzer.report.text import UNSAFE, inert
from tests.conftest import CAPTURES
from tests.report.test_html import _browser, _console, _selftest, _sha256

lxml_html = pytest.importorskip("lxml.html")

HOSTILE = "<img src=x onerror=alert(1)>\"'\u202e.pcap"
"""A copy of udp4-busy.pcap: markup, quotes and a bidi override in a file name."""
PERCENT = "sub/50% loss #2?.pcap"
"""A copy of udp4-answered.pcap in a subdirectory: `%`, a space, `#` and `?`."""
LAB = ("udp4-busy.pcap", "udp4-answered.pcap", "udp4-outbound-439.pcap")
GATES = ("status:4xx>0", "unreadable>5")
NUMBER_COLUMNS = (
    "packets",
    "sip_messages",
    "calls",
    "answered",
    "failed",
    "ser",
    "errors",
    "warnings",
    "infos",
)


@dataclass(frozen=True)
class Run:
    """One `sip-analyzer batch` run: its exit code, output directory and documents."""

    code: int
    out: Path
    doc: dict[str, Any]
    page: str


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    src = tmp_path_factory.mktemp("captures")
    for name in LAB:
        shutil.copy(CAPTURES / name, src / name)
    shutil.copy(CAPTURES / "udp4-busy.pcap", src / HOSTILE)
    (src / "sub").mkdir()
    shutil.copy(CAPTURES / "udp4-answered.pcap", src / PERCENT)
    (src / "empty.pcap").write_bytes(b"")
    out = tmp_path_factory.mktemp("out")
    args = ["batch", str(src), "--out", str(out), "--format", "html,json"]
    for gate in GATES:
        args += ["--fail-on", gate]
    code = main(args)
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    return Run(code, out, doc, (out / "batch.html").read_text(encoding="utf-8"))


def _parse(document: str) -> Any:
    return lxml_html.document_fromstring(document)


def _cells(row: Any) -> dict[str, Any]:
    return {cell.get("data-col"): cell for cell in row if cell.get("data-col")}


def _expected(row: Mapping[str, Any]) -> dict[str, float | None]:
    """The numbers a capture row (or the totals) shows, from batch.json."""
    if "calls" not in row:
        return dict.fromkeys(NUMBER_COLUMNS)
    sev = row["findings_by_severity"]
    return {
        "packets": row["accounting"]["packets"],
        "sip_messages": row["accounting"]["sip_messages"],
        "calls": row["calls"],
        "answered": row["outcomes"]["answered"],
        "failed": row["failed_calls"],
        "ser": row["kpis"]["ser"]["value"],
        "errors": sev["error"],
        "warnings": sev["warning"],
        "infos": sev["info"],
    }


def _check_numbers(cells: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    for col, value in _expected(row).items():
        cell = cells[col]
        if value is None:
            assert cell.text_content() == "", col
            assert cell.get("data-v") == "", col
            continue
        assert float(cell.get("data-v")) == pytest.approx(value), col
        shown = f"{value:.1f} %" if col == "ser" else str(value)
        assert cell.text_content() == shown, col


def _problem(c: Mapping[str, Any]) -> bool:
    return bool(
        c["status"] != "ok"
        or c.get("failed_calls")
        or c.get("findings_by_severity", {}).get("error")
    )


# -- the run and the file ---------------------------------------------------------------


def test_the_run_writes_batch_html_and_the_gate_trips(run: Run) -> None:
    assert run.code == 1  # status:4xx>0 tripped
    assert [(g["expr"], g["tripped"]) for g in run.doc["gates"]] == [
        ("status:4xx>0", True),
        ("unreadable>5", False),
    ]
    keys = {c["key"] for c in run.doc["captures"]}
    assert keys == {*LAB, HOSTILE, PERCENT, "empty.pcap"}
    assert run.page.startswith("<!DOCTYPE html>\n")
    assert run.page.endswith("</html>\n")
    assert run.page == html_index.render(run.doc)  # the page is the document's, no more


# -- safety ---------------------------------------------------------------------------------


def test_one_script_allowed_by_its_hash(run: Run) -> None:
    root = _parse(run.page)
    assert root.get("lang") == "en"
    assert root.xpath("//meta[@charset]")[0].get("charset") == "utf-8"
    scripts = root.xpath("//script")
    assert len(scripts) == 1
    assert dict(scripts[0].attrib) == {}  # inline: no src, no type
    assert scripts[0].text == html_index.SCRIPT
    metas = root.xpath("//meta[@http-equiv='Content-Security-Policy']")
    assert len(metas) == 1
    directives = dict(d.strip().split(" ", 1) for d in metas[0].get("content").split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'sha256-{_sha256(html_index.SCRIPT)}'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert metas[0].get("content") == html_index.CSP


def test_script_never_ends_early_nor_writes_markup() -> None:
    script = html_index.SCRIPT
    assert script.isascii()
    assert "</script" not in script.lower()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_no_handlers_no_images_links_only_to_written_reports(run: Run) -> None:
    root = _parse(run.page)
    out = run.out.resolve()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments
        assert el.tag not in ("img", "iframe", "object", "embed", "form", "base", "link", "svg")
        for name in el.attrib:
            assert not name.lower().startswith("on"), (el.tag, name)
            assert name.lower() not in ("src", "srcset", "action", "formaction", "style")
    hrefs = [a.get("href") for a in root.iter("a")]
    reports = 0
    for href in hrefs:
        assert href, "a link without a target"
        if href.startswith("#"):
            assert root.get_element_by_id(href[1:], None) is not None, href
            continue
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == ("", "", "", ""), href
        assert not href.startswith("/"), href
        target = (out / unquote(parts.path)).resolve()
        assert target.is_relative_to(out), href
        assert target.is_file(), href
        reports += 1
    # Every report of the 5 analysed captures is linked (html and json), and their
    # names link to the html one again.
    assert sum(len(c["reports"]) for c in run.doc["captures"]) == 10
    assert reports == 10 + 5


def test_hostile_names_and_titles_are_only_text(run: Run) -> None:
    page = run.page
    assert "<img" not in page
    assert UNSAFE.search(page) is None  # no bidi override, no control character
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;\\x202e.pcap" in page
    root = _parse(page)
    rows = {r.get("id"): r for r in root.get_element_by_id("cap-table").xpath("./tbody/tr")}
    keys = [c["key"] for c in run.doc["captures"]]
    for i, key in enumerate(keys):
        cell = _cells(rows[f"cap-{i}"])["capture"]
        assert cell.text_content() == inert(key, 200)
        links = cell.xpath(".//a")
        if key == "empty.pcap":
            assert links == []  # no report was written for it
            continue
        assert len(links) == 1
        assert unquote(links[0].get("href")) == key + ".html"
    percent = keys.index(PERCENT)
    link = _cells(rows[f"cap-{percent}"])["capture"].xpath(".//a")[0]
    assert link.get("href") == "sub/50%25%20loss%20%232%3F.pcap.html"


EVIL = "<script>alert(2)</script><b>x</b>\"' \x1b[31m\u202e"


def test_every_string_of_the_document_is_escaped(run: Run) -> None:
    # batch.json could come from anywhere: put markup in every string the page shows.
    doc = copy.deepcopy(run.doc)
    doc["lang"] = EVIL
    doc["formats"] = [EVIL]
    doc["run"].update(started=EVIL, host=EVIL, inputs=[EVIL], scheduler=EVIL)
    t = doc["totals"]
    t["accounting"]["format"] = EVIL
    t["requests_by_method"][EVIL] = 1
    t["findings"][EVIL] = {"severity": EVIL, "count": 1, "title": EVIL}
    for c in doc["captures"]:
        if c["status"] == "ok":
            c["findings"][EVIL] = {"severity": "error", "count": 1, "title": EVIL}
            c["reports"] = {
                "html": "javascript:alert(1)",
                "json": "../../etc/passwd",
                "markdown": "//evil.example/x",
                EVIL: "/etc/passwd",
                "csv": EVIL,
            }
        else:
            c["error"] = {"kind": EVIL, "message": EVIL}
    doc["gates"][0].update(expr=EVIL, detail=EVIL, captures=[EVIL, *doc["gates"][0]["captures"]])
    doc = aggregate.with_baseline(doc, run.doc, EVIL, 0.0)
    page = html_index.render(doc)
    assert page.count("<script") == 1
    assert "<b>x" not in page
    assert UNSAFE.search(page) is None
    root = _parse(page)
    assert len(root.xpath("//script")) == 1
    assert all(not name.startswith("on") for el in root.iter("*") for name in el.attrib)
    for a in root.iter("a"):
        href = a.get("href")
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.query) == ("", "", ""), href
        if parts.fragment:
            assert href.startswith("#"), href
            assert root.get_element_by_id(href[1:], None) is not None, href
        else:
            assert not href.startswith("/"), href
            assert ".." not in unquote(href).split("/"), href
    hrefs = {a.get("href") for a in root.iter("a")}
    assert "javascript%3Aalert%281%29" in hrefs  # a relative file name, never a scheme
    assert inert(EVIL) in root.text_content()


def test_report_href_keeps_links_relative() -> None:
    href = html_index.report_href
    assert href("a/b c%.pcap.html") == "a/b%20c%25.pcap.html"
    assert href("javascript:alert(1).html") == "javascript%3Aalert%281%29.html"
    assert href("x#y?z.html") == "x%23y%3Fz.html"
    assert href('"><img>.html') == "%22%3E%3Cimg%3E.html"
    for bad in ("/etc/passwd", "//evil.example/x", "../up.html", "a/../../b.html", "a//b", ""):
        assert href(bad) is None, bad


# -- faithful to batch.json -------------------------------------------------------------------


def test_table_has_a_row_per_capture_with_its_numbers_and_totals(run: Run) -> None:
    root = _parse(run.page)
    table = root.get_element_by_id("cap-table")
    rows = table.xpath("./tbody/tr")
    captures = run.doc["captures"]
    assert len(rows) == len(captures)
    heads = [th.get("data-col") for th in table.xpath("./thead/tr/th")]
    assert heads[: len(NUMBER_COLUMNS) + 1] == ["capture", *NUMBER_COLUMNS]
    for row, c in zip(rows, captures, strict=True):
        cells = _cells(row)
        assert list(cells) == heads
        assert cells["capture"].text_content() == inert(c["key"], 200)
        _check_numbers(cells, c)
        assert row.get("data-problem") == str(int(_problem(c)))
        status = cells["status"].text_content()
        if c["status"] == "ok":
            assert status == "ok"
            assert "error" not in (row.get("class") or "")
        else:
            assert status.startswith(c["error"]["kind"] + " ")
            assert inert(c["error"]["message"], 300) in status
            assert "error" in row.get("class").split()
        linked = [a.text_content() for a in cells["reports"].xpath(".//a")]
        assert linked == list(c["reports"])
    (foot,) = table.xpath("./tfoot/tr")
    cells = _cells(foot)
    assert list(cells) == heads
    assert cells["capture"].text_content() == "totals"
    _check_numbers(cells, run.doc["totals"])
    t = run.doc["totals"]
    assert cells["status"].text_content() == (
        f"{t['analysed']} of {t['captures']} analysed, {t['errors']} with errors"
    )
    empty = next(c for c in captures if c["key"] == "empty.pcap")
    assert empty["status"] == "error"
    assert empty["error"]["kind"] == "unreadable"


def test_header_gates_totals_and_findings(run: Run) -> None:
    root = _parse(run.page)
    doc = run.doc
    t = doc["totals"]
    stats = {
        d.get("data-stat"): int(d.xpath("./b")[0].text_content())
        for d in root.xpath("//div[@data-stat]")
    }
    assert stats == {
        "captures": t["captures"],
        "analysed": t["analysed"],
        "errors": t["errors"],
        "packets": t["accounting"]["packets"],
        "sip_messages": t["accounting"]["sip_messages"],
        "calls": t["calls"],
        "failed_calls": t["failed_calls"],
        **{s: t["findings_by_severity"][s] for s in ("error", "warning", "info")},
    }
    run_facts = root.xpath("//p[contains(@class, 'run')]")[0].text_content()
    assert doc["run"]["started"].replace("T", " ").replace("+00:00", " UTC") in run_facts
    assert f"{doc['run']['workers']} worker" in run_facts
    verdict = root.xpath("//p[contains(@class, 'verdict')]")[0]
    assert "bad" in verdict.get("class").split()
    assert "1 of 2 gates tripped: status:4xx>0" in verdict.text_content()
    # The gates come first, each with its verdict, and name captures by their rows.
    sections = [s.get("id") for s in root.xpath("//main/section")]
    assert sections == ["gates", "captures", "totals", "findings"]  # no baseline asked for
    rows = root.xpath("//section[@id='gates']//tbody/tr")
    assert len(rows) == len(doc["gates"])
    keys = [c["key"] for c in doc["captures"]]
    for row, gate in zip(rows, doc["gates"], strict=True):
        state = "tripped" if gate["tripped"] else "passed"
        assert row.get("class") == state
        text = row.text_content()
        assert gate["expr"] in text
        assert gate["detail"] in text
        named = [keys[int(a.get("href").removeprefix("#cap-"))] for a in row.xpath(".//a")]
        assert named == gate["captures"]
    assert doc["gates"][0]["captures"]  # the tripped gate names the 4xx captures
    # Totals: outcomes, responses by status, pooled metrics.
    outcomes = {
        r.get("data-outcome"): int(r.xpath("./td")[1].text_content())
        for r in root.xpath("//table[@class='outcomes calls']/tbody/tr")
    }
    assert outcomes == {o: n for o, n in t["outcomes"].items() if n}
    statuses = {
        r.get("data-status"): int(r.xpath("./td")[1].text_content())
        for r in root.xpath("//table[@class='responses']/tbody/tr")
    }
    assert statuses == t["responses_by_status"]
    metrics = {r.get("data-metric") for r in root.xpath("//tr[@data-metric]")}
    assert "ser" in metrics
    assert "srd" in metrics
    # Findings: id, severity, count and number of captures.
    per: dict[str, int] = {}
    for c in doc["captures"]:
        for fid in c.get("findings", {}):
            per[fid] = per.get(fid, 0) + 1
    got = {}
    for r in root.get_element_by_id("finding-table").xpath("./tbody/tr"):
        tds = [td.text_content() for td in r.xpath("./td")]
        got[tds[0]] = (tds[1], int(tds[2]), int(tds[3]))
    assert got == {
        inert(fid, 100): (f["severity"], f["count"], per[fid]) for fid, f in t["findings"].items()
    }


def test_baseline_section_lists_every_kind_of_change(run: Run) -> None:
    after = copy.deepcopy(run.doc)
    before = copy.deepcopy(run.doc)
    by_key = {c["key"]: c for c in before["captures"]}
    # appeared: not in the baseline; disappeared: only there, with a hostile name
    before["captures"].remove(by_key["udp4-answered.pcap"])
    gone = copy.deepcopy(by_key["udp4-busy.pcap"])
    gone["key"] = "gone<script>alert(1)</script>.pcap"
    before["captures"].append(gone)
    # became unreadable: readable in the baseline
    then_ok = copy.deepcopy(by_key["udp4-busy.pcap"])
    then_ok["key"] = "empty.pcap"
    before["captures"][before["captures"].index(by_key["empty.pcap"])] = then_ok
    # new and gone statuses and findings, and a moved measure, on udp4-busy.pcap
    busy = by_key["udp4-busy.pcap"]
    del busy["responses_by_status"]["486"]
    busy["responses_by_status"]["599"] = 1
    busy["findings"].pop("call.busy")
    busy["findings"]["old.<b>finding</b>"] = {"severity": "error", "count": 1, "title": "x"}
    busy["failed_calls"] = 0
    doc = aggregate.with_baseline(after, before, "nightly/<img src=x>.json", 0.0)
    diff = doc["baseline"]["diff"]
    kinds = (
        "appeared",
        "disappeared",
        "became_unreadable",
        "new_statuses",
        "new_findings",
        "moved",
        "gone_statuses",
        "resolved_findings",
    )
    for kind in kinds:
        assert diff[kind], kind
    page = html_index.render(doc)
    assert "<img" not in page
    assert "<b>finding" not in page
    assert "<script>alert" not in page
    root = _parse(page)
    sections = [s.get("id") for s in root.xpath("//main/section")]
    assert sections == ["gates", "baseline", "captures", "totals", "findings"]
    section = root.get_element_by_id("baseline")
    text = section.text_content()
    assert "nightly/<img src=x>.json" in text  # as text
    heads = [h.text_content() for h in section.xpath("./h3")]
    titles = {
        "appeared": "Appeared",
        "disappeared": "Disappeared",
        "became_unreadable": "Became unreadable",
        "new_statuses": "New response codes",
        "new_findings": "New findings",
        "moved": "Moved beyond the tolerance",
        "gone_statuses": "Response codes gone",
        "resolved_findings": "Findings resolved",
    }
    assert heads == [f"{titles[k]} ({len(diff[k])})" for k in kinds]
    assert "gone<script>alert(1)</script>.pcap" in text
    assert "old.<b>finding</b>" in text
    assert "599" in text
    worse = section.xpath(".//tr[@class='worse']")
    assert len(worse) == sum(1 for m in diff["moved"] if m["worse"]) > 0
    assert all("worse" in r.text_content() for r in worse)
    # A capture of this run is linked to its row; one that disappeared is not.
    keys = [c["key"] for c in doc["captures"]]
    appeared = section.xpath("./h3[starts-with(., 'Appeared')]/following-sibling::p[1]//a")
    assert [keys[int(a.get("href")[5:])] for a in appeared] == ["udp4-answered.pcap"]
    # Nothing changed: said so.
    same = aggregate.with_baseline(copy.deepcopy(run.doc), run.doc, "same.json", 0.0)
    quiet = _parse(html_index.render(same)).get_element_by_id("baseline")
    assert "Nothing changed." in quiet.text_content()


def test_no_gates_no_baseline_no_sections() -> None:
    root = _parse(html_index.render(_minimal()))
    sections = [s.get("id") for s in root.xpath("//main/section")]
    assert sections == ["captures", "totals", "findings"]
    assert root.xpath("//p[contains(@class, 'verdict')]") == []


def _minimal() -> dict[str, Any]:
    """A document of one unreadable capture (nothing analysed)."""
    kpis: dict[str, Any] = {
        n: {"value": None, "numerator": 0, "denominator": 0, "rfc": None}
        for n in ("ser", "seer", "isa", "scr", "ira")
    }
    kpis.update(
        {
            n: {"count": 0, "mean": None, "p50": None, "p95": None, "min": None, "max": None}
            for n in ("rrd", "srd", "srd_failed", "sdd", "sdt", "setup", "ring")
        }
    )
    accounting = dict.fromkeys(
        (
            "packets",
            "sip_packets",
            "non_sip",
            "skipped",
            "sip_messages",
            "sip_errors",
            "tcp_gaps",
            "warnings",
            "truncated",
        ),
        0,
    )
    return {
        "schema": aggregate.SCHEMA,
        "lang": "en",
        "formats": [],
        "run": {"started": None, "seconds": 0.1, "workers": 1, "scheduler": None},
        "captures": [
            {
                "key": "x.pcap",
                "status": "error",
                "error": {"kind": "unreadable", "message": "empty"},
                "reports": {},
            }
        ],
        "totals": {
            "captures": 1,
            "analysed": 0,
            "unreadable": 1,
            "errors": 0,
            "ignored_files": 0,
            "accounting": {**accounting, "format": ""},
            "calls": 0,
            "failed_calls": 0,
            "outcomes": {},
            "registrations": 0,
            "registration_outcomes": {},
            "responses_by_status": {},
            "requests_by_method": {},
            "findings": {},
            "findings_by_severity": {"error": 0, "warning": 0, "info": 0},
            "kpis": kpis,
        },
        "baseline": None,
        "gates": [],
    }


# -- in the browser ---------------------------------------------------------------------------


def _with_probe(document: str, probe: str) -> str:
    """A copy of the page with `probe` run after its own script, allowed by the CSP."""
    csp = html_index.CSP
    extended = csp.replace("script-src ", f"script-src 'sha256-{_sha256(probe)}' ")
    assert html.escape(csp, quote=True) in document
    document = document.replace(html.escape(csp, quote=True), html.escape(extended, quote=True))
    return document.replace("</body>", f"<script>{probe}</script>\n</body>")


def test_page_loads_in_chromium_without_console_errors(run: Run, tmp_path: Path) -> None:
    got = _browser(
        tmp_path, "--virtual-time-budget=5000", "--dump-dom", (run.out / "batch.html").as_uri()
    )
    assert got.returncode == 0, got.stderr[-2000:]
    assert _console(got.stderr) == []
    assert 'class="js"' in got.stdout.split(">")[1]  # the script ran
    n = len(run.doc["captures"])
    assert f"{n} of {n} captures shown" in got.stdout


def test_injected_script_would_be_blocked(run: Run, tmp_path: Path) -> None:
    page = run.out / "injected.html"
    page.write_text(
        run.page.replace("</body>", "<script>document.title='pwned'</script></body>"),
        encoding="utf-8",
    )
    got = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert "Content Security Policy" in " ".join(_console(got.stderr))
    assert "<title>pwned</title>" not in got.stdout


_PROBE = """
(() => {
  const out = {};
  const table = document.getElementById("cap-table");
  const heads = Array.from(table.tHead.rows[0].cells);
  const col = (name) => heads.findIndex((th) => th.getAttribute("data-col") === name);
  const click = (name) => heads[col(name)].querySelector("button").click();
  const visible = () => Array.from(table.tBodies[0].rows).filter((r) => !r.hidden);
  const keys = () => visible().map((r) => r.cells[0].textContent);
  const search = document.getElementById("cap-search");
  const problems = document.getElementById("cap-problems");
  const find = (words) => {
    search.value = words;
    search.dispatchEvent(new Event("input"));
    return keys();
  };
  out.initial = keys();
  click("packets");
  out.packetsAsc = keys();
  out.packetsSort = heads[col("packets")].getAttribute("aria-sort");
  click("packets");
  out.packetsDesc = keys();
  out.packetsSortAgain = heads[col("packets")].getAttribute("aria-sort");
  click("capture");
  out.byName = keys();
  out.otherSort = heads[col("packets")].getAttribute("aria-sort");
  out.footer = table.tFoot.rows[0].cells[0].textContent;
  out.busy = find("busy");
  out.count = document.getElementById("cap-count").textContent;
  out.unreadable = find("UNREADABLE");
  out.twoWords = find("udp4 439");
  out.none = find("no such capture");
  out.cleared = find("").length;
  problems.checked = true;
  problems.dispatchEvent(new Event("change"));
  out.problems = keys();
  problems.checked = false;
  problems.dispatchEvent(new Event("change"));
  find("answered");
  const link = document.querySelector("#gates a[href^='#cap-']");
  const target = document.getElementById(link.getAttribute("href").slice(1));
  out.hiddenBefore = target.hidden;
  link.click();
  out.shownAfter = !target.hidden;
  out.searchAfter = search.value;
  const ft = document.getElementById("finding-table");
  ft.tHead.rows[0].cells[2].querySelector("button").click();
  out.findingCounts = Array.from(ft.tBodies[0].rows).map((r) => Number(r.cells[2].textContent));
  const pre = document.createElement("pre");
  pre.id = "selftest";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def test_sorting_and_filtering_in_chromium(run: Run, tmp_path: Path) -> None:
    page = run.out / "probe.html"
    page.write_text(_with_probe(run.page, _PROBE), encoding="utf-8")
    got = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert got.returncode == 0, got.stderr[-2000:]
    assert _console(got.stderr) == []
    result = _selftest(got.stdout)
    captures = run.doc["captures"]
    name = {c["key"]: inert(c["key"], 200) for c in captures}
    analysed = [c for c in captures if "calls" in c]
    unmeasured = [name[c["key"]] for c in captures if "calls" not in c]

    def packets(c: Mapping[str, Any]) -> int:
        n: int = c["accounting"]["packets"]
        return n

    assert result["initial"] == [name[c["key"]] for c in captures]
    # Numbers ascending, then descending (ties in page order); unmeasured rows last.
    assert result["packetsAsc"] == [name[c["key"]] for c in sorted(analysed, key=packets)] + (
        unmeasured
    )
    assert (
        result["packetsDesc"]
        == [name[c["key"]] for c in sorted(analysed, key=lambda c: -packets(c))] + unmeasured
    )
    assert (result["packetsSort"], result["packetsSortAgain"]) == ("ascending", "descending")
    assert result["byName"] == sorted(name.values(), key=str.lower)
    assert result["otherSort"] == "none"
    assert result["footer"] == "totals"  # the totals row stays put
    # The filter matches names and statuses, every word, case-insensitively.
    assert result["busy"] == ["udp4-busy.pcap"]
    assert result["count"] == f"1 of {len(captures)} captures shown"
    assert result["unreadable"] == ["empty.pcap"]
    assert result["twoWords"] == ["udp4-outbound-439.pcap"]
    assert result["none"] == []
    assert result["cleared"] == len(captures)
    problems = result["problems"]
    assert isinstance(problems, list)
    assert sorted(problems) == sorted(name[c["key"]] for c in captures if _problem(c))
    # A gate's link to a row hidden by the filter shows it again.
    assert result["hiddenBefore"] is True
    assert result["shownAfter"] is True
    assert result["searchAfter"] == ""
    counts = result["findingCounts"]
    assert isinstance(counts, list)
    assert counts == sorted(counts)


def test_without_the_script_the_table_is_plain_and_complete(run: Run) -> None:
    # What a browser without scripts shows is the page as written: every row, none
    # hidden, in batch.json's order; the filter controls are hidden by the style unless
    # the script marked the page (`.js`).
    root = _parse(run.page)
    rows = root.get_element_by_id("cap-table").xpath("./tbody/tr")
    assert [r.get("id") for r in rows] == [f"cap-{i}" for i in range(len(run.doc["captures"]))]
    assert root.xpath("//*[@hidden]") == []
    assert re.search(r"(^|\n)\.controls\{display:none", run.page)
    assert ".js .controls{display:flex}" in run.page
    assert "js" not in (root.get("class") or "")
