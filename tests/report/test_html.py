"""HTML report: one self-contained file, safe with hostile captures, and working in a
real browser (headless Chromium: rendering, console, sorting, filtering, ladders)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from analyzer import Analysis, Options, analyze
from analyzer.report import html as html_report
from analyzer.report.interface import RenderOptions
from analyzer.select import Selection, error_call_ids, is_failed, select
from tests.conftest import CAPTURES
from tests.ingest import pcapgen

DEMO = CAPTURES / "demo.pcapng"
PROXY_TIMEOUT = CAPTURES / "udp4-timeout-via-proxy.pcap"  # retransmissions, three hops
LOAD = CAPTURES / "load" / "udp4-load.pcap.gz"  # 1000 calls

# -- helpers ----------------------------------------------------------------------


@cache
def _analysis(path: Path, lang: str = "en") -> Analysis:
    return analyze(str(path), Options(lang=lang))


def _render(path: Path, ladder: str = "failed", lang: str = "en") -> str:
    return html_report.render(_analysis(path, lang), RenderOptions(ladder=ladder))


def _sha256(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


class _Page(HTMLParser):
    """What the structure tests look at: scripts, attributes, text, CSP, ids, classes."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.attrs: list[tuple[str, str, str | None]] = []  # (tag, name, value)
        self.csp: str | None = None
        self.lang: str | None = None
        self.text: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self._in_script: dict[str, str | None] | None = None
        self._script_text: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag == "script":
            self._in_script, self._script_text = a, []
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if tag == "html":
            self.lang = a.get("lang")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._script_text)))
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._script_text.append(data)
        else:
            self.text.append(data)

    def having(self, cls: str) -> list[dict[str, str | None]]:
        """Attributes of the elements with class `cls`."""
        return [a for _, a in self.elements if cls in (a.get("class") or "").split()]


def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium not installed (Debian package `chromium`): browser checks skipped")
    return exe


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once (its own profile in `tmp_path`, 60 s at most)."""
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _console(stderr: str) -> list[str]:
    """What the page said on the console: messages, uncaught errors, CSP violations."""
    return [
        line
        for line in stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Refused to" in line
    ]


def _dump_dom(tmp_path: Path, document: str, name: str = "report.html") -> str:
    """The DOM after the page's scripts ran; fails on any console output."""
    page = tmp_path / name
    page.write_text(document, encoding="utf-8")
    run = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run.stderr) == []
    return run.stdout


def _with_script(document: str, script: str) -> str:
    """A copy of the report with `script` run after its own, allowed by the CSP."""
    csp = html_report.CSP
    assert csp in html.unescape(document)
    extended = csp.replace("script-src ", f"script-src 'sha256-{_sha256(script)}' ")
    document = document.replace(html.escape(csp, quote=True), html.escape(extended, quote=True))
    return document.replace("</body>", f"<script>{script}</script>\n</body>")


def _selftest(dom: str) -> dict[str, object]:
    found = re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S)
    assert found, "the test script did not run"
    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


# -- structure ------------------------------------------------------------------------


def test_one_file_with_only_its_own_script_allowed_by_hash() -> None:
    document = _render(DEMO)
    page = _Page(document)
    assert document.startswith("<!DOCTYPE html>\n")
    assert len(page.scripts) == 1
    attrs, script = page.scripts[0]
    assert attrs == {}  # inline, no src, no type
    assert script == html_report.SCRIPT
    assert page.csp is not None
    directives = dict(d.strip().split(" ", 1) for d in page.csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"] == "'unsafe-inline'"
    assert directives["script-src"] == f"'sha256-{_sha256(script)}'"
    assert directives["base-uri"] == "'none'"
    # No way out to the network: links stay in the page, nothing is fetched.
    for tag, name, value in page.attrs:
        if name in ("href", "src", "srcset", "action", "xlink:href", "poster", "data"):
            assert (value or "").startswith("#"), (tag, name, value)
    urls = re.findall(r"(?:https?:)?//[^\s\"'<>)]+", document)
    assert set(urls) == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert "@import" not in document
    assert "url(" not in document.replace("url(#m", "")  # only the SVG arrowhead markers


def test_script_and_style_never_end_early() -> None:
    # The page's own code must not contain what would close its element or need escaping.
    assert "</script" not in html_report.SCRIPT.lower()
    assert html_report.SCRIPT.isascii()
    assert "innerHTML" not in html_report.SCRIPT
    assert "insertAdjacentHTML" not in html_report.SCRIPT
    assert "document.write" not in html_report.SCRIPT


def test_header_summary_findings_metrics() -> None:
    analysis = _analysis(DEMO)
    document = _render(DEMO)
    page = _Page(document)
    text = " ".join(page.text)
    assert page.lang == "en"
    acc = analysis.captures[0]
    assert "captures/demo.pcapng" in text
    cells = re.findall(r'<td class="num">(\d+)</td>', document.split("</table>")[0])
    assert cells == [str(acc.packets), str(acc.sip), str(acc.non_sip), str(acc.sip_messages)]
    stats = dict(re.findall(r'data-stat="(\w+)"><b>(\d+)</b>', document))
    assert stats["calls"] == str(len(analysis.call_records))
    assert stats["messages"] == str(len(analysis.store))
    for severity in ("error", "warning", "info"):
        n = sum(f.severity == severity for f in analysis.finding_records)
        assert stats[severity] == str(n)
    for outcome, n in analysis.outcome_counts().items():
        if n:
            row = re.search(rf'<tr data-outcome="{outcome}">.*?</tr>', document)
            assert row
            assert f'<td class="num total">{n}</td>' in row.group()
    for status, n in analysis.responses_by_status().items():
        row = re.search(rf'<tr class="sev-\w+" data-status="{status}">.*?</tr>', document)
        assert row, status
        entry = analysis.annotations[status]
        assert f"<b>{status}</b> {html.escape(entry.reason)}" in row.group()
        assert f'<td class="num">{n}</td>' in row.group()
        assert html.escape(entry.meaning[:40]) in row.group()
    articles = page.having("finding")
    assert len(articles) == len(analysis.finding_records)
    for f in analysis.finding_records:
        assert html.escape(f.display_filter) in document
        assert f.title in text
    # Grouped by severity, errors first.
    order = [str(a["class"]).removeprefix("finding sev-") for a in articles]
    assert order == sorted(order, key=("error", "warning", "info").index)
    assert "SER (session establishment ratio)" in text
    assert "RFC 6076 metrics" in text


def test_call_table_and_registrations() -> None:
    analysis = _analysis(DEMO)
    document = _render(DEMO)
    page = _Page(document)
    rows = page.having("call")
    assert len(rows) == len(analysis.call_records)
    errors = error_call_ids(analysis.finding_records)
    for row, call in zip(rows, analysis.call_records, strict=True):
        assert row["data-outcome"] == call.outcome
        assert row["data-failed"] == str(int(is_failed(call, errors)))
    assert len(page.having("call-detail")) == len(analysis.call_records)
    for call in analysis.call_records:
        assert html.escape(f'sip.Call-ID == "{call.call_id}"') in document
    regs = document.split('<section id="registrations">')[1].split("</section>")[0]
    assert regs.count("<tr>") == len(analysis.registration_records) + 1  # + the head


@pytest.mark.parametrize("ladder", ["failed", "all", "none"])
def test_ladders_follow_the_option(ladder: str) -> None:
    analysis = _analysis(DEMO)
    page = _Page(_render(DEMO, ladder))
    errors = error_call_ids(analysis.finding_records)
    failed = sum(is_failed(c, errors) for c in analysis.call_records)
    expected = {"failed": failed, "all": len(analysis.call_records), "none": 0}[ladder]
    assert len(page.having("lad")) == expected
    assert len(page.having("has-ladder")) == expected
    notes = page.having("no-ladder")
    assert len(notes) == len(analysis.call_records) - expected
    if ladder != "all":
        assert "--ladder all" in " ".join(page.text)


def test_ladder_has_every_frame_and_offset() -> None:
    analysis = _analysis(PROXY_TIMEOUT)
    document = _render(PROXY_TIMEOUT, "all")
    call = analysis.call_records[0]
    detail = document.split('id="call-0"')[1].split("</section>")[0]
    frames = re.findall(r'<text class="fn" x="\d+" y="\d+">(\d+)</text>', detail)
    assert frames == [str(analysis.store[i].frame) for i in call.messages]
    offsets = re.findall(r'<text class="off" x="\d+" y="\d+">\+([\d.]+)</text>', detail)
    assert len(offsets) == len(frames)
    assert offsets[0] == "0.000"
    assert detail.count('class="a kreq rt"') == sum(
        analysis.is_retransmission(analysis.store[i]) for i in call.messages
    )
    assert detail.count('<text class="pt"') == 3  # caller, proxy, callee


def test_ladders_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_report, "MAX_LADDERS", 2)
    page = _Page(_render(DEMO, "all"))
    assert len(page.having("lad")) == 2
    text = " ".join(page.text)
    assert "Only the first 2 ladder diagrams are included" in text
    assert "a report holds at most 2" in text


def test_same_input_same_bytes_and_size_stays_small() -> None:
    first = html_report.render(analyze(str(DEMO)), RenderOptions(ladder="all"))
    assert first == html_report.render(analyze(str(DEMO)), RenderOptions(ladder="all"))
    big = _render(LOAD, "all")  # 1000 calls, 14000 messages: 500 ladders
    assert len(big.encode()) < 5_000_000
    assert len(_Page(big).having("lad")) == html_report.MAX_LADDERS


def test_selection_is_stated_and_narrows_the_calls() -> None:
    whole = _analysis(DEMO)
    chosen = select(whole, Selection(calls="failed", statuses=("4xx",)))
    document = html_report.render(chosen, RenderOptions())
    page = _Page(document)
    assert len(page.having("call")) == len(chosen.call_records) < len(whole.call_records)
    line = re.search(r'<p class="selection">(.*?)</p>', document)
    assert line
    assert "<code>--calls failed --status 4xx</code>" in line.group(1)
    assert f"{len(chosen.call_records)} of {len(whole.call_records)}" in line.group(1)
    # The summary still covers the whole capture.
    assert f'data-stat="calls"><b>{len(whole.call_records)}</b>' in document


def test_headings_in_the_analysis_language() -> None:
    page = _Page(_render(DEMO, lang="ja"))
    assert page.lang == "ja"
    text = " ".join(page.text)
    assert "ラダー図" in text
    assert "説明" in text  # heading.meaning


# -- hostile strings --------------------------------------------------------------------

_EVIL_CALL_ID = 'evil" onmouseover="x</script><img src=x onerror=alert(3)>\x1b[31m@h'
_EVIL_FROM = '"<script>alert(1)</script>" <sip:\x1b[31malice@127.0.0.1>;tag=a1'
_EVIL_TO = 'sip:x" onmouseover="y@127.0.0.2'

_EVIL_REASON = 'Busy <b onmouseover="x">Here</b></script><script>alert(4)</script>'


def _evil_capture(tmp_path: Path) -> Path:
    """An INVITE and a 486 whose headers try to break out of HTML text and attributes."""
    invite = (
        "INVITE sip:bob@127.0.0.2 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKevil1\r\n"
        f"From: {_EVIL_FROM}\r\nTo: {_EVIL_TO}\r\nCall-ID: {_EVIL_CALL_ID}\r\n"
        "CSeq: 1 INVITE\r\nUser-Agent: </script><script>alert(5)</script>\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    busy = (
        f"SIP/2.0 486 {_EVIL_REASON}\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKevil1\r\n"
        f"From: {_EVIL_FROM}\r\nTo: <{_EVIL_TO}>;tag=b1\r\nCall-ID: {_EVIL_CALL_ID}\r\n"
        'CSeq: 1 INVITE\r\nWarning: 399 evil.example "</script><script>alert(6)</script>"\r\n'
        'Reason: Q.850;cause=17;text="<img src=x onerror=alert(7)>"\r\n'
        "Content-Length: 0\r\n\r\n"
    )

    def frame(src: str, dst: str, sip: str) -> bytes:
        return bytes(Ether() / IP(src=src, dst=dst) / UDP(sport=5060, dport=5060) / sip.encode())

    path = tmp_path / "evil.pcap"
    packets = [(1.0, frame("127.0.0.1", "127.0.0.2", invite))]
    packets.append((1.01, frame("127.0.0.2", "127.0.0.1", busy)))
    path.write_bytes(pcapgen.pcap(packets))
    return path


def _assert_nothing_injected(document: str) -> None:
    page = _Page(document)
    assert [s for s in page.scripts if s[1] != html_report.SCRIPT] == []
    assert len(page.scripts) == 1
    handlers = [(t, k) for t, k, _ in page.attrs if k.startswith("on")]
    assert handlers == []
    assert not any(t == "img" for t, _ in page.elements)
    assert "\x1b" not in document


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    analysis = analyze(str(_evil_capture(tmp_path)))
    assert analysis.call_records[0].final_reason == _EVIL_REASON  # the capture parsed
    document = html_report.render(analysis, RenderOptions(ladder="all"))
    _assert_nothing_injected(document)
    text = " ".join(_Page(document).text)
    # Shown as text, control characters made visible.
    assert '\\x1b[31malice@127.0.0.1 → x"onmouseover="y@127.0.0.2' in text  # From → To
    assert '399 evil.example "</script><script>alert(6)</script>"' in text
    assert _EVIL_REASON in text
    assert _EVIL_CALL_ID.replace("\x1b", "\\x1b") in text
    assert 'Q.850;cause=17 "<img src=x onerror=alert(7)>"' in text
    assert html.escape(_EVIL_CALL_ID.replace("\x1b", "\\x1b"), quote=True) in document
    assert '"evil\\" onmouseover=\\"x' in text  # the Wireshark filter escapes quotes


def test_hostile_strings_stay_inert_in_chromium(tmp_path: Path) -> None:
    analysis = analyze(str(_evil_capture(tmp_path)))
    document = html_report.render(analysis, RenderOptions(ladder="all"))
    # Open every call and every finding link, so moved elements are rendered too.
    probe = (
        "for (const r of document.querySelectorAll('tr.call')) { r.click(); r.click(); r.click(); }"
        "const pre = document.createElement('pre'); pre.id = 'selftest';"
        "pre.textContent = JSON.stringify({shown: document.querySelectorAll("
        "'tr.detail-row .call-detail.shown').length});"
        "document.body.appendChild(pre);"
    )
    dom = _dump_dom(tmp_path, _with_script(document, probe))
    assert _selftest(dom) == {"shown": 1}
    page = _Page(dom)
    assert len(page.scripts) == 2  # the report's and the probe
    assert page.scripts[0][1] == html_report.SCRIPT
    assert [(t, k) for t, k, _ in page.attrs if k.startswith("on")] == []
    assert not any(t == "img" for t, _ in page.elements)
    assert "&lt;/script&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in dom
    # The report as shipped, with no helper script: nothing runs but its own.
    _dump_dom(tmp_path, document, "plain.html")


def test_injected_script_would_be_blocked_by_the_csp(tmp_path: Path) -> None:
    # Were an element ever to slip through escaping, the CSP would refuse to run it;
    # this also proves `_console` sees such refusals.
    document = _render(DEMO).replace("</body>", "<script>document.title='pwned'</script></body>")
    page = tmp_path / "injected.html"
    page.write_text(document, encoding="utf-8")
    run = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert "Content Security Policy" in " ".join(_console(run.stderr))
    assert "<title>pwned</title>" not in run.stdout


# -- in the browser ------------------------------------------------------------------------


def test_renders_in_chromium_without_console_errors(tmp_path: Path) -> None:
    analysis = _analysis(DEMO)
    dom = _dump_dom(tmp_path, _render(DEMO))
    page = _Page(dom)
    assert 'class="js"' in dom.split(">")[1]  # the script ran
    assert len(page.having("call")) == len(analysis.call_records)
    shown = re.search(r'<span id="call-count"[^>]*>([^<]*)</span>', dom)
    n = len(analysis.call_records)
    assert shown
    assert shown.group(1) == f"{n} of {n} calls shown"
    assert f'data-stat="calls"><b>{n}</b>' in dom


_INTERACT = """
(() => {
  const out = {};
  const table = document.getElementById("call-table");
  const heads = table.tHead.rows[0].cells;
  const visible = () => Array.from(table.tBodies[0].rows).filter(
    (r) => r.classList.contains("call") && !r.hidden);
  const ids = () => visible().map((r) => r.cells[9].textContent);
  const col = (i) => visible().map((r) => r.cells[i].getAttribute("data-v"));
  out.initial = ids();
  heads[8].click();
  out.framesAsc = col(8);
  out.framesAscSort = heads[8].getAttribute("aria-sort");
  heads[8].click();
  out.framesDesc = col(8);
  out.framesDescSort = heads[8].getAttribute("aria-sort");
  heads[9].click();
  out.idsAsc = ids();
  heads[0].click();
  out.byTime = ids();
  const search = document.getElementById("call-search");
  const outcome = document.getElementById("call-outcome");
  search.value = "REGISTER";
  search.dispatchEvent(new Event("input"));
  out.registerRows = visible().map((r) => r.cells[1].textContent);
  out.count = document.getElementById("call-count").textContent;
  search.value = "";
  search.dispatchEvent(new Event("input"));
  outcome.value = "@failed";
  outcome.dispatchEvent(new Event("change"));
  out.failedRows = visible().map((r) => r.getAttribute("data-failed"));
  outcome.value = "busy";
  outcome.dispatchEvent(new Event("change"));
  out.busyRows = visible().map((r) => r.getAttribute("data-outcome"));
  outcome.value = "";
  outcome.dispatchEvent(new Event("change"));
  out.allRows = visible().length;
  const failed = visible().find((r) => r.classList.contains("has-ladder"));
  failed.click();
  const next = failed.nextElementSibling;
  out.detailRow = next.className;
  out.detailFor = failed.cells[9].textContent;
  out.detailFrames = Array.from(next.querySelectorAll("svg .fn")).map((t) => t.textContent);
  out.detailFilter = next.querySelector("code.wf").textContent;
  out.detailVisible = next.querySelector("svg").getBoundingClientRect().height > 0;
  failed.click();
  out.closed = !failed.nextElementSibling || failed.nextElementSibling.classList.contains("call");
  const plain = visible().find((r) => !r.classList.contains("has-ladder"));
  plain.click();
  out.plainNote = plain.nextElementSibling.querySelector(".no-ladder").textContent;
  out.plainSvg = plain.nextElementSibling.querySelectorAll("svg").length;
  heads[3].click();
  out.afterSortStillBelow = plain.nextElementSibling.className;
  const link = document.querySelector("#findings a[href^='#call-']");
  link.click();
  const opened = document.querySelector("tr.call.selected");
  out.linkOpened = opened.getAttribute("data-detail") === link.getAttribute("href").slice(1);
  const pre = document.createElement("pre");
  pre.id = "selftest";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def test_sorting_filtering_and_ladders_in_chromium(tmp_path: Path) -> None:
    analysis = _analysis(DEMO)
    calls = analysis.call_records
    got = _selftest(_dump_dom(tmp_path, _with_script(_render(DEMO), _INTERACT)))
    assert got["initial"] == [c.call_id for c in calls]
    firsts = [str(c.frames[0]) for c in calls]
    numeric = sorted(firsts, key=int)
    assert numeric != sorted(firsts)  # the check below tells numeric from text order
    assert got["framesAsc"] == numeric
    assert got["framesAscSort"] == "ascending"
    assert got["framesDesc"] == numeric[::-1]
    assert got["framesDescSort"] == "descending"
    assert got["idsAsc"] == sorted(c.call_id.lower() for c in calls)
    assert got["byTime"] == [c.call_id for c in sorted(calls, key=lambda c: c.start)]
    registers = [c for c in calls if c.method == "REGISTER"]
    assert got["registerRows"] == ["REGISTER"] * len(registers)
    assert got["count"] == f"{len(registers)} of {len(calls)} calls shown"
    errors = error_call_ids(analysis.finding_records)
    assert got["failedRows"] == ["1"] * sum(is_failed(c, errors) for c in calls)
    assert got["busyRows"] == ["busy"] * analysis.outcome_counts()["busy"]
    assert got["allRows"] == len(calls)
    call = next(c for c in calls if c.call_id == got["detailFor"])
    assert is_failed(call, errors)
    assert got["detailRow"] == "detail-row"
    assert got["detailFrames"] == [str(analysis.store[i].frame) for i in call.messages]
    assert got["detailFilter"] == f'sip.Call-ID == "{call.call_id}"'
    assert got["detailVisible"] is True
    assert got["closed"] is True
    assert "--ladder all" in str(got["plainNote"])
    assert got["plainSvg"] == 0
    assert got["afterSortStillBelow"] == "detail-row"
    assert got["linkOpened"] is True


def test_screenshot_is_not_blank(tmp_path: Path) -> None:
    # A failed call's ladder opened, as a reader would see it.
    opener = "document.querySelector('tr.call.has-ladder').click();"
    page = tmp_path / "shot.html"
    page.write_text(_with_script(_render(DEMO), opener), encoding="utf-8")
    png = tmp_path / "report.png"
    run = _browser(tmp_path, f"--screenshot={png}", "--window-size=1400,2200", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run.stderr) == []
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000  # a blank page compresses to a few KB
