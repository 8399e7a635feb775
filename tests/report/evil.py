"""A capture made with scapy whose SIP carries markup, links, Mermaid syntax and
terminal escapes in every field a report shows; shared by the security tests."""

from __future__ import annotations

from pathlib import Path

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
ATTR = '" onmouseover="alert(3)'
MD_LINK = "[click](javascript:alert(4))"
URL = "http://evil.example/x"
MERMAID = "%%{init: {'theme':'dark'}}%% ; Note over P0: pwned"
ANSI = "\x1b[31mRED\x1b[0m"
OSC = "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\"
FENCE = "``` ~~~"

CALL_ID = f"evil{SCRIPT}{IMG}@x.example"
EVIL_TEXTS = (SCRIPT, IMG, ATTR, MD_LINK, URL, MERMAID, ANSI, OSC, FENCE)

_ALICE = "127.0.0.1"
_BOB = "127.0.0.2"


def _invite(call_id: str, cseq: int, display: str) -> str:
    body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=<script>\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    return (
        f"INVITE sip:bob@{_BOB} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {_ALICE}:5060;branch=z9hG4bK-{cseq}\r\n"
        f'From: "{display}" <sip:alice@{_ALICE}>;tag=a{cseq}\r\n'
        f'To: "{MERMAID}" <sip:bob@{_BOB}>\r\n'
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} INVITE\r\n"
        f"Contact: <sip:alice@{_ALICE}:5060>\r\n"
        f"User-Agent: {ATTR} {ANSI}\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def _response(call_id: str, cseq: int, display: str, status: str, extra: str = "") -> str:
    return (
        f"SIP/2.0 {status}\r\n"
        f"Via: SIP/2.0/UDP {_ALICE}:5060;branch=z9hG4bK-{cseq}\r\n"
        f'From: "{display}" <sip:alice@{_ALICE}>;tag=a{cseq}\r\n'
        f'To: "{MERMAID}" <sip:bob@{_BOB}>;tag=b{cseq}\r\n'
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} INVITE\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    )


def _ack(call_id: str, cseq: int, display: str) -> str:
    return (
        f"ACK sip:bob@{_BOB} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {_ALICE}:5060;branch=z9hG4bK-{cseq}\r\n"
        f'From: "{display}" <sip:alice@{_ALICE}>;tag=a{cseq}\r\n'
        f'To: "{MERMAID}" <sip:bob@{_BOB}>;tag=b{cseq}\r\n'
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} ACK\r\n"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )


def make(path: Path) -> Path:
    """Write the capture to `path` (pcap, Ethernet, UDP 5060)."""
    # Slow imports, needed only here.
    from scapy.layers.inet import IP, UDP  # noqa: PLC0415
    from scapy.layers.l2 import Ether  # noqa: PLC0415
    from scapy.utils import wrpcap  # noqa: PLC0415

    display = f"{IMG} {MD_LINK} {ANSI} {OSC} {FENCE} @everyone #1"
    # Control characters in a status line make it unparseable (counted as malformed), so
    # the escapes ride in headers, and the reason phrase carries the rest.
    reason = f"Busy {SCRIPT} {MD_LINK} {URL} {FENCE} {ATTR}"
    extra = (
        f'Reason: Q.850;cause=17;text="{SCRIPT} {MD_LINK} {ANSI}"\r\n'
        f'Warning: 399 evil.example "{IMG} {ATTR}"\r\n'
    )
    flows = [
        (_ALICE, _BOB, _invite(CALL_ID, 1, display)),
        (_BOB, _ALICE, _response(CALL_ID, 1, display, "100 Trying")),
        (_BOB, _ALICE, _response(CALL_ID, 1, display, f"486 {reason}", extra)),
        (_ALICE, _BOB, _ack(CALL_ID, 1, display)),
        (_ALICE, _BOB, _invite(CALL_ID + "2", 2, display)),
        (
            _BOB,
            _ALICE,
            _response(CALL_ID + "2", 2, display, f"503 {IMG}{MERMAID}", "Retry-After: 60\r\n"),
        ),
        (_ALICE, _BOB, _ack(CALL_ID + "2", 2, display)),
    ]
    packets = []
    for i, (src, dst, text) in enumerate(flows):
        pkt = Ether() / IP(src=src, dst=dst) / UDP(sport=5060, dport=5060) / text.encode("utf-8")
        pkt.time = 1_700_000_000 + i * 0.05
        packets.append(pkt)
    wrpcap(str(path), packets)
    return path
