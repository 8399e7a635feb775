"""`Rule`: one diagnosis rule, data (id, severity, RFC) plus the function that applies it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .context import Context
from .model import Finding

RuleFn = Callable[[Context], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One diagnosis rule. Each lives in its own module under `classify/rules/`."""

    id: str
    """Finding id it produces (`auth.stale-nonce`), or a family (`call.*`)."""
    rfc: str
    """The RFC section(s) it rests on."""
    summary: str
    """What it detects, one line (listed in docs/rules.md)."""
    check: RuleFn
    """Produces the findings."""
