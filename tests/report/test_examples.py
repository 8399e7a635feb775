"""reports/ holds example reports that match what the tool prints today."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.cli import main
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("demo.txt", ["analyze", "captures/demo.pcapng", "--lang", "en", "--width", "110"]),
        ("demo.json", ["analyze", "captures/demo.pcapng", "--lang", "en", "--format", "json"]),
        (
            "compare-200-439.ru.md",
            ["compare", "200", "439", "--lang", "ru", "--format", "markdown"],
        ),
    ],
)
def test_example_report_is_current(
    tmp_path: Path, name: str, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")
    out = tmp_path / name
    assert main([*args, "-o", str(out)]) == 0
    committed = (ROOT / "reports" / name).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, "run: sh scripts/make-reports.sh"
