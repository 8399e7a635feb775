"""Editing lab captures for tests: the same packets with bytes of their SIP replaced."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap


def edited(src: Path, dst: Path, edits: list[tuple[bytes, bytes]]) -> Path:
    """`src` with each edit applied to every UDP payload (lengths, checksums redone)."""
    packets = rdpcap(str(src))
    for p in packets:
        payload = bytes(p[UDP].payload)
        for old, new in edits:
            payload = payload.replace(old, new)
        p[UDP].remove_payload()
        p[UDP].add_payload(Raw(payload))
        del p[UDP].chksum, p[UDP].len, p[IP].len, p[IP].chksum
    wrpcap(str(dst), packets)
    return dst
