"""482 Loop Detected and 483 Too Many Hops: the Via stack (does an element appear twice?),
the Max-Forwards the UA started with and the hops the request took."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ...correlate import Message
from ..context import Context
from ..model import Finding
from ..rule import Rule

# RFC 3261 §8.1.1.6: a UAC SHOULD set Max-Forwards to 70.
_RECOMMENDED_MAX_FORWARDS = 70


def _repeated(req: Message) -> list[tuple[str, int]]:
    """Via sent-by values that appear more than once, with their count (top first)."""
    counts = Counter(v.sent_by.lower() for v in req.sip.vias)
    return [(s, n) for s, n in counts.items() if n > 1]


def _copies(ctx: Context, req: Message) -> list[Message]:
    """Every copy of the request on every hop, in capture order (not retransmissions)."""
    return [
        m for m in ctx.same_cseq(req)[0] if m.method == req.method and not ctx.is_retransmission(m)
    ]


def _loops(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(482, 483):
        req = ctx.request_of(resp)
        if req is None:
            continue
        sip = req.sip
        ua = ctx.ua_copy(req)
        start_mf = ua.sip.max_forwards
        here_mf = sip.max_forwards
        vias = sip.vias
        repeated = _repeated(req)
        copies = _copies(ctx, req)
        path = " -> ".join(v.sent_by for v in reversed(vias))
        frames = [ua.frame, req.frame, resp.frame]
        facts = [
            f"the request reached {resp.src} through {len(vias)} Via hop(s) ({path}) "
            f"with Max-Forwards {here_mf if here_mf is not None else 'absent'}",
            f"{len(copies)} cop{'y of it is' if len(copies) == 1 else 'ies of it are'} in the "
            "capture",
        ]
        if ua.index != req.index:
            facts.append(
                f"the UA's copy (frame {ua.frame}) started with Max-Forwards "
                f"{start_mf if start_mf is not None else 'absent'}"
            )
        if repeated:
            names = ", ".join(f"{s} ({n} times)" for s, n in repeated)
            kind = "loop"
            title = f"{resp.label} from {resp.src}: forwarding loop through {repeated[0][0]}"
            facts.append(f"Via sent-by values repeat: {names}, so the request went round a loop")
            fix = (
                f"Fix the routing that sends the request back to {repeated[0][0]}: a route, "
                "dial-plan entry or DNS/alias that resolves to an element already on the path "
                "(e.g. a proxy not recognising its own domain or IP as local, kamailio "
                "`is_myself`/`alias`)."
            )
        elif resp.status == 483 and start_mf is not None and start_mf < _RECOMMENDED_MAX_FORWARDS:
            kind = "too-low"
            title = f"483 from {resp.src}: the UA started with Max-Forwards {start_mf}"
            facts.append(
                f"no element repeats in the Via stack: the path is not a loop, the UA's "
                f"Max-Forwards {start_mf} was too low for it"
            )
            fix = (
                f"Set Max-Forwards to {_RECOMMENDED_MAX_FORWARDS} on the UA "
                f"(RFC 3261 §8.1.1.6); check no proxy on the path lowers it."
            )
        elif resp.status == 483:
            kind = "long-path"
            title = f"483 from {resp.src}: {len(vias)} hops used up Max-Forwards"
            facts.append(
                "no element repeats in the Via stack: a very long path or a spiral through "
                "many different elements (or hops that hide their Via, such as B2BUAs)"
            )
            fix = (
                "Trace the request's path hop by hop and remove the spiral; a B2BUA that "
                "resets Via but not Max-Forwards hides the loop from the Via stack."
            )
        else:
            kind = "spiral"
            title = f"482 from {resp.src}: loop reported, but no element repeats in the Via"
            facts.append(
                "no Via sent-by repeats, so this is a spiral (the same request passing a "
                "proxy again with a changed Request-URI), which is legal, not a loop"
            )
            fix = (
                f"{resp.src}'s loop detection is misfiring: RFC 3261 §16.3 item 4 counts a "
                "loop only when its own Via is present with the same branch it would compute "
                "(same Request-URI and routing headers); fix or disable it."
            )
        yield Finding(
            f"loop.{'detected' if resp.status == 482 else 'too-many-hops'}",
            "error",
            title,
            f"{resp.src} answered the {req.method} (frame {req.frame}) with {resp.label} "
            f"(frame {resp.frame}): " + "; ".join(facts) + f". Diagnosis: {kind}.",
            fix,
            tuple(dict.fromkeys(frames)),
            resp.status,
            resp.call_id,
            "RFC 3261 §16.3, §8.1.1.6, §21.4.20, §21.4.21",
        )


RULES = (
    Rule(
        "loop.*",
        "RFC 3261 §16.3, §8.1.1.6",
        "482 (`loop.detected`) and 483 (`loop.too-many-hops`): repeated Via sent-by (a real "
        "loop), a UA that started with too low a Max-Forwards, a long path, or a spiral "
        "misread as a loop.",
        _loops,
    ),
)
