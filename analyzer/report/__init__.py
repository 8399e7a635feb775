"""Reporters: one module per format behind one interface; each returns text."""

from __future__ import annotations

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


__all__ = ["Format", "RenderOptions", "render"]
