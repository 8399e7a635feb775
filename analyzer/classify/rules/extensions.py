"""420 Bad Extension and 421 Extension Required: which option tags, which header asked
for them, and which side must change."""

from __future__ import annotations

from collections.abc import Iterator

from ...correlate import Message
from ..context import Context
from ..model import Finding
from ..rule import Rule


def _extensions(ctx: Context) -> Iterator[Finding]:
    """420 names the unsupported option tags; 421 the ones the server requires."""
    for resp in ctx.origin_responses(420, 421):
        status = resp.status
        req = ctx.request_of(resp)
        frames = (req.frame, resp.frame) if req else (resp.frame,)
        if status == 420:
            tags = resp.sip.option_tags("unsupported")
            names = ", ".join(tags) or "an option tag"
            detail, fix = _bad_extension_evidence(req, tags, names, resp.src)
            yield Finding(
                "extension.bad-extension",
                "error",
                f"420: {resp.src} does not support {names}",
                f"{resp.src} rejected the request (frame {frames[0]}) with "
                f"`Unsupported: {names}`. {detail}",
                fix,
                frames,
                420,
                resp.call_id,
                "RFC 3261 §8.2.2.3, §21.4.15",
            )
        else:
            tags = resp.sip.option_tags("require")
            yield Finding(
                "extension.required",
                "error",
                f"421: {resp.src} requires {', '.join(tags) or 'an extension'}",
                f"{resp.src} will only process the request (frame {frames[0]}) if the client "
                f"supports `{', '.join(tags)}` (from the 421's `Require`); the request's "
                f"`Supported` was: {', '.join(req.sip.option_tags('supported')) if req else '?'}.",
                f"Enable {', '.join(tags)} on the client and list it in `Supported`, or relax "
                f"the server's policy (e.g. kamailio `outbound_mode`).",
                frames,
                421,
                resp.call_id,
                "RFC 3261 §21.4.16",
            )


def _bad_extension_evidence(
    req: Message | None, tags: list[str], names: str, server: str
) -> tuple[str, str]:
    """Say which header demanded the unsupported tags, and what to change."""
    if req is None:
        return "The request itself is not in the capture.", f"Stop requiring {names}."
    sip = req.sip
    if any(t in sip.option_tags("proxy-require") for t in tags):
        return (
            f"The request listed it in `Proxy-Require: {sip.get('proxy-require')}` and a proxy "
            "on the path does not support it.",
            f"Remove {names} from the UA's `Proxy-Require`, or enable the extension on {server}.",
        )
    if any(t in sip.option_tags("require") for t in tags):
        return (
            f"The request listed it in `Require: {', '.join(sip.option_tags('require'))}`.",
            f"Remove {names} from the UA's `Require`, or enable the extension on {server}.",
        )
    if "path" in tags and sip.has("path"):
        # RFC 3327 §5.3: a registrar rejects a Path the UA did not declare support for.
        return (
            "A proxy added a `Path` header but the UA's `Supported` "
            f"({', '.join(sip.option_tags('supported')) or 'absent'}) lacks `path`.",
            "Have the UA send `Supported: path`, or stop the edge proxy adding `Path` "
            "for UAs that do not support it.",
        )
    return (
        "The request used the extension without declaring it.",
        f"Declare {names} in `Supported` or stop using it.",
    )


RULES = (
    Rule(
        "extension.*",
        "RFC 3261 §8.2.2.3, §21.4.15, §21.4.16; RFC 3327 §5.3",
        "420 (`extension.bad-extension`): the option tags in Unsupported and whether "
        "Require, Proxy-Require or an undeclared Path demanded them; 421 "
        "(`extension.required`): the tags the server requires against the client's Supported.",
        _extensions,
    ),
)
