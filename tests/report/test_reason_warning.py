"""Reports explain Reason (RFC 3326, Q.850 per RFC 3398) and Warning (RFC 3261 §20.43)
headers of responses, in the report's language."""

from __future__ import annotations

import json

import pytest

from analyzer import analyze
from analyzer.catalogue.tables import q850, warn_code
from analyzer.pipeline import Options
from analyzer.report import Format, RenderOptions, render
from tests.conftest import corpus_file


def _responses(path: str, lang: str = "en") -> list[dict[str, object]]:
    doc = json.loads(render(analyze(path, Options(lang=lang)), Format.JSON))
    records: list[dict[str, object]] = doc["responses"]
    return records


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_q850_cause_in_a_403(lang: str) -> None:
    # heplify sip_sctp.pcap: "403 The reason is nocallee" with Reason: Q.850;cause=21.
    (r,) = [r for r in _responses(str(corpus_file("heplify/sip_sctp.pcap")), lang) if r["reasons"]]
    cause = q850(21, lang)
    assert cause is not None
    assert r["status"] == 403
    assert r["reasons"] == [
        {
            "protocol": "Q.850",
            "cause": 21,
            "text": r["reasons"][0]["text"],  # type: ignore[index]
            "name": cause.name,
            "meaning": cause.meaning,
            "sip_status": 403,  # RFC 3398 §7.2.4.1: call rejected -> 403
        }
    ]


def test_lower_case_protocol_token_and_responses_without_headers() -> None:
    # sngrep aaa.pcap: "480 Error" with "Reason: q.850;cause=21".
    records = _responses(str(corpus_file("sngrep/aaa.pcap")))
    with_reason = [r for r in records if r["reasons"]]
    assert [r["status"] for r in with_reason] == [480]
    assert with_reason[0]["reasons"][0]["name"] == "Call rejected"  # type: ignore[index]
    assert all(r["reasons"] == [] for r in records if r not in with_reason)


def test_registered_and_private_warn_codes() -> None:
    registered = _responses(str(corpus_file("pcap2sipp/example.pcap")))
    warned = [w for r in registered for w in r["warnings"]]  # type: ignore[attr-defined]
    assert warned
    assert all(w["code"] == 399 for w in warned)
    known = warn_code(399)
    assert known is not None
    assert warned[0]["registered_text"] == known.text
    assert warned[0]["meaning"] == known.meaning
    private = _responses(str(corpus_file("sipnab/DTMFsipinfo.pcap")))
    noisy = [w for r in private for w in r["warnings"]]  # type: ignore[attr-defined]
    assert noisy
    assert all(w["code"] == 392 and w["meaning"] is None for w in noisy)
    assert noisy[0]["text"].startswith("Noisy feedback tells")


def test_terminal_report_shows_them() -> None:
    analysis = analyze(str(corpus_file("heplify/sip_sctp.pcap")), Options(lang="ja"))
    out = render(analysis, Format.TERMINAL, RenderOptions(width=200))
    cause = q850(21, "ja")
    assert cause is not None
    assert "Reason: Q.850;cause=21" in out
    assert cause.name in out
    assert "→ SIP 403" in out
