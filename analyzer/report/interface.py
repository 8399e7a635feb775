"""The reporter interface: every format is `render(analysis, options) -> str`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ..analysis import Analysis


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


class Reporter(Protocol):
    """A report format."""

    def __call__(self, analysis: Analysis, options: RenderOptions) -> str: ...
