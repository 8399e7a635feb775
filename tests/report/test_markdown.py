"""Markdown report: sections, ladders (Mermaid and text) checked against the call and
tshark, and what a GitHub-like renderer makes of it."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from analyzer import analyze
from analyzer.analysis import Analysis
from analyzer.report import Format, RenderOptions, render
from analyzer.report.ladder import call_filter, ladder
from analyzer.report.markdown import code, mermaid, prose
from analyzer.select import FAILED_OUTCOMES
from tests.conftest import CAPTURES
from tests.tshark import require_tshark

DEMO = CAPTURES / "demo.pcapng"
# A Mermaid line we write: the header, a participant, an arrow, or a note.
MERMAID_LINE = re.compile(
    r"sequenceDiagram"
    r"|    participant P\d+ as [\w.:\[\]\-]+"
    r"|    P\d+(?:->>|-->>|-\))P\d+: [\w .,/()'+\-]+ \(frame \d+, \+\d+\.\d{3} s\)"
    r"|    Note over P0: \d+ more messages not drawn"
)


@cache
def _demo() -> Analysis:
    return analyze(DEMO)


def _md(analysis: Analysis, ladder: str = "failed") -> str:
    return render(analysis, Format.MARKDOWN, RenderOptions(ladder=ladder))


def _blocks(md: str, info: str) -> list[list[str]]:
    return [b.splitlines() for b in re.findall(rf"^```{info}\n(.*?)^```$", md, re.M | re.S)]


def test_sections() -> None:
    md = _md(_demo())
    for heading in (
        "# SIP analysis: `demo.pcapng`",
        "## Captures",
        "## Summary",
        "## Findings (16)",
        "### error (7)",
        "## RFC 6076 metrics",
        "## Calls",
        "## Registrations (5)",
        "## Ladders",
    ):
        assert f"\n{heading}" in "\n" + md, heading
    assert re.search(
        r"^\| `[^`]*/demo\.pcapng` \| pcapng \| 87 \| 87 \| 0 \| 0 \| 87 \|$", md, re.M
    )
    assert "**486 Busy Here** ×1" in md
    assert "evidence: `frame.number in {39}`" in md
    # Every finding is there with its fix.
    a = _demo()
    assert md.count("**fix:**") == len(a.finding_records)


def test_one_ladder_per_failed_call_matching_the_call() -> None:
    a = _demo()
    md = _md(a)
    failed = [c for c in a.call_records if c.outcome in FAILED_OUTCOMES]
    diagrams = _blocks(md, "mermaid")
    texts = _blocks(md, "text")
    assert len(diagrams) == len(texts) == len(failed) == 10
    for call, diagram, plain in zip(failed, diagrams, texts, strict=True):
        arrows = [line for line in diagram if "->>" in line or "-)" in line]
        assert len(arrows) == len(call.messages)
        assert [int(re.search(r"frame (\d+)", x).group(1)) for x in arrows] == list(  # type: ignore[union-attr]
            call.frames
        )
        assert [int(line.split()[0]) for line in plain[1:]] == list(call.frames)
        assert f"Wireshark filter: `{call_filter(call)}`" in md
    assert "### `1-15956@127.0.0.1`" not in md  # cancelled: not failed


def test_ladder_all_and_none() -> None:
    a = _demo()
    assert len(_blocks(_md(a, "all"), "mermaid")) == len(a.call_records)
    none = _md(a, "none")
    assert "## Ladders" not in none
    assert "```mermaid" not in none


def test_mermaid_lines_are_from_our_grammar() -> None:
    a = _demo()
    for block in _blocks(_md(a, "all"), "mermaid"):
        for line in block:
            assert MERMAID_LINE.fullmatch(line), line


def test_call_filter_selects_exactly_the_ladder_frames() -> None:
    tshark = require_tshark()
    a = _demo()
    for call in a.call_records[:6]:
        out = subprocess.run(
            [
                tshark,
                "-n",
                "-r",
                str(DEMO),
                "-Y",
                call_filter(call),
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        frames = [a.frame for a in ladder(a, call).arrows]
        assert [int(x) for x in out.split()] == frames


def test_code_spans_survive_backticks_and_pipes() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    rendered = MarkdownIt("commonmark").render(code("a ``` b"))
    assert "<code>a ``` b</code>" in rendered


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "![x](http://evil/x.png)",
        "see http://evil.example and www.evil.example",
        "ping @everyone about #1",
        "<img src=x onerror=alert(2)>",
        "*bold* _it_ ~~s~~ | pipe",
    ],
)
def test_prose_renders_inert(text: str) -> None:
    md = MarkdownIt("gfm-like")
    html = md.render(prose(text))
    assert "<a " not in html
    assert "<img" not in html
    assert "<script" not in html
    assert "<em>" not in html
    assert "<strong>" not in html
    assert "<s>" not in html
    tokens = md.parseInline(prose(text))[0].children or []
    assert not [t for t in tokens if t.type in ("html_inline", "link_open", "image")]


def test_mermaid_of_a_selfcall_and_retransmission(tmp_path: Path) -> None:
    # A capture where a UA retransmits: the ladder marks it and Mermaid gets a distinct arrow.
    path = CAPTURES / "udp4-timeout-via-proxy.pcap"
    a = analyze(path)
    lines = [line for c in a.call_records for line in mermaid(ladder(a, c))]
    assert any("(retransmission)" in line and "-)" in line for line in lines)
    for line in lines:
        assert MERMAID_LINE.fullmatch(line), line
