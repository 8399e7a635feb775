"""Calls and outcomes on real captures whose story is known."""

from __future__ import annotations

from analyzer import analyze
from tests.conftest import CAPTURES, corpus_file


def test_complete_call_is_answered() -> None:
    a = analyze(str(corpus_file("sipnab/sip_call.pcap")))
    assert [c.outcome for c in a.call_records] == ["answered"]
    assert a.call_records[0].final_status == 200


def test_call_through_a_proxy_counted_once_with_both_legs() -> None:
    # sip-proxy.pcap: one Call-ID, INVITE seen on two hops.
    a = analyze(str(corpus_file("sipnab/sip-proxy.pcap")))
    assert len(a.call_records) == 1
    call = a.call_records[0]
    assert call.outcome == "answered"
    assert len({a.store[i].src for i in call.messages}) >= 2
    invites = [a.store[i] for i in call.messages if a.store[i].sip.method == "INVITE"]
    assert len(invites) == 2


def test_aaa_outcomes_match_the_story() -> None:
    # Wireshark's aaa.pcap: REGISTERs challenged, INVITEs rejected after credentials,
    # a 408, a 480 after CANCELs; one REGISTER that finally got 200.
    a = analyze(str(corpus_file("sngrep/aaa.pcap")))
    by_status = {c.call_id: (c.outcome, c.final_status) for c in a.call_records}
    assert sorted(by_status.values(), key=str) == sorted(
        [
            ("auth_failed", 401),
            ("no_response", 408),
            ("auth_failed", 403),
            ("answered", 200),
            ("auth_failed", 403),
            ("no_answer", 480),
        ],
        key=str,
    )


def test_challenge_then_success_is_answered_not_auth_failed() -> None:
    a = analyze(str(corpus_file("heplify/sip_ipv4_tcp_retrans.pcap")))
    (call,) = a.call_records
    assert call.method == "REGISTER"
    assert call.outcome == "answered"
    assert call.challenges >= 1
    assert any(f.id == "auth.challenge-resolved" for f in a.finding_records)


def test_retransmissions_flagged_not_double_counted() -> None:
    # webex.pcap: 22 REGISTERs on one UDP flow, never answered: retransmissions of few transactions.
    a = analyze(str(corpus_file("ndpi/webex.pcap")))
    retrans = [m for m in a.store if a.is_retransmission(m)]
    assert retrans
    assert len(a.correlation.transactions) + len(retrans) == len(a.store)
    assert all(c.outcome in ("no_response", "incomplete") for c in a.call_records)


def test_reinvite_is_inside_the_call_not_a_new_attempt() -> None:
    # Lab: INVITE answered, then a re-INVITE (hold) in the dialog, then BYE.
    a = analyze(str(CAPTURES / "udp4-reinvite.pcap"))
    assert len(a.call_records) == 3
    for call in a.call_records:
        assert (call.outcome, call.final_status, call.attempts) == ("answered", 200, 1)
        txns = [t for t in a.correlation.transactions if t.call_id == call.call_id]
        # The INVITE and the re-INVITE, each answered 200; each 2xx's ACK is a
        # transaction of its own (RFC 3261 §17.1.1.3); then BYE.
        assert [t.method for t in txns] == ["INVITE", "ACK", "INVITE", "ACK", "BYE"]
        assert all(t.final is not None for t in txns if t.method != "ACK")


def test_redirect_not_followed_is_redirected() -> None:
    a = analyze(str(CAPTURES / "tcp6-redirect.pcap"))
    assert {(c.outcome, c.final_status, c.final_reason) for c in a.call_records} == {
        ("redirected", 302, "Moved Temporarily")
    }


def test_forked_call_has_two_early_dialogs_and_one_answered() -> None:
    # Lab: kamailio forks each INVITE to two SIPp UAS; both ring (own To tags), one
    # answers, the proxy CANCELs the other (487). The caller never cancelled.
    a = analyze(str(CAPTURES / "udp4-fork.pcap"))
    assert len(a.call_records) == 3
    for c in a.call_records:
        assert c.outcome == "answered"
        assert len(c.to_tags) == 2
        assert c.answered_tag in c.to_tags
        assert c.hops == 3  # caller -> proxy, proxy -> each UAS
        assert not c.cancelled
        assert c.hangup == "caller"
        assert c.srd is not None
        assert not c.srd_failed
    assert a.calls["forked"].all()


def test_glare_call_stays_one_answered_attempt() -> None:
    a = analyze(str(CAPTURES / "udp4-glare.pcap"))
    for c in a.call_records:
        assert (c.outcome, c.attempts, c.hops) == ("answered", 1, 1)
        assert c.completed
    assert {c.id for c in a.correlation.checks} == {"txn.glare"}


def test_lost_ack_call_is_answered_and_ended_by_the_callee() -> None:
    a = analyze(str(CAPTURES / "udp4-lost-ack.pcap"))
    for c in a.call_records:
        assert (c.outcome, c.hangup) == ("answered", "callee")
        assert c.sdt is not None
        assert c.sdt.seconds >= 32  # the callee gave up after 64*T1 without an ACK
