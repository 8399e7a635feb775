"""SIP over TLS: a real capture decrypted with its TLS key log, through `--engine tshark`.

`captures/tls4-answered.pcap` is the TLS leg of three answered calls between
SIPp instances, relayed over TLS on loopback by captures/lab/tls_relay.py;
`tls4-answered.keys` is the key log the relay's TLS server wrote, and
`tls4-answered.sipp.json` what SIPp counted (captures/lab/tls.py made all three).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main
from analyzer.correlate import OUTCOMES
from analyzer.pipeline import Options, analyze
from tests.conftest import CAPTURES
from tests.tshark import require_tshark

CAPTURE = CAPTURES / "tls4-answered.pcap"
TRUTH = CAPTURES / "tls4-answered.sipp.json"
GENERATOR = CAPTURES / "lab" / "tls.py"


def _truth(path: Path = TRUTH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _keys(truth_path: Path = TRUTH) -> Path:
    return truth_path.parent / str(_truth(truth_path)["tls_keylog"])


def _check_decrypted(capture: Path, truth_path: Path) -> None:
    """With the key log, the tshark engine finds exactly what SIPp exchanged."""
    truth = _truth(truth_path)
    want = truth["expected"]
    a = analyze(str(capture), Options(engine="tshark", tls_keylog=str(_keys(truth_path))))
    assert len(a.store) == want["sip_messages"] == 3 * 7
    assert {m.transport for m in a.store} == {"tls"}
    assert len(a.call_records) == want["calls"] == 3
    assert a.outcome_counts() == {o: want["outcomes"].get(o, 0) for o in OUTCOMES}
    assert all(c.outcome == "answered" for c in a.call_records)
    assert dict(Counter(str(c.final_status) for c in a.call_records)) == want["final_status"]
    assert a.requests_by_method() == want["requests"]
    assert a.responses_by_status() == {int(k): v for k, v in want["responses"].items()}
    # SIPp's own statistics: every call of both ends succeeded.
    stats = {run["role"]: run["stats"] for run in truth["sipp"]}
    assert stats["uac"]["SuccessfulCall(C)"] == stats["uas"]["SuccessfulCall(C)"] == 3
    assert stats["uac"]["FailedCall(C)"] == stats["uas"]["FailedCall(C)"] == 0
    acc = a.captures[0]
    assert acc.balanced
    assert acc.sip_messages == len(a.store)


def test_tls_capture_is_committed_small_with_its_key_log() -> None:
    truth = _truth()
    assert truth["capture"] == CAPTURE.name
    assert truth["transport"] == "tls"
    assert CAPTURE.stat().st_size < 60 * 1024
    keys = _keys().read_text().splitlines()
    # NSS key log format, TLS 1.3: the traffic secrets of the one session.
    labels = Counter(line.split()[0] for line in keys if line and not line.startswith("#"))
    assert labels["CLIENT_TRAFFIC_SECRET_0"] == labels["SERVER_TRAFFIC_SECRET_0"] == 1
    # The throwaway certificate and its private key stay in the generator's temp dir.
    assert not list(CAPTURES.rglob("*.pem"))


@pytest.mark.tshark
def test_key_log_decrypts_every_sip_message() -> None:
    require_tshark()
    _check_decrypted(CAPTURE, TRUTH)


@pytest.mark.tshark
def test_without_key_log_tls_is_opaque_to_both_engines() -> None:
    require_tshark()
    tshark = analyze(str(CAPTURE), Options(engine="tshark"))
    assert len(tshark.messages) == 0
    assert tshark.calls.empty
    native = analyze(str(CAPTURE))
    assert len(native.messages) == 0
    assert native.calls.empty
    acc = native.captures[0]
    assert acc.balanced
    assert acc.packets == tshark.captures[0].packets > 0
    assert acc.non_sip == acc.packets  # every packet accounted for, none of it SIP


@pytest.mark.tshark
def test_cli_decrypts_with_tls_keylog(capsys: pytest.CaptureFixture[str]) -> None:
    require_tshark()
    code = main(["analyze", "--tls-keylog", str(_keys()), "--format", "json", str(CAPTURE)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["captures"][0]["format"] == "tshark"
    assert len(doc["messages"]) == _truth()["expected"]["sip_messages"]
    assert {m["transport"] for m in doc["messages"]} == {"tls"}
    assert [c["outcome"] for c in doc["calls"]] == ["answered"] * 3


def _require_lab() -> None:
    missing = [p for p in ("sipp", "tcpdump", "tshark", "openssl") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"lab programs missing: {', '.join(missing)}")
    if os.geteuid() != 0:
        pytest.skip("tcpdump on lo needs root")


@pytest.mark.lab
@pytest.mark.tshark
def test_regenerated_tls_capture_matches_sipp(tmp_path: Path) -> None:
    _require_lab()
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        check=False,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tls4-answered.keys",
        "tls4-answered.pcap",
        "tls4-answered.sipp.json",
    ]
    _check_decrypted(tmp_path / "tls4-answered.pcap", tmp_path / "tls4-answered.sipp.json")
    # The same exchange as the committed capture, message for message.
    assert _truth(tmp_path / "tls4-answered.sipp.json")["expected"] == _truth()["expected"]
