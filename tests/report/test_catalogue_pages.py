"""`explain` and `compare` in every language and format, through the command line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from analyzer.catalogue import LANGUAGES, lookup, text
from analyzer.catalogue.compare import compare
from analyzer.cli import main

SCHEMA = json.loads(
    resources.files("analyzer")
    .joinpath("schema", "sip-analyzer-catalogue-1.schema.json")
    .read_text(encoding="utf-8")
)
FORMATS = ("terminal", "markdown", "json")


def _squeeze(value: str) -> str:
    return "".join(value.split())


def _run(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "page"
    assert main([*args, "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_explain(tmp_path: Path, lang: str, fmt: str) -> None:
    page = _run(tmp_path, "explain", "439", "--lang", lang, "--format", fmt)
    entry = lookup(439, lang)
    if fmt == "json":
        doc = json.loads(page)
        jsonschema.validate(doc, SCHEMA)
        assert doc["lang"] == lang
        assert doc["entry"]["meaning"] == entry.meaning
        assert doc["entry"]["class"] == entry.klass
        return
    assert "\x1b" not in page  # not a terminal: no colour
    assert "SIP 439 First Hop Lacks Outbound Support" in page
    for field in ("meaning", "when", "fix"):
        heading = text(lang, f"heading.{field}")
        assert (f"## {heading}\n" if fmt == "markdown" else f"\n{heading}\n") in page
    # Texts arrive whole in Markdown; the terminal wraps them at its width (Japanese
    # between any two characters), so compare without whitespace.
    squeezed = _squeeze(page)
    for value in (entry.meaning, entry.when, entry.fix):
        assert _squeeze(value) in squeezed


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_compare(tmp_path: Path, lang: str, fmt: str) -> None:
    page = _run(tmp_path, "compare", "200", "439", "--lang", lang, "--format", fmt)
    cmp = compare(200, 439, lang)
    if fmt == "json":
        doc = json.loads(page)
        jsonschema.validate(doc, SCHEMA)
        assert doc["title"] == cmp.title
        assert [c["code"] for c in doc["codes"]] == [200, 439]
        assert doc["differences"] == list(cmp.differences)
        return
    squeezed = _squeeze(page)
    assert cmp.title in page
    for heading in ("heading.meaning", "heading.differences", "heading.which"):
        assert text(lang, heading) in page
    for point in (*cmp.intro, *cmp.differences, *cmp.which):
        assert _squeeze(point) in squeezed
    if fmt == "markdown":
        assert f"## {text(lang, 'heading.differences')}\n\n1. " in page
        assert page.count("### ") == 6  # three headings per code


def test_unregistered_code_explained_as_its_class(tmp_path: Path) -> None:
    doc = json.loads(_run(tmp_path, "explain", "699", "--format", "json", "--lang", "en"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["entry"]["fallback"]
    assert doc["entry"]["fallback_code"] == 600
    assert "8.1.3.2" in doc["entry"]["meaning"]


@pytest.mark.parametrize(
    "args", [["compare", "200", "200"], ["explain", "99"], ["compare", "200", "700"]]
)
def test_bad_codes_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "sip-analyzer:" in capsys.readouterr().err


def test_lang_defaults_from_the_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    doc = json.loads(_run(tmp_path, "explain", "486", "--format", "json"))
    assert doc["lang"] == "ja"
