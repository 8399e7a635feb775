"""405 Method Not Allowed: the method against the response's Allow list."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..model import Finding
from ..rule import Rule


def _not_allowed(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(405):
        req = ctx.request_of(resp)
        method = req.method if req is not None else (resp.cseq.method if resp.cseq else "?")
        allow = [a.upper() for a in resp.sip.allow]
        frames = (req.frame, resp.frame) if req is not None else (resp.frame,)
        if not resp.sip.has("allow"):
            detail = (
                f"The 405 carries no `Allow` header, although RFC 3261 §21.4.6 requires it, so "
                f"the capture does not say which methods {resp.src} accepts."
            )
            fix = (
                f"Do not send {method} to {resp.src}; fix {resp.src} to list its methods in "
                "`Allow` (or probe them with OPTIONS)."
            )
        elif method in allow:
            detail = (
                f"Its `Allow: {', '.join(allow)}` lists {method} all the same: the server "
                "contradicts itself (a policy or routing rule rejects the method)."
            )
            fix = f"Find the rule on {resp.src} that rejects {method} although it allows it."
        else:
            detail = f"Its `Allow` lists {', '.join(allow) or 'nothing'}."
            fix = (
                f"Enable {method} on {resp.src} (module or policy), or make the client use one "
                f"of the allowed methods; a UA should read the peer's Allow (from OPTIONS or "
                "the dialog's messages) before sending a method."
            )
        yield Finding(
            "method.not-allowed",
            "error",
            f"405: {resp.src} does not allow {method}",
            f"{resp.src} answered {method} (frame {frames[0]}) with {resp.label} "
            f"(frame {resp.frame}). {detail}",
            fix,
            frames,
            405,
            resp.call_id,
            "RFC 3261 §21.4.6, §20.5",
        )


RULES = (
    Rule(
        "method.not-allowed",
        "RFC 3261 §21.4.6",
        "405: the method against the response's Allow list (missing or contradicting it).",
        _not_allowed,
    ),
)
