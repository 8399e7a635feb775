"""Ladder (sequence) diagrams of a call, as data and as plain text.

`ladder()` is the model Markdown (Mermaid + text) and HTML (SVG) draw from:
one column per endpoint (`ip:port`, in order of first appearance) and one
arrow per message, with its frame number and time. Labels come from the
capture (methods, reason phrases): every reporter escapes them its own way;
`plain()` makes control characters visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import Analysis
from ..correlate import Call
from ..select import error_call_ids, is_failed
from .text import inert

MAX_ARROWS = 400
"""Arrows drawn per call; a longer call's ladder says how many were left out."""


@dataclass(frozen=True, slots=True)
class Arrow:
    """One message in a ladder."""

    frame: int
    """Frame number in its capture."""
    time: float
    """Capture time, epoch seconds."""
    offset: float
    """Seconds since the call's first message."""
    src: int
    """Column of the sender."""
    dst: int
    """Column of the receiver."""
    label: str
    """`INVITE`, `180 Ringing`... as on the wire (untrusted)."""
    status: int | None
    """Status code of a response, None for a request."""
    retransmission: bool
    """Repeats an earlier message on the same hop."""
    transport: str
    """`udp`, `tcp`..."""


@dataclass(frozen=True, slots=True)
class Ladder:
    """A call as a sequence diagram."""

    call_id: str
    participants: tuple[str, ...]
    """Endpoints (`ip:port`), one column each."""
    arrows: tuple[Arrow, ...]
    omitted: int = 0
    """Messages beyond `MAX_ARROWS` that are not drawn."""


def ladder(analysis: Analysis, call: Call) -> Ladder:
    """The ladder of one call."""
    store = analysis.store
    columns: dict[str, int] = {}
    arrows = []
    start = call.start
    for i in call.messages[:MAX_ARROWS]:
        msg = store[i]
        src = columns.setdefault(msg.src, len(columns))
        dst = columns.setdefault(msg.dst, len(columns))
        label = (
            (msg.method or "?") if msg.is_request else f"{msg.status} {msg.reason or ''}".rstrip()
        )
        arrows.append(
            Arrow(
                frame=msg.frame,
                time=msg.time,
                offset=msg.time - start,
                src=src,
                dst=dst,
                label=label,
                status=None if msg.is_request else msg.status,
                retransmission=analysis.is_retransmission(msg),
                transport=msg.transport,
            )
        )
    return Ladder(
        call.call_id,
        tuple(columns),
        tuple(arrows),
        max(0, len(call.messages) - MAX_ARROWS),
    )


def arrow_text(arrow: Arrow) -> str:
    """The label as shown: retransmissions marked."""
    return arrow.label + (" (retransmission)" if arrow.retransmission else "")


def plain(lad: Ladder, label_limit: int = 40) -> str:
    """The ladder as monospaced text: one line per message with frame and time offset.

    ```
    frame  +time      127.0.0.1:5061          127.0.0.1:5060
        1  +0.000     |------- INVITE ------->|
        2  +0.001     |<---- 100 Trying ------|
    ```
    """
    names = [inert(p, 40) for p in lad.participants]
    label_w = max([len(inert(arrow_text(a), label_limit)) for a in lad.arrows] + [10])
    col_w = max(max(len(n) for n in names) + 2, label_w + 8) if names else 20
    prefix = 18  # "frame  +time     " column
    lines = [f"{'frame':>6}  {'+time':<9} " + "".join(n.ljust(col_w) for n in names).rstrip()]
    for a in lad.arrows:
        row = [" "] * (col_w * max(len(names) - 1, 1) + 1)
        for c in range(len(names)):
            row[c * col_w] = "|"
        lo, hi = sorted((a.src, a.dst))
        x0, x1 = lo * col_w, hi * col_w
        text = inert(arrow_text(a), label_limit)
        if x0 == x1:  # a message to itself: a loop mark
            body = f"|<-- {text}"
            row[x0 : x0 + len(body)] = list(body)
        else:
            span = x1 - x0 - 1
            dashes = span - len(text) - 2
            if dashes < 2:
                text = text[: max(1, span - 6)] + "…"
                dashes = span - len(text) - 2
            left = dashes // 2
            seg = "-" * left + " " + text + " " + "-" * (dashes - left)
            seg = seg[:-1] + ">" if a.src < a.dst else "<" + seg[1:]
            row[x0 + 1 : x1] = list(seg)
        lines.append(f"{a.frame:>6}  {'+' + format(a.offset, '.3f'):<9} " + "".join(row).rstrip())
    if lad.omitted:
        lines.append(f"{'':>{prefix}}… {lad.omitted} more messages not drawn")
    return "\n".join(lines) + "\n"


def ladder_calls(analysis: Analysis, which: str) -> list[Call]:
    """The calls that get a ladder: `failed`, `all` or `none` (`RenderOptions.ladder`)."""
    if which == "none":
        return []
    if which == "all":
        return list(analysis.call_records)
    errors = error_call_ids(analysis.finding_records)
    return [c for c in analysis.call_records if is_failed(c, errors)]


def call_filter(call: Call) -> str:
    """The Wireshark display filter showing exactly this call's SIP messages."""
    escaped = call.call_id.replace("\\", "\\\\").replace('"', '\\"')
    return f'sip.Call-ID == "{escaped}"'
