"""pandas views of an `Analysis`: one DataFrame per record kind, one row per record.

`COLUMNS` names every column of every view with its dtype; docs/pandas.md
describes them and a test keeps the two in step. Times are seconds since the
epoch (float), durations seconds; integers that can be absent are pandas'
nullable `Int64`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pandas as pd

from .correlate import Interval

if TYPE_CHECKING:
    from .analysis import Analysis

COLUMNS: dict[str, dict[str, str]] = {
    "messages": {
        "index": "int64",
        "frame": "int64",
        "capture": "int64",
        "time": "float64",
        "src": "string",
        "dst": "string",
        "transport": "string",
        "type": "string",
        "method": "string",
        "ruri": "string",
        "status": "Int64",
        "reason": "string",
        "call_id": "string",
        "cseq": "Int64",
        "cseq_method": "string",
        "from_tag": "string",
        "to_tag": "string",
        "transaction": "Int64",
        "retransmission": "bool",
        "anomalies": "string",
    },
    "responses": {
        "index": "int64",
        "frame": "int64",
        "capture": "int64",
        "time": "float64",
        "src": "string",
        "dst": "string",
        "status": "int64",
        "reason": "string",
        "class": "string",
        "registered_reason": "string",
        "meaning": "string",
        "severity": "string",
        "final": "bool",
        "call_id": "string",
        "cseq_method": "string",
        "transaction": "Int64",
        "request_frame": "Int64",
        "latency": "float64",
        "retransmission": "bool",
    },
    "transactions": {
        "id": "int64",
        "method": "string",
        "call_id": "string",
        "request_frame": "Int64",
        "src": "string",
        "dst": "string",
        "start": "float64",
        "requests": "int64",
        "responses": "int64",
        "retransmissions": "int64",
        "first_provisional": "Int64",
        "final_status": "Int64",
        "final_frame": "Int64",
        "response_time": "float64",
        "acked": "boolean",
    },
    "calls": {
        "call_id": "string",
        "capture": "int64",
        "method": "string",
        "outcome": "string",
        "final_status": "Int64",
        "final_reason": "string",
        "from": "string",
        "to": "string",
        "start": "float64",
        "end": "float64",
        "duration": "float64",
        "messages": "int64",
        "attempts": "int64",
        "challenges": "int64",
        "cancelled": "bool",
        "hops": "int64",
        "dialogs": "int64",
        "forked": "bool",
        "hangup": "string",
        "reason": "string",
        "setup": "float64",
        "ring": "float64",
        "srd": "float64",
        "srd_failed": "bool",
        "sdd": "float64",
        "sdd_failed": "bool",
        "sdt": "float64",
        "completed": "bool",
        "setup_frames": "object",
        "ring_frames": "object",
        "srd_frames": "object",
        "sdd_frames": "object",
        "sdt_frames": "object",
    },
    "registrations": {
        "call_id": "string",
        "aor": "string",
        "contact": "string",
        "contacts": "int64",
        "ua": "string",
        "outcome": "string",
        "final_status": "Int64",
        "requests": "int64",
        "challenges": "int64",
        "attempts": "int64",
        "failed_attempts": "int64",
        "refreshes": "int64",
        "expires_requested": "Int64",
        "expires_granted": "Int64",
        "expires_at": "float64",
        "rrd": "float64",
        "rrd_frames": "object",
        "start": "float64",
        "end": "float64",
    },
    "subscriptions": {
        "call_id": "string",
        "event": "string",
        "subscriber": "string",
        "resource": "string",
        "outcome": "string",
        "final_status": "Int64",
        "requests": "int64",
        "refreshes": "int64",
        "challenges": "int64",
        "notifies": "int64",
        "state": "string",
        "state_reason": "string",
        "expires_granted": "Int64",
        "start": "float64",
        "end": "float64",
    },
    "findings": {
        "id": "string",
        "severity": "string",
        "title": "string",
        "detail": "string",
        "fix": "string",
        "status": "Int64",
        "call_id": "string",
        "rfc": "string",
        "frames": "object",
        "filter": "string",
    },
}


def _frame(view: str, rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    names = COLUMNS[view]
    frame = pd.DataFrame.from_records(list(rows), columns=list(names))
    return frame.astype(names)


def _secs(interval: Interval | None) -> float | None:
    return interval.seconds if interval is not None else None


def _frames(interval: Interval | None) -> tuple[int, ...] | None:
    return interval.frames if interval is not None else None


def messages_frame(a: Analysis) -> pd.DataFrame:
    retrans = a.correlation.retransmissions

    def rows() -> Iterator[tuple[Any, ...]]:
        for m in a.message_records():
            yield (
                m.index,
                m.frame,
                m.capture,
                m.time,
                m.src,
                m.dst,
                m.transport,
                "request" if m.is_request else "response",
                m.method,
                m.uri,
                m.status,
                m.reason,
                m.call_id,
                m.cseq.number if m.cseq else None,
                m.cseq.method if m.cseq else None,
                m.from_tag,
                m.to_tag,
                m.txn,
                m.index in retrans,
                " ".join(m.anomalies) or None,
            )

    return _frame("messages", rows())


def responses_frame(a: Analysis) -> pd.DataFrame:
    retrans = a.correlation.retransmissions
    table = a.correlation.transactions

    def rows() -> Iterator[tuple[Any, ...]]:
        for m in a.response_records():
            entry = a.entry(m)
            request = table[m.txn].request if m.txn is not None else None
            req = a.store[request] if request is not None else None
            yield (
                m.index,
                m.frame,
                m.capture,
                m.time,
                m.src,
                m.dst,
                m.status,
                m.reason,
                entry.klass if entry else None,
                entry.reason if entry else None,
                entry.meaning if entry else None,
                entry.severity if entry else None,
                (m.status or 0) >= 200,
                m.call_id,
                m.cseq.method if m.cseq else None,
                m.txn,
                req.frame if req else None,
                m.time - req.time if req else None,
                m.index in retrans,
            )

    return _frame("responses", rows())


def transactions_frame(a: Analysis) -> pd.DataFrame:
    store, retrans = a.store, a.correlation.retransmissions

    def rows() -> Iterator[tuple[Any, ...]]:
        for t in a.correlation.transactions:
            if a.selected is not None and not any(
                i in a.selected for i in (*t.requests, *t.responses)
            ):
                continue
            req = store[t.request] if t.request is not None else None
            final = store[t.final] if t.final is not None else None
            provisional = next(
                (store[i].status for i in t.responses if (store[i].status or 0) < 200), None
            )
            first = store[(t.requests or t.responses)[0]]
            acked: bool | None = None
            if t.method == "INVITE" and final is not None and (final.status or 0) >= 300:
                acked = any(store[i].method == "ACK" for i in t.requests)
            yield (
                t.id,
                t.method,
                t.call_id,
                req.frame if req else None,
                first.src if first.is_request else first.dst,
                first.dst if first.is_request else first.src,
                first.time,
                len(t.requests),
                len(t.responses),
                sum(1 for i in (*t.requests, *t.responses) if i in retrans),
                provisional,
                final.status if final else None,
                final.frame if final else None,
                final.time - req.time if final and req else None,
                acked,
            )

    return _frame("transactions", rows())


def calls_frame(a: Analysis) -> pd.DataFrame:
    rows = (
        (
            c.call_id,
            c.capture,
            c.method,
            c.outcome,
            c.final_status,
            c.final_reason,
            c.from_,
            c.to,
            c.start,
            c.end,
            c.end - c.start,
            len(c.messages),
            c.attempts,
            c.challenges,
            c.cancelled,
            c.hops,
            len(c.to_tags),
            len(c.to_tags) > 1,
            c.hangup,
            c.reason,
            _secs(c.setup),
            _secs(c.ring),
            _secs(c.srd),
            c.srd_failed,
            _secs(c.sdd),
            c.sdd_failed,
            _secs(c.sdt),
            c.completed,
            _frames(c.setup),
            _frames(c.ring),
            _frames(c.srd),
            _frames(c.sdd),
            _frames(c.sdt),
        )
        for c in a.call_records
    )
    return _frame("calls", rows)


def _by_name(
    view: str, records: Iterable[object], computed: dict[str, Callable[[Any], Any]]
) -> pd.DataFrame:
    """Rows whose columns are the records' attributes of the same name, or `computed`."""
    getters: list[Callable[[Any], Any]] = [
        computed.get(name) or attrgetter(name) for name in COLUMNS[view]
    ]
    return _frame(view, (tuple(g(r) for g in getters) for r in records))


def registrations_frame(a: Analysis) -> pd.DataFrame:
    return _by_name(
        "registrations",
        a.registration_records,
        {
            "contacts": lambda r: len(r.contacts),
            "rrd": lambda r: r.rrd[0].seconds if r.rrd else None,
            "rrd_frames": lambda r: r.rrd[0].frames if r.rrd else None,
        },
    )


def subscriptions_frame(a: Analysis) -> pd.DataFrame:
    return _by_name("subscriptions", a.subscription_records, {})


def findings_frame(a: Analysis) -> pd.DataFrame:
    return _by_name("findings", a.finding_records, {"filter": lambda f: f.display_filter})


FRAMES: dict[str, Callable[[Analysis], pd.DataFrame]] = {
    "messages": messages_frame,
    "responses": responses_frame,
    "transactions": transactions_frame,
    "calls": calls_frame,
    "registrations": registrations_frame,
    "subscriptions": subscriptions_frame,
    "findings": findings_frame,
}
"""Builder of each view, by name."""
