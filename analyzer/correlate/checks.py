"""Transaction checks: what the transaction and dialog layers of RFC 3261 forbid or
reveal, read from the transactions matched in the store.

Each check is one function with its RFC section beside it; `CHECKS` runs them
in order. A check that needs time to pass (a timer) only fires when the capture
runs long enough past the message to prove the timer expired.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from ..findings import Finding
from .model import Message, Transaction
from .store import MessageStore
from .transactions import TransactionTable

T1 = 0.5
TIMER_64T1 = 64 * T1  # Timer B, F, H and the 2xx retransmission limit (RFC 3261 §17, §13.3.1.4)
# Copies of one message on one hop within 64*T1 at most (RFC 3261 §17.1.1.2 Timer A:
# 7 INVITEs; §17.1.2.2 Timer E capped at T2 = 4 s: 11 non-INVITEs; §13.3.1.4 and §17.2.1
# Timer G: 11 responses). More than that is a storm, not a timer.
MAX_COPIES = {"INVITE": 7, "request": 11, "response": 11}
EVIDENCE = 24  # frames listed per finding at most


@dataclass(frozen=True, slots=True)
class Input:
    """What the checks read."""

    store: MessageStore
    table: TransactionTable
    retrans: AbstractSet[int]
    capture_end: float


CheckFn = Callable[[Input], Iterator[Finding]]


def _finding(
    id: str,
    severity: str,
    title: str,
    detail: str,
    fix: str,
    frames: tuple[int, ...],
    call_id: str | None,
    rfc: str,
    status: int | None = None,
) -> Finding:
    return Finding(id, severity, title, detail, fix, frames, status, call_id, rfc)


def _frames(msgs: list[Message]) -> tuple[int, ...]:
    return tuple(sorted({m.frame for m in msgs}))[:EVIDENCE]


def _unanswered(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §17.1.1.2 / §17.1.2.2: an INVITE with no response at all (Timer B) or a
    non-INVITE with no final response (Timer F) 64*T1 after it was first sent."""
    store, table = inp.store, inp.table
    for n in range(len(table)):
        # Columns first: a record is made only for the few candidates.
        if table.final_of(n) is not None or table.request_of(n) is None:
            continue
        t = table[n]
        if t.request is None or t.method == "ACK":
            continue
        if t.method == "INVITE" and t.responses:
            continue  # a provisional stopped Timer B; Timer C is the proxy's business
        first = store[t.request]
        if inp.capture_end - first.time < TIMER_64T1:
            continue
        copies = [store[i] for i in t.requests if store[i].method == first.method]
        timer = "B" if t.method == "INVITE" else "F"
        got = "no response at all" if not t.responses else "provisional responses only"
        yield _finding(
            "txn.unanswered",
            "error",
            f"{first.method} never answered (Timer {timer})",
            f"{first.method} from {first.src} to {first.dst} over {first.transport} was sent "
            f"{len(copies)} time(s) over {copies[-1].time - first.time:.1f} s and got {got}; "
            f"Timer {timer} (64*T1 = {TIMER_64T1:.0f} s) expired at "
            f"{first.time + TIMER_64T1 - store[0].time:.1f} s into the capture.",
            f"{first.dst} does not answer: check that it is up, listening on "
            f"{first.transport} at that port, and that no firewall drops the traffic.",
            _frames(copies),
            first.call_id,
            f"RFC 3261 §17.1.{'1' if timer == 'B' else '2'}.2",
        )


def _ack_keys(store: MessageStore) -> set[tuple[str, int]]:
    """(Call-ID, CSeq number) of every ACK."""
    out = set()
    for i in store.requests(("ACK",)):
        m = store[i]
        if m.call_id and m.cseq:
            out.add((m.call_id, m.cseq.number))
    return out


def _ack_missing(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §13.2.2.4 / §17.1.1.3: every final response to an INVITE is ACKed, the 2xx
    end to end by the caller, a non-2xx hop by hop inside the transaction."""
    store = inp.store
    acks = _ack_keys(store)
    reported_2xx: set[tuple[str, int]] = set()
    table = inp.table
    for n in range(len(table)):
        if table.method_of(n) != "INVITE" or table.final_of(n) is None:
            continue
        t = table[n]
        if t.final is None or t.request is None:
            continue
        final = store[t.final]
        status = final.status or 0
        copies = [store[i] for i in t.responses if store[i].status == status]
        resent = len(copies) > 1
        proven = resent or inp.capture_end - final.time >= TIMER_64T1
        if 200 <= status < 300:
            key = (t.call_id, final.cseq.number if final.cseq else -1)
            if key in acks or key in reported_2xx or not proven:
                continue
            reported_2xx.add(key)
            yield _finding(
                "txn.2xx-without-ack",
                "error",
                "2xx never ACKed",
                f"{status} {final.reason or ''} from {final.src} to {final.dst} was sent "
                f"{len(copies)} time(s) and no ACK with CSeq {key[1]} followed; the callee "
                f"ends such a call after 64*T1 = {TIMER_64T1:.0f} s (RFC 3261 §13.3.1.4).",
                "The caller did not send the ACK, or it went elsewhere: check the 2xx's "
                "Contact and Record-Route (the ACK follows them) and NAT on the caller's side.",
                _frames([store[t.request], *copies]),
                t.call_id,
                "RFC 3261 §13.2.2.4",
                status,
            )
        elif status >= 300:
            if any(store[i].method == "ACK" for i in t.requests) or not proven:
                continue
            yield _finding(
                "txn.non2xx-without-ack",
                "warning",
                f"{status} never ACKed",
                f"{status} {final.reason or ''} from {final.src} to {final.dst} was sent "
                f"{len(copies)} time(s) and not ACKed on that hop; the server transaction "
                f"retransmits it until Timer H (64*T1 = {TIMER_64T1:.0f} s).",
                f"{final.dst} must ACK every non-2xx final response to its INVITE, to the "
                "address it sent the INVITE to (the top Via's sent-by answers it).",
                _frames([store[t.request], *copies]),
                t.call_id,
                "RFC 3261 §17.1.1.3",
                status,
            )


def _481(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §15.1.2 / §9.2: 481 to a BYE (the dialog is already gone) or to a CANCEL
    (the INVITE transaction is already over or unknown)."""
    store, table = inp.store, inp.table
    for i in store.with_status((481,)):
        if i in inp.retrans:
            continue
        resp = store[i]
        if resp.txn is None:
            continue
        t = table[resp.txn]
        if t.method not in ("BYE", "CANCEL"):
            continue
        req = store[t.request] if t.request is not None else None
        if t.method == "BYE":
            earlier = [
                store[j]
                for j in store.requests(("BYE",))
                if j < i and store[j].call_id == resp.call_id and j != t.request
            ]
            why = (
                f"an earlier BYE (frame {earlier[0].frame}) had already ended the dialog"
                if earlier
                else "no earlier BYE in the capture: the far end had lost or never had the dialog"
            )
            fix = (
                "Send one BYE per dialog; when both sides hang up at once, a 481 to the "
                "second BYE is harmless."
                if earlier
                else "Check that the BYE's Call-ID, tags and Request-URI (the remote target) "
                "match the dialog, and whether the far end restarted."
            )
        else:
            invite = next(
                (table[n] for n in _invite_of(table, t)),
                None,
            )
            final = store[invite.final] if invite and invite.final is not None else None
            if final is not None and req is not None and final.time <= req.time:
                why = (
                    f"the INVITE had already got its final response ({final.status}, "
                    f"frame {final.frame})"
                )
                fix = (
                    "A CANCEL racing the final response is normal; the caller must then "
                    "ACK and BYE."
                )
            else:
                why = "the INVITE transaction was unknown to the far end"
                fix = (
                    "The CANCEL must carry the INVITE's top Via branch, Call-ID, From, To "
                    "and CSeq number."
                )
        yield _finding(
            f"txn.481-after-{t.method.lower()}",
            "warning",
            f"481 to {t.method}",
            f"{t.method} from {req.src if req else '?'} got 481 Call/Transaction Does Not Exist "
            f"from {resp.src}: {why}.",
            fix,
            _frames([m for m in (req, resp) if m is not None]),
            resp.call_id,
            "RFC 3261 §15.1.2" if t.method == "BYE" else "RFC 3261 §9.2",
            481,
        )


def _invite_of(table: TransactionTable, cancel: Transaction) -> Iterator[int]:
    # A CANCEL has the INVITE's branch and sent-by (§9.1): the INVITE transaction of the
    # same Call-ID opened just before it.
    for n in range(cancel.id - 1, max(cancel.id - 64, -1), -1):
        if table.call_id(n) == cancel.call_id and table[n].method == "INVITE":
            yield n
            return


def _glare(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §14.1: 491 Request Pending answers a re-INVITE that crossed another one."""
    store = inp.store
    by_call: dict[str, list[Message]] = defaultdict(list)
    for i in store.with_status((491,)):
        if i not in inp.retrans:
            by_call[store[i].call_id or ""].append(store[i])
    for call_id, responses in by_call.items():
        sides = {r.dst for r in responses}
        retried = False
        last = responses[-1]
        for j in store.requests(("INVITE", "UPDATE")):
            m = store[j]
            if j > last.index and m.call_id == call_id and m.to_tag and j not in inp.retrans:
                retried = True
                break
        crossing = "crossing re-INVITEs: both sides got 491" if len(sides) > 1 else "491"
        yield _finding(
            "txn.glare",
            "info" if retried else "warning",
            "Request pending (glare)",
            f"{crossing} ({len(responses)} response(s)); "
            + (
                "a later request in the dialog retried the change."
                if retried
                else "no later re-INVITE or UPDATE retried the change in the capture."
            ),
            "Normal when both sides modify the session at once; each must retry after a "
            "random wait (2.1-4 s for the dialog's owner of the Call-ID, 0-2 s otherwise).",
            _frames(responses),
            call_id,
            "RFC 3261 §14.1",
            491,
        )


def _cseq_backwards(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §12.2.1.1 / §10.2: a UA's CSeq numbers for new requests in a dialog (and
    for REGISTERs of one Call-ID) never go down. Per dialog (each early dialog of a forked
    INVITE keeps its own count) and per hop (a proxy's copies are a sequence of their own);
    out of a dialog the number is arbitrary (§8.1.1.5)."""
    last: dict[tuple[str, ...], tuple[int, int]] = {}
    reported: set[str] = set()
    for i, method, cid, ftag, ttag, src, dst, number in inp.store.sequence_keys():
        if method in ("ACK", "CANCEL") or i in inp.retrans:
            continue
        if not ttag and method != "REGISTER":
            continue
        key = (cid, ftag, ttag, src, dst)
        before = last.get(key)
        if before is not None and number < before[0] and cid not in reported:
            reported.add(cid)
            prev, this = inp.store[before[1]], inp.store[i]
            yield _finding(
                "txn.cseq-backwards",
                "error",
                "CSeq went backwards",
                f"{src} sent {method} with CSeq {number} after {prev.method} with CSeq "
                f"{before[0]} (frame {prev.frame}) in the same Call-ID.",
                f"The UA at {src} must increase CSeq for every new request in a dialog; the far "
                "end rejects lower numbers with 500 (RFC 3261 §12.2.2).",
                (prev.frame, this.frame),
                cid,
                "RFC 3261 §12.2.1.1",
            )
        if before is None or number >= before[0]:
            last[key] = (number, i)


def _max_forwards(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §16.3 item 2, §8.1.1.6: a request reaching Max-Forwards 0 (loop or a too
    low initial value); the next proxy answers 483."""
    store = inp.store
    by_call: dict[str, list[Message]] = defaultdict(list)
    for i in store.requests():
        m = store[i]
        if m.max_forwards_zero and m.method != "OPTIONS" and i not in inp.retrans:
            by_call[m.call_id or ""].append(m)
    for i in store.with_status((483,)):
        if i not in inp.retrans:
            by_call[store[i].call_id or ""].append(store[i])
    for call_id, msgs in by_call.items():
        msgs.sort(key=lambda m: m.index)
        first = msgs[0]
        yield _finding(
            "txn.max-forwards-zero",
            "warning",
            "Max-Forwards reached 0",
            f"{first.label} from {first.src} to {first.dst}: "
            + ", ".join(f"frame {m.frame} {m.label}" for m in msgs[:6])
            + ". The request ran out of hops: a forwarding loop, or an element that sets "
            "Max-Forwards too low.",
            "Look for a routing loop between the proxies in the ladder (the Via list repeats); "
            "a UA should start Max-Forwards at 70.",
            _frames(msgs),
            call_id or None,
            "RFC 3261 §16.3",
            483 if any(m.status == 483 for m in msgs) else None,
        )


def _storms(inp: Input) -> Iterator[Finding]:
    """RFC 3261 §17: more copies of one message on one hop than the timers allow."""
    store, table = inp.store, inp.table
    for n, size in table.sizes().items():
        if size <= MAX_COPIES["INVITE"]:
            continue
        t = table[n]
        copies: dict[tuple[str, str, str], list[Message]] = defaultdict(list)
        for i in (*t.requests, *t.responses):
            m = store[i]
            copies[(m.src, m.dst, m.label)].append(m)
        for (src, dst, label), msgs in copies.items():
            kind = (
                "INVITE" if label == "INVITE" else ("request" if msgs[0].is_request else "response")
            )
            if len(msgs) <= MAX_COPIES[kind]:
                continue
            yield _finding(
                "txn.retransmission-storm",
                "warning",
                "Retransmission storm",
                f"{label} from {src} to {dst} was sent {len(msgs)} times in "
                f"{msgs[-1].time - msgs[0].time:.1f} s; RFC 3261's timers allow at most "
                f"{MAX_COPIES[kind]} copies within 64*T1.",
                f"{src} retransmits too often or too long: check its T1/T2 settings, and why "
                f"{dst} does not answer (or its answer does not reach {src}).",
                _frames(msgs),
                t.call_id,
                "RFC 3261 §17.1.1.2",
                msgs[0].status,
            )


CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("txn.unanswered", _unanswered),
    ("txn.2xx-without-ack", _ack_missing),
    ("txn.481-after-bye", _481),
    ("txn.glare", _glare),
    ("txn.cseq-backwards", _cseq_backwards),
    ("txn.max-forwards-zero", _max_forwards),
    ("txn.retransmission-storm", _storms),
)
"""Every check, by the id (or first id) it produces."""


def transaction_checks(
    store: MessageStore, table: TransactionTable, retrans: AbstractSet[int], capture_end: float
) -> list[Finding]:
    """Run every check."""
    inp = Input(store, table, retrans, capture_end)
    return [c for _, fn in CHECKS for c in fn(inp)]
