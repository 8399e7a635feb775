"""500 / 503: the server and its Retry-After; a client that sent the server more requests
before Retry-After elapsed; a 500 carrying "Service Unavailable" (a proxy that turned a
503 into 500, as RFC 3261 §16.7 requires)."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..model import Finding
from ..rule import Rule


def _service_unavailable(ctx: Context) -> Iterator[Finding]:
    """503 and its Retry-After."""
    for resp in ctx.origin_responses(503):
        if resp.status == 503:
            ra = resp.sip.retry_after
            yield Finding(
                "server.service-unavailable",
                "error",
                f"503 from {resp.src}" + (f", Retry-After {ra}s" if ra is not None else ""),
                f"{resp.src} is temporarily unable to process the request (frame {resp.frame})"
                + (f" and asks clients not to retry for {ra} s." if ra is not None else "."),
                "Find why that server is overloaded or in maintenance; clients and proxies "
                "should honour Retry-After and try another server meanwhile.",
                (resp.frame,),
                503,
                resp.call_id,
                "RFC 3261 §21.5.4",
            )


def _rewritten_503(ctx: Context) -> Iterator[Finding]:
    """RFC 3261 §16.7: a proxy must not forward a 503; it sends 500, sometimes keeping
    the 503's reason phrase, which gives the rewrite away."""
    for resp in ctx.origin_responses(500):
        if (resp.reason or "").strip().lower() == "service unavailable":
            yield Finding(
                "proxy.503-rewritten-as-500",
                "warning",
                f'500 "Service Unavailable" from {resp.src}: a proxy rewrote a 503',
                f"{resp.src} sent 500 with the reason phrase of a 503 (frame {resp.frame}): a "
                "proxy received 503 downstream and, as RFC 3261 §16.7 requires, did not forward "
                "it as 503. The real cause is the downstream server that answered 503.",
                "Look at the proxy's downstream leg for the 503 and fix that server; the 500 "
                "itself is the proxy behaving correctly.",
                (resp.frame,),
                500,
                resp.call_id,
                "RFC 3261 §16.7",
            )


def _retry_too_early(ctx: Context) -> Iterator[Finding]:
    """RFC 3261 §21.5.4: after a 503 with Retry-After, the client SHOULD NOT send that server
    any other request for that long (§20.33: also for 500)."""
    for resp in ctx.origin_responses(500, 503):
        wait = resp.sip.retry_after
        if not wait:
            continue
        server, client = resp.src, resp.dst
        early = []
        for i in ctx.messages.requests():
            if i <= resp.index:
                continue
            m = ctx.messages[i]
            if m.time >= resp.time + wait:
                break
            if (
                m.src == client
                and m.dst == server
                and m.method != "ACK"
                and not ctx.is_retransmission(m)
            ):
                early.append(m)
        if not early:
            continue
        first = early[0]
        yield Finding(
            "server.retry-too-early",
            "warning",
            f"{client} sent {len(early)} request(s) to {server} within its Retry-After {wait}s",
            f"{server} answered {resp.label} with `Retry-After: {wait}` (frame {resp.frame}), "
            f"yet {client} sent {first.method} to it {first.time - resp.time:.3f} s later "
            f"(frame {first.frame})"
            + (f" and {len(early) - 1} more request(s)" if len(early) > 1 else "")
            + f" before the {wait} s were over. Retrying an overloaded server at once keeps it "
            "overloaded.",
            f"Make {client} honour Retry-After: stop sending to {server} for the given time "
            "and use an alternate server meanwhile (DNS SRV / a second route, RFC 3263 §4.3); "
            "on a proxy, mark the destination as down for that period (kamailio "
            "dispatcher/tm `failure_route`, or drop the retry logic that re-sends at once).",
            (resp.frame, *(m.frame for m in early[:10])),
            resp.status,
            first.call_id,
            "RFC 3261 §21.5.4, §20.33",
        )


RULES = (
    Rule(
        "server.service-unavailable",
        "RFC 3261 §21.5.4",
        "503 and the Retry-After it asks for.",
        _service_unavailable,
    ),
    Rule(
        "proxy.503-rewritten-as-500",
        "RFC 3261 §16.7",
        '500 carrying the reason phrase "Service Unavailable": a proxy turned a 503 into 500.',
        _rewritten_503,
    ),
    Rule(
        "server.retry-too-early",
        "RFC 3261 §21.5.4",
        "A client that sent more requests to a server before the Retry-After of its 500/503 "
        "elapsed.",
        _retry_too_early,
    ),
)
