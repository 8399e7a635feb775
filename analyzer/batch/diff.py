"""What changed since a baseline (an earlier aggregated JSON): captures that appeared
or disappeared, response codes and finding IDs a capture did not have before, and
calls and metrics that moved beyond a tolerance. Pure: two documents in, one diff out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..correlate import OUTCOMES
from .gates import DELAYS, RATIOS

DELAY_FLOOR_MS = 10.0
"""A delay has not moved unless it changed by this much too: loopback lab runs vary by
fractions of a millisecond, which are large relative changes of nothing."""

_HIGHER_IS_WORSE = {"failed_calls", "isa", "ira"} | {
    f"outcomes.{o}" for o in OUTCOMES if o not in ("answered", "cancelled", "incomplete")
}
_LOWER_IS_WORSE = {"ser", "seer", "scr", "outcomes.answered"}
_DELAY_MEASURES = tuple(d for d in DELAYS if d != "sdt")
"""Delays compared by their p95. SDT (call duration) is what a scenario chose, not a
quality: it is not compared."""


def compare(
    before: Mapping[str, Any], after: Mapping[str, Any], tolerance: float
) -> dict[str, Any]:
    """The diff of two `sip-analyzer-batch/1` documents; `tolerance` in percent (of the
    baseline's value for counts and delays, in points for ratios)."""
    old = {c["key"]: c for c in before["captures"]}
    new = {c["key"]: c for c in after["captures"]}
    diff: dict[str, Any] = {
        "tolerance": tolerance,
        "appeared": [{"capture": k} for k in new if k not in old],
        "disappeared": [{"capture": k} for k in old if k not in new],
        "became_unreadable": [],
        "readable_again": [],
        "new_statuses": [],
        "gone_statuses": [],
        "new_findings": [],
        "resolved_findings": [],
        "moved": [],
    }
    for key, a in new.items():
        if key not in old:
            continue
        b = old[key]
        if a["status"] != "ok" or b["status"] != "ok":
            if a["status"] != "ok" and b["status"] == "ok":
                diff["became_unreadable"].append({"capture": key, "error": a["error"]["message"]})
            elif a["status"] == "ok" and b["status"] != "ok":
                diff["readable_again"].append({"capture": key})
            continue
        _sets(diff, key, a, b)
        diff["moved"].extend(_moved(key, a, b, tolerance))
    diff["moved"].extend(_moved(None, after["totals"], before["totals"], tolerance))
    return diff


def _sets(diff: dict[str, Any], key: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> None:
    sa, sb = a["responses_by_status"], b["responses_by_status"]
    for code, n in sa.items():
        if code not in sb:
            diff["new_statuses"].append({"capture": key, "status": int(code), "count": n})
    for code in sb:
        if code not in sa:
            diff["gone_statuses"].append({"capture": key, "status": int(code)})
    fa, fb = a["findings"], b["findings"]
    for fid, f in fa.items():
        if fid not in fb:
            diff["new_findings"].append(
                {
                    "capture": key,
                    "id": fid,
                    "severity": f["severity"],
                    "count": f["count"],
                    "title": f["title"],
                }
            )
    for fid in fb:
        if fid not in fa:
            diff["resolved_findings"].append({"capture": key, "id": fid})


def _moved(
    key: str | None, a: Mapping[str, Any], b: Mapping[str, Any], tolerance: float
) -> list[dict[str, Any]]:
    out = []

    def item(measure: str, before: float, after: float, unit: str) -> None:
        worse: bool | None = None
        if measure in _HIGHER_IS_WORSE or measure in _DELAY_MEASURES:
            worse = after > before
        elif measure in _LOWER_IS_WORSE:
            worse = after < before
        out.append(
            {
                "capture": key,
                "measure": measure,
                "before": before,
                "after": after,
                "change": round(after - before, 6),
                "unit": unit,
                "worse": worse,
            }
        )

    counts = {
        "calls": (a["calls"], b["calls"]),
        "failed_calls": (a["failed_calls"], b["failed_calls"]),
    }
    for o in OUTCOMES:
        counts[f"outcomes.{o}"] = (a["outcomes"].get(o, 0), b["outcomes"].get(o, 0))
    counts["registrations"] = (a["registrations"], b["registrations"])
    for measure, (now, then) in counts.items():
        if now != then and abs(now - then) > then * tolerance / 100.0:
            item(measure, then, now, "")
    for name in RATIOS:
        now_r, then_r = a["kpis"][name]["value"], b["kpis"][name]["value"]
        if now_r is not None and then_r is not None and abs(now_r - then_r) > tolerance:
            item(name, then_r, now_r, "%")
    for name in _DELAY_MEASURES:
        now_d, then_d = a["kpis"][name]["p95"], b["kpis"][name]["p95"]
        if now_d is None or then_d is None:
            continue
        now_ms, then_ms = now_d * 1000.0, then_d * 1000.0
        change = abs(now_ms - then_ms)
        if change > then_ms * tolerance / 100.0 and change > DELAY_FLOOR_MS:
            item(f"{name}.p95", round(then_ms, 3), round(now_ms, 3), "ms")
    return out


def worse(diff: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The moved items that got worse."""
    return [m for m in diff["moved"] if m["worse"]]
