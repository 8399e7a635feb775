"""Reporters: one module per format behind one interface; each returns text, except the
tabular formats (CSV, Parquet), which write a file per pandas view into a directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import assert_never

from ..analysis import Analysis
from . import html, json_report, junit, markdown, terminal
from .interface import LADDERS, Format, RenderOptions


def render(analysis: Analysis, fmt: Format, options: RenderOptions | None = None) -> str:
    """Render `analysis` in `fmt`."""
    opts = options or RenderOptions()
    match fmt:
        case Format.TERMINAL:
            return terminal.render(analysis, opts)
        case Format.JSON:
            return json_report.render(analysis, opts)
        case Format.MARKDOWN:
            return markdown.render(analysis, opts)
        case Format.HTML:
            return html.render(analysis, opts)
        case Format.JUNIT:
            return junit.render(analysis, opts)
        case Format.CSV | Format.PARQUET:
            raise ValueError(f"{fmt} writes a directory: use write_tables()")
        case _:
            assert_never(fmt)


def stream(analysis: Analysis, fmt: Format, options: RenderOptions | None = None) -> Iterator[str]:
    """Render `analysis` in `fmt` piece by piece (large reports are never one string)."""
    if fmt is Format.JSON:
        return json_report.stream(analysis, options or RenderOptions())
    return iter((render(analysis, fmt, options),))


def write_tables(analysis: Analysis, directory: Path, fmt: Format) -> list[Path]:
    """Write one file per pandas view (CSV or Parquet) into `directory`."""
    from . import tables  # noqa: PLC0415 - pandas is imported only for these formats

    return tables.write(analysis, directory, fmt)


__all__ = ["LADDERS", "Format", "RenderOptions", "render", "stream", "write_tables"]
