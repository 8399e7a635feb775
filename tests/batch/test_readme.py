"""README's nightly example is real: scripts/nightly-example.sh prints it today."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT


def test_readme_nightly_example_is_current() -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    run = subprocess.run(
        ["sh", str(ROOT / "scripts" / "nightly-example.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"```text\n(\$ sip-analyzer batch traces/2026-11-21.*?)```", readme, re.S)
    assert m is not None, "README lost its nightly example"
    assert run.stdout == m.group(1), "run: sh scripts/nightly-example.sh, paste into README"
    # The example must show what the feature is for: a tripped gate and exit 1.
    assert "TRIPPED  new-finding" in run.stdout
    assert run.stdout.endswith("$ echo $?\n1\n")
