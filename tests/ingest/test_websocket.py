"""SIP over WebSocket (RFC 7118): handshake, masked and fragmented frames."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from analyzer.ingest import Accounting, read_sip
from analyzer.ingest.websocket import WsDeframer
from tests.conftest import corpus_file
from tests.ingest import pcapgen

SIP = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: ws1\r\nCSeq: 1 OPTIONS\r\n\r\n"
UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    flag = 0x80 if mask else 0
    if n < 126:
        head += bytes([flag | n])
    else:
        head += bytes([flag | 126]) + struct.pack("!H", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def test_masked_fragmented_frames_with_ping_between() -> None:
    d = WsDeframer()
    key = os.urandom(4)
    data = frame(SIP[:10], 1, fin=False, mask=key) + frame(b"", 9) + frame(SIP[10:], 0, mask=key)
    for i in range(len(data)):  # byte at a time
        d.feed(data[i : i + 1])
        if i < len(data) - 1:
            assert d.messages() == []
    assert d.messages() == [SIP]
    assert d.control_frames == 1


def test_stream_after_upgrade_yields_ws_transport(tmp_path: Path) -> None:
    body = UPGRADE + frame(SIP, mask=b"\x01\x02\x03\x04") + frame(SIP * 2 + b"x" * 200)
    pkt = (
        Ether()
        / IP(src="127.0.0.1", dst="127.0.0.1")
        / TCP(sport=40000, dport=8080, seq=1, flags="PA")
        / body
    )
    f = tmp_path / "ws.pcap"
    f.write_bytes(pcapgen.pcap([(1.0, bytes(pkt))]))
    acc = Accounting(str(f))
    got = list(read_sip(str(f), acc))
    assert [p.transport for p in got] == ["ws", "ws"]
    assert got[0].data == SIP
    assert acc.sip == 1


def test_real_websocket_capture_has_ws_messages() -> None:
    acc = Accounting("ws")
    got = list(read_sip(str(corpus_file("heplify/sip_tcp_websocket.pcap")), acc))
    assert sum(p.transport == "ws" for p in got) > 0
    assert len(got) == 39  # tshark's count, ../shared/corpus/MANIFEST.md
