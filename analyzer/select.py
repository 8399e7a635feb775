"""Choosing which calls a report (or an exported pcap) shows.

A selection narrows the per-call parts of a report: calls, registrations,
subscriptions, messages, responses and the findings about them. Capture
accounting, the summary counts and the RFC 6076 metrics always describe the
whole capture, so a report of "the failed calls" still says how many calls
there were in all.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from .analysis import Analysis
from .correlate import Call
from .findings import Finding

FAILED_OUTCOMES = frozenset(
    {"busy", "no_answer", "rejected", "not_found", "auth_failed", "failed", "no_response"}
)
"""Call outcomes that count as failed: the call did not happen for a reason other than
the caller giving up (`cancelled`), a redirect, or the capture ending (`incomplete`)."""
REG_FAILED_OUTCOMES = frozenset({"auth_failed", "failed", "no_response"})
"""Registration outcomes that count as failed (`incomplete`: the capture ended first)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which calls to report; every criterion given must hold (AND)."""

    calls: str | tuple[str, ...] = "all"
    """`all`, `failed`, or the Call-IDs to keep."""
    statuses: tuple[str, ...] = ()
    """Keep calls with a response matching one of these: `486`, `4xx`."""
    methods: tuple[str, ...] = ()
    """Keep calls with a request of one of these methods."""
    since: float | None = None
    """Keep calls still going at or after this time (epoch seconds)."""
    until: float | None = None
    """Keep calls that started at or before this time (epoch seconds)."""

    @property
    def everything(self) -> bool:
        """Whether the selection keeps every call."""
        return self == Selection()

    def describe(self) -> str:
        """The selection as the options that make it, e.g. `--calls failed --status 4xx`."""
        parts = []
        if self.calls != "all":
            ids = self.calls if isinstance(self.calls, tuple) else (self.calls,)
            parts.append("--calls " + " ".join(ids))
        parts += [f"--status {s}" for s in self.statuses]
        parts += [f"--method {m}" for m in self.methods]
        if self.since is not None:
            parts.append(f"--since {_iso(self.since)}")
        if self.until is not None:
            parts.append(f"--until {_iso(self.until)}")
        return " ".join(parts)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_STATUS = re.compile(r"[1-6](?:\d\d|xx)", re.IGNORECASE)


def parse_status(spec: str) -> str:
    """Validate a `--status` value: a code (`486`) or a class (`4xx`)."""
    if not _STATUS.fullmatch(spec):
        raise ValueError(f"--status {spec!r}: expected a code like 486 or a class like 4xx")
    return spec.lower()


def parse_time(spec: str, day: date | None = None) -> float:
    """A `--since`/`--until` value as epoch seconds.

    Accepts epoch seconds, an ISO 8601 date-time (UTC unless it names a zone), or a
    time of day (`14:03:07`), which is taken on `day` (the capture's first day, UTC).
    """
    text = spec.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        tod = time.fromisoformat(text)
    except ValueError:
        tod = None
    if tod is not None:
        if day is None:
            raise ValueError(f"{spec!r}: a time of day needs a capture to give the date")
        moment = datetime.combine(day, tod)
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{spec!r}: expected epoch seconds, an ISO date-time or HH:MM:SS"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def capture_day(analysis: Analysis) -> date | None:
    """The UTC date of the first packet, for times of day in `--since`/`--until`."""
    firsts = [a.first_time for a in analysis.captures if a.first_time is not None]
    return datetime.fromtimestamp(min(firsts), UTC).date() if firsts else None


def is_failed(call: Call, errors: Collection[str] = ()) -> bool:
    """Whether a call failed: a failed outcome, or an error finding about it (`errors`
    holds the Call-IDs that have one)."""
    return call.outcome in FAILED_OUTCOMES or call.call_id in errors


def error_call_ids(findings: Iterable[Finding]) -> frozenset[str]:
    """Call-IDs with at least one error finding."""
    return frozenset(f.call_id for f in findings if f.severity == "error" and f.call_id)


def _status_match(statuses: Collection[int], specs: tuple[str, ...]) -> bool:
    for spec in specs:
        if spec.endswith("xx"):
            if any(s // 100 == int(spec[0]) for s in statuses):
                return True
        elif int(spec) in statuses:
            return True
    return False


def select(analysis: Analysis, selection: Selection) -> Analysis:
    """`analysis` narrowed to the calls `selection` keeps (the same object if it keeps all)."""
    if selection.everything:
        return analysis
    store = analysis.store
    errors = error_call_ids(analysis.finding_records)
    wanted_ids = set(selection.calls) if isinstance(selection.calls, tuple) else None
    need_rows = bool(selection.statuses or selection.methods)
    rows = store.by_call_id() if need_rows else {}
    methods = {m.upper() for m in selection.methods}
    kept: list[Call] = []
    for call in analysis.call_records:
        if selection.calls == "failed" and not is_failed(call, errors):
            continue
        if wanted_ids is not None and call.call_id not in wanted_ids:
            continue
        if selection.since is not None and call.end < selection.since:
            continue
        if selection.until is not None and call.start > selection.until:
            continue
        if need_rows:
            msgs = [store[i] for i in rows.get(call.call_id, ())]
            if selection.statuses and not _status_match(
                {m.status for m in msgs if m.status is not None}, selection.statuses
            ):
                continue
            if methods and not any(m.method in methods for m in msgs if m.is_request):
                continue
        kept.append(call)
    ids = frozenset(c.call_id for c in kept)
    indexes = frozenset(i for c in kept for i in c.messages)
    correlation = dataclasses.replace(
        analysis.correlation,
        calls=tuple(kept),
        registrations=tuple(r for r in analysis.registration_records if r.call_id in ids),
        subscriptions=tuple(s for s in analysis.subscription_records if s.call_id in ids),
    )
    # A capture-wide finding (a flood, a scanner) stays when it cites a kept message;
    # frame numbers identify a message only when there is one capture.
    wide = [f for f in analysis.finding_records if f.call_id is None]
    frames = {store[i].frame for i in indexes} if wide and len(analysis.captures) == 1 else set()

    def keep(f: Finding) -> bool:
        if f.call_id is not None:
            return f.call_id in ids
        return any(fr in frames for fr in f.frames)

    return dataclasses.replace(
        analysis,
        correlation=correlation,
        finding_records=tuple(f for f in analysis.finding_records if keep(f)),
        selection=selection,
        selected=indexes,
        unselected_calls=analysis.call_records,
    )


def missing_call_ids(analysis: Analysis, selection: Selection) -> list[str]:
    """Call-IDs the selection names that no call in the capture has."""
    if not isinstance(selection.calls, tuple):
        return []
    known = {c.call_id for c in analysis.call_records}
    return [c for c in selection.calls if c not in known]
