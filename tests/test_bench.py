"""The benchmark scripts run end to end (their figures are not asserted: speed is
measured in bench/, not in unit tests)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer import analyze
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


INGEST_COLUMNS = (
    "file",
    "packets",
    "SIP messages",
    "analyzer (s)",
    "tshark (s)",
    "analyzer packets/s",
    "analyzer SIP msgs/s",
    "analyzer peak RSS (MiB)",
    "tshark peak RSS (MiB)",
    "ratio (tshark/analyzer)",
    "target",
    "met",
)


def _number(cell: str) -> float:
    return float(cell.replace(",", "").removesuffix("×"))


def test_ingest_bench_runs_on_a_small_capture(tmp_path: Path) -> None:
    if shutil.which("tshark") is None or shutil.which("capinfos") is None:
        pytest.skip("tshark/capinfos not installed")
    shutil.copy(ROOT / "captures" / "load" / "udp4-load.pcap.gz", tmp_path)
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ingest_bench.py"),
            "--captures",
            str(tmp_path),
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert tuple(header) == INGEST_COLUMNS
    assert len(lines) == 3  # header, rule, one capture
    row = dict(zip(header, (c.strip() for c in lines[2].strip("|").split("|")), strict=True))
    assert row["file"] == "udp4-load.pcap.gz"
    assert _number(row["packets"]) == 14000
    assert _number(row["SIP messages"]) == 14000
    for column in ("analyzer (s)", "tshark (s)", "ratio (tshark/analyzer)"):
        assert 0 < _number(row[column]) < 600, column
    packets_per_s = _number(row["packets"]) / _number(row["analyzer (s)"])
    assert abs(_number(row["analyzer packets/s"]) - packets_per_s) <= 0.02 * packets_per_s
    for column in ("analyzer peak RSS (MiB)", "tshark peak RSS (MiB)"):
        assert 1 <= _number(row[column]) < 4096, column
    assert (row["target"], row["met"]) == ("—", "—")  # no target for this capture
    assert "machine: " in res.stdout
    assert "pinned to core" in res.stdout or "not pinned" in res.stdout


BATCH_COLUMNS = (
    "runner",
    "workers",
    "captures",
    "best wall (s)",
    "run.seconds (s)",
    "captures/min",
    "speed-up vs 1",
    "efficiency",
    "vs tshark",
    "others (cores)",
)


def test_batch_bench_runs_on_a_few_lab_captures() -> None:
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "batch_bench.py"),
            *("--copies", "1", "--no-load", "--rounds", "1", "--workers", "1,2", "--limit", "8"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    found = re.search(r"^capture set: (\d+) files \(1 copy of 8 lab captures\)", res.stdout, re.M)
    assert found is not None, res.stdout
    files = int(found.group(1))
    assert files == 8
    lines = [line for line in res.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert tuple(header) == BATCH_COLUMNS
    rows = [
        dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]
    runners = ["sip-analyzer batch"]
    if shutil.which("tshark") is not None:
        runners.append("tshark -z sip,stat")
    assert [(r["runner"], r["workers"]) for r in rows] == [
        (runner, k) for runner in runners for k in ("1", "2")
    ]
    for row in rows:
        assert _number(row["captures"]) == files
        wall = _number(row["best wall (s)"])
        assert 0 < wall < 300
        per_minute = files / wall * 60
        assert abs(_number(row["captures/min"]) - per_minute) <= 0.02 * per_minute + 1
        assert 0 <= _number(row["others (cores)"]) <= 64
    assert rows[0]["speed-up vs 1"] == "1.00×"
    assert rows[0]["efficiency"] == "100 %"
    for row in rows[:2]:
        assert 0 <= _number(row["run.seconds (s)"]) <= _number(row["best wall (s)"])
        if len(runners) == 1:
            assert row["vs tshark"] == "—"
        else:
            assert _number(row["vs tshark"]) > 0
    assert "machine: " in res.stdout


def _records(path: Path) -> list[tuple[float, bytes]]:
    """(time, frame) of every record of a little-endian microsecond pcap."""
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    out, at = [], 24
    while at < len(data):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", data, at)
        out.append((sec + usec / 1e6, data[at + 16 : at + 16 + caplen]))
        at += 16 + caplen
    return out


def _udp_checksum_ok(frame: bytes) -> bool:
    """Word-by-word RFC 768 check of an Ethernet/IPv4/UDP frame."""
    ip = 14
    udp = ip + (frame[ip] & 0x0F) * 4
    length = int.from_bytes(frame[udp + 4 : udp + 6], "big")
    data = frame[ip + 12 : ip + 20] + bytes([0, 17]) + length.to_bytes(2, "big")
    data += frame[udp : udp + length] + b"\0" * (length % 2)
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def test_inflate_makes_distinct_calls_of_the_same_size(tmp_path: Path) -> None:
    src = ROOT / "captures" / "udp4-answered.pcap"
    dst = tmp_path / "inflated.pcap"
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "inflate.py"), str(src), str(dst), "--copies", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert dst.stat().st_size == 24 + 3 * (src.stat().st_size - 24)
    original, inflated = _records(src), _records(dst)
    assert len(inflated) == 3 * len(original)
    assert [len(f) for _, f in inflated] == [len(f) for _, f in original] * 3
    assert [t for t, _ in inflated] == sorted(t for t, _ in inflated)
    # Copy 0 is the source itself; the others differ only in SIP identifiers.
    assert [f for _, f in inflated[: len(original)]] == [f for _, f in original]
    changed = [f for _, f in inflated[len(original) :] if f not in {g for _, g in original}]
    assert len(changed) == 2 * len(original)
    assert all(_udp_checksum_ok(f) for f in changed)
    analysis = analyze(str(dst))
    assert len(analysis.call_records) == 9
    assert len({c.call_id for c in analysis.call_records}) == 9
    assert analysis.outcome_counts()["answered"] == 9
    assert dict(analysis.requests_by_method()) == {"INVITE": 9, "ACK": 9, "BYE": 9}
