"""488 Not Acceptable Here / 606 Not Acceptable: the codecs the offer proposed against
what the far end supports (the SDP it may return, RFC 3261 §21.4.26), with the Warning
code that says why."""

from __future__ import annotations

from collections.abc import Iterator

from ...sip import Sdp
from ..context import Context
from ..model import Finding
from ..notes import warning_notes
from ..rule import Rule


def _codecs(sdp: Sdp | None, capabilities: bool = False) -> dict[str, list[str]]:
    """Codec names per media type, in preference order. In an offer, streams with port 0
    are disabled and left out; in the SDP of a 488/606 they describe capabilities and
    port 0 is the convention (RFC 3261 §11.2), so they count."""
    found: dict[str, list[str]] = {}
    if sdp is None:
        return found
    for m in sdp.media:
        if m.port == 0 and not capabilities:
            continue
        names = found.setdefault(m.media, [])
        names += [n for n in m.codec_names if n not in names]
    return found


def _describe(codecs: dict[str, list[str]]) -> str:
    return "; ".join(f"{media} {', '.join(names)}" for media, names in codecs.items()) or "none"


def _key(name: str) -> str:
    return name.lower()


# Payload formats that carry no media of their own (DTMF events, comfort noise,
# redundancy, FEC, retransmission): sharing only these is no common codec.
_AUXILIARY = frozenset({"telephone-event", "cn", "red", "ulpfec", "flexfec", "rtx"})


def _real(names: list[str]) -> list[str]:
    return [n for n in names if _key(n) not in _AUXILIARY]


def _not_acceptable(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(488, 606):
        req = ctx.request_of(resp)
        offer = _codecs(req.sip.sdp) if req is not None else {}
        answer_sdp = resp.sip.sdp
        supported = _codecs(answer_sdp, capabilities=True)
        warnings = warning_notes(resp.sip)
        frames = (req.frame, resp.frame) if req is not None else (resp.frame,)
        facts = []
        in_dialog = req is not None and bool(req.to_tag)
        method = req.method if req is not None else (resp.cseq.method if resp.cseq else "?")
        reinvite = in_dialog and method == "INVITE"
        what = "re-INVITE" if reinvite else method
        sdp_method = method in ("INVITE", "UPDATE", "PRACK", "ACK")
        if req is None:
            facts.append("the request is not in the capture")
        elif not offer and sdp_method:
            facts.append(f"the {what} carried no SDP offer (the offer would be in the ACK/PRACK)")
        elif not offer:
            facts.append(
                f"the {what} carried no session description: {resp.src} refuses the "
                f"{method} itself at this destination"
            )
        else:
            facts.append(f"the {what} offered {_describe(offer)}")
        common: dict[str, list[str]] = {}
        if answer_sdp is not None:
            facts.append(f"the far end's SDP lists {_describe(supported)}")
            for media, names in offer.items():
                keys = {_key(n) for n in supported.get(media, [])}
                both = [n for n in _real(names) if _key(n) in keys]
                if both:
                    common[media] = both
            absent = [m for m in offer if m not in supported]
            if offer and not common:
                facts.append("no codec in common")
            elif common:
                facts.append(f"in common: {_describe(common)}")
            if absent:
                facts.append(f"it supports no {', '.join(absent)} stream at all")
        else:
            facts.append("the response carries no SDP, so what the far end supports is not shown")
        for w in warnings:
            # The registered warn-text names the cause; the catalogue's longer advice is
            # for the reader of the Warning table, not for this one-line fact.
            known = (
                f" ({w.registered_text})"
                if w.registered_text and w.registered_text != w.text
                else ""
            )
            facts.append(f'`Warning: {w.code} {w.agent} "{w.text}"`{known}')
        if not warnings:
            facts.append("no Warning header says why")
        offered = _real([n for names in offer.values() for n in names])
        theirs = _real([n for names in supported.values() for n in names])
        if req is not None and not sdp_method and not offer:
            fix = (
                f"{resp.src} will not accept this {method} here: check its policy for "
                f"{method}"
                + (
                    " (whether it allows call transfer, and the Refer-To target)"
                    if method == "REFER"
                    else ""
                )
                + "."
            )
        elif "t38" in {_key(n) for n in offered} and reinvite:
            fix = (
                "The far end refused the switch to T.38 fax: enable T.38 on it (gateway or "
                "ATA), or turn off T.38 re-INVITEs on the sender and pass fax as G.711 "
                "(PCMU/PCMA) audio. The call itself continues on its earlier media."
            )
        elif theirs and offered:
            fix = (
                f"Offer a codec the far end supports (add one of {', '.join(theirs[:4])} to "
                f"the caller's codec list), enable one of {', '.join(offered[:4])} on the far "
                "end, or transcode in an SBC / media gateway."
            )
        else:
            fix = (
                "Compare the offer's codecs, media types and transport profile (RTP/AVP vs "
                "RTP/SAVP, SRTP keys) with the far end's configuration and enable a common one."
            )
        global_ = " anywhere (606 is final for every destination)" if resp.status == 606 else ""
        yield Finding(
            "media.not-acceptable",
            # In a dialog the call goes on with what it had; an initial request fails.
            "warning" if in_dialog else "error",
            f"{resp.label} from {resp.src}: "
            + (
                f"offer {', '.join(offered[:4])} not acceptable{global_}"
                if offered
                else f"{what} not acceptable{global_}"
            ),
            f"{resp.src} refused the session description with {resp.label} "
            f"(frame {resp.frame}): " + "; ".join(facts) + ".",
            fix,
            frames,
            resp.status,
            resp.call_id,
            "RFC 3261 §21.4.26, §21.6.4, §20.43; RFC 3264 §6",
        )


RULES = (
    Rule(
        "media.not-acceptable",
        "RFC 3261 §21.4.26, §21.6.4",
        "488/606: the codecs offered against those the far end's SDP lists, the codecs in "
        "common, and the Warning code.",
        _not_acceptable,
    ),
)
