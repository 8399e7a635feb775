"""SIP Outbound (RFC 5626): 439 First Hop Lacks Outbound Support, naming the edge proxy
from the Via stack; 430 Flow Failed, naming the flow, when it was registered, and
whether the UA re-registered or had another flow."""

from __future__ import annotations

from collections.abc import Iterator

from ...correlate import Message
from ...sip import Address, SipMessage
from ..context import Context
from ..model import Finding
from ..rule import Rule


def _has_ob(addr: Address) -> bool:
    """RFC 5626 §5.1: the edge proxy marks its Path (or Record-Route) URI with `ob`."""
    return "ob" in addr.params or (addr.uri is not None and "ob" in addr.uri.params)


def _outbound_contact(sip: SipMessage) -> tuple[str | None, str | None]:
    """The Contact's `reg-id` and `+sip.instance` (RFC 5626 §4.2)."""
    contacts = sip.contacts
    reg_id = next((c.params["reg-id"] for c in contacts if "reg-id" in c.params), None)
    instance = next(
        (c.params["+sip.instance"] for c in contacts if "+sip.instance" in c.params), None
    )
    return reg_id, instance


def _outbound_439(ctx: Context) -> Iterator[Finding]:
    """439: the registrar saw an outbound REGISTER whose first hop added no `Path;ob`."""
    for resp in ctx.origin_responses(439):
        req = ctx.request_of(resp)
        if req is None:
            continue
        sip = req.sip
        tags = set(sip.option_tags("supported")) | set(sip.option_tags("require"))
        reg_id, instance = _outbound_contact(sip)
        paths = sip.path
        path_ob = any(_has_ob(p) for p in paths)
        vias = sip.vias
        # The UA's own Via is at the bottom; the one above it is the first hop.
        first_hop = vias[-2].sent_by if len(vias) >= 2 else req.src
        evidence = [
            f"`Supported`/`Require` has outbound: {'yes' if 'outbound' in tags else 'no'}",
            f"Contact `reg-id`: {reg_id or 'absent'}",
            f"Contact `+sip.instance`: {instance or 'absent'}",
            f"`Path` headers: {len(paths)}{' (one with ;ob)' if path_ob else ', none with ;ob'}",
            f"Via hops: {len(vias)}",
        ]
        yield Finding(
            "outbound.first-hop-lacks-support",
            "error",
            f"439: first hop {first_hop} lacks SIP Outbound support",
            f"{resp.src} answered the REGISTER (frame {req.frame}) with {resp.label} "
            f"(frame {resp.frame}): the UA asked for RFC 5626 outbound but the first hop "
            f"{first_hop} did not add a `Path` with `;ob`. " + "; ".join(evidence) + ".",
            f"Enable RFC 5626 outbound on the edge proxy {first_hop} so that it adds "
            "`Path: <sip:...;lr;ob>` (kamailio: load the `outbound` module and call "
            "`add_path()`), or configure the UA not to request outbound (drop `reg-id` and "
            "`+sip.instance` from its Contact and `outbound` from `Supported`).",
            (req.frame, resp.frame),
            439,
            sip.call_id,
            "RFC 5626 §5.1, §6",
        )


def _flow_of(req: SipMessage) -> tuple[str | None, str]:
    """The flow token and how the request named the flow: the edge's own Route with `ob`
    (its user part is the token, RFC 5626 §5.2), else the Request-URI."""
    for route in req.route:
        if _has_ob(route) and route.uri is not None:
            return route.uri.user, f"Route {route.uri_text}"
    uri = req.request_uri
    return (uri.user if uri else None), f"Request-URI {req.uri or '?'}"


def _registers(ctx: Context) -> list[Message]:
    """Every REGISTER as its UA sent it (one copy per Call-ID and CSeq), in order."""
    seen: dict[tuple[str | None, int], Message] = {}
    for i in ctx.messages.requests(("REGISTER",)):
        m = ctx.messages[i]
        if ctx.is_retransmission(m) or m.cseq is None:
            continue
        key = (m.call_id, m.cseq.number)
        have = seen.get(key)
        if have is None or m.via_count < have.via_count:
            seen[key] = m
    return sorted(seen.values(), key=lambda m: m.index)


def _flow_text(m: Message) -> str:
    return f"{m.transport.upper()} {m.src} -> {m.dst}"


def _registered_flow(
    ctx: Context, token: str | None, target: str | None, before: int
) -> list[Message]:
    """The REGISTERs before index `before` that set the failed flow up: a Path carrying
    the token, or a Contact equal to the request's target."""
    found = []
    for reg in _registers(ctx):
        if reg.index >= before:
            break
        for hop in ctx.same_cseq(reg)[0]:
            sip = hop.sip
            tokens = {p.uri.user for p in sip.path if _has_ob(p) and p.uri is not None}
            contacts = {c.uri_text for c in sip.contacts}
            if (token and token in tokens) or (target and target in contacts):
                found.append(reg)
                break
    return found


def _flow_failed(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(430):
        req = ctx.request_of(resp)
        if req is None:
            continue
        sip = req.sip
        token, named = _flow_of(sip)
        target = sip.uri
        regs = _registered_flow(ctx, token, target, resp.index)
        frames = [req.frame, resp.frame]
        facts = [f"the request named the flow by its {named}"]
        fix = [
            "The UA's connection to the edge proxy "
            f"{resp.src} was gone when this request arrived (connection closed, NAT "
            "binding expired, or the UA restarted). Make the UA send keep-alives (CRLF or "
            "STUN, RFC 5626 §4.4) at the Flow-Timer interval from its 200 OK and re-register "
            "at once when a flow breaks (§4.4.1, §4.5)"
        ]
        instance = reg_id = None
        if regs:
            reg = regs[-1]
            frames.append(reg.frame)
            reg_id, instance = _outbound_contact(reg.sip)
            last = max(
                (
                    m
                    for m in ctx.messages
                    if m.index < resp.index
                    and m.transport == reg.transport
                    and {m.src, m.dst} == {reg.src, reg.dst}
                ),
                key=lambda m: m.index,
                default=reg,
            )
            facts.append(
                f"the flow was registered in frame {reg.frame} over {_flow_text(reg)} "
                f"(reg-id {reg_id or 'absent'}, +sip.instance {instance or 'absent'}); the last "
                f"message on it was frame {last.frame}, {resp.time - last.time:.1f} s before "
                "the 430"
            )
            if last.frame not in frames:
                frames.append(last.frame)
        else:
            facts.append("no REGISTER in the capture set this flow up")
        later = [
            r
            for r in _registers(ctx)
            if instance is not None
            and r.index > resp.index
            and _outbound_contact(r.sip)[1] == instance
        ]
        if later:
            r = later[0]
            frames.append(r.frame)
            same = regs and (r.transport, r.src, r.dst) == (
                regs[-1].transport,
                regs[-1].src,
                regs[-1].dst,
            )
            facts.append(
                f"the UA re-registered after the 430 (frame {r.frame}) over {_flow_text(r)}"
                + (" (the failed flow's addresses)" if same else " (another flow)")
            )
        elif instance is not None:
            facts.append("the UA did not re-register in the capture after the 430")
        others = [
            r
            for r in _registers(ctx)
            if instance is not None
            and _outbound_contact(r.sip)[1] == instance
            and r.index < resp.index
            and _outbound_contact(r.sip)[0] != reg_id
        ]
        if others:
            ids = sorted({_outbound_contact(r.sip)[0] or "?" for r in others})
            facts.append(
                f"the same +sip.instance also registered reg-id {', '.join(ids)} "
                f"(frame {others[0].frame}): the registrar could have used that flow"
            )
        elif instance is not None:
            facts.append("no other flow of this +sip.instance was registered")
            fix.append(
                "register a second flow (reg-id=2) through another edge proxy so the "
                "registrar can fail over (RFC 5626 §4.2, §5.3)"
            )
        yield Finding(
            "outbound.flow-failed",
            "error",
            f"430 Flow Failed from edge proxy {resp.src}: the flow to {target or '?'} is gone",
            f"{resp.src} answered the {req.method} (frame {req.frame}) with {resp.label} "
            f"(frame {resp.frame}): it could not forward over the outbound flow"
            + (f" with token {token}" if token else "")
            + ". "
            + "; ".join(facts)[:1].upper()
            + "; ".join(facts)[1:]
            + ".",
            "; ".join(fix) + ".",
            tuple(frames),
            430,
            sip.call_id,
            "RFC 5626 §5.3, §11",
        )


RULES = (
    Rule(
        "outbound.first-hop-lacks-support",
        "RFC 5626 §5.1, §6",
        "439: the REGISTER's outbound evidence (Supported/Require, reg-id, +sip.instance, "
        "Path;ob) and the first hop, from the Via stack, that lacks outbound support.",
        _outbound_439,
    ),
    Rule(
        "outbound.flow-failed",
        "RFC 5626 §5.3, §11",
        "430: which flow failed (token, transport, addresses), when it was registered, "
        "whether the UA re-registered and whether other flows of the instance existed.",
        _flow_failed,
    ),
)
