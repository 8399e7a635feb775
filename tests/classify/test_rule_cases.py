"""Every diagnosis rule, both ways, on real captures.

For each finding id: a capture (made by the lab from SIPp and kamailio, or from
../shared/corpus) where it must appear with the right evidence, and one where it
must not. The evidence is then checked against tshark, the reference dissector:
the finding's Wireshark display filter, run through tshark, shows exactly its
frames; each of them holds SIP (or is an IP fragment of it); and the response
status the finding is about is in one of them.

A test also checks that every rule in `RULES` has both kinds of case here, so a
rule cannot be added without them.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from analyzer import Analysis, analyze
from analyzer.classify import RULES, Finding
from tests.conftest import CAPTURES, CORPUS
from tests.tshark import require_tshark, sip_frames


@dataclass(frozen=True)
class Case:
    """A capture where finding `id` must appear, and what it must say."""

    id: str
    capture: str
    """Lab capture name (captures/NAME.pcap) or `corpus:REL`."""
    count: int | None = None
    """Findings with this id expected (None: at least one)."""
    severity: str | None = None
    detail: tuple[str, ...] = ()
    """Substrings of the first finding's detail."""
    title: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    frames: tuple[int, ...] | None = None
    """The first finding's evidence frames, as tshark numbers them."""
    absent: tuple[str, ...] = field(default=())
    """Finding ids that must not appear in the same capture (superseded or wrong)."""


POSITIVE: tuple[Case, ...] = (
    # -- outcomes and transactions ------------------------------------------
    Case("call.busy", "udp4-busy", 3, "info", ("486 Busy Here",)),
    Case("txn.unanswered", "udp4-no-response", 3, "error", ("Timer B",)),
    # -- authentication -------------------------------------------------------
    Case("auth.challenge-resolved", "udp4-proxy-auth", 3, "info", ("challenged 1 time(s)",)),
    Case(
        "auth.credentials-rejected",
        "udp4-register-wrong-password",
        3,
        "error",
        ("user 'alice'", "realm 'lab.test'", "a new 401 challenge without stale=true"),
        fix=("password",),
        absent=("call.auth-failed", "auth.realm-mismatch"),
    ),
    Case(
        "auth.credentials-rejected",
        "corpus:sngrep/aaa.pcap",
        4,
        None,  # three never recovered (error), one later succeeded (warning)
        ("user 'voi18063'", "with 403 Forbidden (frame 32)", "5 of 6 attempt(s)"),
        frames=(30, 32, 121, 154, 430, 453),
    ),
    Case(
        "auth.stale-nonce",
        "udp4-auth-stale",
        3,
        "info",
        ("carrying `stale=true` (frame 4)", "retried with the new nonce (frame 5)", "200 OK"),
        frames=(3, 4, 5, 6),
    ),
    Case(
        "auth.nonce-reused",
        "udp4-auth-nonce-replay",
        2,  # kamailio gave calls 1 and 2 the same nonce (it is time-based): one per nonce
        "info",
        (
            "(frame 5) with credentials for the nonce it had already used in frame 3",
            "no nonce-count (no qop)",
            "accepted it with 200 OK (frame 6)",
        ),
        fix=("qop",),
        frames=(3, 5, 6),
    ),
    Case(
        "auth.realm-mismatch",
        "udp4-auth-realm-mismatch",
        3,
        "error",
        ("for realm 'lab.test'", "credentials for realm 'other.test'"),
        title=("'other.test'", "'lab.test'"),
        fix=("Set the UA's authentication realm to 'lab.test'",),
        frames=(2, 3, 4),
        absent=("auth.credentials-rejected",),
    ),
    # -- SIP Outbound ---------------------------------------------------------
    Case(
        "outbound.first-hop-lacks-support",
        "udp4-outbound-439",
        3,
        "error",
        ("`Supported`/`Require` has outbound: yes", "Contact `reg-id`: 1", "none with ;ob"),
        title=("first hop 127.0.0.1:5064",),
        fix=("Enable RFC 5626 outbound on the edge proxy 127.0.0.1:5064", "not to request"),
        absent=("call.failed",),
    ),
    Case(
        "outbound.flow-failed",
        "tcp4-flow-failed",
        1,
        "error",
        (
            "Route sip:",
            ";lr;ob",
            "registered in frame 4 over TCP 127.0.0.1:5060 -> 127.0.0.1:5064 (reg-id 1",
            "re-registered after the 430 (frame 42)",
            "no other flow of this +sip.instance",
        ),
        title=("edge proxy 127.0.0.1:5064",),
        fix=("keep-alives", "reg-id=2"),
        frames=(26, 29, 4, 11, 42),
    ),
    # -- extensions and intervals -----------------------------------------------
    Case(
        "extension.bad-extension",
        "udp4-extension-420-path",
        3,
        "error",
        ("Unsupported: path",),
        fix=("`Supported: path`",),
    ),
    Case(
        "extension.bad-extension",
        "udp4-extension-420-proxy-require",
        3,
        "error",
        ("Proxy-Require: foo",),
        fix=("Remove foo from the UA's `Proxy-Require`",),
    ),
    Case("extension.required", "udp4-extension-421", 3, "error", title=("requires outbound",)),
    Case(
        "session.interval-too-small",
        "udp4-session-interval-too-small",
        3,
        "info",
        ("Session-Expires of 90 s", "`Min-SE: 120`", "retried (frame 4) asking 120 s"),
        frames=(1, 2, 4, 10),
    ),
    Case(
        "register.interval-too-brief",
        "udp4-interval-too-brief",
        3,
        "info",
        ("expiry of 10 s", "`Min-Expires: 60`", "retried (frame 3) asking 60 s", "200 OK"),
        frames=(1, 2, 3, 4),
    ),
    # -- methods, bodies, codecs ------------------------------------------------
    Case(
        "method.not-allowed",
        "udp4-method-not-allowed",
        3,
        "error",
        ("answered MESSAGE (frame 1)", "`Allow` lists INVITE, ACK, CANCEL, BYE, OPTIONS"),
        fix=("Enable MESSAGE on 127.0.0.1:5070",),
        frames=(1, 2),
    ),
    Case(
        "content.unsupported-media-type",
        "udp4-unsupported-media",
        3,
        "error",
        ("`Content-Type: application/vnd.example+xml`", "`Accept: text/plain`"),
        fix=("send the body as text/plain",),
        frames=(1, 2),
    ),
    Case(
        "media.not-acceptable",
        "udp4-codec-mismatch",
        3,
        "error",
        (
            "offered audio G729",
            "far end's SDP lists audio PCMU, PCMA, telephone-event",
            "no codec in common",
            "`Warning: 305 127.0.0.1",
        ),
        fix=("add one of PCMU, PCMA to the caller's codec list",),
        frames=(1, 2),
    ),
    Case(
        "media.not-acceptable",
        "udp4-codec-mismatch-606",
        3,
        "error",
        ("offered audio G729", "`Warning: 304 127.0.0.1"),
        title=("anywhere",),
    ),
    Case(
        "media.not-acceptable",
        "corpus:heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
        2,
        "warning",
        ("the re-INVITE offered image t38",),
        fix=("T.38",),
    ),
    # -- servers, timers, loops ---------------------------------------------------
    Case(
        "server.service-unavailable",
        "udp4-unavailable",
        3,
        "error",
        title=("Retry-After 120s",),
    ),
    Case(
        "proxy.503-rewritten-as-500",
        "udp4-unavailable-via-proxy",
        None,
        "warning",
        ("reason phrase of a 503",),
    ),
    Case(
        "server.retry-too-early",
        "udp4-retry-too-early",
        1,
        "warning",
        ("`Retry-After: 10` (frame 2)", "sent INVITE to it 1.0", "(frame 4)"),
        frames=(2, 4),
    ),
    Case(
        "timeout.request-timeout",
        "udp4-timeout-via-proxy",
        3,
        "error",
        ("relayed the INVITE to 127.0.0.1:5070 (frame 3)", "never answered", "Timer B"),
        title=("408 from 127.0.0.1:5062", "towards 127.0.0.1:5070"),
        frames=(1, 3, 6, 7),
        absent=("txn.unanswered",),
    ),
    Case(
        "timeout.request-timeout",
        "corpus:sngrep/aaa.pcap",
        2,
        "error",
        ("answered the INVITE (frame 223)", "sending the request nowhere"),
    ),
    Case(
        "loop.too-many-hops",
        "udp4-loop",
        None,
        "error",
        (
            "through 11 Via hop(s)",
            "started with Max-Forwards 10",
            "127.0.0.1:5064 (5 times)",
            "Diagnosis: loop",
        ),
        title=("forwarding loop",),
        absent=("txn.max-forwards-zero",),
    ),
    Case(
        "loop.too-many-hops",
        "udp4-max-forwards",
        3,
        "error",
        ("started with Max-Forwards 1", "Diagnosis: too-low"),
        fix=("Set Max-Forwards to 70",),
        frames=(1, 3, 4),
    ),
    Case(
        "loop.too-many-hops",
        "corpus:pcap2sipp/example.pcap",
        1,
        "error",
        ("with Max-Forwards 0", "Diagnosis: too-low"),
        frames=(37, 38),
    ),
    Case(
        "loop.detected",
        "udp4-loop-detected",
        3,
        "error",
        ("through 2 Via hop(s)", "no Via sent-by repeats", "Diagnosis: spiral"),
        frames=(1, 3, 4),
    ),
    # -- size, redirects, reasons -------------------------------------------------
    Case(
        "transport.large-udp",
        "udp4-large-udp",
        2,
        "warning",
        ("the largest 2", "RFC 3261 §18.1.1"),
        fix=("TCP",),
    ),
    Case(
        "transport.large-udp",
        "udp4-large-udp-fragmented",
        2,
        "warning",
        ("travelled as IP fragments (frames 1 and 2)",),
        frames=(1, 2),
    ),
    Case(
        "transport.large-udp",
        "corpus:sngrep/ipv6frag.pcap",
        2,
        "warning",
        ("travelled as IP fragments (frames 1 and 2)",),
        frames=(1, 2),
    ),
    Case(
        "transport.message-too-large",
        "udp4-message-too-large",
        3,
        "error",
        ("was 2369 bytes over UDP",),
        frames=(1, 2),
    ),
    Case(
        "redirect.followed",
        "udp4-redirect-followed",
        3,
        "info",
        ("to sip:carol@127.0.0.1:5074;transport=UDP", "(frame 4), answered 200 OK"),
        frames=(1, 2, 4, 7),
    ),
    Case(
        "redirect.not-followed",
        "udp4-redirect-not-followed",
        3,
        "warning",
        ("sip:carol@127.0.0.1:5074", "no request to any of them follows"),
        frames=(1, 2),
    ),
    Case(
        "reason.q850",
        "udp4-q850-bye",
        1,
        "info",
        ("3 BYE message(s) in 3 call(s)", "`Reason: Q.850;cause=16`", "Normal call clearing"),
        frames=(6, 13, 20),
    ),
    Case(
        "reason.q850",
        "udp4-q850-503",
        1,
        "warning",
        ("`Reason: Q.850;cause=34`", "RFC 3398 maps it to SIP 503"),
        title=("No circuit/channel available",),
    ),
    Case(
        "reason.q850",
        "udp4-q850-cancel",
        1,
        "info",
        ("3 CANCEL message(s)", "`Reason: Q.850;cause=31`"),
    ),
    Case(
        "reason.sip",
        "udp4-fork",
        1,
        "info",
        ("`Reason: SIP;cause=200`", '"Call completed elsewhere"', "sent by 127.0.0.1:5062"),
    ),
    # -- traffic ------------------------------------------------------------------
    Case(
        "traffic.scanner",
        "udp4-scanner",
        1,
        "warning",
        ("60 request(s) (REGISTER 60)", "'friendly-scanner'", "probing 60 user(s)", "404 x60"),
        absent=("call.not-found",),  # the probes are summarised, not listed one by one
    ),
    Case(
        "traffic.flood",
        "udp4-scanner",
        1,
        "warning",
        ("60 REGISTER request(s) in all", "to 127.0.0.1:5068 (60)"),
    ),
    Case(
        "traffic.many-rejections",
        "udp4-scanner",
        1,
        "warning",
        ("refused 60 times (404 x60) for 60 different users",),
    ),
)

# Captures where the finding must not appear, each chosen to be close to a positive.
NEGATIVE: tuple[tuple[str, str], ...] = (
    ("call.busy", "udp4-answered"),
    ("txn.unanswered", "udp4-answered"),
    ("auth.challenge-resolved", "udp4-register-wrong-password"),
    ("auth.credentials-rejected", "udp4-register-auth"),
    ("auth.credentials-rejected", "udp4-auth-stale"),  # stale is not a wrong password
    ("auth.stale-nonce", "udp4-register-auth"),
    ("auth.nonce-reused", "udp4-register-auth"),
    # A re-used nonce with a higher nonce-count is legitimate (RFC 2617 §3.2.2).
    ("auth.nonce-reused", "udp4-auth-nonce-reuse"),
    # An ACK repeats its INVITE's credentials (RFC 3261 §13.2.2.4): not a re-use.
    ("auth.nonce-reused", "corpus:sipnab/Asterisk_ZFONE_XLITE.pcap"),
    # ... nor is a B2BUA relaying the UA's credentials on its other leg.
    ("auth.nonce-reused", "corpus:heplify/erspan_sip_ipv4_udp.pcapng"),
    ("auth.realm-mismatch", "udp4-register-wrong-password"),
    ("outbound.first-hop-lacks-support", "tcp4-flow-failed"),
    ("outbound.flow-failed", "udp4-outbound-439"),
    ("extension.bad-extension", "udp4-extension-421"),
    ("extension.required", "udp4-extension-420-path"),
    ("session.interval-too-small", "udp4-answered"),
    ("register.interval-too-brief", "udp4-register"),
    ("method.not-allowed", "udp4-options"),
    ("content.unsupported-media-type", "udp4-method-not-allowed"),
    ("media.not-acceptable", "udp4-answered"),
    ("server.service-unavailable", "udp4-busy"),
    ("proxy.503-rewritten-as-500", "udp4-unavailable"),
    ("server.retry-too-early", "udp4-retry-after-honoured"),
    ("timeout.request-timeout", "udp4-no-response"),
    ("loop.too-many-hops", "udp4-fork"),
    ("loop.detected", "udp4-loop"),
    ("transport.large-udp", "udp4-answered"),
    ("transport.message-too-large", "udp4-large-udp"),
    ("redirect.followed", "udp4-redirect-not-followed"),
    ("redirect.not-followed", "udp4-redirect-followed"),
    ("reason.q850", "udp4-answered"),
    ("reason.sip", "udp4-q850-bye"),
    ("traffic.scanner", "udp4-register-auth"),
    ("traffic.flood", "udp4-options"),
    ("traffic.many-rejections", "udp4-not-found"),
)


def _path(capture: str) -> Path:
    if capture.startswith("corpus:"):
        path = CORPUS / capture.removeprefix("corpus:")
        if not path.exists():
            pytest.skip(f"{path} absent (../shared/corpus not available)")
        return path
    path = CAPTURES / f"{capture}.pcap"
    if not path.exists():
        pytest.fail(f"lab capture {path} missing: run python3 captures/lab/run.py")
    return path


@cache
def _analysis(capture: str) -> Analysis:
    return analyze(str(_path(capture)))


def _ports(capture: str) -> list[int]:
    if capture.startswith("corpus:"):
        return []
    truth = CAPTURES / f"{capture}.sipp.json"
    ports: list[int] = json.loads(truth.read_text())["sip_ports"]
    return ports


def _found(capture: str, fid: str) -> list[Finding]:
    return [f for f in _analysis(capture).finding_records if f.id == fid]


def _case_id(c: Case) -> str:
    return f"{c.id}@{c.capture.removeprefix('corpus:')}"


@pytest.mark.parametrize("case", POSITIVE, ids=_case_id)
def test_rule_fires_with_its_evidence(case: Case) -> None:
    found = _found(case.capture, case.id)
    assert found, f"{case.id} not found in {case.capture}"
    if case.count is not None:
        assert len(found) == case.count
    first = found[0]
    if case.severity is not None:
        assert {f.severity for f in found} == {case.severity}
    for text in case.detail:
        assert text in first.detail, (text, first.detail)
    for text in case.title:
        assert text in first.title, (text, first.title)
    for text in case.fix:
        assert text in first.fix, (text, first.fix)
    if case.frames is not None:
        assert first.frames == case.frames
    assert first.rfc
    ids = {f.id for f in _analysis(case.capture).finding_records}
    assert not ids & set(case.absent)


@pytest.mark.parametrize(("fid", "capture"), NEGATIVE, ids=[f"{f}@{c}" for f, c in NEGATIVE])
def test_rule_stays_quiet(fid: str, capture: str) -> None:
    assert not _found(capture, fid)


def _tshark_frames(path: Path, display_filter: str) -> list[int]:
    """The frames tshark shows for a display filter."""
    cmd = [require_tshark(), "-n", "-r", str(path), "-Y", display_filter]
    cmd += ["-T", "fields", "-e", "frame.number"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.tshark
@pytest.mark.parametrize("case", POSITIVE, ids=_case_id)
def test_evidence_agrees_with_tshark(case: Case) -> None:
    path = _path(case.capture)
    sip = sip_frames(path, _ports(case.capture))
    fragments = set(_tshark_frames(path, "ip.flags.mf == 1 || ipv6.fraghdr.more == 1"))
    for f in _found(case.capture, case.id)[:3]:
        # The display filter shows exactly the evidence frames.
        assert _tshark_frames(path, f.display_filter) == sorted(set(f.frames))
        # Each is a SIP frame, or an earlier IP fragment of one.
        assert set(f.frames) <= set(sip) | fragments, f.frames
        if f.status is not None:
            assert any(str(f.status) in sip.get(n, []) for n in f.frames), (f.status, f.frames)


def _covers(rule_id: str, finding_id: str) -> bool:
    """A rule's id names one finding id, or a family (`call.*`)."""
    if rule_id.endswith("*"):
        return finding_id.startswith(rule_id.removesuffix("*"))
    return finding_id == rule_id


def test_every_rule_is_tested_both_ways() -> None:
    positive = {c.id for c in POSITIVE}
    negative = {fid for fid, _ in NEGATIVE}
    for rule in RULES:
        assert any(_covers(rule.id, i) for i in positive), f"{rule.id}: no capture firing it"
        assert any(_covers(rule.id, i) for i in negative), f"{rule.id}: no quiet capture"
    # Every finding id a case names comes from a rule (no stale ids in this table).
    for fid in positive | negative:
        assert any(_covers(r.id, fid) for r in RULES), fid


def test_rules_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text()
    for rule in RULES:
        assert f"| `{rule.id}` | {rule.rfc} | {rule.summary} |" in doc, rule.id
