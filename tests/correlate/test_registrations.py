"""Registrations (RFC 3261 §10) and subscriptions (RFC 6665) on real captures."""

from __future__ import annotations

import pytest

from analyzer import analyze
from tests.conftest import CAPTURES, corpus_file


def test_challenged_registration_is_one_successful_attempt() -> None:
    # Lab: REGISTER, 401, REGISTER with credentials, 200 (kamailio registrar), 3 times.
    a = analyze(str(CAPTURES / "udp4-register-auth.pcap"))
    regs = a.registration_records
    assert len(regs) == 3
    for r in regs:
        assert (r.outcome, r.final_status, r.requests, r.challenges) == ("registered", 200, 2, 1)
        assert (r.attempts, r.failed_attempts, r.refreshes) == (1, 0, 0)
        assert r.aor is not None
        assert "sip:alice@lab.test" in r.aor
        assert r.contact == "sip:alice@127.0.0.1:5060;transport=UDP"
        assert (r.expires_requested, r.expires_granted) == (60, 60)
        (rrd,) = r.rrd
        assert rrd.frames == (r.frames[0], r.frames[-1])  # first REGISTER to the 200
        assert r.expires_at == pytest.approx(rrd.end + 60)


def test_wrong_password_is_auth_failed() -> None:
    a = analyze(str(CAPTURES / "udp4-register-wrong-password.pcap"))
    for r in a.registration_records:
        assert (r.outcome, r.final_status, r.challenges, r.failed_attempts) == (
            "auth_failed",
            401,
            2,
            1,
        )
        assert r.rrd == ()
        assert r.expires_at is None


def test_outbound_refused_registration_failed_with_439() -> None:
    a = analyze(str(CAPTURES / "udp4-outbound-439.pcap"))
    assert {(r.outcome, r.final_status) for r in a.registration_records} == {("failed", 439)}
    assert a.metrics.ira.value == pytest.approx(100.0)


def test_subscription_refresh_refused_481_after_notifies() -> None:
    # heplify erspan capture: SUBSCRIBE (user-profile) 202, NOTIFY active through a B2BUA
    # that renumbers it, then the refresh SUBSCRIBE gets 481: the subscription failed.
    a = analyze(str(corpus_file("heplify/erspan_sip_ipv4_udp.pcapng")))
    subs = a.subscription_records
    assert len(subs) == 4
    first = subs[0]
    assert (first.event, first.outcome, first.final_status) == ("user-profile", "failed", 481)
    assert (first.requests, first.refreshes, first.expires_granted) == (2, 0, 1800)
    assert first.notifies == 1  # frame 6, the one NOTIFY sent to the subscriber
    assert first.state == "active"


def test_rejected_subscriptions() -> None:
    # Asterisk: message-summary and presence SUBSCRIBEs challenged, then 404.
    a = analyze(str(corpus_file("sipnab/Asterisk_ZFONE_XLITE.pcap")))
    got = {(s.event, s.outcome, s.final_status, s.challenges) for s in a.subscription_records}
    assert got == {("message-summary", "failed", 404, 1), ("presence", "failed", 404, 1)}
