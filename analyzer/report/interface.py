"""The reporter interface: every format module has `render(analysis, options) -> str`.

Tabular formats (CSV, Parquet) write one file per pandas view into a directory
instead: `write(analysis, directory) -> list[Path]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Format(StrEnum):
    """Output formats the CLI offers."""

    TERMINAL = "terminal"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"
    JUNIT = "junit"
    CSV = "csv"
    PARQUET = "parquet"

    @property
    def is_directory(self) -> bool:
        """Whether the format writes a directory of files (`-o DIR`) rather than text."""
        return self in (Format.CSV, Format.PARQUET)


LADDERS = ("failed", "all", "none")
"""Which calls get a ladder diagram in Markdown and HTML."""


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render."""

    color: bool = False
    """Emit ANSI colour (only when writing to a terminal and NO_COLOR is unset)."""
    width: int = 120
    """Terminal width in columns."""
    ladder: str = "failed"
    """One of `LADDERS`: ladders for failed calls (default), every call, or none."""
