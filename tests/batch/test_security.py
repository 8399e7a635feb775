"""File names and finding texts are untrusted in the aggregated reports too: a capture
named with markup, a Markdown link and terminal escapes, and the hostile capture of
tests/report/evil.py turning up as a new finding, must come out inert in the terminal
summary, batch.md and batch.junit.xml (batch.html: tests/batch/test_html_index.py)."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from analyzer.batch import report
from analyzer.cli import main
from analyzer.report.interface import RenderOptions
from tests.conftest import CAPTURES
from tests.report import evil

SGR = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = f"{evil.IMG} {evil.MD_LINK} @everyone #1 \x1b[31mRED\x07 \u202e.pcap"


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    lab = root / "lab"
    lab.mkdir()
    shutil.copy(CAPTURES / "udp4-busy.pcap", lab / HOSTILE)
    shutil.copy(CAPTURES / "udp4-answered.pcap", lab / "evil.pcap")
    assert main(["batch", str(lab), "--out", str(root / "n1"), "--workers", "1"]) == 0
    # Next night the same name holds the hostile capture: its findings are new.
    evil.make(lab / "evil.pcap")
    code = main(
        [
            "batch",
            str(lab),
            "--out",
            str(root / "n2"),
            "--format",
            "markdown,junit",
            "--workers",
            "1",
            "--baseline",
            str(root / "n1" / "batch.json"),
            "--fail-on",
            "any:calls:failed>0",
            "--fail-on",
            "new-finding",
        ]
    )
    assert code == 1
    data: dict[str, Any] = json.loads((root / "n2" / "batch.json").read_text())
    data["_out"] = str(root / "n2")
    return data


def test_the_document_carries_the_strings(doc: dict[str, Any]) -> None:
    assert HOSTILE in [c["key"] for c in doc["captures"]]
    # Finding titles can quote a capture (a reason phrase, an address): they are listed.
    assert doc["baseline"]["diff"]["new_findings"]
    assert HOSTILE in doc["gates"][0]["captures"]


@pytest.mark.parametrize("color", [False, True])
def test_terminal(doc: dict[str, Any], color: bool) -> None:
    out = report.terminal(doc, RenderOptions(color=color, width=200))
    escapes = re.findall(r"\x1b[^m]{0,20}m?", out)
    assert all(SGR.fullmatch(e) for e in escapes), escapes[:5]
    assert bool(escapes) is color
    for c in "\x07\u202e":
        assert c not in out
    assert "\\x1b[31mRED\\x07" in out  # the name is shown, its escapes made visible


def test_markdown(doc: dict[str, Any]) -> None:
    md = (Path(doc["_out"]) / "batch.md").read_text()
    assert "\x1b" not in md
    assert "\u202e" not in md
    parser = MarkdownIt("gfm-like")
    reports = {c["reports"]["markdown"] for c in doc["captures"] if c["reports"]}
    links = []
    for token in parser.parse(md):
        assert token.type != "html_block"
        for child in token.children or []:
            assert child.type not in ("html_inline", "image"), child
            if child.type == "link_open":
                links.append(str(child.attrs["href"]))
    # The only links are the per-capture reports, as relative, percent-encoded paths.
    assert len(links) == len(reports)
    for href in links:
        assert ":" not in href
        assert (Path(doc["_out"]) / _unquote(href)).is_file()


def _unquote(href: str) -> str:
    from urllib.parse import unquote  # noqa: PLC0415

    return unquote(href)


def test_junit(doc: dict[str, Any]) -> None:
    text = (Path(doc["_out"]) / "batch.junit.xml").read_text()
    assert "\x1b" not in text
    root = ET.fromstring(text)
    names = [tc.get("name") for tc in root.iter("testcase")]
    assert any(n and "<img" in n for n in names)  # escaped by XML, a name again when parsed
    failed = {tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None}
    assert {"any:calls:failed>0", "new-finding"} <= failed
