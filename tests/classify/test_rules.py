"""Diagnosis rules on real lab captures made by SIPp and kamailio."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import Analysis, analyze
from analyzer.classify import Finding
from tests.conftest import CAPTURES


def lab(name: str) -> Analysis:
    path = CAPTURES / f"{name}.pcap"
    if not path.exists():
        pytest.fail(f"lab capture {path} missing: run python3 captures/lab/run.py {name}")
    return analyze(str(path))


def only(analysis: Analysis, fid: str) -> list[Finding]:
    return [f for f in analysis.finding_records if f.id == fid]


@pytest.mark.parametrize("name", ["udp4-outbound-439", "tcp4-outbound-439", "udp6-outbound-439"])
def test_439_reported_once_per_call_from_the_registrar_hop(name: str) -> None:
    a = lab(name)
    found = only(a, "outbound.first-hop-lacks-support")
    assert len(found) == len(a.call_records)
    for f in found:
        assert "`Supported`/`Require` has outbound: yes" in f.detail
        assert "Contact `reg-id`: 1" in f.detail
        assert '+sip.instance`: "<urn:uuid:' in f.detail
        assert "none with ;ob" in f.detail
        # The first hop is the edge proxy (its Via sits above the UA's), never the UA itself.
        ua = a.store[0].src
        assert f"first hop {ua} " not in f.title
    # The generic outcome finding is folded into the specific one.
    assert not only(a, "call.failed")


def test_420_path_blames_missing_supported_path() -> None:
    (f, *_rest) = only(lab("udp4-extension-420-path"), "extension.bad-extension")
    assert "Unsupported: path" in f.detail
    assert "`Supported: path`" in f.fix


def test_420_proxy_require_names_the_header() -> None:
    (f, *_rest) = only(lab("udp4-extension-420-proxy-require"), "extension.bad-extension")
    assert "Proxy-Require: foo" in f.detail
    assert "Remove foo from the UA's `Proxy-Require`" in f.fix


def test_421_names_the_required_tag() -> None:
    (f, *_rest) = only(lab("udp4-extension-421"), "extension.required")
    assert f.title.endswith("requires outbound")


def test_503_behind_a_proxy_is_explained_as_a_rewrite() -> None:
    a = lab("udp4-unavailable-via-proxy")
    assert only(a, "proxy.503-rewritten-as-500")
    unavailable = only(a, "server.service-unavailable")
    assert unavailable
    assert all("120" in f.title for f in unavailable)


def test_wrong_password_is_an_auth_error() -> None:
    a = lab("udp4-register-wrong-password")
    found = only(a, "auth.credentials-rejected")
    assert len(found) == len(a.call_records)
    for f in found:
        assert f.severity == "error"
        assert "user 'alice'" in f.detail
        assert "a new 401 challenge without stale=true" in f.detail
        assert "1 of 1 attempt(s) with credentials were refused and none succeeded" in f.detail
        assert "password" in f.fix
    # The specific finding replaces the generic outcome one for the same 401.
    assert not only(a, "call.auth-failed")


def test_challenge_then_success_is_info() -> None:
    a = lab("udp4-proxy-auth")
    found = only(a, "auth.challenge-resolved")
    assert len(found) == len(a.call_records)
    assert all(f.severity == "info" for f in found)


def test_every_finding_has_evidence_frames_in_the_capture(tmp_path: Path) -> None:
    a = analyze(str(CAPTURES / "demo.pcapng"))
    frames = {m.frame for m in a.store}
    assert a.finding_records
    for f in a.finding_records:
        assert f.frames
        assert set(f.frames) <= frames
        assert f.display_filter.startswith("frame.number in {")
