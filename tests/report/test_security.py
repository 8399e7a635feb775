"""Every string from a capture is untrusted: the scapy-made capture in `evil.py` puts
markup, HTML attributes, Markdown links, Mermaid syntax and terminal escapes in every
field a report shows, and every format must render them inert."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from analyzer.cli import main
from tests.report import evil
from tests.report.test_markdown import MERMAID_LINE

SGR = re.compile(r"\x1b\[[0-9;]*m")


@cache
def _capture(tmp: Path) -> Path:
    return evil.make(tmp / "evil.pcap")


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _capture(tmp_path_factory.mktemp("evil"))


def _report(capture: Path, tmp_path: Path, fmt: str, *extra: str) -> str:
    out = tmp_path / f"report.{fmt}"
    args = ["analyze", str(capture), "--format", fmt, "--ladder", "all", "-o", str(out)]
    assert main([*args, *extra]) == 0
    return out.read_text(encoding="utf-8")


def test_the_capture_carries_the_strings(capture: Path, tmp_path: Path) -> None:
    # The JSON report holds capture strings as data: the attack strings must be there,
    # or the other tests below would pass for want of input.
    raw = _report(capture, tmp_path, "json")
    assert "\x1b" not in raw  # control characters are escaped (\u001b) by the writer
    doc = json.loads(raw)
    calls = {c["call_id"] for c in doc["calls"]}
    assert evil.CALL_ID in calls
    text = json.dumps(doc, ensure_ascii=False)
    for s in (evil.SCRIPT, evil.IMG, evil.MD_LINK, evil.URL, evil.MERMAID, evil.FENCE):
        assert s in text, s
    # JSON escapes control characters itself (\u001b): the value holds the raw escape.
    assert any(evil.ANSI in (c["from"] or "") for c in doc["calls"])
    assert {r["status"] for r in doc["responses"]} == {100, 486, 503}


@pytest.mark.parametrize("color", [False, True])
def test_terminal(
    capture: Path, tmp_path: Path, color: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    from analyzer.analysis import Analysis  # noqa: PLC0415
    from analyzer.pipeline import analyze  # noqa: PLC0415
    from analyzer.report import Format, RenderOptions, render  # noqa: PLC0415

    a: Analysis = analyze(capture)
    out = render(a, Format.TERMINAL, RenderOptions(color=color, width=200))
    escapes = re.findall(r"\x1b[^m]{0,20}m?", out)
    if color:
        assert escapes, "colour was asked for"
        assert all(SGR.fullmatch(e) for e in escapes), escapes[:5]
        assert "\x1b[31mRED" not in out
    else:
        assert "\x1b" not in out
    for c in "\x07\x08\x9b\u202e":
        assert c not in out
    assert "\\x1b[31mRED" in out  # shown, made visible


def test_markdown(capture: Path, tmp_path: Path) -> None:
    md = _report(capture, tmp_path, "markdown")
    assert "\x1b" not in md
    parser = MarkdownIt("gfm-like")
    elements = _Elements()
    elements.feed(parser.render(md))
    allowed = {"h1", "h2", "h3", "p", "ul", "li", "strong", "code", "pre", "br", "blockquote"}
    allowed |= {"table", "thead", "tbody", "tr", "th", "td"}
    assert {tag for tag, _ in elements.tags} <= allowed
    assert not [attrs for _, attrs in elements.tags if any(k.startswith("on") for k in attrs)]
    kinds = {t.type for t in parser.parse(md)}
    assert "html_block" not in kinds
    for token in parser.parse(md):
        for child in token.children or []:
            assert child.type not in ("html_inline", "link_open", "image"), child
    # Mermaid: only lines of our grammar, whatever the capture said.
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", md, re.M | re.S)
    assert len(blocks) == 2
    for block in blocks:
        for line in block.splitlines():
            assert MERMAID_LINE.fullmatch(line), line
    # Text ladders: no line of the capture closes the fence early.
    for fence, body in re.findall(r"^(`{3,})text\n(.*?)^\1$", md, re.M | re.S):
        assert fence not in body


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html(capture: Path, tmp_path: Path) -> None:
    page = _report(capture, tmp_path, "html")
    assert "\x1b" not in page
    parser = _Elements()
    parser.feed(page)
    tags = parser.tags
    assert not [t for t, _ in tags if t in ("img", "iframe", "object", "embed", "form")]
    # Links only inside the page (section navigation, a Call-ID to its ladder).
    assert all((a.get("href") or "").startswith("#") for t, a in tags if t == "a")
    for tag, attrs in tags:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        for value in attrs.values():
            assert "javascript:" not in (value or "")
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert len(scripts) == 1  # ours
    assert all(attrs.get("src") is None for attrs in scripts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u003cscript" in page
    assert "Content-Security-Policy" in page


def test_junit(capture: Path, tmp_path: Path) -> None:
    text = _report(capture, tmp_path, "junit")
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    assert "\x1b" not in text
    failures = root.findall(".//failure")
    assert failures, "both calls failed"
    joined = " ".join((f.get("message") or "") + (f.text or "") for f in failures)
    assert evil.SCRIPT in joined or "486" in joined


def test_csv(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert main(["analyze", str(capture), "--format", "csv", "-o", str(out)]) == 0
    for path in out.iterdir():
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert "\x1b" not in cell
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path.name, cell)
