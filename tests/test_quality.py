"""ruff (lint and format) and mypy --strict are clean: part of the suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ruff_lint() -> None:
    res = run("ruff", "check", "analyzer", "tests", "captures/lab", "bench")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = run("ruff", "format", "--check", "analyzer", "tests", "captures/lab", "bench")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict() -> None:
    res = run("mypy")
    assert res.returncode == 0, res.stdout + res.stderr
