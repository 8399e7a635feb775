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


def _in_a_terminal(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[int, bytes]:
    """Run the CLI with stderr on a pseudo-terminal; returns its exit code and what the
    terminal received."""
    import os  # noqa: PLC0415
    import pty  # noqa: PLC0415

    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setenv("TERM", "xterm")
    try:
        code = main(args)
        stream.flush()
        os.set_blocking(master, False)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        stream.close()
        os.close(master)
    return code, seen


def test_progress_bar_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from analyzer import cli  # noqa: PLC0415
    from tests.conftest import CAPTURES  # noqa: PLC0415

    load = str(CAPTURES / "load" / "udp4-load.pcap.gz")
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    code, seen = _in_a_terminal(monkeypatch, ["analyze", load, "-o", "/dev/null"])
    assert code == 0
    assert b"reading" in seen
    assert b"packets" in seen
    monkeypatch.undo()
    # Not a terminal: nothing on stderr.
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    assert main(["analyze", load, "-o", "/dev/null"]) == 0
    assert capsys.readouterr().err == ""


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer import cli  # noqa: PLC0415

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert cli._use_color("-")
    assert not cli._use_color("report.txt")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._use_color("-")


def test_directory_formats_need_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--format", "csv"]) == 2
    assert "-o DIR" in capsys.readouterr().err
    afile = tmp_path / "f"
    afile.write_text("x")
    assert main(["analyze", "--format", "parquet", "-o", str(afile)]) == 2
    assert "not a directory" in capsys.readouterr().err
