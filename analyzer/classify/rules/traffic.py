"""Traffic-level findings: SIP scanners (by User-Agent), OPTIONS / REGISTER floods from
one address, and one address drawing many 403/404 for many different users
(extension enumeration, toll-fraud attempts)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from ...correlate import Message
from ..context import Context
from ..model import Finding
from ..rule import Rule

# User-Agent values of well-known SIP scanning tools (sipvicious svmap/svwar send
# "friendly-scanner"; the others are scanners seen in honeypot reports).
SCANNER_UA = re.compile(
    r"friendly-scanner|sipvicious|sipcli|sip-?scan|vaxsipuseragent|\biwar\b|sundayddr|\bsmap\b",
    re.IGNORECASE,
)
FLOOD_METHODS = ("OPTIONS", "REGISTER")
FLOOD_WINDOW_S = 1.0
FLOOD_PER_WINDOW = 20
"""More new OPTIONS or REGISTER transactions than this from one address within one
second is a flood: a phone sends one REGISTER per expiry and an OPTIONS ping every
15-60 s, so even a proxy pinging many gateways rarely reaches it."""
REJECTIONS = 10
REJECTED_USERS = 5
"""An address that drew at least REJECTIONS 403/404 for at least REJECTED_USERS
different users is probing for valid ones."""
_EVIDENCE = 10


def _host(endpoint: str) -> str:
    """`1.2.3.4:5060` or `[::1]:5060` to its address."""
    host = endpoint.rsplit(":", 1)[0]
    return host.strip("[]")


def _users(msgs: list[Message]) -> set[str]:
    """The users the requests aimed at: the Request-URI's user, else the To URI's (a
    REGISTER's Request-URI names only the domain, RFC 3261 §10.2)."""
    found = set()
    for m in msgs:
        sip = m.sip
        for uri in (sip.request_uri, sip.to_addr.uri if sip.to_addr else None):
            if uri is not None and uri.user:
                found.add(uri.user)
                break
    return found


def _scanners(ctx: Context) -> Iterator[Finding]:
    by_host: dict[str, list[Message]] = {}
    agents: dict[str, set[str]] = {}
    for ua, rows in ctx.messages.with_user_agent(lambda v: bool(SCANNER_UA.search(v))).items():
        for i in rows:
            m = ctx.messages[i]
            if m.is_request and not ctx.is_retransmission(m):
                by_host.setdefault(_host(m.src), []).append(m)
                agents.setdefault(_host(m.src), set()).add(ua)
    for host, msgs in by_host.items():
        msgs.sort(key=lambda m: m.index)
        methods = Counter(m.method or "?" for m in msgs)
        users = _users(msgs)
        answers: Counter[int] = Counter()
        for m in msgs:
            final = ctx.final_of(m)
            if final is not None and final.status is not None:
                answers[final.status] += 1
        span = msgs[-1].time - msgs[0].time
        yield Finding(
            "traffic.scanner",
            "warning",
            f"SIP scanner at {host}: {len(msgs)} request(s) from "
            f"{', '.join(sorted(agents[host]))[:60]}",
            f"{host} sent {len(msgs)} request(s) ("
            + ", ".join(f"{k} {v}" for k, v in methods.most_common())
            + f") in {span:.1f} s with a scanner's User-Agent "
            f"({', '.join(repr(a) for a in sorted(agents[host]))}), probing {len(users)} "
            "user(s)"
            + (
                "; the answers were " + ", ".join(f"{k} x{v}" for k, v in sorted(answers.items()))
                if answers
                else "; none was answered"
            )
            + ".",
            f"Block {host} at the edge (firewall, kamailio `pike`/`secfilter`, fail2ban); do "
            "not answer scanners with anything that tells valid users from invalid ones "
            "(answer 401/403 alike), and make sure no account has a weak password.",
            tuple(m.frame for m in msgs[:_EVIDENCE]),
            None,
            msgs[0].call_id,
            "RFC 3261 §26.1",
        )


def _floods(ctx: Context) -> Iterator[Finding]:
    per: dict[tuple[str, str], list[Message]] = {}
    for i in ctx.messages.requests(FLOOD_METHODS):
        m = ctx.messages[i]
        if not ctx.is_retransmission(m):
            per.setdefault((_host(m.src), m.method or "?"), []).append(m)
    for (host, method), msgs in per.items():
        if len(msgs) <= FLOOD_PER_WINDOW:
            continue
        # The busiest one-second window: two pointers over the send times.
        best, start, lo = 0, 0, 0
        for hi, m in enumerate(msgs):
            while m.time - msgs[lo].time > FLOOD_WINDOW_S:
                lo += 1
            if hi - lo + 1 > best:
                best, start = hi - lo + 1, lo
        if best <= FLOOD_PER_WINDOW:
            continue
        window = msgs[start : start + best]
        targets = Counter(m.dst for m in msgs)
        yield Finding(
            "traffic.flood",
            "warning",
            f"{method} flood from {host}: {best} in one second",
            f"{host} sent {len(msgs)} {method} request(s) in all, up to {best} within one "
            f"second (frames {window[0].frame}-{window[-1].frame}), to "
            + ", ".join(f"{d} ({n})" for d, n in targets.most_common(3))
            + f"; more than {FLOOD_PER_WINDOW} a second is not what phones or keep-alives "
            "send.",
            f"If {host} is a single device, fix its "
            + ("registration" if method == "REGISTER" else "OPTIONS keep-alive")
            + " interval or retry loop; if it is an attacker, rate-limit or block it at the "
            "edge (kamailio `pike`, `pipelimit`); if it is an SBC aggregating many users, "
            "this rate may be expected.",
            tuple(m.frame for m in window[:_EVIDENCE]),
            None,
            window[0].call_id,
            "RFC 3261 §26.1; RFC 5390",
        )


def _rejections(ctx: Context) -> Iterator[Finding]:
    per: dict[str, list[tuple[Message, Message]]] = {}
    for resp in ctx.origin_responses(403, 404):
        req = ctx.request_of(resp)
        if req is None or req.to_tag:
            continue
        ua = ctx.ua_copy(req)
        per.setdefault(_host(ua.src), []).append((ua, resp))
    for host, pairs in per.items():
        if len(pairs) < REJECTIONS:
            continue
        users = _users([ua for ua, _ in pairs])
        if len(users) < REJECTED_USERS:
            continue
        codes = Counter(r.status for _, r in pairs)
        sample = ", ".join(sorted(users)[:8])
        yield Finding(
            "traffic.many-rejections",
            "warning",
            f"{host} drew {len(pairs)} 403/404 for {len(users)} different users",
            f"Requests from {host} were refused {len(pairs)} times ("
            + ", ".join(f"{k} x{v}" for k, v in sorted(codes.items()))
            + f") for {len(users)} different users ({sample}"
            + (", ..." if len(users) > 8 else "")
            + "): the pattern of someone guessing extensions or numbers.",
            f"If {host} is not a known device, block it; answer unknown and forbidden users "
            "the same way so that valid extensions cannot be told apart, and rate-limit "
            "failed requests per source (kamailio `pike`, fail2ban on the log).",
            tuple(f for ua, r in pairs[:_EVIDENCE] for f in (ua.frame, r.frame)),
            None,
            pairs[0][1].call_id,
            "RFC 3261 §26.1",
        )


RULES = (
    Rule(
        "traffic.scanner",
        "RFC 3261 §26.1",
        "Requests with a SIP scanner's User-Agent (friendly-scanner, sipvicious, ...), per "
        "source address.",
        _scanners,
    ),
    Rule(
        "traffic.flood",
        "RFC 3261 §26.1",
        f"More than {FLOOD_PER_WINDOW} new OPTIONS or REGISTER transactions within one second "
        "from one address.",
        _floods,
    ),
    Rule(
        "traffic.many-rejections",
        "RFC 3261 §26.1",
        f"One address drawing at least {REJECTIONS} 403/404 for at least {REJECTED_USERS} "
        "different users (enumeration).",
        _rejections,
    ),
)
