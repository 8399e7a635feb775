"""The command line: demo capture, formats, output files, exit codes, python -m."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.cli import EXIT_UNREADABLE, demo_capture, main
from tests.conftest import corpus_file


def test_demo_capture_is_bundled() -> None:
    assert demo_capture().is_file()


def test_analyze_without_argument_reads_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert Path(doc["captures"][0]["path"]).name == "demo.pcapng"
    assert doc["summary"]["calls"] > 0


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "analyze",
                str(corpus_file("sipnab/sip_call.pcap")),
                "--format",
                "json",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["calls"][0]["outcome"] == "answered"


def test_unreadable_input_exit_code_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a capture\n")
    assert main(["analyze", str(bad)]) == EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "text file" in err


def test_usage_error_exit_code_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--format", "pdf"])
    assert info.value.code == 2


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "439", "--format", "json", "--lang", "en"]) == 0
    doc = json.loads(capsys.readouterr().out)["entry"]
    assert doc["reason"] == "First Hop Lacks Outbound Support"
    assert any("5626" in r for r in doc["rfc"])
    assert main(["explain", "499", "--lang", "en"]) == 0
    assert "8.1.3.2" in capsys.readouterr().out


def test_python_dash_m_is_the_same_program(tmp_path: Path) -> None:
    cap = str(corpus_file("sipnab/sip_call.pcap"))
    out = subprocess.run(
        [sys.executable, "-m", "analyzer", "analyze", cap, "--format", "json"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout)["schema"] == "sip-analyzer/1"


def test_stdin(tmp_path: Path) -> None:
    cap = corpus_file("sipnab/sip_call.pcap")
    out = subprocess.run(
        [sys.executable, "-m", "analyzer", "analyze", "-", "--format", "json"],
        input=cap.read_bytes(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout)["summary"]["sip_messages"] == 7


@pytest.mark.tshark
def test_engine_tshark_reads_the_demo_like_the_native_engine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = []
    for engine in ("native", "tshark"):
        assert main(["analyze", "--format", "json", "--engine", engine]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    native, tshark = reports
    assert tshark["captures"][0]["format"] == "tshark"
    assert tshark["summary"]["responses_by_status"] == native["summary"]["responses_by_status"]
    assert [c["outcome"] for c in tshark["calls"]] == [c["outcome"] for c in native["calls"]]


def test_tls_keylog_needs_the_tshark_engine(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "--engine", "native", "--tls-keylog", "keys.log"])
    assert code == 2
    assert "--engine tshark" in capsys.readouterr().err


@pytest.mark.tshark
def test_missing_tls_keylog_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "keys.log"
    assert main(["analyze", "--tls-keylog", str(missing)]) == EXIT_UNREADABLE
    assert str(missing) in capsys.readouterr().err
