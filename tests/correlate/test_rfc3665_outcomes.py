"""The RFC 3665 call flows, turned into captures (tests/data/rfc3665.py), end the way
the RFC tells: outcome, final status, who hung up, and the findings the story implies."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import Analysis, analyze
from tests.conftest import corpus_file
from tests.data.rfc3665 import EPOCH, flow_to_pcap


def _analyse(name: str, tmp_path: Path) -> Analysis:
    path = corpus_file("rfc3665-callflows/" + name)
    out = tmp_path / (path.stem + ".pcap")
    flow_to_pcap(path, out)
    return analyze(str(out))


# (flow, [(method, outcome, final status, hang-up side)] per Call-ID in order)
STORIES = [
    # §3.1: Bob answers; Bob sends the BYE (F6).
    ("3.01_successful-session-establishment.yaml", [("INVITE", "answered", 200, "callee")]),
    # §3.2: challenged by Proxy 1 (407), retried, answered; Bob hangs up.
    (
        "3.02_session-establishment-through-two-proxies.yaml",
        [("INVITE", "answered", 200, "callee")],
    ),
    # §3.5: through an ALG, Alice hangs up.
    ("3.05_session-through-a-sip-alg.yaml", [("INVITE", "answered", 200, "caller")]),
    # §3.6: a 302 from the redirect server, followed: still one answered call.
    (
        "3.06_session-via-redirect-and-proxy-servers-with-sdp-in-ack.yaml",
        [("INVITE", "answered", 200, "callee")],
    ),
    # §3.7: a re-INVITE inside the call does not make it a second attempt.
    ("3.07_session-with-re-invite-ip-address-change.yaml", [("INVITE", "answered", 200, "caller")]),
    # §3.8: Alice cancels after ringing.
    ("3.08_unsuccessful-no-answer.yaml", [("INVITE", "cancelled", 487, "caller")]),
    # §3.9: Bob is busy.
    ("3.09_unsuccessful-busy.yaml", [("INVITE", "busy", 486, None)]),
    # §3.10: Proxy 2 gives up on Bob and answers 480.
    ("3.10_unsuccessful-no-response-from-user-agent.yaml", [("INVITE", "no_answer", 480, None)]),
    # §3.11: Bob answers 480 Temporarily Unavailable.
    ("3.11_unsuccessful-temporarily-unavailable.yaml", [("INVITE", "no_answer", 480, None)]),
]


@pytest.mark.parametrize(("flow", "story"), STORIES, ids=[s[0][:4] for s in STORIES])
def test_flow_ends_as_the_rfc_tells(
    flow: str, story: list[tuple[str, str, int, str | None]], tmp_path: Path
) -> None:
    a = _analyse(flow, tmp_path)
    got = [(c.method, c.outcome, c.final_status, c.hangup) for c in a.call_records]
    assert got == story


def test_challenges_resolved_by_a_retry_are_never_the_outcome(tmp_path: Path) -> None:
    # §3.3: 407 from Proxy 1, then 407 from Proxy 2, then answered: three attempts.
    a = _analyse("3.03_session-with-multiple-proxy-authentication.yaml", tmp_path)
    (call,) = a.call_records
    assert (call.outcome, call.attempts, call.challenges) == ("answered", 3, 2)
    assert call.hops == 3  # the last attempt crossed Proxy 1 and Proxy 2 to Bob
    assert "auth.challenge-resolved" in {f.id for f in a.finding_records}
    assert not {f.id for f in a.finding_records if f.severity == "error"}


def test_no_response_from_the_user_agent_carries_the_unanswered_finding(tmp_path: Path) -> None:
    a = _analyse("3.10_unsuccessful-no-response-from-user-agent.yaml", tmp_path)
    (call,) = a.call_records
    assert call.outcome == "no_answer"
    (unanswered,) = [f for f in a.finding_records if f.id == "txn.unanswered"]
    assert unanswered.severity == "error"
    assert unanswered.call_id == call.call_id
    # The evidence is Proxy 2's INVITE to Bob and its six retransmissions (F4, F6-F11).
    invites = [
        m.frame
        for m in a.store
        if m.method == "INVITE" and m.src == "192.0.2.30:5060" and m.dst == "192.0.2.40:5060"
    ]
    assert len(invites) == 7
    assert unanswered.frames == tuple(invites)
    assert "sent 7 time(s)" in unanswered.detail
    assert "192.0.2.40:5060" in unanswered.detail
    # Alice's and Proxy 1's INVITEs were answered (100, then 480): no finding names them.
    assert sum(f.id == "txn.unanswered" for f in a.finding_records) == 1


def test_proxy_failure_is_no_response_then_an_answered_retry(tmp_path: Path) -> None:
    # §3.4: Proxy 1 never answers Alice (seven INVITEs over 32 s); Alice then tries
    # Proxy 2 with a new Call-ID and the call is answered.
    a = _analyse("3.04_successful-session-with-proxy-failure.yaml", tmp_path)
    first, second = a.call_records
    assert (first.outcome, first.final_status) == ("no_response", None)
    assert second.outcome == "answered"
    unanswered = [f for f in a.finding_records if f.id == "txn.unanswered"]
    assert [f.call_id for f in unanswered] == [first.call_id]
    assert len(unanswered[0].frames) == 7


def test_registrations_of_section_2(tmp_path: Path) -> None:
    outcomes = {}
    for flow in (
        "2.01_sip-client-new-registration.yaml",
        "2.02_update-of-contact-list.yaml",
        "2.04_cancellation-of-registration.yaml",
        "2.05_unsuccessful-registration.yaml",
    ):
        (reg,) = _analyse(flow, tmp_path).registration_records
        outcomes[flow[:4]] = (reg.outcome, reg.final_status, reg.challenges, reg.attempts)
    assert outcomes == {
        "2.01": ("registered", 200, 1, 1),  # 401 challenge, retry, 200 (one attempt, §4.1)
        "2.02": ("registered", 200, 0, 1),
        "2.04": ("deregistered", 200, 0, 1),  # Contact: * with Expires: 0
        "2.05": ("auth_failed", 401, 2, 1),  # credentials answered by another 401
    }


def test_timings_of_a_known_flow(tmp_path: Path) -> None:
    # §3.1 as generated: F1 INVITE at EPOCH, F2 180 at +0.05, F3 200 after a 2 s wait,
    # F4 ACK, F5 BYE after another 2 s, F6 200.
    a = _analyse("3.01_successful-session-establishment.yaml", tmp_path)
    (call,) = a.call_records
    t = {m.frame: m.time - EPOCH for m in a.store}
    assert call.srd is not None
    assert call.srd.frames == (1, 2)
    assert call.srd.seconds == pytest.approx(t[2] - t[1])
    assert call.setup is not None
    assert call.setup.frames == (1, 3)
    assert call.ring is not None
    assert call.ring.frames == (2, 3)
    assert call.sdt is not None
    assert call.sdt.frames == (3, 5)
    assert call.sdd is not None
    assert call.sdd.frames == (5, 6)
    assert call.sdt.seconds == pytest.approx(t[5] - t[3])
    assert call.completed
