"""Message size: requests over UDP larger than 1300 bytes (RFC 3261 §18.1.1 requires a
congestion-controlled transport) and any SIP message that travelled as IP fragments,
per sender; 513 Message Too Large."""

from __future__ import annotations

from collections.abc import Iterator

from ...correlate import Message
from ..context import Context
from ..model import Finding
from ..rule import Rule

# RFC 3261 §18.1.1: larger than 1300 bytes with the path MTU unknown: use TCP.
UDP_LIMIT = 1300
_EVIDENCE = 10  # frames listed per finding
_TCP_FIX = (
    "Send these over TCP (or TLS): have the UA register with `transport=tcp`, or let the "
    "proxy switch large requests to TCP (kamailio core `udp_mtu` with "
    "`udp_mtu_try_proto = TCP`); and trim them (compact header forms, fewer codecs in the "
    "SDP, no unneeded headers)."
)


def _large_udp(ctx: Context) -> Iterator[Finding]:
    store = ctx.messages
    big: dict[str, list[Message]] = {}
    for i in range(len(store)):
        # Requests over the limit (the RFC's rule), and any message that was fragmented.
        if store.size(i) > UDP_LIMIT or i in store.fragments:
            m = store[i]
            if (
                (m.is_request or i in store.fragments)
                and m.transport == "udp"
                and not ctx.is_retransmission(m)
            ):
                big.setdefault(m.src, []).append(m)
    for sender, msgs in big.items():
        largest = max(msgs, key=lambda m: store.size(m.index))
        fragmented = [m for m in msgs if m.index in store.fragments]
        methods = ", ".join(sorted({m.method or f"{m.status} response" for m in msgs}))
        frag_text = (
            f"; {len(fragmented)} of them travelled as IP fragments (frames "
            f"{', '.join(str(f) for f in store.fragments[fragmented[0].index])} and "
            f"{fragmented[0].frame}), which firewalls and NATs often drop"
            if fragmented
            else ""
        )
        frames = [m.frame for m in msgs[:_EVIDENCE]]
        if fragmented:
            frames = [*store.fragments[fragmented[0].index], *frames]
        yield Finding(
            "transport.large-udp",
            "warning",
            f"{sender} sent {len(msgs)} message(s) over UDP larger than {UDP_LIMIT} bytes",
            f"{sender} sent {len(msgs)} {methods} message(s) over UDP larger than {UDP_LIMIT} "
            f"bytes or IP-fragmented (the largest {store.size(largest.index)} bytes, "
            f"{largest.label} in frame {largest.frame}){frag_text}. RFC 3261 §18.1.1 requires "
            "a congestion-controlled transport such as TCP for requests this large when the "
            "path MTU is unknown.",
            _TCP_FIX,
            tuple(dict.fromkeys(frames)),
            None,
            msgs[0].call_id,
            "RFC 3261 §18.1.1",
        )


def _too_large(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(513):
        req = ctx.request_of(resp)
        size = ctx.messages.size(req.index) if req is not None else None
        frames = (req.frame, resp.frame) if req is not None else (resp.frame,)
        yield Finding(
            "transport.message-too-large",
            "error",
            f"513: {resp.src} refused a {size or '?'}-byte request",
            f"{resp.src} answered with {resp.label} (frame {resp.frame}): the "
            + (
                f"{req.method} (frame {req.frame}) was {size} bytes over {req.transport.upper()}"
                if req is not None
                else "request is not in the capture"
            )
            + ", more than it will process.",
            _TCP_FIX
            if req is not None and req.transport == "udp"
            else "Shrink the request (compact headers, fewer codecs, smaller bodies) or raise "
            f"{resp.src}'s message size limit.",
            frames,
            513,
            resp.call_id,
            "RFC 3261 §21.4.12, §18.1.1",
        )


RULES = (
    Rule(
        "transport.large-udp",
        "RFC 3261 §18.1.1",
        "Requests over UDP larger than 1300 bytes, and messages that travelled as IP "
        "fragments, per sender.",
        _large_udp,
    ),
    Rule(
        "transport.message-too-large",
        "RFC 3261 §21.4.12",
        "513: the size and transport of the request the server refused.",
        _too_large,
    ),
)
