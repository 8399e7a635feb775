"""One capture's facts as a plain, JSON-ready row: what gates, baselines and the
aggregated report read.

A row is made from an `Analysis` (in the worker that analysed the capture) or read
back from an earlier aggregated JSON (a baseline); both have the same shape, the
`capture` object of `sip-analyzer-batch/1` without its run-specific members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..analysis import Analysis
from ..correlate import OUTCOMES, REG_OUTCOMES, Delay, Metrics, Ratio
from ..ingest import Accounting
from ..report.json_report import kpis_dict
from ..select import FAILED_OUTCOMES

Row = dict[str, Any]
"""A capture's (or the totals') measures: accounting, calls, outcomes, responses,
findings and RFC 6076 metrics."""


def accounting_dict(accounts: Iterable[Accounting]) -> dict[str, Any]:
    """Packet accounting summed over `accounts` (one capture, or all of a batch)."""
    packets = sip = non_sip = msgs = gaps = warnings = 0
    skipped: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    truncated = 0
    firsts: list[float] = []
    lasts: list[float] = []
    formats: set[str] = set()
    for a in accounts:
        packets += a.packets
        sip += a.sip
        non_sip += a.non_sip
        msgs += a.sip_messages
        gaps += a.tcp_gaps
        warnings += len(a.warnings) + a.warnings_suppressed
        skipped.update(a.skipped)
        errors.update(a.sip_errors)
        truncated += a.truncated
        formats.add(a.format)
        if a.first_time is not None:
            firsts.append(a.first_time)
        if a.last_time is not None:
            lasts.append(a.last_time)
    return {
        "format": ",".join(sorted(formats)),
        "packets": packets,
        "sip_packets": sip,
        "non_sip": non_sip,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": dict(sorted(skipped.items())),
        "sip_messages": msgs,
        "sip_errors": sum(errors.values()),
        "sip_errors_by_reason": dict(sorted(errors.items())),
        "tcp_gaps": gaps,
        "warnings": warnings,
        "truncated": truncated,
        "first_time": min(firsts) if firsts else None,
        "last_time": max(lasts) if lasts else None,
    }


def row(analysis: Analysis) -> Row:
    """The row of one analysed capture (every call of it, whatever a selection kept)."""
    findings: dict[str, dict[str, Any]] = {}
    for f in analysis.finding_records:
        entry = findings.setdefault(f.id, {"severity": f.severity, "count": 0, "title": f.title})
        entry["count"] += 1
    regs = Counter(r.outcome for r in analysis.registration_records)
    return _row(
        accounting_dict(analysis.captures),
        analysis.outcome_counts(),
        {o: regs.get(o, 0) for o in REG_OUTCOMES},
        {str(k): v for k, v in analysis.responses_by_status().items()},
        analysis.requests_by_method(),
        dict(sorted(findings.items())),
        analysis.metrics,
    )


def _row(
    accounting: dict[str, Any],
    outcomes: Mapping[str, int],
    registrations: Mapping[str, int],
    statuses: Mapping[str, int],
    methods: Mapping[str, int],
    findings: Mapping[str, Mapping[str, Any]],
    metrics: Metrics,
) -> Row:
    by_sev = dict.fromkeys(("error", "warning", "info"), 0)
    for f in findings.values():
        by_sev[f["severity"]] += f["count"]
    return {
        "accounting": accounting,
        "calls": sum(outcomes.values()),
        "failed_calls": sum(n for o, n in outcomes.items() if o in FAILED_OUTCOMES),
        "outcomes": dict(outcomes),
        "registrations": sum(registrations.values()),
        "registration_outcomes": dict(registrations),
        "responses_by_status": dict(sorted(statuses.items(), key=lambda kv: int(kv[0]))),
        "requests_by_method": dict(sorted(methods.items())),
        "findings": {k: dict(v) for k, v in findings.items()},
        "findings_by_severity": by_sev,
        "kpis": kpis_dict(metrics),
    }


def pool_metrics(metrics: Iterable[Metrics]) -> Metrics:
    """The RFC 6076 metrics of several captures taken together: ratios add their
    numerators and denominators, delays pool their samples (so percentiles are exact)."""
    ms = list(metrics)

    def ratio(name: str) -> Ratio:
        parts = [getattr(m, name) for m in ms]
        return Ratio(sum(p.numerator for p in parts), sum(p.denominator for p in parts))

    def delay(name: str) -> Delay:
        return Delay(tuple(s for m in ms for s in getattr(m, name).samples))

    return Metrics(
        session_requests=sum(m.session_requests for m in ms),
        rrd=delay("rrd"),
        ira=ratio("ira"),
        srd=delay("srd"),
        srd_failed=delay("srd_failed"),
        sdd=delay("sdd"),
        sdd_failed=sum(m.sdd_failed for m in ms),
        sdt=delay("sdt"),
        ser=ratio("ser"),
        seer=ratio("seer"),
        isa=ratio("isa"),
        scr=ratio("scr"),
        setup=delay("setup"),
        ring=delay("ring"),
    )


def totals(rows: Iterable[Row], metrics: Metrics) -> Row:
    """The totals row of a batch: counts summed over `rows`, metrics pooled (`metrics`
    from `pool_metrics` over the same captures)."""
    rows = list(rows)
    findings: dict[str, dict[str, Any]] = {}
    for r in rows:
        for fid, f in r["findings"].items():
            entry = findings.setdefault(fid, {**f, "count": 0})
            entry["count"] += f["count"]
    return _row(
        _sum_accounting(r["accounting"] for r in rows),
        _sum(r["outcomes"] for r in rows) or dict.fromkeys(OUTCOMES, 0),
        _sum(r["registration_outcomes"] for r in rows) or dict.fromkeys(REG_OUTCOMES, 0),
        _sum(r["responses_by_status"] for r in rows),
        _sum(r["requests_by_method"] for r in rows),
        dict(sorted(findings.items())),
        metrics,
    )


def _sum_accounting(accounts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out = accounting_dict(())
    formats: set[str] = set()
    for a in accounts:
        formats.update(f for f in a["format"].split(",") if f)
        for k, v in a.items():
            if k in ("first_time", "last_time"):
                if v is not None and out[k] is not None:
                    v = min(v, out[k]) if k == "first_time" else max(v, out[k])
                out[k] = v if v is not None else out[k]
            elif isinstance(v, dict):
                out[k] = dict(sorted(_sum((out[k], v)).items()))
            elif k != "format":
                out[k] += v
    out["format"] = ",".join(sorted(formats))
    return out


def _sum(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for m in maps:
        for k, v in m.items():
            out[k] += v
    # Keep every key, zero counts included (Counter.update would too; `+` would not).
    return dict(out)
