"""Regenerate a lab capture live (SIPp + kamailio + tcpdump on loopback) and analyse it.

Marker `lab`: needs root (tcpdump on lo) and the Debian packages sip-tester,
kamailio, kamailio-outbound-modules and tcpdump; CI installs them. Every
process is started and stopped by PID by captures/lab/run.py, bounded in time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.correlate import OUTCOMES
from tests.conftest import CAPTURES
from tests.tshark import sip_counts

RUN = CAPTURES / "lab" / "run.py"


def _require_lab() -> None:
    missing = [p for p in ("sipp", "kamailio", "tcpdump", "tshark") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"lab programs missing: {', '.join(missing)}")
    if os.geteuid() != 0:
        pytest.skip("tcpdump on lo needs root")


@pytest.mark.lab
@pytest.mark.parametrize("name", ["udp4-proxy-auth", "tcp6-register-auth"])
def test_regenerated_capture_matches_sipp(tmp_path: Path, name: str) -> None:
    _require_lab()
    run = subprocess.run(
        [sys.executable, str(RUN), "--out", str(tmp_path), name],
        check=False,
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    capture = tmp_path / f"{name}.pcap"
    truth = json.loads((tmp_path / f"{name}.sipp.json").read_text())
    want = truth["expected"]
    assert want["calls"] > 0
    analysis = analyze(str(capture))
    assert analysis.outcome_counts() == {o: want["outcomes"].get(o, 0) for o in OUTCOMES}
    assert len(analysis.call_records) == want["calls"]
    assert dict(Counter(str(c.final_status) for c in analysis.call_records)) == want["final_status"]
    methods, statuses = sip_counts(capture, truth["sip_ports"])
    assert analysis.requests_by_method() == methods
    assert analysis.responses_by_status() == statuses
