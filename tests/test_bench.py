"""The benchmark script runs end to end (its figures are not asserted: speed is
measured in bench/, not in unit tests)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_parse_bench_runs_on_the_load_capture() -> None:
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "parse_bench.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "messages: 14000 (" in res.stdout
    assert "0 ParseError" in res.stdout
    for row in ("| parse |", "| parse + ids", "| ingest + parse"):
        assert row in res.stdout
