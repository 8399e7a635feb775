"""The diagnosis rules, one module each.

Every module in this package defines `RULES`, a tuple of `Rule`s (data: id, RFC
section, summary; plus the function that finds them). Modules are found by name,
so adding a rule is adding one file here.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..rule import Rule


def _discover() -> tuple[Rule, ...]:
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules: tuple[Rule, ...] = module.RULES
        found.extend(rules)
    return tuple(found)


RULES: tuple[Rule, ...] = _discover()

__all__ = ["RULES", "Rule"]
