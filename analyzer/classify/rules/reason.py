"""Reason headers (RFC 3326) in BYE, CANCEL and responses: the Q.850 cause a gateway or
network gave (RFC 3398 maps it to a SIP status), or the SIP cause (e.g. 200 "Call
completed elsewhere" in a forking proxy's CANCEL). Grouped per cause, so a capture of a
thousand normal hang-ups gives one finding, not a thousand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ...correlate import Message
from ..context import Context
from ..model import Finding, ReasonNote
from ..notes import reason_notes
from ..rule import Rule

_EVIDENCE = 10
# Q.850 causes of the normal class that say what a user did or what was dialled
# (ITU-T Q.850 Table 1: 16 normal clearing, 17 busy, 18/19 no answer, 21 rejected,
# 31 normal unspecified): they describe how a call ended, not a fault.
_Q850_NORMAL = frozenset({16, 17, 18, 19, 21, 31})


def _normal(note: ReasonNote) -> bool:
    proto = note.protocol.upper()
    if proto == "Q.850":
        return note.cause in _Q850_NORMAL
    if proto == "SIP" and note.cause is not None:
        return 200 <= note.cause < 300 or note.cause in (486, 487, 600, 603)
    return True  # unknown protocols: reported, not judged


@dataclass
class _Group:
    note: ReasonNote
    carrier: str
    messages: list[Message] = field(default_factory=list)


def _carrier(m: Message) -> str:
    return m.method or "?" if m.is_request else f"{m.status} response"


def _reasons(ctx: Context) -> Iterator[Finding]:
    groups: dict[tuple[str, int | None, str], _Group] = {}
    seen: set[tuple[object, ...]] = set()
    for i in ctx.messages.with_reason():
        m = ctx.messages[i]
        if ctx.is_retransmission(m):
            continue
        # A proxy relays the same BYE or response: count the message once.
        key = (m.call_id, m.cseq, m.method, m.status)
        if key in seen:
            continue
        seen.add(key)
        for note in reason_notes(m.sip):
            gkey = (note.protocol.upper(), note.cause, _carrier(m))
            group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = _Group(note, _carrier(m))
            group.messages.append(m)
    for (proto, cause, carrier), g in groups.items():
        note, msgs = g.note, g.messages
        first = msgs[0]
        name = note.name or (note.text and f'"{note.text}"') or "unknown cause"
        senders = ", ".join(sorted({m.src for m in msgs})[:3])
        calls = len({m.call_id for m in msgs})
        meaning = note.meaning if proto == "Q.850" else None  # SIP: the name says it
        mapped = (
            f" RFC 3398 maps it to SIP {note.sip_status}."
            if proto == "Q.850" and note.sip_status and "RFC 3398" not in (meaning or "")
            else ""
        )
        normal = _normal(note)
        yield Finding(
            f"reason.{'q850' if proto == 'Q.850' else 'sip' if proto == 'SIP' else 'other'}",
            "info" if normal else "warning",
            f"{len(msgs)} {carrier}(s) with Reason {proto} cause {cause}: {name}",
            f"{len(msgs)} {carrier} message(s) in {calls} call(s) carried `Reason: {proto};"
            f"cause={cause}`"
            + (f' ("{note.text}")' if note.text else "")
            + f", sent by {senders} (first in frame {first.frame})"
            + (f": {meaning}" if meaning else ".")
            + mapped,
            "Nothing to fix: the cause records a normal end of the call."
            if normal
            else f"The cause was given by the network behind {senders}: look there (gateway "
            f"or trunk logs, the PSTN side) for why it answered {name}.",
            tuple(m.frame for m in msgs[:_EVIDENCE]),
            first.status,
            first.call_id,
            "RFC 3326 §2; RFC 3398 §7.2.4.1; ITU-T Q.850",
        )


RULES = (
    Rule(
        "reason.*",
        "RFC 3326; RFC 3398 §7.2.4.1",
        "Reason headers in BYE, CANCEL and responses, grouped per cause: Q.850 causes "
        "(`reason.q850`) with their meaning and SIP mapping, SIP causes (`reason.sip`).",
        _reasons,
    ),
)
