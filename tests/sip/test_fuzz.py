"""Property-based tests: generated valid messages round-trip; mutated real
messages never raise anything but ParseError; a time-bounded fuzz loop.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.ingest.stream import Accounting, read_sip
from analyzer.sip import KNOWN_METHODS, ParseError, SipMessage, parse
from tests.conftest import CAPTURES, CORPUS

_TOKEN = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-.!%*_+`'~]{0,15}", fullmatch=True)
_HOST = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){0,2}", fullmatch=True)
_WORD = st.from_regex(r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]{1,24}", fullmatch=True)
_DISPLAY = st.from_regex(r"[A-Za-z0-9 ,.;:<>@'-]{0,20}", fullmatch=True)


def _case(name: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if f else c.lower() for c, f in zip(name, flips + [False] * 40, strict=False)
    )


@st.composite
def messages(draw: st.DrawFn) -> tuple[bytes, dict[str, object]]:
    """A valid message plus the values it encodes."""
    is_request = draw(st.booleans())
    method = draw(st.sampled_from(sorted(KNOWN_METHODS)))
    user, host = draw(_TOKEN), draw(_HOST)
    port = draw(st.none() | st.integers(1, 65535))
    branches = draw(st.lists(_TOKEN, min_size=1, max_size=4))
    transports = draw(st.lists(st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS"]), min_size=4))
    vias = [
        f"SIP/2.0/{t} {draw(_HOST)}:{draw(st.integers(1, 65535))};branch=z9hG4bK{b}"
        for t, b in zip(transports, branches, strict=False)
    ]
    from_tag, to_tag = draw(_TOKEN), draw(st.none() | _TOKEN)
    display = draw(_DISPLAY)
    call_id = draw(_WORD)
    cseq = draw(st.integers(0, 2**31 - 1))
    max_fwd = draw(st.integers(0, 255))
    body = draw(st.binary(max_size=64))
    flips = draw(st.lists(st.booleans(), max_size=20))
    compact = draw(st.booleans())
    fold = draw(st.booleans())
    status = draw(st.integers(100, 699))
    uri = f"sip:{user}@{host}" + (f":{port}" if port is not None else "")
    start = f"{method} {uri} SIP/2.0" if is_request else f"SIP/2.0 {status} Whatever Reason"
    display_q = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [start]
    # Vias as separate lines or one comma list.
    if draw(st.booleans()):
        lines += [f"{'v' if compact else _case('Via', flips)}: {v}" for v in vias]
    else:
        lines.append(f"Via: {', '.join(vias)}")
    lines += [
        f"{'f' if compact else _case('From', flips)}: {display_q} <{uri}>;tag={from_tag}",
        f"{'t' if compact else 'To'}: <sip:{host}>" + (f";tag={to_tag}" if to_tag else ""),
        f"{'i' if compact else _case('Call-ID', flips)}: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Max-Forwards: {max_fwd}",
        "Subject: a\r\n  folded subject" if fold else "Subject: plain",
        f"{'l' if compact else 'Content-Length'}: {len(body)}",
    ]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    expect: dict[str, object] = {
        "is_request": is_request,
        "method": method if is_request else None,
        "status": None if is_request else status,
        "uri": uri if is_request else None,
        "branches": [b.split(";branch=")[1] for b in vias],
        "transports": [v.split()[0].split("/")[2] for v in vias],
        "from_tag": from_tag,
        "to_tag": to_tag,
        "display": display,
        "call_id": call_id,
        "cseq": cseq,
        "max_fwd": max_fwd,
        "body": body,
        "subject": "a folded subject" if fold else "plain",
    }
    return data, expect


@given(messages())
@settings(max_examples=400, deadline=None)
def test_generated_valid_messages_round_trip(case: tuple[bytes, dict[str, object]]) -> None:
    data, expect = case
    m = parse(data)
    assert m.anomalies == ()
    assert m.is_request == expect["is_request"]
    assert m.method == expect["method"]
    assert m.status == expect["status"]
    assert m.uri == expect["uri"]
    assert [v.branch for v in m.vias] == expect["branches"]
    assert [v.transport for v in m.vias] == expect["transports"]
    assert m.from_tag == expect["from_tag"]
    assert m.to_tag == expect["to_tag"]
    assert m.from_addr is not None
    assert m.from_addr.display == expect["display"]
    assert m.call_id == expect["call_id"]
    assert m.cseq is not None
    assert m.cseq.number == expect["cseq"]
    assert m.max_forwards == expect["max_fwd"]
    assert m.body == expect["body"]
    assert m.get("subject") == expect["subject"]


def _seed_messages() -> list[bytes]:
    seeds: list[bytes] = []
    for folder, pattern in (("rfc4475-messages", "*.dat"), ("rfc5118-messages", "*.sip")):
        seeds += [p.read_bytes() for p in sorted((CORPUS / folder).glob(pattern))]
    for cap in sorted(Path(CAPTURES).glob("udp4-*.pcap"))[:6]:
        seeds += [pkt.data for pkt in read_sip(str(cap), Accounting(str(cap)))][:12]
    return seeds


SEEDS = _seed_messages()


def exercise(m: SipMessage) -> None:
    """Touch every typed accessor: none may raise on any input."""
    _ = (m.vias, m.cseq, m.from_addr, m.to_addr, m.from_tag, m.to_tag, m.contacts)
    _ = (m.route, m.record_route, m.path, m.p_asserted_identity, m.request_uri)
    _ = (m.max_forwards, m.expires, m.min_expires, m.min_se, m.session_expires, m.flow_timer)
    _ = (m.retry_after, m.content_length, m.require, m.supported, m.unsupported)
    _ = (m.proxy_require, m.allow, m.accept, m.reasons, m.warnings, m.identity)
    _ = (m.user_agent, m.server, m.authorization, m.proxy_authorization)
    _ = (m.www_authenticate, m.proxy_authenticate, m.content_type, m.body_parts, m.sdp)
    _ = (m.headers, m.first_line)
    for a in (*m.contacts, *m.route):
        _ = (a.uri, a.q, a.expires, a.instance, a.reg_id)
    for v in m.vias:
        _ = (v.host, v.port, v.received, v.rport)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip, insert, delete, duplicate, truncate, re-end lines."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice(
                [b";", b",", b'"', b"<", b">", b"\r\n", b" ", b":", b"%", b"\x00", b"[", b"]"]
            ) * rng.randint(1, 3)
        elif op == 2:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3:
            buf[pos:pos] = buf[pos : pos + rng.randint(1, 40)]
        elif op == 4:
            del buf[pos:]
        else:
            buf = bytearray(bytes(buf).replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\n "])))
    return bytes(buf)


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=600, deadline=None)
def test_mutated_corpus_messages_only_raise_parse_error(seed: int) -> None:
    rng = random.Random(seed)
    data = mutate(rng.choice(SEEDS), rng)
    try:
        m = parse(data)
    except ParseError:
        return
    exercise(m)


def test_time_bounded_fuzz() -> None:
    """Random mutations for SIP_FUZZ_SECONDS (default 10 s); any other exception fails."""
    budget = float(os.environ.get("SIP_FUZZ_SECONDS", "10"))
    rng = random.Random(int(os.environ.get("SIP_FUZZ_SEED", "4475")))
    deadline = time.monotonic() + budget
    runs = errors = 0
    while time.monotonic() < deadline:
        data = mutate(rng.choice(SEEDS), rng)
        runs += 1
        try:
            m = parse(data)
        except ParseError:
            errors += 1
            continue
        exercise(m)
    assert runs > 100
    assert errors < runs  # mutations are mostly still readable SIP
