"""Making capture strings safe to show: every string from a capture is untrusted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# C0 and C1 control characters (ESC starts ANSI sequences), DEL, and the
# bidirectional overrides that can disguise text (Trojan Source).
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def inert(text: str | None, limit: int | None = None) -> str:
    """`text` with control characters made visible (`\\x1b`), optionally shortened."""
    if text is None:
        return ""
    out = UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if limit is not None and len(out) > limit:
        out = out[: max(1, limit - 1)] + "…"
    return out


def gate_lines(gates: Sequence[Mapping[str, Any]]) -> list[tuple[bool, str]]:
    """(tripped, text) per gate, the captures it names included."""
    out = []
    for g in gates:
        caps = g["captures"]
        where = ""
        if caps:
            shown = ", ".join(inert(c, 120) for c in caps[:10])
            more = f" and {len(caps) - 10} more" if len(caps) > 10 else ""
            where = f" [{shown}{more}]"
        mark = "TRIPPED" if g["tripped"] else "passed"
        out.append((g["tripped"], f"{mark}  {inert(g['expr'], 200)}: {g['detail']}{where}"))
    return out
