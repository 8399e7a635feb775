"""The reporter interface: every format module has `render(analysis, options) -> str`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Format(StrEnum):
    """Output formats the CLI offers."""

    TERMINAL = "terminal"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render."""

    color: bool = False
    """Emit ANSI colour (only when writing to a terminal and NO_COLOR is unset)."""
    width: int = 120
    """Terminal width in columns."""
