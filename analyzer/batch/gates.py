"""`--fail-on` gates: small expressions over a capture's (or a batch's) measures.

A gate is `[any:]MEASURE[OP NUMBER[UNIT]]`, e.g. `ser<95`, `status:5xx>0`,
`finding:outbound.*`, `srd.p95>2s`, `new-finding`. Without an operator it means
`>0`. It is checked against the totals (a batch's captures taken together, the
ratios and delays pooled); with `any:` against each capture, tripping when any
capture matches. docs/batch.md lists every measure.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..correlate import OUTCOMES, REG_OUTCOMES
from ..select import REG_FAILED_OUTCOMES

if TYPE_CHECKING:
    from ..analysis import Analysis

RATIOS = ("ser", "seer", "isa", "scr", "ira")
"""RFC 6076 ratios, in percent."""
DELAYS = ("rrd", "srd", "srd_failed", "sdd", "sdt", "setup", "ring")
"""Delays, in milliseconds (`s` or `ms` after the number)."""
STATS = ("mean", "p50", "p95", "min", "max")
"""Statistics of a delay; `p95` when none is named."""
ACCOUNTING = ("packets", "sip_messages", "skipped", "sip_errors", "tcp_gaps", "warnings")
"""Accounting counts."""
BASELINE = ("new-finding", "new-status", "moved", "worse", "appeared", "disappeared")
"""Measures that count items of the baseline diff (need `--baseline`)."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_GATE = re.compile(
    r"""^\s*(?:(?P<scope>any):)?
    (?P<name>[a-z][a-z0-9_-]*)
    (?:\.(?P<stat>[a-z0-9]+))?
    (?::(?P<arg>[^<>=!\s]+))?
    (?:\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<num>-?[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|%)?)?
    \s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Gate:
    """A parsed `--fail-on` expression."""

    text: str
    """The expression as given."""
    measure: str
    """Measure name (`ser`, `status`, `finding`, `srd`, ...)."""
    arg: str | None
    """What the measure counts (`5xx`, `outbound.*`, `busy`), or a delay's statistic."""
    op: str
    """Comparison operator."""
    threshold: float
    """Number to compare with (percent, milliseconds or a count)."""
    each: bool
    """`any:`: checked against each capture instead of the totals."""

    @property
    def needs_baseline(self) -> bool:
        """Whether the gate counts baseline-diff items."""
        return self.measure in BASELINE

    def describe(self) -> str:
        """The measure as the report names it (`srd.p95`, `status:5xx`)."""
        if self.measure in DELAYS:
            return f"{self.measure}.{self.arg}"
        return f"{self.measure}:{self.arg}" if self.arg else self.measure


@dataclass(frozen=True, slots=True)
class GateResult:
    """A gate checked."""

    gate: Gate
    """The gate."""
    tripped: bool
    """Whether it tripped (exit code 1)."""
    value: float | None
    """The measure's value on the totals (None: not measurable, e.g. SER without calls)."""
    captures: tuple[str, ...]
    """The captures that match it (`any:`) or contribute to it (counts)."""
    detail: str
    """One sentence for the report: the value against the threshold."""


def parse_gate(text: str) -> Gate:
    """Parse a `--fail-on` expression; ValueError names what is wrong."""
    m = _GATE.match(text)
    if m is None:
        raise ValueError(f"--fail-on {text!r}: expected MEASURE[OP NUMBER], e.g. 'ser<95'")
    name, arg, unit = m["name"], m["arg"], m["unit"]
    op = m["op"] or ">"
    threshold = float(m["num"]) if m["num"] is not None else 0.0
    if m["stat"] is not None and (name not in DELAYS or arg):
        raise ValueError(f"--fail-on {text!r}: only a delay has a statistic (srd.p95)")
    if name in DELAYS:
        stat = m["stat"] or "p95"
        if stat not in STATS:
            raise ValueError(f"--fail-on {text!r}: a delay's statistic is one of {STATS}")
        arg = stat
        if unit == "%":
            raise ValueError(f"--fail-on {text!r}: a delay is in ms or s, not %")
        if unit == "s":
            threshold *= 1000.0
    elif unit in ("ms", "s"):
        raise ValueError(f"--fail-on {text!r}: only delays take a unit")
    elif name in ("status", "method", "finding", "severity", "calls", "registrations"):
        if name in ("status", "method", "finding", "severity") and not arg:
            raise ValueError(f"--fail-on {text!r}: {name} needs a value, e.g. {_EXAMPLE[name]}")
        if name == "status" and not re.fullmatch(r"[1-6](?:[0-9]{2}|xx)", arg or ""):
            raise ValueError(f"--fail-on {text!r}: status is a code (503) or a class (5xx)")
        if name == "severity" and arg not in ("error", "warning", "info"):
            raise ValueError(f"--fail-on {text!r}: severity is error, warning or info")
        if name == "calls" and arg and arg not in (*OUTCOMES, "failed"):
            raise ValueError(f"--fail-on {text!r}: calls:OUTCOME, one of failed, {OUTCOMES}")
        if name == "registrations" and arg and arg not in (*REG_OUTCOMES, "failed"):
            raise ValueError(
                f"--fail-on {text!r}: registrations:OUTCOME, one of failed, {REG_OUTCOMES}"
            )
    elif name in BASELINE or name == "unreadable":
        if arg and name != "new-finding":
            raise ValueError(f"--fail-on {text!r}: {name} takes no value")
    elif name not in RATIOS and name not in ACCOUNTING:
        raise ValueError(f"--fail-on {text!r}: unknown measure {name!r} (see docs/batch.md)")
    elif arg:
        raise ValueError(f"--fail-on {text!r}: {name} takes no value")
    if name == "method" and arg:
        arg = arg.upper()
    return Gate(text.strip(), name, arg, op, threshold, m["scope"] == "any")


_EXAMPLE = {
    "status": "status:5xx",
    "method": "method:INVITE",
    "finding": "finding:outbound.*",
    "severity": "severity:error",
}


def measure(gate: Gate, row: Mapping[str, Any], diff: Mapping[str, Any] | None) -> float | None:
    """The gate's measure on one row (a capture or the totals); None when it is not
    measurable there. `diff` is the baseline diff (only for baseline measures)."""
    name, arg = gate.measure, gate.arg
    if name == "unreadable":
        return float(row.get("unreadable", 0))
    if name in BASELINE:
        return None if diff is None else float(len(baseline_items(gate, diff, row.get("key"))))
    if "kpis" not in row:
        return None  # a capture that could not be analysed has no measures
    if name in RATIOS:
        value = row["kpis"][name]["value"]
        return None if value is None else float(value)
    if name in DELAYS:
        seconds = row["kpis"][name][arg]
        return None if seconds is None else float(seconds) * 1000.0
    if name in ACCOUNTING:
        return float(row["accounting"][name])
    if name == "calls":
        if arg is None:
            return float(row["calls"])
        return float(row["failed_calls"] if arg == "failed" else row["outcomes"].get(arg, 0))
    if name == "registrations":
        if arg is None:
            return float(row["registrations"])
        if arg == "failed":
            outs = row["registration_outcomes"]
            return float(sum(n for o, n in outs.items() if o in REG_FAILED_OUTCOMES))
        return float(row["registration_outcomes"].get(arg, 0))
    if name == "status":
        return float(
            sum(n for code, n in row["responses_by_status"].items() if _status_matches(arg, code))
        )
    if name == "method":
        return float(row["requests_by_method"].get(arg, 0))
    if name == "finding":
        return float(
            sum(f["count"] for fid, f in row["findings"].items() if fnmatch.fnmatchcase(fid, arg))
        )
    assert name == "severity", name
    return float(row["findings_by_severity"][arg])


def baseline_items(gate: Gate, diff: Mapping[str, Any], key: str | None) -> list[Mapping[str, Any]]:
    """The diff items a baseline gate counts (for capture `key`, or all for None)."""
    section = {
        "new-finding": "new_findings",
        "new-status": "new_statuses",
        "moved": "moved",
        "worse": "moved",
        "appeared": "appeared",
        "disappeared": "disappeared",
    }[gate.measure]
    items: list[Mapping[str, Any]] = list(diff[section])
    if gate.measure == "worse":
        items = [i for i in items if i["worse"]]
    if gate.measure == "new-finding" and gate.arg:
        items = [i for i in items if fnmatch.fnmatchcase(i["id"], gate.arg)]
    if key is not None:
        items = [i for i in items if i.get("capture") == key]
    return items


def _status_matches(pattern: str | None, code: str) -> bool:
    assert pattern is not None
    return pattern == code or (pattern.endswith("xx") and code[:1] == pattern[0])


def check(
    gates: Sequence[Gate],
    total: Mapping[str, Any],
    captures: Mapping[str, Mapping[str, Any]],
    diff: Mapping[str, Any] | None = None,
) -> tuple[GateResult, ...]:
    """Check every gate against the totals and the per-capture rows (keyed by capture).

    Raises ValueError for a baseline gate without a baseline diff.
    """
    results = []
    for gate in gates:
        if gate.needs_baseline and diff is None:
            raise ValueError(f"--fail-on {gate.text!r} compares with a baseline: give --baseline")
        compare = _OPS[gate.op]
        value = measure(gate, total, diff)
        per = {key: measure(gate, r, diff) for key, r in captures.items()}
        if gate.each:
            hits = tuple(k for k, v in per.items() if v is not None and compare(v, gate.threshold))
            tripped = bool(hits)
        else:
            tripped = value is not None and compare(value, gate.threshold)
            # Which captures make a count what it is: those with a non-zero share.
            hits = tuple(
                k
                for k, v in per.items()
                if v and gate.measure not in RATIOS and gate.measure not in DELAYS
            )
        results.append(GateResult(gate, tripped, value, hits, _detail(gate, value, tripped, hits)))
    return tuple(results)


def parse_gates(texts: Sequence[str], baseline: bool) -> tuple[Gate, ...]:
    """Parse every `--fail-on`; ValueError for a bad one, or for a baseline gate when
    there is no baseline."""
    gates = tuple(parse_gate(t) for t in texts)
    for g in gates:
        if g.needs_baseline and not baseline:
            raise ValueError(
                f"--fail-on {g.text!r} compares with a baseline: "
                "use `sip-analyzer batch ... --baseline PREVIOUS.json`"
            )
    return gates


def check_analysis(gates: Sequence[Gate], analysis: Analysis) -> tuple[GateResult, ...]:
    """Check gates against one analysis (`analyze`: its captures taken together)."""
    from .summary import row  # noqa: PLC0415 - summary imports the reporters

    r = row(analysis)
    name = ", ".join(a.path for a in analysis.captures)
    return check(gates, r, {name: r})


def gate_dict(g: GateResult) -> dict[str, Any]:
    """The `gates[]` record of one checked gate."""
    return {
        "expr": g.gate.text,
        "measure": g.gate.describe(),
        "scope": "each" if g.gate.each else "totals",
        "op": g.gate.op,
        "threshold": g.gate.threshold,
        "value": None if g.value is None else round(g.value, 6),
        "tripped": g.tripped,
        "captures": list(g.captures),
        "detail": g.detail,
    }


def _detail(gate: Gate, value: float | None, tripped: bool, hits: tuple[str, ...]) -> str:
    del tripped  # the report marks it
    unit = " %" if gate.measure in RATIOS else " ms" if gate.measure in DELAYS else ""
    limit = f"{gate.op} {_num(gate.threshold)}{unit}"
    if gate.each:
        n = len(hits)
        return f"{n} capture{'s' if n != 1 else ''} with {gate.describe()} {limit}"
    if value is None:
        return f"{gate.describe()} not measured (nothing to measure it on)"
    return f"{gate.describe()} = {_num(value)}{unit}, gate {limit}"


def _num(v: float) -> str:
    return f"{v:.0f}" if v == int(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


__all__ = [
    "ACCOUNTING",
    "BASELINE",
    "DELAYS",
    "RATIOS",
    "STATS",
    "Gate",
    "GateResult",
    "baseline_items",
    "check",
    "check_analysis",
    "gate_dict",
    "measure",
    "parse_gate",
    "parse_gates",
]
