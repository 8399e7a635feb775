"""Tabular export: one CSV or Parquet file per pandas view of an `Analysis`.

`write` puts `messages`, `responses`, `transactions`, `calls`, `registrations`,
`subscriptions` and `findings` (`analyzer.views.FRAMES`, columns in
docs/pandas.md) into a directory as `<view>.csv` or `<view>.parquet`, the
views of a selection (`analyzer.select.select`) holding only what it kept.

CSV: UTF-8, a header row, no index column, `\\n` line ends, fields quoted only
when they must be (RFC 4180 style, `"` doubled). Floats are written in fixed
point to the microsecond, as the JSON report rounds them, without trailing
zeros or exponents (`0.1066`, `1795279153.166466`); nullable integers as
integers (`486`, empty when absent); booleans as `True`/`False`; frame lists
(`frames`, `setup_frames`...) as space-separated frame numbers. Strings are
written as captured, but for two changes: control characters (an ANSI escape
in a display name) are made visible as `\\x1b`, since CSV files are read with
`cat` and `less` in terminals too; and the one below.

Spreadsheet formula injection (OWASP "CSV Injection"): a capture can put
`=HYPERLINK(...)` in a display name, and a spreadsheet opening the CSV would
run it. So every cell of a string column that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading `'`, which makes spreadsheets take
the cell as text. A cell that already begins with `'` gets one more, so the
escaping is reversible: drop one leading `'` from any string cell that has
one. Numeric, boolean and frame-list columns are never touched (a negative
number stays a number).

Parquet: written with pyarrow, no index; pandas reads every column back with
the view's dtype (`string`, nullable `Int64`/`boolean` included; frame lists
come back as arrays in an `object` column). The same analysis gives the same
bytes with the same pandas and pyarrow versions. No escaping: Parquet is not
opened by spreadsheets as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis import Analysis
from ..views import COLUMNS, FRAMES
from .interface import Format
from .text import UNSAFE as _CONTROL
from .text import inert

if TYPE_CHECKING:
    import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

VIEWS = tuple(FRAMES)
"""The views written, in order."""


_ESCAPED = (*FORMULA_TRIGGERS, "'")


def neutralise(value: str) -> str:
    """A string cell made inert for terminals and spreadsheets (see the module
    docstring)."""
    value = inert(value)
    if value.startswith(_ESCAPED):
        return "'" + value
    return value


def decimal(value: float) -> str:
    """A float as the CSV writes it: fixed-point, to the microsecond, no trailing zeros
    (`0.1066`, `1795279153.166466`, `0`); never exponent notation."""
    text = f"{value:.6f}".rstrip("0")
    return text.removesuffix(".")


def _float_cell(value: object) -> str:
    # pandas hands `float_format` the float64 values of float columns.
    if not isinstance(value, float):
        raise TypeError(f"float_format called with {type(value).__name__}")
    return decimal(value)


def _frame_list(value: Any) -> str | None:
    if value is None:
        return None
    return " ".join(str(int(x)) for x in value)


def csv_frame(frame: pd.DataFrame, view: str) -> pd.DataFrame:
    """`frame` (the view `view`) with its string cells neutralised and its frame lists
    joined, ready for `to_csv` (floats are formatted by `decimal` there)."""
    out = frame.copy()
    for column, dtype in COLUMNS[view].items():
        if dtype == "string":
            # `neutralise`, vectorised: few cells need it, so only those are rewritten.
            cells = out[column]
            unsafe = cells.str.contains(_CONTROL).fillna(False).astype(bool)
            if unsafe.any():
                cells = cells.where(~unsafe, cells.map(inert, na_action="ignore"))
            risky = cells.str.startswith(_ESCAPED).fillna(False).astype(bool)
            if risky.any():
                cells = cells.where(~risky, "'" + cells)
            out[column] = cells
        elif dtype == "object":
            out[column] = out[column].map(_frame_list).astype("string")
    return out


def _directory(directory: Path) -> Path:
    if directory.exists() and not directory.is_dir():
        raise ValueError(
            f"{directory}: exists and is not a directory; give a directory to write to"
        )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write(analysis: Analysis, directory: Path, fmt: Format) -> list[Path]:
    """Write one file per view of `analysis` into `directory` (made if missing) in `fmt`
    (CSV or Parquet); return the paths written, in `VIEWS` order.

    Raises `ValueError` for another format or when `directory` is a file.
    """
    if fmt not in (Format.CSV, Format.PARQUET):
        raise ValueError(f"{fmt}: not a tabular format (expected csv or parquet)")
    target = _directory(directory)
    written = []
    for view in VIEWS:
        frame: pd.DataFrame = getattr(analysis, view)
        if fmt is Format.CSV:
            path = target / f"{view}.csv"
            csv_frame(frame, view).to_csv(
                path,
                index=False,
                encoding="utf-8",
                errors="backslashreplace",
                lineterminator="\n",
                float_format=_float_cell,
            )
        else:
            path = target / f"{view}.parquet"
            frame.to_parquet(path, engine="pyarrow", index=False)
        written.append(path)
    return written
