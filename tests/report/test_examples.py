"""reports/ holds example reports that match what the tool prints today
(`sh scripts/make-reports.sh` regenerates them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analyzer.cli import main
from tests.conftest import ROOT

DEMO = ["analyze", "captures/demo.pcapng", "--lang", "en"]
TEXT = [
    ("demo.txt", [*DEMO, "--width", "110"]),
    ("demo.json", [*DEMO, "--format", "json"]),
    ("demo.md", [*DEMO, "--format", "markdown"]),
    ("demo.html", [*DEMO, "--format", "html"]),
    ("demo.junit.xml", [*DEMO, "--format", "junit"]),
    (
        "ticket-failed.md",
        [*DEMO, "--format", "markdown", "--calls", "failed", "--redact-identities"],
    ),
    ("compare-200-439.ru.md", ["compare", "200", "439", "--lang", "ru", "--format", "markdown"]),
]
HINT = "run: sh scripts/make-reports.sh"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize(("name", "args"), TEXT)
def test_example_report_is_current(tmp_path: Path, name: str, args: list[str]) -> None:
    out = tmp_path / name
    assert main([*args, "-o", str(out)]) == 0
    committed = (ROOT / "reports" / name).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, HINT


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_example_tables_are_current(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    assert main([*DEMO, "--format", fmt, "-o", str(out)]) == 0
    committed = ROOT / "reports" / f"demo-{fmt}"
    made = sorted(p.name for p in out.iterdir())
    assert made == sorted(p.name for p in committed.iterdir()), HINT
    assert len(made) == 7
    for name in made:
        if fmt == "csv":
            assert (out / name).read_text() == (committed / name).read_text(), HINT
        else:
            pd.testing.assert_frame_equal(
                pd.read_parquet(out / name), pd.read_parquet(committed / name)
            )


def test_every_format_has_an_example() -> None:
    from analyzer.report import Format  # noqa: PLC0415

    names = {n for n, _ in TEXT} | {p.name for p in (ROOT / "reports").iterdir()}
    suffix = {
        Format.TERMINAL: "demo.txt",
        Format.MARKDOWN: "demo.md",
        Format.HTML: "demo.html",
        Format.JSON: "demo.json",
        Format.JUNIT: "demo.junit.xml",
        Format.CSV: "demo-csv",
        Format.PARQUET: "demo-parquet",
    }
    assert set(suffix) == set(Format)
    assert set(suffix.values()) <= names
