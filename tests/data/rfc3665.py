"""Turn an RFC 3665 call flow of ../shared/corpus/rfc3665-callflows into a capture.

Each flow file is a YAML list of the printed messages F1, F2, ... and its
leading `#` comment holds the RFC's ladder diagram. `flow_to_pcap` writes the
messages, in F-number order, as a classic pcap (Ethernet/IPv4/UDP, port 5060
on both ends, one message per datagram, bytes exactly as
`tests.sip.test_rfc3665.wire` makes them, reimplemented here as `wire` so that
making a capture needs nothing of the analyzer) so the analyzer can read a
flow as a capture.

Direction (`read_diagram`). The participants are the columns of the diagram:
every position where a `|` occurs on some line of the diagram (a
participant's bar is often dropped where an arrow or a long label crosses it,
so no single line is trusted), named in order by the line above the first
line with a `|` (`Alice  Proxy 1  Proxy 2  Bob`: names are split on runs of
two or more spaces; there must be as many names as columns). Each message
label (`INVITE F1`, `F4 180 Ringing`, `407 Proxy Authorization Required F7`)
is bound to the arrow (`|----->|`, `|<-----|`) drawn through it on its own
line (`|--- INVITE F1 --->|`), else to the arrow overlapping the label's
columns on the next line (the RFC's layout: label above arrow); when several
overlap, the one overlapping most. An arrow's extent runs from its first
`-`/`<` to its last `-`/`>`; the columns just outside it are its ends, so an
arrow may pass over other columns (3.04's Alice-to-Proxy 2 INVITE F8, 3.07's
Alice-to-Bob ACK F8). `>` is left to right, `<` right to left. Media arrows
(`<=====>`) are not messages. Every label must get exactly one arrow and
every arrow exactly one label, or reading fails (`DiagramError`).

The irregular diagrams are all handled by these generic rules, with no
per-file table:

- 3.03: labels wider than their column gap (`407 Proxy Authorization
  Required F2` spans three gaps; F7's runs past the last column). The arrow on
  the next line lies inside the label's span, which is what binds them.
- 3.04, 3.05, 3.06, 3.07: arrows spanning two gaps over a participant whose
  bar is dropped on that line (and in 3.05 for several lines): ends are taken
  from the arrow's extent, columns from the bars of the whole diagram.
- 3.07: no bar-only line at all (the first message label sits on the first
  bar line) and Proxy 2's bar stops after F7; labels written `F1 INVITE`
  (number first).
- 2.x: the registrar column is named by two words (`SIP Server`).

Addresses: participant number i (0-based, left to right) is 192.0.2.(10 * (i + 1))
with MAC 02:00:00:00:00:xx, xx the same number in hex.

Times (`frame_times`; T1 = 500 ms, T2 = 4 s, RFC 3261 §17):

1. F1 is at EPOCH (1_000_000_000.0) and each frame follows the previous by
   STEP (50 ms), except:
2. Retransmissions: a request repeating an earlier request on the same hop
   (same source and destination participant) with the same top Via branch and
   the same CSeq (number and method) is a copy. Copy k (k = 1 for the first
   retransmission) is placed T1 * 2**(k-1) after the previous copy: 0.5, 1, 2,
   4, 8, 16 s for INVITE (Timer A), capped at T2 for other methods (Timer E).
3. Timeouts: when a request was retransmitted and no response to it (same
   branch and CSeq, on the reverse hop) appears anywhere in the flow, the frame
   following its last copy is placed 64 * T1 = 32 s (Timer B / F) after the
   first copy: the sender gave up (3.04: Alice's F8 to Proxy 2 after F1..F7;
   3.10: Proxy 2's 480 F12 after the INVITE F4, F6..F11 to Bob).
4. Human waits, HUMAN (2 s) after the previous frame, only where the flow
   implies a person acted and nothing else could explain the message:
   - the answer: the first 2xx to an INVITE (per Call-ID and CSeq number)
     after a 18x of that INVITE (the phone rang, then Bob picked up);
   - giving up: the first CANCEL (per Call-ID and CSeq number) after a 18x
     of that INVITE (the phone rang, then Alice hung up);
   - the conversation: the first of each new in-dialog request other than
     ACK and CANCEL (To has a tag; per Call-ID, CSeq number and method), i.e.
     the BYE or re-INVITE that follows established media.
   Everything else is machine-driven (challenge and retry, forwarding,
   provisional responses, ACK, busy or unavailable rejections) and keeps STEP.
   3.11's 480 after ringing is left at STEP: the RFC does not say whether a
   timer or a person caused it.

Every time is checked to be later than the previous frame's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

EPOCH = 1_000_000_000.0
"""Time of every flow's first frame (2001-09-09 01:46:40 UTC)."""
STEP = 0.05
"""Default spacing of frames, in seconds."""
HUMAN = 2.0
"""A person's reaction time (answering, hanging up, talking), in seconds."""
T1 = 0.5
T2 = 4.0
TIMEOUT = 64 * T1
"""Timer B (INVITE) and Timer F (others): a sender gives up this long after its first copy."""
SIP_PORT = 5060
MAX_DATAGRAM = 65000
"""A message bigger than this cannot be one UDP datagram here: fail rather than fragment."""

# Times are reckoned in integer microseconds (the resolution of a classic pcap).
_US = 1_000_000


@dataclass(frozen=True)
class Hop:
    """One message as it travels: F-number, endpoints (name and address), capture time."""

    fnum: int
    src_name: str
    dst_name: str
    src_ip: str
    dst_ip: str
    time: float


@dataclass(frozen=True)
class Diagram:
    """What a ladder diagram says: participants left to right, each F-number's columns."""

    participants: tuple[str, ...]
    arrows: Mapping[int, tuple[int, int]]
    """F-number -> (source column, destination column), columns indexing `participants`."""


class DiagramError(ValueError):
    """The ladder diagram cannot be read unambiguously."""


# A message label: method or status, then (within the gap) its F-number, or the other way round.
_LABEL = re.compile(
    r"(?<![\w-])(?:(?:[A-Z]{3,}|\d{3})\b[^|]*?\bF(?P<late>\d+)\b"
    r"|F(?P<early>\d+)\s+(?:[A-Z]{3,}|\d{3})\b)"
)
_ARROW = re.compile(r"<?-{2,}>?")
_NAME = re.compile(r"\S+(?: \S+)*")


def wire(printed: str) -> bytes:
    """The printed message as sent: CRLF line ends, header section terminated.

    The same bytes as `tests.sip.test_rfc3665.wire` (the tests compare them).
    """
    if "\n\n" not in printed.rstrip("\n") + "\n":
        printed = printed.rstrip("\n") + "\n\n"
    return printed.replace("\n", "\r\n").encode()


def participant_ip(index: int) -> str:
    return f"192.0.2.{10 * (index + 1)}"


def _participant_mac(index: int) -> str:
    return f"02:00:00:00:00:{10 * (index + 1):02x}"


def _comment_lines(text: str) -> list[str]:
    """The leading `#` comment, `#` removed (columns stay aligned)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].rstrip())
    return lines


def _nearest(columns: Sequence[int], pos: int) -> int:
    best = min(range(len(columns)), key=lambda i: abs(columns[i] - pos))
    if abs(columns[best] - pos) > 1:
        raise DiagramError(f"arrow end at {pos} is at no participant column {list(columns)}")
    return best


def _through_labels(line: str) -> str:
    """`line` with each label drawn inside an arrow (`|-- INVITE F1 -->|`) dashed over."""
    for label in _LABEL.finditer(line):
        start, end = label.start(), label.end()
        while start > 0 and line[start - 1] == " ":
            start -= 1
        while end < len(line) and line[end] == " ":
            end += 1
        if start > 0 and line[start - 1] in "-<" and end < len(line) and line[end] in "->":
            line = line[:start] + "-" * (end - start) + line[end:]
    return line


def read_diagram(text: str) -> Diagram:
    """Participants and the direction of every labelled arrow of a flow file's diagram."""
    lines = _comment_lines(text)
    first = next((i for i, line in enumerate(lines) if "|" in line), None)
    if first is None or first == 0:
        raise DiagramError("no participant line above the diagram's bars")
    columns = sorted({m.start() for line in lines[first:] for m in re.finditer(r"\|", line)})
    names = tuple(m.group() for m in _NAME.finditer(lines[first - 1]))
    if len(names) != len(columns):
        raise DiagramError(f"{len(names)} participant names {names} for {len(columns)} columns")

    # Arrows per line: (start, end inclusive, source column, destination column).
    arrows: dict[int, list[tuple[int, int, int, int]]] = {}
    for n, line in enumerate(lines):
        for m in _ARROW.finditer(_through_labels(line)):
            right, left = m.group().endswith(">"), m.group().startswith("<")
            if right == left:
                continue  # no head, or two heads: not a message
            lo = _nearest(columns, m.start() - 1)
            hi = _nearest(columns, m.end())
            if lo >= hi:
                raise DiagramError(f"arrow {m.group()!r} on line {n} joins no two columns")
            arrows.setdefault(n, []).append(
                (m.start(), m.end() - 1, *((lo, hi) if right else (hi, lo)))
            )

    found: dict[int, tuple[int, int]] = {}
    used: dict[tuple[int, int], int] = {}
    for n, line in enumerate(lines):
        for label in _LABEL.finditer(line):
            fnum = int(label.group("late") or label.group("early"))
            chosen = None
            for where in (n, n + 1):  # drawn through its arrow, else above it
                overlaps = [
                    (min(end + 1, label.end()) - max(start, label.start()), i)
                    for i, (start, end, _, _) in enumerate(arrows.get(where, []))
                ]
                overlaps = [(size, i) for size, i in overlaps if size > 0]
                if overlaps:
                    size, i = max(overlaps)
                    if [s for s, _ in overlaps].count(size) > 1:
                        raise DiagramError(f"F{fnum}: two arrows equally under its label")
                    chosen = (where, i)
                    break
            if chosen is None:
                raise DiagramError(f"F{fnum}: no arrow under or through its label")
            if chosen in used:
                raise DiagramError(f"F{fnum} and F{used[chosen]} share one arrow")
            if fnum in found:
                raise DiagramError(f"F{fnum} labelled twice")
            used[chosen] = fnum
            _, _, src, dst = arrows[chosen[0]][chosen[1]]
            found[fnum] = (src, dst)

    every = sum(len(a) for a in arrows.values())
    if len(used) != every:
        raise DiagramError(f"{every - len(used)} arrows without a label")
    if sorted(found) != list(range(1, len(found) + 1)):
        raise DiagramError(f"F-numbers are not 1..N: {sorted(found)}")
    return Diagram(names, dict(sorted(found.items())))


@dataclass(frozen=True)
class _Msg:
    """What the timing rules need of one message (from its printed text)."""

    request: str | None  # method of a request, None for a response
    status: int | None
    branch: str | None
    cseq: tuple[int, str] | None
    call_id: str | None
    to_tag: bool


def _header(names: str, text: str) -> str | None:
    """The value of the first header called one of `names` (a regex alternation)."""
    m = re.search(rf"^(?:{names})\s*:\s*(.*?)\s*$", text, re.M | re.I)
    return m.group(1) if m else None


def _summary(printed: str) -> _Msg:
    start = printed.lstrip().split("\n", 1)[0].split()
    status = int(start[1]) if start[0].startswith("SIP/") else None
    via = _header("Via|v", printed) or ""
    branch = re.search(r";\s*branch=([^;,\s]+)", via)
    cseq_text = _header("CSeq", printed)
    cseq_m = re.match(r"(\d+)\s+(\S+)", cseq_text or "")
    to = _header("To|t", printed) or ""
    return _Msg(
        request=None if status is not None else start[0],
        status=status,
        branch=branch.group(1) if branch else None,
        cseq=(int(cseq_m.group(1)), cseq_m.group(2)) if cseq_m else None,
        call_id=_header("Call-ID|i", printed),
        to_tag=re.search(r";\s*tag=", to) is not None,
    )


_Copy = tuple[tuple[int, int], str | None, tuple[int, str] | None]
"""What makes a request a copy of another: hop, top Via branch, CSeq."""


def frame_times(printed: Sequence[str], hops: Sequence[tuple[int, int]]) -> list[float]:
    """Capture time of each message, by the rules of the module docstring.

    `hops` are the (source, destination) participants of each message, in order.
    """
    msgs = [_summary(p) for p in printed]
    us: list[int] = []
    chains: dict[_Copy, list[int]] = {}  # a request's copies -> their frame indexes
    chain_of: dict[int, _Copy] = {}
    rung: set[tuple[str | None, int]] = set()
    answered: set[tuple[str | None, int]] = set()
    cancelled: set[tuple[str | None, int]] = set()
    in_dialog: set[tuple[str | None, int, str]] = set()

    def answered_at_all(key: _Copy) -> bool:
        hop, branch, cseq = key
        return any(
            m.request is None
            and m.branch == branch
            and m.cseq == cseq
            and hops[j] == (hop[1], hop[0])
            for j, m in enumerate(msgs)
        )

    for i, m in enumerate(msgs):
        key = (hops[i], m.branch, m.cseq)
        if m.request is not None and m.branch is not None and key in chains:
            copies = chains[key]
            interval = T1 * 2 ** (len(copies) - 1)
            if m.request != "INVITE":
                interval = min(interval, T2)
            t = us[copies[-1]] + round(interval * _US)
            copies.append(i)
            chain_of[i] = key
        else:
            if m.request is not None and m.branch is not None:
                chains[key] = [i]
                chain_of[i] = key
            t = us[-1] + round(STEP * _US) if us else round(EPOCH * _US)
            human = _human(m, rung, answered, cancelled, in_dialog)
            gave_up = chain_of.get(i - 1)
            if (
                gave_up is not None
                and len(chains[gave_up]) > 1
                and chains[gave_up][-1] == i - 1
                and not answered_at_all(gave_up)
            ):
                t = us[chains[gave_up][0]] + round(TIMEOUT * _US)
            elif us and human:
                t = us[-1] + round(HUMAN * _US)
        if m.request is None and m.status is not None and 180 <= m.status < 190 and m.cseq:
            rung.add((m.call_id, m.cseq[0]))
        if us and t <= us[-1]:
            raise ValueError(f"F{i + 1} would be at or before F{i}: timing rules clash")
        us.append(t)
    return [t / _US for t in us]


def _human(
    m: _Msg,
    rung: set[tuple[str | None, int]],
    answered: set[tuple[str | None, int]],
    cancelled: set[tuple[str | None, int]],
    in_dialog: set[tuple[str | None, int, str]],
) -> bool:
    """Whether a person's decision precedes `m` (rule 4); records what it saw."""
    if m.cseq is None:
        return False
    invite = (m.call_id, m.cseq[0])
    if m.status is not None and 200 <= m.status < 300 and m.cseq[1] == "INVITE":
        first = invite not in answered
        answered.add(invite)
        return first and invite in rung
    if m.request == "CANCEL":
        first = invite not in cancelled
        cancelled.add(invite)
        return first and invite in rung
    if m.request is not None and m.request != "ACK" and m.to_tag:
        key = (m.call_id, m.cseq[0], m.request)
        first = key not in in_dialog
        in_dialog.add(key)
        return first
    return False


def flow_to_pcap(yaml_path: Path, out_path: Path) -> list[Hop]:
    """Write one flow as a classic Ethernet pcap; the hop of each frame, in frame order."""
    text = yaml_path.read_text(encoding="utf-8")
    printed: list[str] = yaml.safe_load(text)
    diagram = read_diagram(text)
    if list(diagram.arrows) != list(range(1, len(printed) + 1)):
        raise DiagramError(
            f"{yaml_path.name}: diagram labels F1..F{len(diagram.arrows)}, "
            f"file has {len(printed)} messages"
        )
    payloads = [wire(p) for p in printed]
    for n, payload in enumerate(payloads, 1):
        if len(payload) > MAX_DATAGRAM:
            raise ValueError(f"{yaml_path.name} F{n}: {len(payload)} bytes, too big for UDP")
    columns = [diagram.arrows[n] for n in range(1, len(printed) + 1)]
    times = frame_times(printed, columns)
    hops: list[Hop] = []
    with PcapWriter(str(out_path), linktype=1, sync=True) as writer:
        for n, (payload, (src, dst), t) in enumerate(zip(payloads, columns, times, strict=True), 1):
            hop = Hop(
                n,
                diagram.participants[src],
                diagram.participants[dst],
                participant_ip(src),
                participant_ip(dst),
                t,
            )
            pkt = (
                Ether(src=_participant_mac(src), dst=_participant_mac(dst))
                / IP(src=hop.src_ip, dst=hop.dst_ip, id=n)
                / UDP(sport=SIP_PORT, dport=SIP_PORT)
                / payload
            )
            pkt.time = t
            writer.write(pkt)
            hops.append(hop)
    return hops
