"""Making capture strings safe to show: every string from a capture is untrusted."""

from __future__ import annotations

import re

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
