"""`--fail-on` expressions: the grammar, each measure read from a real capture's row
(checked against tshark), and `analyze --fail-on`."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analyzer import analyze
from analyzer.batch.gates import check, check_analysis, measure, parse_gate
from analyzer.batch.summary import row
from analyzer.cli import main
from tests.conftest import CAPTURES
from tests.tshark import sip_counts


@pytest.mark.parametrize(
    ("text", "measure_", "arg", "op", "threshold", "each"),
    [
        ("ser<95", "ser", None, "<", 95.0, False),
        (" ser <= 95.5 ", "ser", None, "<=", 95.5, False),
        ("status:5xx>0", "status", "5xx", ">", 0.0, False),
        ("status:503", "status", "503", ">", 0.0, False),
        ("finding:outbound.*", "finding", "outbound.*", ">", 0.0, False),
        ("new-finding", "new-finding", None, ">", 0.0, False),
        ("srd>2s", "srd", "p95", ">", 2000.0, False),
        ("srd.mean>=150ms", "srd", "mean", ">=", 150.0, False),
        ("any:calls:failed>0", "calls", "failed", ">", 0.0, True),
        ("method:invite==0", "method", "INVITE", "==", 0.0, False),
        ("severity:error!=0", "severity", "error", "!=", 0.0, False),
    ],
)
def test_grammar(
    text: str, measure_: str, arg: str | None, op: str, threshold: float, each: bool
) -> None:
    g = parse_gate(text)
    assert (g.measure, g.arg, g.op, g.threshold, g.each) == (measure_, arg, op, threshold, each)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ser", None),  # valid: ser>0
        ("ser:x<3", "takes no value"),
        ("ser.p95<3", "only a delay has a statistic"),
        ("srd.p99>1", "statistic is one of"),
        ("srd>5%", "not %"),
        ("calls>5ms", "only delays take a unit"),
        ("status:42x", "a code (503) or a class"),
        ("status", "needs a value"),
        ("severity:fatal", "error, warning or info"),
        ("calls:happy", "calls:OUTCOME"),
        ("unknown<1", "unknown measure"),
        ("ser<<1", "expected MEASURE"),
    ],
)
def test_grammar_errors_name_the_problem(text: str, says: str | None) -> None:
    if says is None:
        assert parse_gate(text).op == ">"
        return
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_gate(text)


@pytest.mark.parametrize(
    "capture", ["udp4-unavailable.pcap", "udp4-outbound-439.pcap", "tcp4-proxy-auth.pcap"]
)
def test_status_and_method_measures_equal_tshark(capture: str) -> None:
    path = CAPTURES / capture
    r = row(analyze(str(path)))
    truth = json.loads(path.with_suffix(".sipp.json").read_text())
    methods, statuses = sip_counts(path, truth["sip_ports"])
    for cls in "123456":
        want = sum(n for s, n in statuses.items() if str(s)[0] == cls)
        assert measure(parse_gate(f"status:{cls}xx"), r, None) == want
    for status, n in statuses.items():
        assert measure(parse_gate(f"status:{status}"), r, None) == n
    for method, n in methods.items():
        assert measure(parse_gate(f"method:{method}"), r, None) == n


def test_ratio_delay_and_finding_measures_read_the_analysis() -> None:
    a = analyze(str(CAPTURES / "udp4-outbound-439.pcap"))
    r = row(a)
    assert measure(parse_gate("ira"), r, None) == pytest.approx(a.metrics.ira.value, abs=1e-3)
    assert measure(parse_gate("ser<1"), r, None) is None  # no INVITE: not measured
    assert measure(parse_gate("rrd.max>1"), r, None) is None  # no registration succeeded
    reg = analyze(str(CAPTURES / "udp4-register-auth.pcap"))
    rrd = reg.metrics.rrd
    assert rrd.count
    assert rrd.maximum is not None
    got = measure(parse_gate("rrd.max>1"), row(reg), None)
    assert got == pytest.approx(rrd.maximum * 1000, abs=1e-3)
    ids = [f.id for f in a.finding_records]
    assert ids
    assert measure(parse_gate("finding:outbound.*"), r, None) == sum(
        i.startswith("outbound.") for i in ids
    )
    errors = sum(f.severity == "error" for f in a.finding_records)
    assert measure(parse_gate("severity:error"), r, None) == errors


def test_a_measure_that_cannot_be_measured_never_trips() -> None:
    r = row(analyze(str(CAPTURES / "udp4-register.pcap")))
    (res,) = check([parse_gate("ser<95")], r, {"x": r})
    assert res.value is None
    assert not res.tripped
    assert "not measured" in res.detail
    (each,) = check([parse_gate("any:ser<95")], r, {"x": r})
    assert not each.tripped


def test_baseline_gates_need_a_diff() -> None:
    r = row(analyze(str(CAPTURES / "udp4-busy.pcap")))
    with pytest.raises(ValueError, match="baseline"):
        check([parse_gate("new-finding")], r, {})


def _schema() -> dict[str, Any]:
    text = resources.files("analyzer").joinpath("schema", "sip-analyzer-1.schema.json")
    data: dict[str, Any] = json.loads(text.read_text())
    return data


def test_analyze_fail_on_sets_the_exit_code_and_the_reports_say_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = str(CAPTURES / "udp4-busy.pcap")
    out = tmp_path / "r.json"
    code = main(
        [
            "analyze",
            busy,
            "--format",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "status:486",
            "--fail-on",
            "ser<1",
        ]
    )
    assert code == 1
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, _schema())
    tripped = {g["expr"]: g["tripped"] for g in doc["gates"]}
    assert tripped == {"status:486": True, "ser<1": True}  # SER of a busy capture is 0
    assert "gate 'status:486' tripped" in capsys.readouterr().err
    # The same gates on an answered capture pass: exit 0.
    ok = str(CAPTURES / "udp4-answered.pcap")
    assert (
        main(
            [
                "analyze",
                ok,
                "--format",
                "json",
                "-o",
                str(out),
                "--fail-on",
                "status:486",
                "--fail-on",
                "ser<1",
            ]
        )
        == 0
    )
    assert [g["tripped"] for g in json.loads(out.read_text())["gates"]] == [False, False]
    # Terminal, Markdown and JUnit name the gate too.
    for fmt, needle in (
        ("terminal", "TRIPPED  status:486:"),
        ("markdown", "**TRIPPED**:"),
        ("junit", '<testcase classname="sip.gates" name="status:486"'),
        ("html", '<span class="badge bad">TRIPPED</span> <code>status:486:'),
    ):
        target = tmp_path / f"r.{fmt}"
        assert (
            main(["analyze", busy, "--format", fmt, "-o", str(target), "--fail-on", "status:486"])
            == 1
        )
        assert needle in target.read_text(), fmt


def test_analyze_gates_judge_the_whole_capture_whatever_the_selection(tmp_path: Path) -> None:
    demo = str(CAPTURES / "demo.pcapng")
    out = tmp_path / "r.json"
    # Select only answered calls' 200s; the gate still sees the demo's failures.
    code = main(
        [
            "analyze",
            demo,
            "--format",
            "json",
            "-o",
            str(out),
            "--status",
            "200",
            "--fail-on",
            "calls:failed>0",
        ]
    )
    assert code == 1
    doc = json.loads(out.read_text())
    whole = analyze(demo)
    failed = row(whole)["failed_calls"]
    assert failed > 0
    assert doc["gates"][0]["value"] == failed
    assert check_analysis([parse_gate("calls:failed>0")], whole)[0].value == failed


def test_analyze_rejects_a_baseline_gate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--fail-on", "new-finding"]) == 2
    assert "--baseline" in capsys.readouterr().err
