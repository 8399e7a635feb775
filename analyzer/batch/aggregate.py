"""The aggregated report of a batch, `sip-analyzer-batch/1` (docs/batch.md,
analyzer/schema/sip-analyzer-batch-1.schema.json): a row per capture, the totals,
and, when asked, the baseline diff and the gates. Pure: results in, a document out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import __version__
from . import diff as baseline_diff
from . import summary
from .gates import Gate, GateResult, check, gate_dict
from .worker import Result

SCHEMA = "sip-analyzer-batch/1"

RUN_SPECIFIC = ("seconds", "worker")
"""Members of a capture row that depend on the run (timing, which worker), not on the
capture: two runs of the same captures differ only in these and in `run`."""


def document(
    results: Iterable[Result],
    *,
    lang: str,
    formats: Sequence[str],
    ignored: int,
    run: Mapping[str, Any],
) -> dict[str, Any]:
    """The aggregated document (without baseline and gates) from the workers' results."""
    ordered = sorted(results, key=lambda r: r.key)
    captures = [_capture(r) for r in ordered]
    analysed = [r for r in ordered if r.row is not None and r.metrics is not None]
    totals = summary.totals(
        (r.row for r in analysed if r.row is not None),
        summary.pool_metrics(r.metrics for r in analysed if r.metrics is not None),
    )
    totals = {
        "captures": len(ordered),
        "analysed": len(analysed),
        "unreadable": sum(r.error_kind == "unreadable" for r in ordered),
        "errors": sum(r.error is not None for r in ordered),
        "ignored_files": ignored,
        **totals,
    }
    return {
        "schema": SCHEMA,
        "generator": {"name": "sip-analyzer", "version": __version__},
        "lang": lang,
        "formats": list(formats),
        "run": dict(run),
        "captures": captures,
        "totals": totals,
        "baseline": None,
        "gates": [],
    }


def _capture(r: Result) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": r.key,
        "path": r.path,
        "size": r.size,
        "status": "ok" if r.error is None else "error",
        "error": None if r.error is None else {"kind": r.error_kind, "message": r.error},
        "reports": dict(r.reports),
        "seconds": round(r.seconds, 3),
        "worker": r.worker,
    }
    if r.row is not None:
        out.update(r.row)
    return out


def load_baseline(text: str, name: str) -> dict[str, Any]:
    """An earlier aggregated document; ValueError says why `name` is not one."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{name}: not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(
            f"{name}: not an aggregated batch report ({SCHEMA}); its schema is {found!r}"
        )
    return doc


def with_baseline(
    doc: dict[str, Any], baseline: Mapping[str, Any], path: str, tolerance: float
) -> dict[str, Any]:
    """`doc` with its diff against `baseline` (read from `path`)."""
    changes = baseline_diff.compare(baseline, doc, tolerance)
    return {
        **doc,
        "baseline": {
            "path": path,
            "run": baseline.get("run"),
            "diff": changes,
        },
    }


def rows(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-capture rows for the gates (an unanalysed capture has only `unreadable`)."""
    out = {}
    for c in doc["captures"]:
        row = dict(c)
        row["unreadable"] = int(c["status"] != "ok")
        out[c["key"]] = row
    return out


def with_gates(
    doc: dict[str, Any], gates: Sequence[Gate]
) -> tuple[dict[str, Any], tuple[GateResult, ...]]:
    """`doc` with its gates checked (ValueError: a baseline gate without a baseline)."""
    base = doc["baseline"]
    total = {**doc["totals"], "unreadable": doc["totals"]["errors"]}
    results = check(gates, total, rows(doc), base["diff"] if base else None)
    return {**doc, "gates": [gate_dict(g) for g in results]}, results


def comparable(doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` without what depends on the run (timings, workers, the run's facts)."""
    out = {k: v for k, v in doc.items() if k != "run"}
    out["captures"] = [
        {k: v for k, v in c.items() if k not in RUN_SPECIFIC} for c in doc["captures"]
    ]
    return out
