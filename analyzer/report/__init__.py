"""Reporters: one module per format behind one interface; each returns text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from ..analysis import Analysis
from . import json_report, terminal
from .interface import Format, RenderOptions


def render(analysis: Analysis, fmt: Format, options: RenderOptions | None = None) -> str:
    """Render `analysis` in `fmt`."""
    opts = options or RenderOptions()
    match fmt:
        case Format.TERMINAL:
            return terminal.render(analysis, opts)
        case Format.JSON:
            return json_report.render(analysis, opts)
        case _:
            assert_never(fmt)


def stream(analysis: Analysis, fmt: Format, options: RenderOptions | None = None) -> Iterator[str]:
    """Render `analysis` in `fmt` piece by piece (large reports are never one string)."""
    if fmt is Format.JSON:
        return json_report.stream(analysis, options or RenderOptions())
    return iter((render(analysis, fmt, options),))


__all__ = ["Format", "RenderOptions", "render", "stream"]
