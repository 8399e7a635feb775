"""Ingest: capture files to SIP payloads, with per-packet accounting.

Formats (pcap, pcapng, gzip, stdin), link layers, IP (fragments, tunnels),
UDP and TCP reassembly. Imports nothing of ours but `sip.framing`/`sip.parser`'s
start-line test.
"""

from .capture import CaptureError, CaptureInfo, Frame, iter_frames
from .stream import Accounting, SipPacket, read_sip

__all__ = [
    "Accounting",
    "CaptureError",
    "CaptureInfo",
    "Frame",
    "SipPacket",
    "iter_frames",
    "read_sip",
]
