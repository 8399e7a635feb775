"""408 Request Timeout: which element gave up, on which downstream leg, after how long,
and whether that leg answered anything at all (unanswered requests without any response
are the transaction check `txn.unanswered`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..model import Finding
from ..rule import Rule


def _request_timeout(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(408):
        req = ctx.request_of(resp)
        method = req.method if req is not None else (resp.cseq.method if resp.cseq else "?")
        element = resp.src
        requests, responses = ctx.same_cseq(resp)
        # The same request relayed onwards by the element that answered 408.
        onward = [
            m for m in requests if m.src == element and m.method == method and m.index < resp.index
        ]
        frames = [req.frame] if req is not None else []
        if onward:
            first = onward[0]
            target = first.dst
            answers = [
                m
                for m in responses
                if m.src == target and m.dst == element and m.index < resp.index
            ]
            waited = resp.time - first.time
            frames += [first.frame]
            if len(onward) > 1:
                frames.append(onward[-1].frame)
            if answers:
                frames.append(answers[-1].frame)
                heard = (
                    f"{target} answered only {', '.join(sorted({a.label for a in answers}))} "
                    f"(last in frame {answers[-1].frame}) and never a final response, so "
                    + (
                        "the proxy's INVITE timer (Timer C, or kamailio's `fr_inv_timer`) ran out"
                        if method == "INVITE"
                        else "its transaction timer ran out"
                    )
                )
                fix = (
                    f"The callee side {target} accepted the request but never answered finally: "
                    "check why the phone neither answers nor rejects (no answer timer, stuck "
                    "B2BUA leg), or lengthen the proxy's ring timeout if the call is simply not "
                    "answered in time."
                )
            else:
                copies = f"{len(onward)} cop{'y' if len(onward) == 1 else 'ies'}"
                heard = (
                    f"{target} never answered ({copies} sent, frames "
                    f"{onward[0].frame}-{onward[-1].frame}), so Timer "
                    f"{'B' if method == 'INVITE' else 'F'} (64*T1) ran out"
                )
                fix = (
                    f"{target} is unreachable or not listening: check that it is up, the "
                    f"address/port/transport {first.transport.upper()} {target} is right "
                    "(DNS, location binding, NAT), and that no firewall drops the traffic."
                )
            detail = (
                f"{element} relayed the {method} to {target} (frame {first.frame}); {heard}. "
                f"It answered {resp.label} upstream {waited:.1f} s later (frame {resp.frame})."
            )
        else:
            start = req.time if req is not None else resp.time
            detail = (
                f"{element} answered the {method}"
                + (f" (frame {req.frame})" if req is not None else "")
                + f" with {resp.label} after {resp.time - start:.1f} s (frame {resp.frame}) "
                "and the capture shows it sending the request nowhere: it timed out on "
                "something internal (database, DNS, location lookup) or on a leg that was "
                "not captured."
            )
            fix = (
                f"Capture {element}'s other interfaces to see the leg that timed out, and check "
                "its logs for slow DNS, database or location lookups."
            )
        frames.append(resp.frame)
        yield Finding(
            "timeout.request-timeout",
            "error",
            f"408 from {element}: {method} timed out"
            + (f" towards {onward[0].dst}" if onward else ""),
            detail,
            fix,
            tuple(dict.fromkeys(frames)),
            408,
            resp.call_id,
            "RFC 3261 §21.4.9, §16.8, §17.1.1.2",
        )


RULES = (
    Rule(
        "timeout.request-timeout",
        "RFC 3261 §21.4.9, §16.8",
        "408: which element timed out towards which next hop, after how long, and whether "
        "that hop answered provisionally or not at all.",
        _request_timeout,
    ),
)
