"""Wires ingest, parse, correlate and classify; owns the accounting.

Only here are `ParseError`s caught: each becomes a counted skip with its
reason, so the report accounts for every packet read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .analysis import Analysis
from .classify import annotate, classify
from .correlate import MessageStore, correlate
from .ingest import Accounting, SipPacket, read_sip
from .ingest.tshark_engine import read_sip_tshark
from .redact import Redactor
from .sip import ParseError, parse


@dataclass(frozen=True, slots=True)
class Options:
    """How to analyse."""

    lang: str = "en"
    """Catalogue language."""
    progress: Callable[[int, Accounting], None] | None = None
    """Called with the capture's index and its accounting every few thousand frames and
    when it is done (`Accounting.position` says how far into the file)."""
    engine: str = "native"
    """`native` (our reader and decoders) or `tshark` (Wireshark's dissectors)."""
    tls_keylog: str | None = None
    """TLS key log file (SSLKEYLOGFILE format) for the tshark engine to decrypt SIP over TLS."""
    redactor: Redactor | None = None
    """Rewrites every SIP message before parsing (`--redact`, `--redact-identities`)."""


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def analyze(sources: Sequence[str | Path] | str | Path, options: Options | None = None) -> Analysis:
    """Analyse one or more captures (`-` reads stdin).

    Raises `analyzer.ingest.CaptureError` when a file is not a readable capture.
    """
    opts = options or Options()
    paths = [sources] if isinstance(sources, str | Path) else list(sources)
    accounts: list[Accounting] = []
    messages = MessageStore()
    for cap_index, path in enumerate(paths):
        acc = Accounting(str(path))
        accounts.append(acc)
        packets = (
            read_sip_tshark(str(path), acc, opts.tls_keylog)
            if opts.engine == "tshark"
            else read_sip(str(path), acc)
        )
        redactor = opts.redactor
        reported = 0
        for pkt in packets:
            if redactor is not None:
                pkt = redactor.packet(pkt)
            _parse(pkt, acc, messages, cap_index)
            if opts.progress and acc.packets - reported >= 4096:
                reported = acc.packets
                opts.progress(cap_index, acc)
        if opts.progress:
            opts.progress(cap_index, acc)
        if redactor is not None and acc.warnings:
            acc.warnings[:] = [redactor.text(w) for w in acc.warnings]
    # Captures are read in the order given; messages keep that order per file.
    ends = [a.last_time for a in accounts if a.last_time is not None]
    correlation = correlate(messages, max(ends) if ends else 0.0)
    annotations = annotate(messages, opts.lang)
    findings = classify(messages, correlation)
    return Analysis(tuple(accounts), messages, correlation, annotations, tuple(findings), opts.lang)


def _parse(pkt: SipPacket, acc: Accounting, store: MessageStore, capture: int) -> None:
    try:
        sip = parse(pkt.data)
    except ParseError as exc:
        acc.sip_errors[exc.reason] += 1
        if pkt.transport == "udp":
            acc.reclassify_sip(f"malformed_sip:{exc.reason}")
        acc.warn(f"frame {pkt.frame}: unparseable SIP ({exc.reason}): {exc}")
        return
    acc.sip_messages += 1
    store.append(
        pkt.frame,
        pkt.time,
        _endpoint(pkt.src, pkt.sport),
        _endpoint(pkt.dst, pkt.dport),
        pkt.transport,
        capture,
        pkt.data,
        sip,
        pkt.fragments,
    )
