"""Every text of the catalogue exists in every language and really is translated."""

from __future__ import annotations

import json
import re
import string
from importlib import resources
from typing import Any

import pytest

from analyzer.catalogue import LANGUAGES, codes

# What each language's text must contain: its own script (Vietnamese: its letters with
# diacritics, which English never has).
SCRIPT = {
    "ru": re.compile(r"[А-Яа-яЁё]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "vi": re.compile(
        r"[ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ]", re.I
    ),
}
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
_CODE_SPAN = re.compile(r"`[^`]+`")


def data(name: str) -> Any:
    return json.loads(
        resources.files("analyzer.catalogue").joinpath("data", name).read_text(encoding="utf-8")
    )


def _prose(value: str) -> str:
    """The words of a text outside code spans and placeholders."""
    return re.sub(r"\{[a-z_]+\}", "", _CODE_SPAN.sub("", value))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_code_has_every_field_translated(lang: str) -> None:
    english, other = data("en.json")["codes"], data(f"{lang}.json")["codes"]
    assert set(other) == {str(c) for c in codes()} == set(english)
    for code, texts in english.items():
        assert set(other[code]) == set(texts) == {"meaning", "when", "fix"}
        for field, en_text in texts.items():
            got = other[code][field]
            assert got != en_text, f"{lang} {code} {field} left in English"
            assert SCRIPT[lang].search(_prose(got)), f"{lang} {code} {field}: not {lang} script"
            # Protocol tokens in code spans are never translated.
            for span in _CODE_SPAN.findall(en_text):
                assert span in got, f"{lang} {code} {field}: lost {span}"


_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "is",
        "are",
        "when",
        "with",
        "that",
        "for",
        "this",
        "from",
        "be",
        "by",
        "or",
        "not",
        "which",
        "it",
        "its",
        "an",
    ]
)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_sentence_left_in_a_translation(lang: str) -> None:
    # An untranslated sentence shows as a run of lower-case ASCII words with English
    # function words in it (protocol tokens are upper-case or in code spans; quoted reason
    # phrases are removed first).
    run = re.compile(r"(?:\b[a-z]+\b[ ,]+){4,}")
    for code, texts in data(f"{lang}.json")["codes"].items():
        for field, value in texts.items():
            prose = re.sub(r"'[^']*'|\"[^\"]*\"|«[^»]*»|「[^」]*」|\([^)]*\)", "", _prose(value))
            for found in run.finditer(prose):
                english = [w for w in re.findall("[a-z]+", found.group()) if w in _STOPWORDS]
                assert len(english) < 2, f"{lang} {code} {field}: {found.group()}"


def test_ui_strings_exist_in_every_language_with_the_same_placeholders() -> None:
    ui = data("ui.json")
    english = ui["en"]
    fmt = string.Formatter()
    for lang in TRANSLATED:
        assert list(ui[lang]) == list(english), lang
        for key, en_value in english.items():
            value = ui[lang][key]
            names = sorted(f for _, f, _, _ in fmt.parse(en_value) if f)
            assert sorted(f for _, f, _, _ in fmt.parse(value) if f) == names, (lang, key)
            words = _prose(value).replace("SIP", "").replace("RFC", "")
            if re.search(r"[A-Za-z]{3,}", _prose(en_value).replace("SIP", "")) and key not in (
                "report.reason_header",  # header names stay as on the wire
                "report.warning_header",
            ):
                assert value != en_value, (lang, key)
                assert SCRIPT[lang].search(words) or lang == "vi", (lang, key)


def test_seed_headings() -> None:
    # The headings our users know from the catalogue pages (../shared/seeds/).
    ui = data("ui.json")
    seeds = {
        "ru": ("Описание", "Когда вы это видите", "Как исправить", "Ключевые различия"),
        "ja": ("説明", "このコードが表示される場合", "解決方法", "主な違い"),
        "vi": ("Mô tả", "Khi bạn thấy mã này", "Cách khắc phục", "Sự khác biệt chính"),
    }
    keys = ("heading.meaning", "heading.when", "heading.fix", "heading.differences")
    for lang, headings in seeds.items():
        assert tuple(ui[lang][k] for k in keys) == headings
    assert ui["ru"]["heading.which"] == "Когда что использовать"
    assert ui["ja"]["heading.which"] == "どちらをいつ使うか"
    assert ui["vi"]["heading.which"] == "Khi nào dùng cái nào"


@pytest.mark.parametrize("table", ["q850.json", "warning.json"])
def test_companion_tables_are_translated(table: str) -> None:
    rows = data(table)["causes" if table == "q850.json" else "codes"]
    assert rows
    for row in rows:
        for field in ("name", "meaning") if table == "q850.json" else ("meaning",):
            for lang in TRANSLATED:
                assert row[field][lang] != row[field]["en"], (row, lang)
                assert SCRIPT[lang].search(row[field][lang]), (row, lang)
