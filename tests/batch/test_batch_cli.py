"""`sip-analyzer batch` end to end on a directory of lab captures plus a corrupt and an
empty one: the aggregated JSON against its schema and against tshark, the per-capture
reports, the unreadable captures, the exit code of each gate, the baseline diff after
a change, and the same directory through a local Dask cluster."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analyzer.batch.aggregate import comparable
from analyzer.cli import main
from tests.conftest import CAPTURES
from tests.tshark import sip_counts

LAB = (
    "udp4-answered.pcap",
    "udp4-busy.pcap",
    "udp4-outbound-439.pcap",
    "udp4-unavailable.pcap",
    "tcp4-answered.pcap",
    "udp6-register-auth.pcap",
)
"""Real lab captures (SIPp and kamailio on loopback) the batch directory holds."""
NESTED = "night/udp4-cancel.pcap"
"""One more, in a subdirectory: its key keeps the directory."""


def schema() -> dict[str, Any]:
    text = resources.files("analyzer").joinpath("schema", "sip-analyzer-batch-1.schema.json")
    data: dict[str, Any] = json.loads(text.read_text())
    return data


def make_lab(root: Path) -> Path:
    """The batch directory: lab captures, a nested one, a corrupt one, an empty one and a
    file that is not a capture."""
    lab = root / "lab"
    (lab / "night").mkdir(parents=True)
    for name in LAB:
        shutil.copy(CAPTURES / name, lab / name)
    shutil.copy(CAPTURES / "udp4-cancel.pcap", lab / NESTED)
    # A real capture whose file header was overwritten: not a pcap any more.
    data = bytearray((CAPTURES / "udp4-busy.pcap").read_bytes())
    data[:8] = b"garbage!"
    (lab / "corrupt.pcap").write_bytes(bytes(data))
    (lab / "empty.pcap").write_bytes(b"")
    (lab / "notes.txt").write_text("not a capture\n")
    return lab.resolve()


@dataclass(frozen=True)
class Run:
    code: int
    out: Path
    doc: dict[str, Any]
    stdout: str
    stderr: str


def batch(capsys: pytest.CaptureFixture[str], lab: Path, out: Path | None, *extra: str) -> Run:
    argv = ["batch", str(lab), *extra]
    if out is not None:
        argv += ["--out", str(out)]
    code = main(argv)
    cap = capsys.readouterr()
    doc = json.loads((out / "batch.json").read_text()) if out is not None else {}
    return Run(code, out or Path(), doc, cap.out, cap.err)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_lab(tmp_path_factory.mktemp("batch"))


@pytest.fixture(scope="module")
def first(lab: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("out")
    code = main(
        [
            "batch",
            str(lab),
            "--out",
            str(out),
            "--format",
            "json,markdown",
            "--format",
            "junit,csv",
            "--workers",
            "2",
        ]
    )
    doc = json.loads((out / "batch.json").read_text())
    return Run(code, out, doc, "", "")


KEYS = sorted([*LAB, NESTED, "corrupt.pcap", "empty.pcap"])


def test_every_capture_has_a_row_and_the_document_validates(first: Run) -> None:
    assert first.code == 0
    jsonschema.validate(first.doc, schema())
    assert [c["key"] for c in first.doc["captures"]] == KEYS
    totals = first.doc["totals"]
    assert totals["captures"] == len(KEYS)
    assert totals["analysed"] == len(KEYS) - 2
    assert totals["unreadable"] == 2
    assert totals["ignored_files"] == 1  # notes.txt
    assert first.doc["run"]["workers"] == 2


def test_unreadable_captures_are_reported_with_their_error(first: Run) -> None:
    rows = {c["key"]: c for c in first.doc["captures"]}
    for key, says in (("corrupt.pcap", "not a pcap or pcapng"), ("empty.pcap", "empty file")):
        row = rows[key]
        assert row["status"] == "error"
        assert row["error"]["kind"] == "unreadable"
        assert key in row["error"]["message"]
        assert says in row["error"]["message"]
        assert row["reports"] == {}
        assert "calls" not in row


def test_rows_agree_with_tshark_and_with_the_per_capture_reports(first: Run, lab: Path) -> None:
    for c in first.doc["captures"]:
        if c["status"] != "ok":
            continue
        truth = json.loads(
            (CAPTURES / Path(c["key"]).name.replace(".pcap", ".sipp.json")).read_text()
        )
        methods, statuses = sip_counts(lab / c["key"], truth["sip_ports"])
        assert c["requests_by_method"] == methods, c["key"]
        assert c["responses_by_status"] == {str(k): v for k, v in statuses.items()}, c["key"]
        # The per-capture JSON report is the same analysis.
        report = json.loads((first.out / c["reports"]["json"]).read_text())
        assert report["summary"]["calls"] == c["calls"]
        assert report["summary"]["outcomes"] == c["outcomes"]
        assert report["kpis"] == c["kpis"]
        assert report["captures"][0]["packets"] == c["accounting"]["packets"]


def test_per_capture_reports_in_every_format(first: Run) -> None:
    expected = {
        "json": ".json",
        "markdown": ".md",
        "junit": ".junit.xml",
        "csv": ".csv",
    }
    for c in first.doc["captures"]:
        if c["status"] != "ok":
            continue
        assert c["reports"] == {f: c["key"] + ext for f, ext in expected.items()}
        for rel in c["reports"].values():
            assert (first.out / rel).exists(), rel
        assert (first.out / c["reports"]["csv"] / "calls.csv").is_file()
        assert c["key"] in (first.out / c["reports"]["markdown"]).read_text()
    assert (first.out / NESTED).with_suffix(".pcap.md").is_file()
    # The aggregated reports for the formats that have one.
    assert (first.out / "batch.md").is_file()
    assert (first.out / "batch.junit.xml").is_file()


def test_totals_add_up_the_rows(first: Run) -> None:
    rows = [c for c in first.doc["captures"] if c["status"] == "ok"]
    t = first.doc["totals"]
    assert t["calls"] == sum(r["calls"] for r in rows)
    assert t["accounting"]["packets"] == sum(r["accounting"]["packets"] for r in rows)
    for code in t["responses_by_status"]:
        assert t["responses_by_status"][code] == sum(
            r["responses_by_status"].get(code, 0) for r in rows
        )
    # Ratios pool numerators and denominators, not percentages.
    num = sum(r["kpis"]["ser"]["numerator"] for r in rows)
    den = sum(r["kpis"]["ser"]["denominator"] for r in rows)
    assert (t["kpis"]["ser"]["numerator"], t["kpis"]["ser"]["denominator"]) == (num, den)
    assert t["kpis"]["ser"]["value"] == round(100 * num / den, 3)
    counts = sum(r["kpis"]["srd"]["count"] for r in rows)
    assert t["kpis"]["srd"]["count"] == counts
    assert t["kpis"]["srd"]["max"] == max(
        r["kpis"]["srd"]["max"] for r in rows if r["kpis"]["srd"]["max"] is not None
    )


def test_progress_is_a_line_per_capture_on_stderr(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    run = batch(capsys, lab, None, "--workers", "1")
    assert run.code == 0
    lines = [x for x in run.stderr.splitlines() if "] " in x]
    assert len(lines) == len(KEYS)
    assert any("corrupt.pcap: unreadable:" in x for x in lines)
    assert "passed over 1 file(s) without a capture suffix" in run.stderr
    assert f"{len(KEYS)} captures ({len(KEYS) - 2} analysed, 2 with errors)" in run.stdout


@pytest.mark.parametrize(
    ("gate", "code", "tripped_on"),
    [
        ("ser<95", 1, None),
        ("ser<1", 0, None),
        ("status:5xx>0", 1, ["udp4-unavailable.pcap"]),
        ("status:6xx>0", 0, None),
        ("status:439", 1, ["udp4-outbound-439.pcap"]),
        ("finding:outbound.*", 1, ["udp4-outbound-439.pcap"]),
        ("finding:nothing.*", 0, None),
        (
            "any:calls:failed>0",
            1,
            ["udp4-busy.pcap", "udp4-outbound-439.pcap", "udp4-unavailable.pcap"],
        ),
        ("any:ser<50", 1, ["udp4-busy.pcap", "udp4-unavailable.pcap", NESTED]),
        ("calls:failed>100", 0, None),
        ("unreadable>0", 1, None),
        ("unreadable>2", 0, None),
        ("severity:error>=3", 1, None),
        ("srd.max>10s", 0, None),
        ("registrations:failed>0", 1, ["udp4-outbound-439.pcap"]),
        ("registrations:registered<1", 0, None),
    ],
)
def test_exit_code_of_each_gate(
    capsys: pytest.CaptureFixture[str],
    lab: Path,
    tmp_path: Path,
    gate: str,
    code: int,
    tripped_on: list[str] | None,
) -> None:
    run = batch(capsys, lab, tmp_path, "--workers", "1", "--fail-on", gate)
    assert run.code == code, run.stdout
    (result,) = run.doc["gates"]
    assert result["expr"] == gate
    assert result["tripped"] is (code == 1)
    if tripped_on is not None:
        assert sorted(result["captures"]) == sorted(tripped_on)
    mark = "TRIPPED" if code else "passed"
    assert f"{mark}  {gate}:" in run.stdout
    assert (f"gate {gate!r} tripped" in run.stderr) is (code == 1)
    jsonschema.validate(run.doc, schema())


def test_gate_values_are_the_documents(
    capsys: pytest.CaptureFixture[str], lab: Path, tmp_path: Path
) -> None:
    run = batch(
        capsys, lab, tmp_path, "--workers", "1", "--fail-on", "ser<95", "--fail-on", "status:4xx>0"
    )
    t = run.doc["totals"]
    ser, fours = run.doc["gates"]
    assert ser["value"] == pytest.approx(t["kpis"]["ser"]["value"])
    assert fours["value"] == sum(n for s, n in t["responses_by_status"].items() if s[0] == "4")
    assert sorted(fours["captures"]) == sorted(
        c["key"]
        for c in run.doc["captures"]
        if c["status"] == "ok" and any(s[0] == "4" for s in c["responses_by_status"])
    )


@pytest.mark.parametrize(
    "bad", ["bogus<3", "ser<", "status:9xx", "srd.p99>1", "ser<5ms", "new-finding", "calls:happy"]
)
def test_bad_gates_are_usage_errors(
    capsys: pytest.CaptureFixture[str], lab: Path, bad: str
) -> None:
    assert main(["batch", str(lab), "--fail-on", bad]) == 2
    assert bad in capsys.readouterr().err


def test_no_captures_found_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    assert main(["batch", str(tmp_path), str(tmp_path / "missing")]) == 3
    err = capsys.readouterr().err
    assert "missing: no such file" in err
    assert "no captures found" in err


def test_baseline_diff_after_a_change(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lab = make_lab(tmp_path)
    before = batch(capsys, lab, tmp_path / "night1", "--workers", "2")
    assert before.code == 0
    baseline = str(tmp_path / "night1" / "batch.json")
    # The next night: the answered scenario now gets 503s, the 439 scenario is gone, a
    # no-answer scenario is new, and the corrupt capture was recorded properly.
    shutil.copy(CAPTURES / "udp4-unavailable.pcap", lab / "udp4-answered.pcap")
    (lab / "udp4-outbound-439.pcap").unlink()
    shutil.copy(CAPTURES / "udp4-no-answer.pcap", lab / "udp4-no-answer.pcap")
    shutil.copy(CAPTURES / "udp4-busy.pcap", lab / "corrupt.pcap")
    gates = [
        "new-finding",
        "new-status",
        "worse",
        "disappeared",
        "appeared",
        "new-finding:outbound.*",
    ]
    argv = ["--workers", "2", "--baseline", baseline]
    for g in gates:
        argv += ["--fail-on", g]
    after = batch(capsys, lab, tmp_path / "night2", *argv)
    assert after.code == 1
    jsonschema.validate(after.doc, schema())
    diff = after.doc["baseline"]["diff"]
    assert diff["appeared"] == [{"capture": "udp4-no-answer.pcap"}]
    assert diff["disappeared"] == [{"capture": "udp4-outbound-439.pcap"}]
    assert diff["readable_again"] == [{"capture": "corrupt.pcap"}]
    assert diff["became_unreadable"] == []
    # What tshark sees in the two captures that swapped places.
    was = set(sip_counts(CAPTURES / "udp4-answered.pcap", [5060, 5070])[1])
    now = set(sip_counts(CAPTURES / "udp4-unavailable.pcap", [5060, 5070])[1])
    assert 503 in now - was
    assert {(s["capture"], s["status"]) for s in diff["new_statuses"]} == {
        ("udp4-answered.pcap", code) for code in now - was
    }
    assert {(s["capture"], s["status"]) for s in diff["gone_statuses"]} == {
        ("udp4-answered.pcap", code) for code in was - now
    }
    new_ids = {(f["capture"], f["id"]) for f in diff["new_findings"]}
    after_row = next(c for c in after.doc["captures"] if c["key"] == "udp4-answered.pcap")
    assert new_ids == {("udp4-answered.pcap", fid) for fid in after_row["findings"]}
    assert new_ids
    moved = {(m["capture"], m["measure"]): m for m in diff["moved"]}
    ser = moved[("udp4-answered.pcap", "ser")]
    assert (ser["before"], ser["after"], ser["worse"]) == (100.0, 0.0, True)
    answered = moved[("udp4-answered.pcap", "outcomes.answered")]
    assert (answered["before"], answered["after"], answered["worse"]) == (3, 0, True)
    assert ("udp4-busy.pcap", "ser") not in moved  # unchanged captures do not move
    assert moved[(None, "ser")]["worse"] is True  # the totals moved too
    verdicts = {g["expr"]: g["tripped"] for g in after.doc["gates"]}
    assert verdicts == {
        "new-finding": True,
        "new-status": True,
        "worse": True,
        "disappeared": True,
        "appeared": True,
        # The outbound finding went away with its capture: nothing new matches.
        "new-finding:outbound.*": False,
    }
    assert "new response code: udp4-answered.pcap: 503" in after.stdout
    # A third night with nothing changed: an empty diff, and the gates pass.
    again = batch(
        capsys,
        lab,
        tmp_path / "night3",
        "--workers",
        "1",
        "--baseline",
        str(tmp_path / "night2" / "batch.json"),
        "--fail-on",
        "new-finding",
        "--fail-on",
        "moved",
    )
    assert again.code == 0
    quiet = again.doc["baseline"]["diff"]
    assert all(quiet[k] == [] for k in quiet if k != "tolerance")
    assert "nothing changed" in again.stdout


def test_a_wrong_baseline_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], lab: Path, first: Run
) -> None:
    per_capture = next(c for c in first.doc["captures"] if c["status"] == "ok")
    analyze_report = first.out / per_capture["reports"]["json"]
    assert main(["batch", str(lab), "--baseline", str(analyze_report)]) == 2
    assert "not an aggregated batch report" in capsys.readouterr().err


def test_same_aggregate_through_a_local_dask_cluster(
    capsys: pytest.CaptureFixture[str], lab: Path, first: Run, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run = batch(
            capsys,
            lab,
            tmp_path,
            "--scheduler",
            cluster.scheduler_address,
            "--format",
            "json,markdown",
            "--format",
            "junit,csv",
        )
    assert run.code == 0
    assert run.doc["run"]["scheduler"] == cluster.scheduler_address
    workers = {c["worker"] for c in run.doc["captures"]}
    assert len(workers) == 2  # both Dask workers took captures
    assert comparable(run.doc) == comparable(first.doc)
    for c in run.doc["captures"]:
        for fmt in ("json", "markdown", "junit"):
            if fmt in c["reports"]:
                rel = c["reports"][fmt]
                assert (run.out / rel).read_bytes() == (first.out / rel).read_bytes(), rel


def test_an_unreachable_scheduler_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    pytest.importorskip("distributed")
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    code = main(["batch", str(lab), "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", "2"])
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_a_report_that_cannot_be_written_is_that_captures_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    for name in ("udp4-busy.pcap", "udp4-answered.pcap"):
        shutil.copy(CAPTURES / name, lab / name)
    out = tmp_path / "out"
    (out / "udp4-busy.pcap.json").mkdir(parents=True)  # in the way of the report
    run = batch(capsys, lab, out, "--workers", "1", "--format", "json")
    assert run.code == 0
    rows = {c["key"]: c for c in run.doc["captures"]}
    busy = rows["udp4-busy.pcap"]
    assert busy["status"] == "error"
    assert busy["error"]["kind"] == "write"
    assert "udp4-busy.pcap.json" in busy["error"]["message"]
    # Analysed all the same: its measures count in the totals.
    assert busy["calls"] == 3
    assert run.doc["totals"]["analysed"] == 2
    assert run.doc["totals"]["calls"] == busy["calls"] + rows["udp4-answered.pcap"]["calls"]
    assert rows["udp4-answered.pcap"]["status"] == "ok"
    jsonschema.validate(run.doc, schema())
