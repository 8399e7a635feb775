#!/usr/bin/env python3
"""Generate the SIP captures of the analyzer's test lab, with their expected truth.

Every capture is produced by real programs on the loopback interface: SIPp
plays the user agents (scenarios in ``lab/scenarios/``), kamailio plays the
proxy, registrar and edge proxy (configs generated from ``lab/kamailio/``) and
tcpdump records the traffic. Beside each ``<transport><ip>-<scenario>.pcap``
this script writes ``<same name>.sipp.json``: SIPp's own statistics for every
SIPp run, and the expected analyzer result derived from them (never typed by
hand: the UAC's successful calls times the scenario's intended outcome, the
Call-IDs and final status codes the UAC logged in its message trace).

Usage:
    python3 captures/lab/run.py [--out DIR] [--list] [--demo] [--load] [--keep] [NAME ...]
    python3 captures/lab/run.py [--bench-rtp DIR] [--bench-tcp DIR]

No NAME: every scenario capture plus the demo and load captures. A NAME is a
scenario (``busy``: all its transports) or one capture (``tcp4-busy``).
``--demo`` alone generates only ``demo.pcapng``, ``--load`` only the parser
benchmark's ``load/udp4-load.pcap.gz``; ``--bench-rtp``/``--bench-tcp`` only
the ingest benchmark's big captures (never committed: ``bench/make_captures.py``
writes them to ``bench/.cache/``). Needs root (tcpdump on ``lo``) and the
Debian packages sip-tester, kamailio, kamailio-outbound-modules, tcpdump and
tshark. Only 127.0.0.1 and ::1 are ever used.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import ctypes
import dataclasses
import fcntl
import functools
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
CAPTURES_DIR = LAB_DIR.parent
SCENARIO_DIR = LAB_DIR / "scenarios"
KAMAILIO_DIR = LAB_DIR / "kamailio"

# One fixed port per role, none of them claimed by another tshark dissector
# (udp/5072 would decode as AYIYA; 5061, 5066, 5084 and 5094 are avoided too).
# uas2 is the second SIPp UAS of the fork and redirect-followed scenarios (5074: decoded
# as SIP by tshark too).
PORTS: dict[str, int] = {
    "uac": 5060,
    "proxy": 5062,
    "edge": 5064,
    "registrar": 5068,
    "uas": 5070,
    "uas2": 5074,
    "caller": 5076,  # a second UAC, when one UA calls another (UacStep, flow-failed)
}
# SIPp binds -mp .. -mp+3 even without media: keep concurrent instances 4+ apart.
MEDIA_PORTS: dict[str, int] = {"uac": 6000, "uas": 6010, "uas2": 6020}
# Scenarios with RTP (bench/) send each call's media from [auto_media_port]:
# -mp + 4 x (call number - 1) mod 10000, so UAC ports are 10000 + 4k and UAS
# ports 10010 + 4k (never equal: they differ by 2 mod 4). Above 8889, so that
# no call's RTP reaches a SIPp control socket (-cp, UDP 8888 and 8889).
RTP_MEDIA_PORTS: dict[str, int] = {"uac": 10000, "uas": 10010}
RTP_PORT_RANGE = (10000, 10010 + 9999)
# What the RTP scenarios play (Debian package sip-tester): G.711 A-law, 30 ms packets.
RTP_AUDIO = Path("/usr/share/sip-tester/g711a.pcap")

AUTH_USER = "alice"
AUTH_PASSWORD = "lab-secret"
WRONG_PASSWORD = "not-the-secret"
UAS_USER = "bob"  # R-URI user that the proxy relays to the SIPp UAS
FORK_USER = "fork"  # R-URI user that the proxy forks to both SIPp UASs (bob and carol)
UAS2_USER = "carol"  # the fork's second branch
LOOP_USER = "loop"  # R-URI user that the proxy and the edge relay to each other (loop)

CALLS_PER_CAPTURE = 3
SIPP_TIMEOUT_S = 30  # SIPp's own -timeout
HARD_DEADLINE_S = 45  # then SIGKILL, whatever SIPp is doing
READY_TIMEOUT_S = 10  # tcpdump / kamailio / UAS start-up
STOP_GRACE_S = 5  # after SIGTERM/SIGINT, before SIGKILL
UAS_EXIT_WAIT_S = 5  # the UAS exits by itself (-m) once the UAC is done
SETTLE_S = 0.2  # before stopping tcpdump
KEEPALIVE_AFTER_S = 1.0  # after the UAC exits, before its CRLF keep-alive (Scenario.keepalive)
STEP_GAP_S = 0.5  # between two UACs of one scenario (Scenario.before/after): closed flows settle
LOCK_WAIT_S = 300  # for another run.py to finish


class LabError(Exception):
    """A run did not produce exactly the intended traffic."""


# --------------------------------------------------------------------------
# Transports and scenarios


@dataclass(frozen=True)
class Transport:
    proto: str  # "udp" | "tcp"
    ip: int  # 4 | 6

    @property
    def name(self) -> str:
        return f"{self.proto}{self.ip}"

    @property
    def host(self) -> str:
        return "127.0.0.1" if self.ip == 4 else "::1"

    @property
    def uri_host(self) -> str:
        return self.host if self.ip == 4 else f"[{self.host}]"

    @property
    def sipp_flag(self) -> str:
        # u1/t1: one socket for all calls, like a single phone would use.
        return "u1" if self.proto == "udp" else "t1"

    def hostport(self, port: int) -> str:
        return f"{self.uri_host}:{port}"

    def sip_uri(self, port: int, user: str | None = None) -> str:
        userinfo = f"{user}@" if user else ""
        return f"sip:{userinfo}{self.hostport(port)};transport={self.proto}"


UDP4, TCP4, UDP6, TCP6 = (
    Transport("udp", 4),
    Transport("tcp", 4),
    Transport("udp", 6),
    Transport("tcp", 6),
)
ALL_TRANSPORTS = (UDP4, TCP4, UDP6, TCP6)


@dataclass(frozen=True)
class Kamailio:
    """One kamailio instance: role (= template name and port) and #!define flags."""

    role: str  # "proxy" | "registrar" | "edge"
    defines: tuple[str, ...] = ()


@dataclass(frozen=True)
class UacStep:
    """A SIPp UAC run to completion before or after a scenario's main UAC.

    It is its own SIPp process (own Call-IDs, own statistics, role "uac" in the
    JSON with "step"), so that a UA can go away between two exchanges (its TCP
    connection closes when SIPp exits) and another UA can act in between.
    Everything not set here (transport, password, kamailio) is the scenario's.
    """

    xml: str
    target: str  # role it sends to
    outcome: str  # what the analyzer must report for each of its calls
    calls: int = 1
    port: int = PORTS["uac"]  # its -p (also its TCP source port)
    service: str = UAS_USER


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    outcome: str  # what the analyzer must report for each call
    uac_xml: str
    target: str  # role the UAC sends to: "uas", "proxy", "registrar" or "edge"
    uas_xml: str | None = None
    kamailio: tuple[Kamailio, ...] = ()
    service: str = UAS_USER  # SIPp -s: the R-URI user
    password: str | None = None  # -au alice -ap PASSWORD when set
    transports: tuple[Transport, ...] = (UDP4,)
    rate: int = 10  # UAC calls per second (-r)
    concurrent: int = 1  # UAC simultaneous calls (-l)
    rtp: bool = False  # the UAs play RTP (RTP_MEDIA_PORTS; tcpdump records RTP_PORT_RANGE)
    uas2_xml: str | None = None  # a second SIPp UAS (port PORTS["uas2"]): the fork's other branch
    call_seconds: int = 0  # how long one call lasts by design (timers): added to the timeouts
    final_response: bool = True  # False: by design the UAC gets no final response (no-response)
    keepalive: bool = False  # after the UAC exits, a CRLF keep-alive from its port (see README)
    calls: int = CALLS_PER_CAPTURE  # calls of the main UAC in the scenario's capture
    mtu: int | None = None  # recorded in a private network namespace whose lo has this MTU
    uac_port: int = PORTS["uac"]  # the main UAC's -p
    inf: str | None = None  # the main UAC's injection file (-inf), in lab/scenarios/
    before: tuple[UacStep, ...] = ()  # UACs run one after the other before the main UAC
    after: tuple[UacStep, ...] = ()  # ... and after it (and after the UASs have exited)

    def roles(self) -> list[str]:
        roles = ["uac"] + [k.role for k in self.kamailio]
        return roles + [role for role in ("uas", "uas2") if self.xml(role)]

    def xml(self, role: str) -> str | None:
        """The SIPp scenario file of a SIPp role (uac, uas, uas2)."""
        return {"uac": self.uac_xml, "uas": self.uas_xml, "uas2": self.uas2_xml}.get(role)

    def ports(self) -> list[int]:
        uac_ports = {self.uac_port} | {step.port for step in self.before + self.after}
        return sorted({PORTS[role] for role in self.roles() if role != "uac"} | uac_ports)

    def uacs(self) -> list[Scenario]:
        """Every SIPp UAC run, in order, as a scenario of its own (main UAC: self)."""
        return [self.step(s) for s in self.before] + [self] + [self.step(s) for s in self.after]

    def step(self, step: UacStep) -> Scenario:
        """The scenario a UacStep runs: this one with the step's UAC, and no steps."""
        return dataclasses.replace(
            self,
            uac_xml=step.xml,
            target=step.target,
            outcome=step.outcome,
            calls=step.calls,
            uac_port=step.port,
            service=step.service,
            inf=None,
            concurrent=1,
            call_seconds=0,
            final_response=True,
            keepalive=False,
            before=(),
            after=(),
        )

    def media_ports(self) -> tuple[int, int] | None:
        """The range of UDP ports the scenario's RTP uses, if it has any."""
        return RTP_PORT_RANGE if self.rtp else None

    def run_seconds(self, calls: int) -> int:
        """How long the UAC takes to place `calls` calls at its rate (0 for a few)."""
        return calls // self.rate

    def sipp_timeout(self, calls: int) -> int:
        """SIPp's own -timeout: the lab's default, plus twice the run's length and one call's."""
        return SIPP_TIMEOUT_S + 2 * self.run_seconds(calls) + self.call_seconds

    def deadline(self, calls: int) -> int:
        """When the UAC gets SIGKILL, whatever it is doing."""
        return HARD_DEADLINE_S + 2 * self.run_seconds(calls) + self.call_seconds


PROXY = Kamailio("proxy")
REGISTRAR = Kamailio("registrar")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="answered",
        description="INVITE, 100, 180, 200, ACK, BYE, 200 between SIPp UAC and SIPp UAS",
        outcome="answered",
        uac_xml="uac-answered.xml",
        target="uas",
        uas_xml="uas-answered.xml",
        transports=ALL_TRANSPORTS,
    ),
    Scenario(
        name="busy",
        description="INVITE answered 486 Busy Here by the SIPp UAS, ACK",
        outcome="busy",
        uac_xml="uac-busy.xml",
        target="uas",
        uas_xml="uas-busy.xml",
        transports=(UDP4, TCP4, UDP6),
    ),
    Scenario(
        name="no-answer",
        description="INVITE, 180 Ringing, then 480 Temporarily Unavailable, ACK",
        outcome="no_answer",
        uac_xml="uac-no-answer.xml",
        target="uas",
        uas_xml="uas-no-answer.xml",
    ),
    Scenario(
        name="cancel",
        description="INVITE, 180, CANCEL, 200 (CANCEL), 487 Request Terminated, ACK",
        outcome="cancelled",
        uac_xml="uac-cancel.xml",
        target="uas",
        uas_xml="uas-cancel.xml",
        transports=(UDP4, TCP4, UDP6),
    ),
    Scenario(
        name="redirect",
        description="INVITE answered 302 Moved Temporarily (Contact: carol) by the UAS, ACK; "
        "the UAC does not follow the redirect",
        outcome="redirected",
        uac_xml="uac-redirect.xml",
        target="uas",
        uas_xml="uas-redirect.xml",
        transports=(UDP4, TCP6),
    ),
    Scenario(
        name="reinvite",
        description="INVITE, 180, 200, ACK, then a re-INVITE putting the call on hold "
        "(CSeq 2, 200, ACK), BYE, 200",
        outcome="answered",
        uac_xml="uac-reinvite.xml",
        target="uas",
        uas_xml="uas-reinvite.xml",
        transports=(UDP4, TCP4),
    ),
    Scenario(
        name="not-found",
        description="INVITE to kamailio for a user with no registration: 100, 404 Not Found, ACK",
        outcome="not_found",
        uac_xml="uac-not-found.xml",
        target="proxy",
        kamailio=(PROXY,),
        service="nobody",
    ),
    Scenario(
        name="unavailable",
        description="INVITE answered 503 Service Unavailable (Retry-After: 120) by the UAS, ACK",
        outcome="failed",
        uac_xml="uac-unavailable.xml",
        target="uas",
        uas_xml="uas-unavailable.xml",
    ),
    Scenario(
        name="unavailable-via-proxy",
        description="INVITE via kamailio to a UAS answering 503: kamailio relays "
        "500 Service Unavailable, ACK",
        outcome="failed",
        uac_xml="uac-unavailable-via-proxy.xml",
        target="proxy",
        uas_xml="uas-unavailable.xml",
        kamailio=(PROXY,),
    ),
    Scenario(
        name="proxy-auth",
        description="INVITE, 407 from kamailio, ACK, INVITE with Proxy-Authorization "
        "relayed to the UAS: 200, ACK, BYE, 200",
        outcome="answered",
        uac_xml="uac-proxy-auth.xml",
        target="proxy",
        uas_xml="uas-answered.xml",
        kamailio=(Kamailio("proxy", ("WITH_PROXY_AUTH",)),),
        password=AUTH_PASSWORD,
        transports=ALL_TRANSPORTS,
    ),
    Scenario(
        name="register",
        description="REGISTER, 200 OK from the kamailio registrar (no authentication)",
        outcome="answered",
        uac_xml="uac-register.xml",
        target="registrar",
        kamailio=(REGISTRAR,),
    ),
    Scenario(
        name="register-auth",
        description="REGISTER, 401 challenge, REGISTER with Authorization, 200 OK",
        outcome="answered",
        uac_xml="uac-register-auth.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH",)),),
        password=AUTH_PASSWORD,
        transports=ALL_TRANSPORTS,
    ),
    Scenario(
        name="register-wrong-password",
        description="REGISTER, 401, REGISTER with credentials from a wrong password, "
        "401 again (kamailio challenges anew)",
        outcome="auth_failed",
        uac_xml="uac-register-wrong-password.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH",)),),
        password=WRONG_PASSWORD,
    ),
    Scenario(
        name="options",
        description="OPTIONS, 200 OK between SIPp UAC and SIPp UAS",
        outcome="answered",
        uac_xml="uac-options.xml",
        target="uas",
        uas_xml="uas-options.xml",
    ),
    Scenario(
        name="outbound-439",
        description="outbound REGISTER (reg-id, +sip.instance) via a kamailio edge adding no "
        "Path: the registrar answers 439 First Hop Lacks Outbound Support",
        outcome="failed",
        uac_xml="uac-outbound-439.xml",
        target="edge",
        kamailio=(Kamailio("edge"), REGISTRAR),
        transports=(UDP4, TCP4, UDP6),
    ),
    Scenario(
        name="extension-420-path",
        description="REGISTER without Supported: path via a kamailio edge adding a Path: "
        "the registrar answers 420 Bad Extension, Unsupported: path",
        outcome="failed",
        uac_xml="uac-register-path-420.xml",
        target="edge",
        kamailio=(Kamailio("edge", ("WITH_PATH",)), REGISTRAR),
    ),
    Scenario(
        name="extension-420-proxy-require",
        description="INVITE with Proxy-Require: foo: kamailio sanity_check() answers "
        "420 Bad Proxy Require Extension, ACK",
        outcome="failed",
        uac_xml="uac-proxy-require.xml",
        target="proxy",
        kamailio=(PROXY,),
    ),
    Scenario(
        name="extension-421",
        description="REGISTER with Supported: path (no outbound) to a registrar with "
        "outbound_mode=2: 421 Extension Required, Require: outbound",
        outcome="failed",
        uac_xml="uac-register-421.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("OUTBOUND_REQUIRED",)),),
    ),
    Scenario(
        name="fork",
        description="INVITE to kamailio forked in parallel to two SIPp UASs: both ring "
        "(180, two To tags), bob answers 200; kamailio CANCELs carol's branch (200, 487, ACK); "
        "ACK, BYE, 200 through the proxy",
        outcome="answered",
        uac_xml="uac-fork.xml",
        target="proxy",
        uas_xml="uas-fork-answer.xml",
        uas2_xml="uas-fork-cancelled.xml",
        kamailio=(PROXY,),
        service=FORK_USER,
    ),
    Scenario(
        name="lost-ack",
        description="INVITE, 100, 180, 200, and no ACK: the UAS retransmits the 200 "
        "(Timer G: 0.5 s doubling to T2 = 4 s) and after 64*T1 = 32 s sends BYE, 200 "
        "(RFC 3261 13.3.1.4); 3 calls at once",
        outcome="answered",
        uac_xml="uac-lost-ack.xml",
        target="uas",
        uas_xml="uas-lost-ack.xml",
        concurrent=3,
        call_seconds=33,
    ),
    Scenario(
        name="no-response",
        description="INVITE to a UAS that never answers: the UAC retransmits it "
        "(Timer A: 0.5, 1, 2, 4, 8, 16 s) and gives up at Timer B = 32 s "
        "(RFC 3261 17.1.1.2), then a CRLF keep-alive; 3 calls at once",
        outcome="no_response",
        uac_xml="uac-no-response.xml",
        target="uas",
        uas_xml="uas-no-response.xml",
        concurrent=3,
        call_seconds=35,
        final_response=False,
        keepalive=True,
    ),
    Scenario(
        name="glare",
        description="INVITE, 180, 200, ACK; both sides send a re-INVITE at once, each answers "
        "the other's 491 Request Pending, both ACKed (RFC 3261 14.1); the UAS retries after "
        "0-2 s: 200, ACK; BYE, 200",
        outcome="answered",
        uac_xml="uac-glare.xml",
        target="uas",
        uas_xml="uas-glare.xml",
    ),
    # kamailio-made failures: 430, 423, 422, 408, 483, stale/realm/reused digest, scanner.
    Scenario(
        name="flow-failed",
        description="alice (port 5060) registers with SIP Outbound over TCP (Supported: "
        "path, outbound; Contact with reg-id=1 and +sip.instance) through the kamailio edge, "
        "which adds Path <sip:FLOWTOKEN@127.0.0.1:5064;transport=tcp;lr;ob> and relays it to "
        "the registrar: 200 (Require: outbound); her SIPp exits, closing the TCP connection "
        "(the flow); bob (port 5076, TCP) sends INVITE sip:alice@lab.test to the registrar "
        "(100), which routes it along the Path to the edge (100); the edge, not allowed to "
        "open a new connection, answers 430 Flow Failed; the registrar ACKs it and relays it "
        "to bob, who ACKs; alice registers again over a new TCP connection from the same "
        "port (same +sip.instance, reg-id and flow token): 200",
        outcome="failed",
        uac_xml="uac-flow-failed.xml",
        target="registrar",
        kamailio=(
            Kamailio("edge", ("WITH_PATH", "WITH_OUTBOUND")),
            Kamailio("registrar", ("WITH_LOCATION",)),
        ),
        service=AUTH_USER,
        transports=(TCP4,),
        calls=1,
        uac_port=PORTS["caller"],
        before=(UacStep("uac-outbound-register.xml", "edge", "answered"),),
        after=(UacStep("uac-outbound-register.xml", "edge", "answered"),),
    ),
    Scenario(
        name="interval-too-brief",
        description="REGISTER with Expires: 10 to the kamailio registrar (min_expires 60, "
        "min_expires_mode 1): 423 Interval Too Brief, Min-Expires: 60; REGISTER again "
        "(CSeq 2) with Expires: 60 taken from the Min-Expires: 200",
        outcome="answered",
        uac_xml="uac-interval-too-brief.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("MIN_EXPIRES_423",)),),
    ),
    Scenario(
        name="session-interval-too-small",
        description="INVITE with Supported: timer, Session-Expires: 90 to the kamailio proxy "
        "(its script's Min-SE is 120 s): 422 Session Interval Too Small, Min-SE: 120, ACK; INVITE "
        "again (CSeq 2) with Session-Expires: 120;refresher=uac and Min-SE: 120, relayed to "
        "the UAS: 100, 180, 200 (Require: timer, Session-Expires: 120;refresher=uac), ACK, "
        "BYE, 200 through the proxy",
        outcome="answered",
        uac_xml="uac-session-interval-too-small.xml",
        target="proxy",
        uas_xml="uas-session-timer.xml",
        kamailio=(Kamailio("proxy", ("MIN_SE_120",)),),
    ),
    Scenario(
        name="timeout-via-proxy",
        description="INVITE to the kamailio proxy (tm fr_timer 4 s): 100 from it; relayed to "
        "a UAS that never answers (no 100), the proxy retransmits it (Timer A: 0.5, 1, 2 s "
        "apart) and about 4 s after the INVITE (tm's timers tick in steps) answers 408 "
        "Request Timeout itself, sending nothing more to the UAS; ACK",
        outcome="no_response",
        uac_xml="uac-timeout-via-proxy.xml",
        target="proxy",
        uas_xml="uas-silent.xml",
        kamailio=(Kamailio("proxy", ("FR_TIMER_4S",)),),
        call_seconds=5,
    ),
    Scenario(
        name="loop",
        description="INVITE for user loop with Max-Forwards: 10 to the kamailio proxy, which "
        "relays it to the kamailio edge, which relays it back to the proxy, and so on (a "
        "forwarding loop: 11 INVITEs, each relaying hop taking one off Max-Forwards, sending "
        "100 back and, at the proxy, adding a Record-Route), until the proxy receives it with "
        "Max-Forwards: 0 and answers 483 Too Many Hops, relayed back along every hop (each "
        "hop ACKing the 483 it gets); ACK",
        outcome="failed",
        uac_xml="uac-loop.xml",
        target="proxy",
        kamailio=(
            Kamailio("proxy", ("LOOP_VIA_EDGE",)),
            Kamailio("edge", ("RELAY_TO_PROXY",)),
        ),
        service=LOOP_USER,
        calls=1,  # 43 messages, the INVITE growing a Record-Route at each pass
    ),
    Scenario(
        name="max-forwards",
        description="INVITE with Max-Forwards: 1 to the kamailio edge, which relays it to "
        "the kamailio proxy with Max-Forwards: 0 (after its 100); the proxy answers 483 Too "
        "Many Hops, the edge ACKs it and relays it back; ACK",
        outcome="failed",
        uac_xml="uac-max-forwards.xml",
        target="edge",
        kamailio=(Kamailio("edge", ("RELAY_TO_PROXY",)), PROXY),
    ),
    Scenario(
        name="auth-stale",
        description="REGISTER, 401 from the kamailio registrar (nonces live 3 s: "
        "nonce_expire); 4 s later REGISTER with credentials for that nonce: 401 with "
        "stale=true and a new nonce; REGISTER with credentials for the new nonce: 200",
        outcome="answered",
        uac_xml="uac-auth-stale.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH", "NONCE_EXPIRE_3S")),),
        password=AUTH_PASSWORD,
        call_seconds=4,
    ),
    Scenario(
        name="auth-realm-mismatch",
        description="REGISTER, 401 (realm lab.test); REGISTER with an Authorization "
        "header for realm other.test (the challenge's nonce, a made-up response): the "
        "registrar finds no credentials for its realm and answers a new 401; the UA gives up",
        outcome="auth_failed",
        uac_xml="uac-auth-realm-mismatch.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH",)),),
    ),
    Scenario(
        name="auth-nonce-reuse",
        description="REGISTER, 401, REGISTER with credentials (nc=00000001): 200; 0.5 s later "
        "a refresh (CSeq 3) with credentials for the same nonce (nc=00000002, a new cnonce): "
        "the registrar (one_time_nonce) refuses the reused nonce, 401 with stale=true and a "
        "new nonce; REGISTER with credentials for it: 200",
        outcome="answered",
        uac_xml="uac-auth-nonce-reuse.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH", "ONE_TIME_NONCE")),),
        password=AUTH_PASSWORD,
    ),
    Scenario(
        name="auth-nonce-replay",
        description="REGISTER, 401 without qop, REGISTER with credentials (no nc): 200; "
        "0.5 s later a refresh (CSeq 3) with credentials for the same nonce, again without "
        "nc: the registrar accepts the re-used nonce, 200",
        outcome="answered",
        uac_xml="uac-auth-nonce-replay.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("WITH_AUTH", "NO_QOP")),),
        password=AUTH_PASSWORD,
    ),
    Scenario(
        name="scanner",
        description="a SIP scanner (User-Agent: friendly-scanner, sipvicious svwar's "
        "REGISTER layout) enumerating extensions 100 to 159: 60 REGISTERs, each with its own "
        "Call-ID, 50 per second, up to 10 at once, to the kamailio registrar, which knows only "
        "alice and answers each 404 Not Found",
        outcome="not_found",
        uac_xml="uac-scanner.xml",
        target="registrar",
        kamailio=(Kamailio("registrar", ("ONLY_ALICE",)),),
        calls=60,
        rate=50,
        concurrent=10,
        inf="scanner-users.csv",
    ),
    # --- SIPp UAC <-> SIPp UAS failures (media, methods, retries, size, Reason, loops) ---
    Scenario(
        name="codec-mismatch",
        description="INVITE offering only G.729 (m=audio RTP/AVP 18); the UAS answers "
        '488 Not Acceptable Here with Warning: 305 <its address> "Incompatible media format" '
        "and an SDP body listing what it supports (port 0, PCMU 0, PCMA 8, "
        "telephone-event 101); ACK",
        outcome="failed",
        uac_xml="uac-codec-mismatch.xml",
        target="uas",
        uas_xml="uas-codec-mismatch.xml",
    ),
    Scenario(
        name="codec-mismatch-606",
        description="INVITE offering only G.729 (m=audio RTP/AVP 18); the UAS answers "
        '606 Not Acceptable with Warning: 304 <its address> "Media type not available" '
        "and an SDP body listing what it supports (port 0, PCMU 0, PCMA 8, "
        "telephone-event 101); ACK",
        outcome="failed",
        uac_xml="uac-codec-mismatch-606.xml",
        target="uas",
        uas_xml="uas-codec-mismatch-606.xml",
    ),
    Scenario(
        name="method-not-allowed",
        description="MESSAGE (text/plain) answered 405 Method Not Allowed with "
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS by the UAS",
        outcome="failed",
        uac_xml="uac-method-not-allowed.xml",
        target="uas",
        uas_xml="uas-method-not-allowed.xml",
    ),
    Scenario(
        name="unsupported-media",
        description="MESSAGE with Content-Type: application/vnd.example+xml (a small XML "
        "body) answered 415 Unsupported Media Type with Accept: text/plain and "
        "Accept-Encoding: identity by the UAS",
        outcome="failed",
        uac_xml="uac-unsupported-media.xml",
        target="uas",
        uas_xml="uas-unsupported-media.xml",
    ),
    Scenario(
        name="retry-too-early",
        description="INVITE (CSeq 1) answered 503 Service Unavailable with Retry-After: 10, "
        "ACK; 1 s later the UAC retries (same Call-ID, From tag, Request-URI and To, "
        "CSeq 2, new Via branch): 503 with Retry-After: 10 again, ACK; one call",
        outcome="failed",
        uac_xml="uac-retry-too-early.xml",
        target="uas",
        uas_xml="uas-retry-too-early.xml",
        calls=1,
    ),
    Scenario(
        name="retry-after-honoured",
        description="INVITE (CSeq 1) answered 503 Service Unavailable with Retry-After: 1, "
        "ACK; 1.5 s later the UAC retries (same Call-ID, From tag, Request-URI and To, "
        "CSeq 2, new Via branch): 180, 200, ACK, BYE (CSeq 3), 200; one call",
        outcome="answered",
        uac_xml="uac-retry-after-honoured.xml",
        target="uas",
        uas_xml="uas-retry-after-honoured.xml",
        calls=1,
    ),
    Scenario(
        name="redirect-not-followed",
        description="INVITE answered 302 Moved Temporarily (Contact: carol at port 5074, "
        "expires=3600) by the UAS, ACK; the UAC sends nothing more",
        outcome="redirected",
        uac_xml="uac-redirect.xml",
        target="uas",
        uas_xml="uas-redirect-not-followed.xml",
    ),
    Scenario(
        name="redirect-followed",
        description="INVITE answered 302 Moved Temporarily (Contact: carol at port 5074) "
        "by the UAS, ACK; the UAC follows it (RFC 3261 8.1.3.4): a new INVITE in the same "
        "call (CSeq 2) with the Contact as Request-URI, to the second UAS at port 5074: "
        "100, 180, 200, ACK, BYE (CSeq 3), 200",
        outcome="answered",
        uac_xml="uac-redirect-followed.xml",
        target="uas",
        uas_xml="uas-redirect-followed.xml",
        uas2_xml="uas-redirect-followed-carol.xml",
    ),
    Scenario(
        name="large-udp",
        description="an INVITE of about 2.4 kB over UDP (SDP with 12 audio and 3 video "
        "payload types; long From, Contact, Allow, Accept, Call-Info, Subject) through the "
        "kamailio proxy to the UAS (about 2.5 kB with kamailio's Via and Record-Route); "
        "100 from kamailio, 100, 180, 200 from the UAS (kamailio relays 180 and 200); ACK, "
        "BYE, 200 through the proxy; not IP-fragmented (lo's MTU is 65536)",
        outcome="answered",
        uac_xml="uac-large-udp.xml",
        target="proxy",
        uas_xml="uas-answered.xml",
        kamailio=(PROXY,),
    ),
    Scenario(
        name="large-udp-fragmented",
        description="large-udp recorded in a private network namespace whose lo has MTU "
        "1500: each INVITE (about 2.4 kB from the UAC, 2.5 kB from kamailio) is sent in two "
        "IPv4 fragments (1480 bytes of IP payload, then the rest); every other message fits "
        "in one packet: 100 from kamailio, 100, 180, 200 from the UAS (kamailio relays 180 "
        "and 200); ACK, BYE, 200 through the proxy; one call",
        outcome="answered",
        uac_xml="uac-large-udp.xml",
        target="proxy",
        uas_xml="uas-answered.xml",
        kamailio=(PROXY,),
        calls=1,
        mtu=1500,
    ),
    Scenario(
        name="message-too-large",
        description="an INVITE of about 2.4 kB over UDP (the large-udp INVITE), direct to "
        "the UAS, answered 513 Message Too Large, ACK",
        outcome="failed",
        uac_xml="uac-message-too-large.xml",
        target="uas",
        uas_xml="uas-message-too-large.xml",
    ),
    Scenario(
        name="q850-bye",
        description="INVITE, 100, 180, 200, ACK; the caller's BYE carries "
        'Reason: Q.850;cause=16;text="Normal call clearing", 200',
        outcome="answered",
        uac_xml="uac-q850-bye.xml",
        target="uas",
        uas_xml="uas-answered.xml",
    ),
    Scenario(
        name="q850-503",
        description="INVITE answered 503 Service Unavailable carrying "
        'Reason: Q.850;cause=34;text="No circuit/channel available" by the UAS, ACK',
        outcome="failed",
        uac_xml="uac-unavailable.xml",
        target="uas",
        uas_xml="uas-q850-503.xml",
    ),
    Scenario(
        name="q850-cancel",
        description="INVITE, 180, CANCEL carrying Reason: Q.850;cause=31, 200 (CANCEL), "
        "487 Request Terminated, ACK",
        outcome="cancelled",
        uac_xml="uac-q850-cancel.xml",
        target="uas",
        uas_xml="uas-cancel.xml",
    ),
    Scenario(
        name="loop-detected",
        description="INVITE to the kamailio proxy, 100 from kamailio; kamailio's INVITE to "
        "the UAS (two Vias) answered 482 Loop Detected (both Vias echoed), kamailio ACKs "
        "it and relays the 482 to the UAC, ACK (absorbed by kamailio)",
        outcome="failed",
        uac_xml="uac-loop-detected.xml",
        target="proxy",
        uas_xml="uas-loop-detected.xml",
        kamailio=(PROXY,),
    ),
    # --- end of the SIPp UAC <-> SIPp UAS failures ---
)
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}

# The load capture (bench/): answered calls through the kamailio proxy, many
# at once, so the capture holds realistic interleaved two-leg traffic.
LOAD = Scenario(
    name="load",
    description="answered calls (INVITE, 100, 180, 200, ACK, BYE, 200) through kamailio, "
    "100 calls/s, up to 20 at once",
    outcome="answered",
    uac_xml="uac-answered.xml",
    target="proxy",
    uas_xml="uas-answered.xml",
    kamailio=(PROXY,),
    rate=100,
    concurrent=20,
)
LOAD_CALLS = 1000
LOAD_DIR = "load"

# The ingest benchmark's captures (bench/, issue 4): too big to commit, written
# to the directory given (bench/.cache/ by bench/make_captures.py).
#
# RTP-heavy UDP: each call is 14 SIP messages (7 on each leg through the proxy)
# and about 2 x 64 RTP packets (both UAs play 1.9 s of 30 ms G.711 packets), so
# about 10 % of the packets are SIP; 7500 calls make about 1,060,000 packets.
BENCH_RTP = Scenario(
    name="rtp",
    description="answered calls through kamailio, each with 1.9 s of G.711 RTP both ways "
    "(SIPp play_pcap_audio of g711a.pcap from per-call ports), 50 calls/s, up to 200 at once",
    outcome="answered",
    uac_xml="uac-rtp.xml",
    target="proxy",
    uas_xml="uas-rtp.xml",
    kamailio=(PROXY,),
    transports=(UDP4,),
    rate=50,
    concurrent=200,
    rtp=True,
)
BENCH_RTP_CALLS = 7500
# SIP over TCP: the load scenario over one TCP connection per hop (SIPp -t t1,
# kamailio's connection to the UAS): 14 segments per call, one message each,
# and about 4.5 bare ACKs, so 8000 calls make about 148,000 packets.
BENCH_TCP = Scenario(
    name="load",
    description="answered calls (INVITE, 100, 180, 200, ACK, BYE, 200) through kamailio "
    "over TCP, 100 calls/s, up to 20 at once",
    outcome="answered",
    uac_xml="uac-answered.xml",
    target="proxy",
    uas_xml="uas-answered.xml",
    kamailio=(PROXY,),
    transports=(TCP4,),
    rate=100,
    concurrent=20,
)
BENCH_TCP_CALLS = 8000

# The demo capture: one tcpdump session over this mix, UDP/IPv4, (scenario, calls).
DEMO_RUNS: tuple[tuple[str, int], ...] = (
    ("answered", 3),
    ("busy", 1),
    ("no-answer", 1),
    ("cancel", 1),
    ("not-found", 1),
    ("unavailable", 1),
    ("unavailable-via-proxy", 1),
    ("proxy-auth", 1),
    ("register-auth", 1),
    ("register-wrong-password", 1),
    ("options", 1),
    ("outbound-439", 1),
    ("extension-420-path", 1),
    ("extension-420-proxy-require", 1),
    ("extension-421", 1),
)


# --------------------------------------------------------------------------
# Processes: started by us, stopped by PID, always bounded in time


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


def spawn(name: str, argv: Sequence[str], workdir: Path) -> Proc:
    """Start a process in its own session (own process group = its PID).

    Its own group lets us signal it, and kamailio's children, by that PID,
    and keeps a Ctrl-C on this script from reaching it before our cleanup.
    """
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as out:
        popen = subprocess.Popen(
            list(argv),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log(f"    started {name}: pid {popen.pid}")
    with open(workdir / "pids.txt", "a") as pids:
        pids.write(f"{popen.pid} {name}\n")
    return Proc(name, popen, log_path)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(proc: Proc, sig: signal.Signals) -> None:
    """Signal the process by PID, wait, then SIGKILL its whole group if needed."""
    if proc.popen.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.popen.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log(f"    {proc.name} (pid {proc.pid}) ignored {sig.name}: SIGKILL")
    # Children (kamailio's workers) share the group; none may outlive the run.
    deadline = time.monotonic() + STOP_GRACE_S
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.popen.wait(timeout=STOP_GRACE_S)


def wait_until(what: str, ready: Callable[[], bool], proc: Proc) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready():
        if proc.popen.poll() is not None:
            raise LabError(
                f"{proc.name} exited ({proc.popen.returncode}) before {what}:\n{proc.tail()}"
            )
        if time.monotonic() > deadline:
            raise LabError(f"{proc.name}: no {what} after {READY_TIMEOUT_S}s:\n{proc.tail()}")
        time.sleep(0.01)


def port_bound(transport: Transport, port: int) -> bool:
    """True when some socket is bound (UDP) or listening (TCP) on the port.

    Read from /proc/net rather than probed, so that waiting for a server adds
    no packet to the capture.
    """
    table = Path(f"/proc/net/{transport.proto}{'6' if transport.ip == 6 else ''}")
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        listening = transport.proto == "udp" or fields[3] == "0A"
        if local_port == port and listening:
            return True
    return False


@contextlib.contextmanager
def tcpdump(
    pcap: Path,
    ports: Sequence[int],
    workdir: Path,
    media: tuple[int, int] | None = None,
    *,
    fragments: bool = False,
) -> Iterator[Proc]:
    """Record lo, restricted to the lab's SIP ports (and RTP ports), for the block.

    fragments: also every non-first fragment of a UDP/IPv4 datagram, which has no
    UDP header, so no port for the filter to match (Scenario.mtu).
    """
    selected = [f"port {p}" for p in sorted(set(ports))]
    if media is not None:
        selected.append(f"udp portrange {media[0]}-{media[1]}")
    bpf = "(udp or tcp) and (" + " or ".join(selected) + ")"
    if fragments:
        bpf = f"({bpf}) or (udp and ip[6:2] & 0x1fff != 0)"
    # -Z root: tcpdump would otherwise drop to user tcpdump and fail to write here.
    # --immediate-mode: without it the kernel hands packets over in blocks, and
    # a SIGINT before the block timeout loses them ("0 packets captured").
    # -U: write every packet at once, so nothing is lost if it has to be killed.
    # -B: a 32 MiB kernel buffer so that the load capture (bench/) loses nothing.
    argv = ["tcpdump", "-i", "lo", "-Z", "root", "--immediate-mode", "-U", "-n", "-B", "32768"]
    argv += ["-w", str(pcap), bpf]
    proc = spawn("tcpdump", argv, workdir)
    try:
        wait_until("'listening on'", lambda: "listening on" in proc.output(), proc)
        yield proc
        time.sleep(SETTLE_S)  # let the last packets reach tcpdump
    finally:
        stop(proc, signal.SIGINT)  # SIGINT: tcpdump flushes and closes the file
    check_tcpdump_counts(proc)


def check_tcpdump_counts(proc: Proc) -> int:
    """tcpdump must have written every packet its filter accepted, and dropped none.

    On lo the kernel filter sees each packet twice (sent and received) and
    libpcap keeps one copy: "received by filter" is twice "captured".
    """
    counts = {}
    for line in proc.output().splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].isdigit() and words[1] == "packets":
            counts[" ".join(words[2:])] = int(words[0])
    captured, received = counts.get("captured"), counts.get("received by filter")
    if captured is None or received != 2 * captured or counts.get("dropped by kernel", 0) != 0:
        raise LabError(f"tcpdump lost packets or did not finish cleanly:\n{proc.tail()}")
    return captured


# --------------------------------------------------------------------------
# kamailio


def listen_lines(transport: Transport, port: int) -> str:
    lines = [f"listen={transport.proto}:{transport.hostport(port)}"]
    if transport.proto == "udp":
        lines.append("disable_tcp=yes")  # no idle TCP workers (and their shutdown noise)
    return "\n".join(lines)


def render_config(node: Kamailio, transport: Transport, password: str) -> str:
    """Fill a kamailio/<role>.cfg.tmpl template for one instance."""
    text = (KAMAILIO_DIR / f"{node.role}.cfg.tmpl").read_text()
    values = {
        "DEFINES": "\n".join(f"#!define {d}" for d in node.defines),
        "LISTEN": listen_lines(transport, PORTS[node.role]),
        "UAS_USER": UAS_USER,
        "UAS_URI": transport.sip_uri(PORTS["uas"]),
        "FORK_USER": FORK_USER,
        "FORK_BRANCH_1": transport.sip_uri(PORTS["uas"], UAS_USER),
        "FORK_BRANCH_2": transport.sip_uri(PORTS["uas2"], UAS2_USER),
        "REGISTRAR_URI": transport.sip_uri(PORTS["registrar"]),
        "PROXY_URI": transport.sip_uri(PORTS["proxy"]),
        "EDGE_URI": transport.sip_uri(PORTS["edge"]),
        "LOOP_USER": LOOP_USER,
        "AUTH_PASSWORD": password,
    }
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    unfilled = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if unfilled:
        raise LabError(f"{node.role}.cfg.tmpl: no value for {', '.join(unfilled)}")
    return text


@contextlib.contextmanager
def kamailio(node: Kamailio, transport: Transport, workdir: Path) -> Iterator[Proc]:
    name = f"kamailio-{node.role}"
    cfg = workdir / f"{name}.cfg"
    cfg.write_text(render_config(node, transport, AUTH_PASSWORD))
    pidfile = workdir / f"{name}.pid"
    # -DD: stay in the foreground (our child, our PID); -E: log to stderr;
    # small -m/-M: a lab instance needs little memory.
    proc = spawn(
        name,
        ["kamailio", "-f", str(cfg), "-DD", "-E", "-P", str(pidfile), "-m", "32", "-M", "4"],
        workdir,
    )
    try:
        wait_until(
            f"listening on {transport.name} port {PORTS[node.role]}",
            lambda: pidfile.exists() and port_bound(transport, PORTS[node.role]),
            proc,
        )
        if int(pidfile.read_text().split()[0]) != proc.pid:
            raise LabError(f"{name}: pid file {pidfile.read_text()!r} is not pid {proc.pid}")
        yield proc
    finally:
        stop(proc, signal.SIGTERM)  # the main process stops its children


# --------------------------------------------------------------------------
# SIPp


@dataclass
class SippRun:
    """One SIPp process and what it reported."""

    scenario: str
    role: str  # "uac" | "uas"
    xml: str
    calls_limit: int
    stats: dict[str, int] = field(default_factory=dict)
    short_trace: list[list[str]] = field(default_factory=list)
    step: str | None = None  # "before" or "after" the main UAC (UacStep), else None
    port: int | None = None  # a UAC's -p, when not PORTS["uac"]

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "role": self.role,
            "scenario_file": f"lab/scenarios/{self.xml}",
            "calls_limit": self.calls_limit,
        }
        if self.step is not None:
            data["step"] = self.step
        if self.port is not None:
            data["port"] = self.port
        return data | {"stats": self.stats}


def sipp_argv(
    scn: Scenario, role: str, transport: Transport, calls: int, workdir: Path
) -> list[str]:
    xml = scn.xml(role)
    assert xml is not None
    options = {
        "-sf": str(SCENARIO_DIR / xml),
        "-i": transport.host,
        "-p": str(scn.uac_port if role == "uac" else PORTS[role]),
        "-mp": str((RTP_MEDIA_PORTS if scn.rtp else MEDIA_PORTS)[role]),
        "-t": transport.sipp_flag,
        "-m": str(calls),
        "-timeout": f"{scn.sipp_timeout(calls)}s",
        # Statistics (the truth is derived from them) and traces (for --keep).
        "-stf": str(workdir / f"{role}-stats.csv"),
        "-error_file": str(workdir / f"{role}-errors.log"),
        "-message_file": str(workdir / f"{role}-messages.log"),
        "-shortmessage_file": str(workdir / f"{role}-short.log"),
    }
    if role == "uac":
        # By default one call at a time, 10 per second: a readable capture, no overlap.
        options.update({"-s": scn.service, "-l": str(scn.concurrent), "-r": str(scn.rate)})
        if scn.password is not None:
            options.update({"-au": AUTH_USER, "-ap": scn.password})
        if scn.inf is not None:
            options["-inf"] = str(SCENARIO_DIR / scn.inf)
    # -timeout_error: a run that hits -timeout is a failure, not a normal exit.
    flags = ["-timeout_error", "-nostdin", "-trace_stat", "-trace_err"]
    flags += ["-trace_msg", "-trace_shortmsg"]
    argv = ["sipp"]
    if role == "uac":
        argv.append(transport.hostport(PORTS[scn.target]))
    for option, value in options.items():
        argv += [option, value]
    return argv + flags


def read_stats(path: Path) -> dict[str, int]:
    """Every cumulative (C) counter of the last row of SIPp's -stf CSV.

    Rates, durations and timestamps are left out: they are not counts and
    change from run to run.
    """
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    if len(rows) < 2:
        raise LabError(f"{path.name}: no statistics row")
    stats: dict[str, int] = {}
    for key, value in zip(rows[0], rows[-1], strict=True):
        if key.endswith("(C)") and value.strip().isdigit():
            stats[key] = int(value)
    return stats


def read_short_trace(path: Path) -> list[list[str]]:
    """SIPp's -trace_shortmsg lines: date, time, epoch, S|R, Call-ID, CSeq, first line."""
    if not path.exists():
        return []
    return [
        line.split("\t")
        for line in path.read_text(errors="replace").splitlines()
        if line.count("\t") >= 6
    ]


# Counters that mean extra packets (retransmissions, stray messages) in the capture.
NOISE_COUNTERS = ("Retransmissions(C)", "OutOfCallMsgs(C)", "DeadCallMsgs(C)", "Warnings(C)")


def finish_sipp(run: SippRun, proc: Proc, workdir: Path, expected_calls: int) -> None:
    """Collect a SIPp run's statistics; fail on any failed or missing call."""
    run.stats = read_stats(workdir / f"{run.role}-stats.csv")
    run.short_trace = read_short_trace(workdir / f"{run.role}-short.log")
    ok, failed = run.stats.get("SuccessfulCall(C)", -1), run.stats.get("FailedCall(C)", -1)
    problems = []
    if proc.popen.returncode != 0:
        problems.append(f"exit code {proc.popen.returncode}")
    if failed != 0 or ok != expected_calls:
        problems.append(f"{ok} successful and {failed} failed calls, {expected_calls} intended")
    noise = {k: run.stats.get(k, 0) for k in NOISE_COUNTERS if run.stats.get(k, 0)}
    if noise:
        # Not a failed call, but the capture holds more than the scenario's messages.
        log(f"    warning: SIPp {run.role} of {run.scenario} counted {noise}")
    if problems:
        errors = workdir / f"{run.role}-errors.log"
        # The first unexpected message says most about what went wrong.
        detail = errors.read_text(errors="replace")[:1500] if errors.exists() else ""
        raise LabError(
            f"{run.scenario}: SIPp {run.role} ({run.xml}): {'; '.join(problems)}\n"
            f"{detail}\n{proc.tail()}"
        )


def run_scenario(scn: Scenario, transport: Transport, calls: int, workdir: Path) -> list[SippRun]:
    """Run one scenario (kamailio instances, UAS(s), UAC) inside an open capture.

    The UACs of `scn.before` run first, one after the other, then the UAS(s)
    and the main UAC, then the UACs of `scn.after`: each in a subdirectory
    `step-before-N`/`step-after-N` of workdir, STEP_GAP_S apart.
    """
    log(f"  {transport.name}-{scn.name}: {calls} call(s)")
    runs: list[SippRun] = []
    # Stopped in reverse order on the way out: UAC, UAS(s), then kamailio.
    with contextlib.ExitStack() as stack:
        for node in scn.kamailio:
            stack.enter_context(kamailio(node, transport, workdir))
        for number, step in enumerate(scn.before, 1):
            stepdir = workdir / f"step-before-{number}"
            stepdir.mkdir()
            runs.append(run_uac(scn.step(step), transport, step.calls, stepdir, stack, "before"))
            time.sleep(STEP_GAP_S)
        servers: list[tuple[str, str, Proc]] = []  # (role, xml, process)
        for role in ("uas", "uas2"):
            xml = scn.xml(role)
            if not xml:
                continue
            server = spawn(f"sipp-{role}", sipp_argv(scn, role, transport, calls, workdir), workdir)
            stack.callback(stop, server, signal.SIGTERM)
            wait_until(
                f"listening on {transport.name} port {PORTS[role]}",
                functools.partial(port_bound, transport, PORTS[role]),
                server,
            )
            servers.append((role, xml, server))
        runs.append(run_uac(scn, transport, calls, workdir, stack))
        if scn.keepalive:
            time.sleep(KEEPALIVE_AFTER_S)
            send_keepalive(transport, PORTS[scn.target])
        for role, xml, server in servers:
            try:
                server.popen.wait(timeout=UAS_EXIT_WAIT_S)  # -m: it exits after its calls
            except subprocess.TimeoutExpired:
                raise LabError(
                    f"{scn.name}: SIPp {role.upper()} did not finish its {calls} calls:\n"
                    f"{server.tail()}"
                ) from None
            server_run = SippRun(scn.name, role, xml, calls)
            finish_sipp(server_run, server, workdir, calls)
            runs.append(server_run)
        for number, step in enumerate(scn.after, 1):
            time.sleep(STEP_GAP_S)
            stepdir = workdir / f"step-after-{number}"
            stepdir.mkdir()
            runs.append(run_uac(scn.step(step), transport, step.calls, stepdir, stack, "after"))
    return runs


def run_uac(
    scn: Scenario,
    transport: Transport,
    calls: int,
    workdir: Path,
    stack: contextlib.ExitStack,
    step: str | None = None,
) -> SippRun:
    """Run a scenario's SIPp UAC to completion and collect its statistics."""
    uac = spawn("sipp-uac", sipp_argv(scn, "uac", transport, calls, workdir), workdir)
    stack.callback(stop, uac, signal.SIGTERM)
    deadline = scn.deadline(calls)
    try:
        uac.popen.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        raise LabError(f"{scn.name}: SIPp UAC still running after {deadline}s") from None
    port = None if scn.uac_port == PORTS["uac"] else scn.uac_port
    uac_run = SippRun(scn.name, "uac", scn.uac_xml, calls, step=step, port=port)
    finish_sipp(uac_run, uac, workdir, calls)
    return uac_run


def send_keepalive(transport: Transport, port: int) -> None:
    """One CRLF keep-alive datagram from the UAC's port (free again) to `port`.

    SIPp can only send SIP messages, so the lab sends it. It is the usual NAT
    keep-alive of SIP phones over UDP ("\\r\\n\\r\\n", cf. RFC 5626 4.4.1), not a
    SIP message: every SIP program ignores it. It lets a capture show that time
    went on after the last SIP message (no-response: Timer B has elapsed).
    """
    if transport.proto != "udp":
        raise LabError(f"keep-alive over {transport.proto}: only UDP is supported")
    family = socket.AF_INET if transport.ip == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((transport.host, PORTS["uac"]))
        sock.sendto(b"\r\n\r\n", (transport.host, port))
    log(f"    sent a CRLF keep-alive {PORTS['uac']} -> {port}")


# --------------------------------------------------------------------------
# Expected truth, derived from SIPp's own records


INITIAL_METHODS = ("INVITE", "REGISTER", "OPTIONS", "MESSAGE")


def final_statuses(uac: SippRun) -> dict[str, int]:
    """Per Call-ID, the last final response the UAC received to its initial method.

    "Initial method": that of the call's first request (INVITE, REGISTER or
    OPTIONS), so a 200 to a CANCEL or BYE never counts, and a 407/401 followed
    by a successful retry counts as the retry's answer. The first 2xx settles
    it: a response to a later INVITE in the dialog (a re-INVITE's 200 or 491,
    as in glare) does not count.
    """
    method_of_call: dict[str, str] = {}
    final: dict[str, int] = {}
    for _date, _time, _epoch, direction, call_id, cseq, first_line, *_ in uac.short_trace:
        method = cseq.split()[-1]
        if direction == "S" and not first_line.startswith("SIP/2.0"):
            method_of_call.setdefault(call_id, method)
        elif direction == "R" and first_line.startswith("SIP/2.0 "):
            code = int(first_line.split()[1])
            settled = 200 <= final.get(call_id, 0) < 300
            initial = method == method_of_call.get(call_id) and method in INITIAL_METHODS
            if code >= 200 and initial and not settled:
                final[call_id] = code
    return final


@dataclass
class Expected:
    """What the analyzer must find in a capture."""

    calls: int
    outcomes: collections.Counter[str]
    final_status: collections.Counter[str]

    def __add__(self, other: Expected) -> Expected:
        return Expected(
            self.calls + other.calls,
            self.outcomes + other.outcomes,
            self.final_status + other.final_status,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "outcomes": dict(sorted(self.outcomes.items())),
            "final_status": dict(sorted(self.final_status.items())),
        }


def expected_truth(scn: Scenario, uac: SippRun) -> Expected:
    calls = {line[4] for line in uac.short_trace if line[3] == "S"}
    finals = final_statuses(uac)
    successful = uac.stats["SuccessfulCall(C)"]
    outgoing = uac.stats["OutgoingCall(C)"]
    if len(calls) != outgoing or len(calls) != successful:
        raise LabError(
            f"{scn.name}: {len(calls)} Call-IDs in the UAC trace, "
            f"{outgoing} outgoing and {successful} successful calls in its stats"
        )
    if scn.final_response and set(finals) != calls:
        missing = sorted(calls - set(finals))
        raise LabError(f"{scn.name}: no final response in the UAC trace for {missing}")
    if not scn.final_response and finals:
        raise LabError(f"{scn.name}: final responses in the UAC trace: {finals}")
    # Every call ended as SIPp expected (no failed call): each is the intended outcome.
    # final_status counts only calls that got a final response (none in no-response).
    return Expected(
        calls=len(calls),
        outcomes=collections.Counter({scn.outcome: successful}),
        final_status=collections.Counter(str(code) for code in finals.values()),
    )


def scenario_truth(scn: Scenario, runs: Sequence[SippRun]) -> Expected:
    """The truth of a scenario run: that of each UAC run (steps included), added up."""
    uacs = [run for run in runs if run.role == "uac"]
    parts = [expected_truth(s, run) for s, run in zip(scn.uacs(), uacs, strict=True)]
    return functools.reduce(lambda a, b: a + b, parts)


def check_capture(
    pcap: Path, ports: Sequence[int], expected_calls: int, timeout: float = 60
) -> None:
    """Cross-check with tshark, when installed, that the capture holds the calls."""
    if shutil.which("tshark") is None:
        return
    argv = ["tshark", "-n", "-r", str(pcap)]
    for port in ports:
        argv += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    argv += ["-Y", "sip", "-T", "fields", "-e", "sip.Call-ID"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    call_ids = {cid for line in result.stdout.splitlines() for cid in line.split(",") if cid}
    if result.returncode != 0 or len(call_ids) != expected_calls:
        raise LabError(
            f"{pcap.name}: tshark sees {len(call_ids)} Call-IDs, {expected_calls} expected\n"
            f"{result.stderr[-1000:]}"
        )


def write_json(path: Path, data: dict[str, object]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# --------------------------------------------------------------------------
# Captures


CLONE_NEWNET = 0x40000000  # <sched.h>: unshare() a new network namespace


def in_private_network(mtu: int, work: Callable[[], None]) -> None:
    """Run `work` in a child process with a network namespace of its own, lo's MTU `mtu`.

    The system's lo (MTU 65536) is left alone: the new namespace has its own lo,
    which the child brings up (127.0.0.1 and ::1) with this MTU, so that the
    kernel IP-fragments any bigger UDP datagram. tcpdump, kamailio and SIPp,
    started by the child, live in it too; it disappears when the child exits.
    The child's failure is the parent's (LabError).
    """
    if shutil.which("ip") is None:
        raise LabError("the private network namespace needs ip (apt-get install iproute2)")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns, whatever happens
        code = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                raise LabError(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
            link = ["ip", "link", "set", "dev", "lo", "mtu", str(mtu), "up"]
            subprocess.run(link, check=True, timeout=READY_TIMEOUT_S)
            log(f"    private network namespace: lo up, MTU {mtu}")
            work()
            code = 0
        except LabError as error:
            log(f"run.py: FAILED (private network namespace): {error}")
        except KeyboardInterrupt:
            code = 130
        except BaseException as error:  # reported; then the child exits, code 1
            log(f"run.py: private network namespace: {error!r}")
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 130:
        raise KeyboardInterrupt
    if code != 0:
        raise LabError(f"the capture in a private network namespace failed (exit {code})")


@contextlib.contextmanager
def workspace(label: str, keep: bool) -> Iterator[Path]:
    """A temp dir per capture: removed on success unless keep, kept (and named) on failure."""
    workdir = Path(tempfile.mkdtemp(prefix=f"siplab-{label}-"))
    try:
        yield workdir
    except BaseException:
        log(f"  logs kept in {workdir}")
        raise
    if keep:
        log(f"  logs kept in {workdir}")
    else:
        shutil.rmtree(workdir)


def capture_scenario(scn: Scenario, transport: Transport, out: Path, keep: bool) -> None:
    if scn.mtu is None:
        record_scenario(scn, transport, out, keep)
    else:
        in_private_network(scn.mtu, functools.partial(record_scenario, scn, transport, out, keep))


def record_scenario(scn: Scenario, transport: Transport, out: Path, keep: bool) -> None:
    stem = f"{transport.name}-{scn.name}"
    with workspace(stem, keep) as workdir:
        pcap = workdir / f"{stem}.pcap"
        with tcpdump(pcap, scn.ports(), workdir, fragments=scn.mtu is not None):
            runs = run_scenario(scn, transport, scn.calls, workdir)
        truth = scenario_truth(scn, runs)
        check_capture(pcap, scn.ports(), truth.calls)
        shutil.move(str(pcap), out / pcap.name)
        write_json(
            out / f"{stem}.sipp.json",
            {
                "capture": pcap.name,
                "scenario": scn.name,
                "transport": transport.proto,
                "ip": transport.ip,
                "description": scn.description,
                "sip_ports": scn.ports(),
                **({"lo_mtu": scn.mtu} if scn.mtu is not None else {}),
                "sipp": [run.as_json() for run in runs],
                "kamailio": [kamailio_json(node) for node in scn.kamailio],
                "expected": truth.as_json(),
            },
        )
        log(f"  wrote {pcap.name}: {dict(truth.outcomes)} {dict(truth.final_status)}")


def kamailio_json(node: Kamailio) -> dict[str, object]:
    return {
        "role": node.role,
        "config_template": f"lab/kamailio/{node.role}.cfg.tmpl",
        "defines": list(node.defines),
        "port": PORTS[node.role],
    }


def capture_demo(out: Path, keep: bool) -> None:
    """One tcpdump session over a mix of scenarios, saved as pcapng."""
    ports = sorted(set(PORTS.values()))
    with workspace("demo", keep) as workdir:
        pcap = workdir / "demo.pcap"
        sipp: list[dict[str, object]] = []
        truths: list[Expected] = []
        with tcpdump(pcap, ports, workdir):
            for name, calls in DEMO_RUNS:
                scn = SCENARIO_BY_NAME[name]
                rundir = workdir / name
                rundir.mkdir()
                runs = run_scenario(scn, UDP4, calls, rundir)
                truths.append(scenario_truth(scn, runs))
                sipp += [{"scenario": name, **run.as_json()} for run in runs]
        truth = truths[0]
        for more in truths[1:]:
            truth += more
        check_capture(pcap, ports, truth.calls)
        pcapng = workdir / "demo.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(pcap), str(pcapng)], check=True, timeout=60)
        shutil.move(str(pcapng), out / pcapng.name)
        write_json(
            out / "demo.sipp.json",
            {
                "capture": pcapng.name,
                "scenario": "demo",
                "transport": "udp",
                "ip": 4,
                "description": "one capture of a mix: "
                + ", ".join(f"{name} x{calls}" if calls > 1 else name for name, calls in DEMO_RUNS),
                "sip_ports": ports,
                "sipp": sipp,
                "expected": truth.as_json(),
            },
        )
        log(f"  wrote demo.pcapng: {truth.calls} calls {dict(truth.outcomes)}")


def capture_load(out: Path, keep: bool) -> None:
    """The parser benchmark's load capture, gzip-compressed, with its truth."""
    capture_many(LOAD, UDP4, LOAD_CALLS, out / LOAD_DIR, keep, compress=True)


def capture_bench(scn: Scenario, calls: int, folder: Path, keep: bool) -> None:
    """One of the ingest benchmark's big captures (plain pcap), unless it is there."""
    stem = f"{scn.transports[0].name}-{scn.name}"
    if (folder / f"{stem}.pcap").is_file() and (folder / f"{stem}.sipp.json").is_file():
        log(f"  {folder / stem}.pcap: already there")
        return
    capture_many(scn, scn.transports[0], calls, folder, keep, compress=False)


def capture_many(
    scn: Scenario, transport: Transport, calls: int, folder: Path, keep: bool, *, compress: bool
) -> None:
    """Many calls of one scenario in one capture (bench/), with their truth.

    The tshark cross-check gets ten minutes: the ingest benchmark's captures
    hold a million packets.
    """
    stem = f"{transport.name}-{scn.name}"
    folder.mkdir(parents=True, exist_ok=True)
    with workspace(stem, keep) as workdir:
        pcap = workdir / f"{stem}.pcap"
        with tcpdump(pcap, scn.ports(), workdir, scn.media_ports()) as recorder:
            runs = run_scenario(scn, transport, calls, workdir)
        packets = check_tcpdump_counts(recorder)
        truth = scenario_truth(scn, runs)
        check_capture(pcap, scn.ports(), truth.calls, timeout=600)
        if compress:
            final = folder / f"{stem}.pcap.gz"
            # mtime=0: the same capture always compresses to the same bytes.
            with open(pcap, "rb") as src, gzip.GzipFile(final, "wb", mtime=0) as dst:
                shutil.copyfileobj(src, dst)
        else:
            final = folder / pcap.name
            shutil.move(str(pcap), final)
        data: dict[str, object] = {
            "capture": final.name,
            "scenario": scn.name,
            "transport": transport.proto,
            "ip": transport.ip,
            "description": scn.description,
            "sip_ports": scn.ports(),
        }
        media = scn.media_ports()
        if media is not None:
            data["media_ports"] = list(media)
        data |= {
            "packets": packets,
            "sipp": [run.as_json() for run in runs],
            "kamailio": [kamailio_json(node) for node in scn.kamailio],
            "expected": truth.as_json(),
        }
        write_json(folder / f"{stem}.sipp.json", data)
        log(f"  wrote {final}: {truth.calls} calls, {packets} packets")


@contextlib.contextmanager
def exclusive_lab() -> Iterator[None]:
    """One run.py at a time on this machine: they all use the same ports.

    Two runs at once would each record the other's calls (the tshark check
    then fails), so a second run waits for the first to finish.
    """
    lock_path = Path(tempfile.gettempdir()) / "siplab.lock"
    with open(lock_path, "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT_S
        waiting = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another run.py held {lock_path} for {LOCK_WAIT_S}s") from None
                if not waiting:
                    log(f"run.py: waiting for another run.py to finish ({lock_path})")
                    waiting = True
                time.sleep(0.2)
        yield  # the lock goes with the file when it is closed


# --------------------------------------------------------------------------
# Command line


def all_captures() -> list[tuple[Scenario, Transport]]:
    return [(scn, t) for scn in SCENARIOS for t in scn.transports]


def select(names: Sequence[str]) -> list[tuple[Scenario, Transport]]:
    """Scenario names select all their transports; capture names just one."""
    by_capture = {f"{t.name}-{scn.name}": (scn, t) for scn, t in all_captures()}
    chosen: list[tuple[Scenario, Transport]] = []
    for name in names:
        if name in SCENARIO_BY_NAME:
            scn = SCENARIO_BY_NAME[name]
            chosen += [(scn, t) for t in scn.transports]
        elif name.removesuffix(".pcap") in by_capture:
            chosen.append(by_capture[name.removesuffix(".pcap")])
        else:
            raise SystemExit(f"run.py: unknown scenario or capture {name!r} (see --list)")
    return chosen


def check_tools(rtp: bool = False) -> None:
    missing = [
        tool for tool in ("sipp", "kamailio", "tcpdump", "editcap") if shutil.which(tool) is None
    ]
    if rtp and not RTP_AUDIO.is_file():
        missing.append(str(RTP_AUDIO))
    if missing:
        raise SystemExit(
            f"run.py: missing {', '.join(missing)}: apt-get install sip-tester kamailio "
            "kamailio-outbound-modules tcpdump tshark"
        )
    if os.geteuid() != 0:
        raise SystemExit("run.py: must run as root (tcpdump on lo)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=CAPTURES_DIR, help="output directory (default: captures/)"
    )
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    parser.add_argument("--demo", action="store_true", help="generate demo.pcapng")
    parser.add_argument(
        "--load",
        action="store_true",
        help=f"generate {LOAD_DIR}/udp4-load.pcap.gz ({LOAD_CALLS} calls, for bench/)",
    )
    parser.add_argument(
        "--bench-rtp",
        type=Path,
        metavar="DIR",
        help=f"generate DIR/udp4-{BENCH_RTP.name}.pcap ({BENCH_RTP_CALLS} calls with RTP, "
        "for bench/ingest_bench.py), unless it is there",
    )
    parser.add_argument(
        "--bench-tcp",
        type=Path,
        metavar="DIR",
        help=f"generate DIR/tcp4-{BENCH_TCP.name}.pcap ({BENCH_TCP_CALLS} calls over TCP, "
        "for bench/ingest_bench.py), unless it is there",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep each run's temp dir (configs, logs, SIPp traces)"
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="scenario (all transports) or capture name"
    )
    args = parser.parse_args(argv)

    if args.list:
        print("\n".join(scn.name for scn in SCENARIOS))
        return 0
    bench = [
        (scn, calls, folder)
        for scn, calls, folder in (
            (BENCH_RTP, BENCH_RTP_CALLS, args.bench_rtp),
            (BENCH_TCP, BENCH_TCP_CALLS, args.bench_tcp),
        )
        if folder is not None
    ]
    everything = not args.names and not args.demo and not args.load and not bench
    captures = all_captures() if everything else select(args.names)
    check_tools(rtp=any(scn.rtp for scn, _, _ in bench))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with exclusive_lab():
            for scn, transport in captures:
                capture_scenario(scn, transport, args.out, args.keep)
            if everything or args.demo:
                capture_demo(args.out, args.keep)
            if everything or args.load:
                capture_load(args.out, args.keep)
            for scn, calls, folder in bench:
                capture_bench(scn, calls, folder, args.keep)
    except LabError as error:
        log(f"run.py: FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        log("run.py: interrupted (every process it started has been stopped)")
        return 130
    made = len(captures) + (everything or args.demo) + (everything or args.load) + len(bench)
    log(f"run.py: {made} capture(s) in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
