"""Ingest benchmark (issue 4): the whole analyzer against tshark on big captures.

Usage:
    python bench/ingest_bench.py [--captures DIR] [--rounds N] [--cpu K] [--make]
                                 [--include-2gb] [--tshark-2gb] [--timeout S]

Every capture in DIR (default bench/.cache/, made by bench/make_captures.py;
``--make`` makes the missing ones first) is read, in one run, by

* ``sip-analyzer analyze --format json -o /dev/null F`` (the first round
  writes the report to a temp file instead, to read its totals), and
* ``tshark -r F -q -z sip,stat``,

each a child process on one pinned core (this process pins itself to core K
before starting them, so they inherit it). Rounds go round-robin over
captures and programs, so a slow spell of the VM hits all alike; the fastest
wall time of N rounds counts, and the peak RSS is the largest ``ru_maxrss``
that ``os.wait4`` reported for the child over the rounds. Packets are counted
by ``capinfos``, SIP messages by the analyzer (``summary.sip_messages``) and
checked against tshark's ``Number of SIP messages``.

The inflated >= 2 GiB capture (bench/inflate.py) is only read with
``--include-2gb``, by the analyzer alone, once, for the memory target
(peak RSS <= 300 MB whatever the file size); ``--tshark-2gb`` times tshark
on it too.

Targets of issue 4, on one core: analyzer >= 15x tshark's speed on the
RTP-heavy capture ``udp4-rtp.pcap``, >= 10x on the SIP-over-TCP capture
``tcp4-load.pcap``; results and commands in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from make_captures import DEFAULT_DIR, INFLATED, RTP, TCP, ensure_captures  # noqa: E402

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz")
# Speed targets (tshark time / analyzer time) by capture name.
SPEED_TARGETS = {RTP: 15.0, TCP: 10.0}
RSS_TARGET_BYTES = 300 * 1000**2  # "within 300 MB peak RSS"
MIB = 1024**2


@dataclass(frozen=True)
class Run:
    """One child process, measured."""

    seconds: float
    """Wall time from start to exit."""
    maxrss_kib: int
    """Peak resident set size (ru_maxrss of wait4, KiB)."""
    cpu_seconds: float
    """User plus system CPU time."""
    stdout: str
    """What it printed (tshark's statistics)."""


class BenchError(Exception):
    """A program failed or timed out."""


def measure(argv: Sequence[str], timeout: float) -> Run:
    """Run argv, returning its wall time and rusage; SIGKILL (by PID) after timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        why = "timed out" if seconds >= timeout else f"exit {proc.returncode}"
        raise BenchError(f"{' '.join(argv)}: {why}\n{stderr[-2000:]}")
    return Run(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, stdout)


def analyzer_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "sip-analyzer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "analyzer"]


def analyzer_argv(capture: Path, output: str) -> list[str]:
    return [*analyzer_command(), "analyze", "--format", "json", "-o", output, str(capture)]


def tshark_argv(capture: Path) -> list[str]:
    return ["tshark", "-r", str(capture), "-q", "-z", "sip,stat"]


def report_summary(path: Path) -> dict[str, object]:
    """The `summary` object of a sip-analyzer/1 report, read from the file's end.

    The report of a big capture lists every message and runs to hundreds of
    megabytes; `summary` is its last member.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - (1 << 20)))
        tail = f.read().decode(errors="replace")
    at = tail.rfind('"summary"')
    if at >= 0:
        start = tail.index("{", at)
        summary, _ = json.JSONDecoder().raw_decode(tail, start)
        if isinstance(summary, dict):
            return summary
    document = json.loads(path.read_text())
    summary = document["summary"]
    assert isinstance(summary, dict)
    return summary


def capinfos_packets(capture: Path) -> int | None:
    """Packets in the file according to capinfos (None when it is not installed)."""
    if shutil.which("capinfos") is None:
        return None
    out = subprocess.run(
        ["capinfos", "-c", "-M", str(capture)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    ).stdout
    found = re.search(r"Number of packets:\s*(\d+)", out)
    return int(found.group(1)) if found else None


def tshark_sip_messages(stdout: str) -> int | None:
    found = re.search(r"Number of SIP messages:\s*(\d+)", stdout)
    return int(found.group(1)) if found else None


@dataclass
class Result:
    """Everything measured on one capture."""

    capture: Path
    with_tshark: bool
    analyzer: list[Run] = field(default_factory=list)
    tshark: list[Run] = field(default_factory=list)
    packets: int | None = None  # capinfos
    analyzer_packets: int | None = None
    sip_messages: int | None = None  # the analyzer's
    tshark_sip_messages: int | None = None
    report_bytes: int | None = None  # size of the analyzer's JSON report

    @property
    def name(self) -> str:
        return self.capture.name

    def best(self, runs: list[Run]) -> float | None:
        return min(r.seconds for r in runs) if runs else None

    def peak_mib(self, runs: list[Run]) -> float | None:
        return max(r.maxrss_kib for r in runs) * 1024 / MIB if runs else None

    def ratio(self) -> float | None:
        a, t = self.best(self.analyzer), self.best(self.tshark)
        return t / a if a and t else None

    def target(self) -> tuple[str, str]:
        """The issue's target for this capture, and whether it is met."""
        if self.name == INFLATED:
            peak = max(r.maxrss_kib for r in self.analyzer) * 1024 if self.analyzer else None
            met = "—" if peak is None else ("yes" if peak <= RSS_TARGET_BYTES else "no")
            return "peak RSS ≤ 300 MB", met
        if self.name in SPEED_TARGETS:
            want, ratio = SPEED_TARGETS[self.name], self.ratio()
            met = "—" if ratio is None else ("yes" if ratio >= want else "no")
            return f"≥ {want:g}× tshark", met
        return "—", "—"


def bench(results: list[Result], rounds: int, timeout: float, report: Path) -> None:
    """Round-robin over captures and programs; the first round keeps the report."""
    for round_no in range(rounds):
        for result in results:
            if round_no and result.name == INFLATED:
                continue  # the 2 GiB file: one round
            output = str(report) if round_no == 0 else os.devnull
            log(f"  round {round_no + 1}: analyzer {result.name}")
            result.analyzer.append(measure(analyzer_argv(result.capture, output), timeout))
            if round_no == 0:
                summary = report_summary(report)
                result.report_bytes = report.stat().st_size
                result.sip_messages = _int(summary.get("sip_messages"))
                result.analyzer_packets = _int(summary.get("packets"))
            if result.with_tshark:
                log(f"  round {round_no + 1}: tshark {result.name}")
                run = measure(tshark_argv(result.capture), timeout)
                result.tshark.append(run)
                result.tshark_sip_messages = tshark_sip_messages(run.stdout)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _f(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


COLUMNS = (
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


def table(results: list[Result]) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * 9 + "---|---|",
    ]
    for r in results:
        a = r.best(r.analyzer)
        packets = r.packets if r.packets is not None else r.analyzer_packets
        pps = packets / a if a and packets is not None else None
        sps = r.sip_messages / a if a and r.sip_messages is not None else None
        ratio = r.ratio()
        target, met = r.target()
        cells = [
            r.name,
            _n(packets),
            _n(r.sip_messages),
            _f(a, ".2f"),
            _f(r.best(r.tshark), ".2f"),
            _n(None if pps is None else round(pps)),
            _n(None if sps is None else round(sps)),
            _f(r.peak_mib(r.analyzer), ".0f"),
            _f(r.peak_mib(r.tshark), ".0f"),
            "—" if ratio is None else f"{ratio:.2f}×",
            target,
            met,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        if r.packets is not None and r.analyzer_packets not in (None, r.packets):
            out.append(f"{r.name}: capinfos counts {r.packets}, the analyzer {r.analyzer_packets}")
        if r.tshark_sip_messages is not None and r.tshark_sip_messages != r.sip_messages:
            out.append(
                f"{r.name}: tshark counts {r.tshark_sip_messages} SIP messages, "
                f"the analyzer {r.sip_messages}"
            )
        cpu = [f"analyzer {min(x.cpu_seconds for x in r.analyzer):.2f}"]
        if r.tshark:
            cpu.append(f"tshark {min(x.cpu_seconds for x in r.tshark):.2f}")
        size = r.capture.stat().st_size
        report = "" if r.report_bytes is None else f", JSON report {r.report_bytes / MIB:,.1f} MiB"
        out.append(f"{r.name}: {size / MIB:,.1f} MiB{report}; CPU s (best round): {', '.join(cpu)}")
    return out


def git_revision() -> str:
    """The commit measured, marked when analyzer/ differs from it."""
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "analyzer"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" + uncommitted changes in analyzer/" if dirty else "")


def machine(cpu: int | None) -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    tshark = subprocess.run(
        ["tshark", "--version"], capture_output=True, text=True, check=False, timeout=60
    ).stdout.splitlines()
    pin = f"pinned to core {cpu}" if cpu is not None else "not pinned"
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores ({model}), {pin}; "
        f"{tshark[0].rstrip('.') if tshark else 'tshark ?'}; Linux {platform.release()}"
    )


def find_captures(folder: Path, include_2gb: bool) -> list[Path]:
    """The benchmark's captures first, then any other capture file in folder."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))
    order = {RTP: 0, TCP: 1, INFLATED: 2}
    files.sort(key=lambda p: (order.get(p.name, 3), p.name))
    return [p for p in files if include_2gb or p.name != INFLATED]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=Path, default=DEFAULT_DIR, metavar="DIR")
    parser.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--cpu", type=int, default=1, help="core to pin to (default 1)")
    parser.add_argument("--make", action="store_true", help="make missing captures first")
    parser.add_argument(
        "--include-2gb", action="store_true", help=f"also read {INFLATED} (memory target)"
    )
    parser.add_argument("--tshark-2gb", action="store_true", help=f"also time tshark on {INFLATED}")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds per program run (default 3600)"
    )
    args = parser.parse_args(argv)
    if shutil.which("tshark") is None:
        parser.error("tshark is not installed")
    if args.make:
        ensure_captures(args.captures, inflate=args.include_2gb)
    captures = find_captures(args.captures, args.include_2gb) if args.captures.is_dir() else []
    if not captures:
        parser.error(f"no capture in {args.captures}: make them with --make")
    if args.include_2gb and INFLATED not in {p.name for p in captures}:
        parser.error(f"no {INFLATED} in {args.captures}: make it with --make --include-2gb")
    cpu: int | None = args.cpu
    if cpu is not None and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})
    else:
        cpu = None
    results = [Result(p, with_tshark=p.name != INFLATED or args.tshark_2gb) for p in captures]
    revision = git_revision()
    for r in results:
        r.packets = capinfos_packets(r.capture)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        try:
            bench(results, args.rounds, args.timeout, Path(tmp) / "report.json")
        except BenchError as error:
            print(f"ingest_bench.py: {error}", file=sys.stderr)
            return 1
    print(f"captures: {args.captures}")
    print(f"machine: {machine(cpu)}")
    if git_revision() != revision:  # someone committed or edited analyzer/ meanwhile
        revision = f"{revision} at the start, {git_revision()} at the end"
    print(f"analyzer: {revision}; best of {args.rounds} round(s)")
    print()
    print(table(results))
    print()
    for line in notes(results):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
