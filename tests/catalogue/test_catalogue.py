"""The catalogue data: complete over the IANA registry, well-formed, with RFC-correct fallbacks."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from analyzer.catalogue import CLASS_NAMES, LANGUAGES, codes, default_lang, lookup, text

# IANA "Session Initiation Protocol (SIP) Parameters" -> "Response Codes".
IANA_CODES = {
    100, 180, 181, 182, 183, 199, 200, 202, 204, 300, 301, 302, 305, 380,
    400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 412, 413, 414, 415, 416, 417,
    420, 421, 422, 423, 424, 425, 428, 429, 430, 433, 436, 437, 438, 439, 440, 469, 470,
    480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 494,
    500, 501, 502, 503, 504, 505, 513, 555, 580, 600, 603, 604, 606, 607, 608,
}  # fmt: skip

FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["codes"],
    "properties": {
        "codes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "reason", "rfc", "severity", "related"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "integer", "minimum": 100, "maximum": 699},
                    "reason": {"type": "string", "minLength": 2},
                    "rfc": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": r"^RFC \d{4}( §[\d.]+)?$"},
                    },
                    "severity": {"enum": ["info", "warning", "error"]},
                    "related": {"type": "array", "items": {"type": "integer"}},
                },
            },
        }
    },
}
TEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["codes"],
    "properties": {
        "codes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["meaning", "when", "fix"],
                "additionalProperties": False,
                "properties": {
                    k: {"type": "string", "minLength": 20} for k in ("meaning", "when", "fix")
                },
            },
        }
    },
}


def data(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files("analyzer.catalogue").joinpath("data", name).read_text(encoding="utf-8")
    )
    return loaded


UI_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(LANGUAGES),
    "additionalProperties": False,
    "properties": {
        lang: {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
        for lang in LANGUAGES
    },
}
_IN_LANGS: dict[str, Any] = {
    "type": "object",
    "required": list(LANGUAGES),
    "additionalProperties": False,
    "properties": {lang: {"type": "string", "minLength": 3} for lang in LANGUAGES},
}
Q850_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "causes", "from_sip"],
    "properties": {
        "source": {"type": "string"},
        "causes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["cause", "name", "meaning", "sip", "sip_rule"],
                "additionalProperties": False,
                "properties": {
                    "cause": {"type": "integer", "minimum": 1, "maximum": 127},
                    "name": _IN_LANGS,
                    "meaning": _IN_LANGS,
                    "sip": {"type": ["integer", "null"], "minimum": 300, "maximum": 699},
                    "sip_rule": {"enum": ["table", None]},
                },
            },
        },
        "from_sip": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "cause"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "integer", "minimum": 300, "maximum": 699},
                    "cause": {"type": "integer", "minimum": 1, "maximum": 127},
                },
            },
        },
    },
}
WARNING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "codes"],
    "properties": {
        "source": {"type": "string"},
        "codes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "text", "rfc", "meaning"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "integer", "minimum": 300, "maximum": 399},
                    "text": {"type": "string", "minLength": 3},
                    "rfc": {"type": "string", "pattern": r"^RFC \d{4}( §[\d.]+)?$"},
                    "meaning": _IN_LANGS,
                },
            },
        },
    },
}


def test_data_files_match_their_schemas() -> None:
    jsonschema.validate(data("codes.json"), FACTS_SCHEMA)
    for lang in LANGUAGES:
        jsonschema.validate(data(f"{lang}.json"), TEXT_SCHEMA)
    jsonschema.validate(data("ui.json"), UI_SCHEMA)
    jsonschema.validate(data("q850.json"), Q850_SCHEMA)
    jsonschema.validate(data("warning.json"), WARNING_SCHEMA)


def test_every_iana_code_and_nothing_else() -> None:
    assert set(codes()) == IANA_CODES
    assert set(data("en.json")["codes"]) == {str(c) for c in IANA_CODES}
    listed = [e["code"] for e in data("codes.json")["codes"]]
    assert listed == sorted(listed)


def test_related_codes_exist_and_are_not_self() -> None:
    for entry in data("codes.json")["codes"]:
        assert entry["code"] not in entry["related"]
        assert set(entry["related"]) <= IANA_CODES


@pytest.mark.parametrize(
    ("code", "reason", "rfc"),
    [
        (439, "First Hop Lacks Outbound Support", "RFC 5626"),
        (430, "Flow Failed", "RFC 5626"),
        (486, "Busy Here", "RFC 3261"),
        (500, "Server Internal Error", "RFC 3261"),
        (580, "Precondition Failure", "RFC 3312"),
        (607, "Unwanted", "RFC 8197"),
        (608, "Rejected", "RFC 8688"),
    ],
)
def test_registered_reason_phrases(code: int, reason: str, rfc: str) -> None:
    entry = lookup(code)
    assert entry.reason == reason
    assert any(r.startswith(rfc) for r in entry.rfc)
    assert entry.klass == CLASS_NAMES[code // 100]
    assert not entry.fallback


def test_439_text_is_specific() -> None:
    entry = lookup(439)
    for needle in ("5626", "edge", "Path", "ob"):
        assert needle in entry.meaning + entry.fix


@pytest.mark.parametrize(
    ("code", "base"), [(499, 400), (699, 600), (289, 200), (183, 183), (110, 100)]
)
def test_unknown_codes_fall_back_to_their_class(code: int, base: int) -> None:
    entry = lookup(code)
    assert entry.code == code
    assert entry.fallback == (code != base)
    assert entry.reason == lookup(base).reason
    if entry.fallback:
        assert "8.1.3.2" in entry.meaning


@pytest.mark.parametrize("code", [99, 700, 0, 4294967301])
def test_codes_outside_the_range_are_refused(code: int) -> None:
    with pytest.raises(ValueError, match="not a SIP response code"):
        lookup(code)


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "vi_VN"}, "vi"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "vi_VN.UTF-8"}, "vi"),
        ({"LANG": "ru_RU.UTF-8", "LC_ALL": ""}, "ru"),
    ],
)
def test_default_language_comes_from_the_locale(environ: dict[str, str], lang: str) -> None:
    assert default_lang(environ) == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_class_names_and_fallback_in_every_language(lang: str) -> None:
    entry = lookup(499, lang)
    assert entry.fallback
    assert entry.base == 400
    assert entry.klass == text(lang, "class.4")
    assert entry.klass.startswith("4xx ")
    assert "499" in entry.meaning
    assert "400" in entry.meaning
    assert "8.1.3.2" in entry.meaning
    assert entry.meaning.endswith(data(f"{lang}.json")["codes"]["400"]["meaning"])


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no catalogue language"):
        lookup(200, "de")
