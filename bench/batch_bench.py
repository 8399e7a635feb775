"""Batch benchmark (issue 9): captures per minute against the number of workers.

Usage:
    python bench/batch_bench.py [--workers 1,2,4] [--rounds N] [--copies N]
                                [--load-copies N] [--no-load] [--limit N]
                                [--dask] [--timeout S]

The lab captures (``captures/*.pcap captures/*.pcapng``, the first N of them
by name with ``--limit N``) are each a few dozen packets: alone they would
measure process start-up, not analysis. So a temporary working directory gets
``--copies`` copies of each (``lab-1/`` ...), plus, unless ``--no-load``,
``--load-copies`` copies of the 1000-call load capture
``captures/load/udp4-load.pcap.gz`` (``load-1/`` ...). Every worker count K
of ``--workers`` (default: 1, 2 and the core count if larger) then runs, as
child processes of this one (not pinned: the point is to use the cores),

* ``python -m analyzer batch WORKDIR --workers K --out TMP --format json``
  (K = 1 analyses in-process, serially; K > 1 is the batch's process pool);
* with ``--dask``, the same with ``--scheduler ADDRESS`` instead of
  ``--workers``, against a ``distributed.LocalCluster`` of K single-threaded
  worker processes started (fresh, in this process) just before the run and
  closed just after: the cluster's start-up is not in the measured time,
  the import of the analyzer in its workers is;
* ``tshark -r F -q -z sip,stat`` for every file F of WORKDIR, K processes at
  a time (K = 1: one after the other), as the reference.

Rounds go round-robin over worker counts and runners, so a slow spell of the
VM hits all alike; the fastest wall time of N rounds counts (the whole child
process for the analyzer, the whole set for tshark). The table gives
captures/minute (files / best wall time x 60), the speed-up over the same
runner with one worker, the parallel efficiency (speed-up / K) and the ratio
to tshark's captures/minute at the same K. ``run.seconds`` is the analysis
phase as the batch itself timed it (in its batch.json, from the round of the
best wall time): the rest of the wall time is interpreter start-up, capture
discovery, batch.json and the printed summary.

The VM is shared: "others (cores)" is the CPU that processes outside this
benchmark's process tree used during the best round, per second of its wall
time (sampled from /proc every 0.5 s, `OtherLoad`); a row with others well
above 0 was measured on a busy machine. The notes give every round.

Each analyzer run writes to a fresh temporary output directory, removed
after the run (untimed); the working directory goes at the end. Results and
commands in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
LOAD_CAPTURE = CAPTURES / "load" / "udp4-load.pcap.gz"

ANALYZER = "sip-analyzer batch"
DASK = "sip-analyzer batch (Dask)"
TSHARK = "tshark -z sip,stat"

COLUMNS = (
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


class BenchError(Exception):
    """A program failed, timed out, or did not analyse the set."""


@dataclass(frozen=True)
class Run:
    """One measured run of a runner over the whole set."""

    wall: float
    """Wall time of the child process (analyzer) or of the whole set (tshark)."""
    captures: int
    """Captures the run handled (batch.json totals.captures, or files for tshark)."""
    run_seconds: float | None = None
    """batch.json run.seconds: the analysis phase, as the batch timed it."""
    analysed: int | None = None
    packets: int | None = None
    sip_messages: int | None = None
    """The analyzer's totals, or the sum of tshark's ``Number of SIP messages``."""
    others: float | None = None
    """CPU used meanwhile by processes outside this benchmark, in cores (`OtherLoad`)."""


@dataclass
class Row:
    """Every run of one runner at one worker count."""

    runner: str
    workers: int
    runs: list[Run] = field(default_factory=list)

    def best(self) -> Run | None:
        return min(self.runs, key=lambda r: r.wall) if self.runs else None


@dataclass(frozen=True)
class CaptureSet:
    """The working directory's files and how they were made."""

    root: Path
    files: tuple[Path, ...]
    lab: int
    copies: int
    load_copies: int

    @property
    def bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def describe(self) -> str:
        parts = [
            f"{self.copies} cop{'y' if self.copies == 1 else 'ies'} of {self.lab} lab captures"
        ]
        if self.load_copies:
            parts.append(f"{self.load_copies} of {LOAD_CAPTURE.name}")
        return f"{len(self.files)} files ({', '.join(parts)}), {self.bytes:,} bytes"


def lab_captures(limit: int | None) -> list[Path]:
    """captures/*.pcap and captures/*.pcapng, by name; the first `limit` of them."""
    files = sorted(
        (p for pattern in ("*.pcap", "*.pcapng") for p in CAPTURES.glob(pattern) if p.is_file()),
        key=lambda p: p.name,
    )
    return files[:limit] if limit is not None else files


def build_set(root: Path, lab: Sequence[Path], copies: int, load_copies: int) -> CaptureSet:
    """Copy the captures into root: lab-I/NAME for the lab ones, load-I/NAME for the load one."""
    files: list[Path] = []
    for i in range(1, copies + 1):
        folder = root / f"lab-{i}"
        folder.mkdir()
        for capture in lab:
            shutil.copyfile(capture, folder / capture.name)
            files.append(folder / capture.name)
    for i in range(1, load_copies + 1):
        folder = root / f"load-{i}"
        folder.mkdir()
        shutil.copyfile(LOAD_CAPTURE, folder / LOAD_CAPTURE.name)
        files.append(folder / LOAD_CAPTURE.name)
    return CaptureSet(root, tuple(sorted(files)), len(lab), copies, load_copies)


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """Wait for proc, SIGKILL (by PID) after timeout; its exit code and the time waited."""
    start = time.perf_counter()
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        code = proc.wait()
    finally:
        killer.cancel()
    return code, time.perf_counter() - start


def analyzer_run(
    capture_set: CaptureSet, workers: int, scheduler: str | None, scratch: Path, timeout: float
) -> Run:
    """`sip-analyzer batch` over the set, as a child process; read its batch.json."""
    out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
    argv = [sys.executable, "-m", "analyzer", "batch", str(capture_set.root)]
    argv += ["--scheduler", scheduler] if scheduler else ["--workers", str(workers)]
    argv += ["--out", str(out), "--format", "json"]
    try:
        with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
            )
            code, _ = _wait(proc, timeout)
            wall = time.perf_counter() - start
            if code != 0:
                stderr.seek(0)
                tail = stderr.read().decode(errors="replace")[-2000:]
                why = "timed out" if wall >= timeout else f"exit {code}"
                raise BenchError(f"{' '.join(argv)}: {why}\n{tail}")
        doc: dict[str, Any] = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    totals = doc["totals"]
    run = Run(
        wall=wall,
        captures=int(totals["captures"]),
        run_seconds=float(doc["run"]["seconds"]),
        analysed=int(totals["analysed"]),
        packets=int(totals["accounting"]["packets"]),
        sip_messages=int(totals["accounting"]["sip_messages"]),
    )
    if run.captures != len(capture_set.files):
        raise BenchError(
            f"{' '.join(argv)}: batch.json counts {run.captures} captures, "
            f"the set has {len(capture_set.files)} files"
        )
    return run


def _sip_messages(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("Number of SIP messages:"):
            return int(line.split(":", 1)[1])
    return 0


def tshark_run(capture_set: CaptureSet, workers: int, timeout: float) -> Run:
    """`tshark -r F -q -z sip,stat` for every file, `workers` processes at a time."""

    def one(path: Path) -> int:
        argv = ["tshark", "-r", str(path), "-q", "-z", "sip,stat"]
        try:
            res = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"{' '.join(argv)}: timed out") from None
        if res.returncode != 0:
            tail = res.stderr.decode(errors="replace")[-2000:]
            raise BenchError(f"{' '.join(argv)}: exit {res.returncode}\n{tail}")
        return _sip_messages(res.stdout.decode(errors="replace"))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        messages = sum(pool.map(one, capture_set.files))
    wall = time.perf_counter() - start
    return Run(wall=wall, captures=len(capture_set.files), sip_messages=messages)


@contextmanager
def dask_cluster(workers: int) -> Iterator[tuple[str, float]]:
    """A LocalCluster of `workers` single-threaded processes: its address, start-up (s)."""
    from distributed import LocalCluster  # noqa: PLC0415 - only with --dask

    start = time.perf_counter()
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster.scheduler_address, time.perf_counter() - start
    finally:
        cluster.close()


class OtherLoad:
    """CPU time of the processes outside this benchmark's process tree (other sessions
    on a shared machine, kernel threads), sampled from /proc every `interval` seconds.

    A process that starts and ends between two samples is missed, and the last
    interval of one that ends is lost: a lower bound.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self._tick = os.sysconf("SC_CLK_TCK")
        self._lock = threading.Lock()
        self._last: dict[tuple[int, int], int] | None = None  # (pid, start) -> CPU ticks
        self._other = 0  # ticks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)

    def __enter__(self) -> OtherLoad:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def seconds(self) -> float:
        """CPU seconds used by other processes since the start, up to now."""
        self._sample()
        return self._other / self._tick

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._sample()

    def _sample(self) -> None:
        with self._lock:
            procs: dict[int, tuple[int, int, int]] = {}  # pid -> (ppid, start, ticks)
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as f:
                        stat = f.read()
                    # After "pid (comm) ": state, ppid, ... utime (14), stime (15), starttime (22).
                    fields = stat[stat.rindex(b")") + 2 :].split()
                    ticks = int(fields[11]) + int(fields[12])
                    procs[int(entry.name)] = (int(fields[1]), int(fields[19]), ticks)
                except (OSError, ValueError, IndexError):
                    continue
            children: dict[int, list[int]] = {}
            for pid, (ppid, _, _) in procs.items():
                children.setdefault(ppid, []).append(pid)
            mine, stack = {os.getpid()}, [os.getpid()]
            while stack:
                for child in children.get(stack.pop(), ()):
                    if child not in mine:
                        mine.add(child)
                        stack.append(child)
            current = {(pid, start): ticks for pid, (_, start, ticks) in procs.items()}
            if self._last is not None:
                for pid, (_, start, ticks) in procs.items():
                    if pid not in mine:
                        self._other += max(0, ticks - self._last.get((pid, start), 0))
            self._last = current


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench(
    capture_set: CaptureSet,
    counts: Sequence[int],
    rounds: int,
    *,
    dask: bool,
    tshark: bool,
    scratch: Path,
    timeout: float,
    others: OtherLoad,
) -> tuple[list[Row], list[float]]:
    """Round-robin over worker counts and runners; the rows and the Dask start-up times."""

    def measured(make: Callable[[], Run]) -> Run:
        before = others.seconds()
        run = make()
        return replace(run, others=(others.seconds() - before) / run.wall)

    rows = {(ANALYZER, k): Row(ANALYZER, k) for k in counts}
    if dask:
        rows.update({(DASK, k): Row(DASK, k) for k in counts})
    if tshark:
        rows.update({(TSHARK, k): Row(TSHARK, k) for k in counts})
    startups: list[float] = []
    for round_no in range(1, rounds + 1):
        for k in counts:
            head = f"round {round_no}/{rounds}, {k} worker(s)"
            run = measured(partial(analyzer_run, capture_set, k, None, scratch, timeout))
            rows[ANALYZER, k].runs.append(run)
            log(
                f"{head}: {ANALYZER}: {run.wall:.2f} s (run.seconds {run.run_seconds}, "
                f"others {run.others:.2f} cores)"
            )
            if dask:
                with dask_cluster(k) as (address, startup):
                    startups.append(startup)
                    run = measured(partial(analyzer_run, capture_set, k, address, scratch, timeout))
                rows[DASK, k].runs.append(run)
                log(
                    f"{head}: {DASK}: {run.wall:.2f} s (cluster start-up {startup:.2f} s, "
                    f"others {run.others:.2f} cores)"
                )
            if tshark:
                run = measured(partial(tshark_run, capture_set, k, timeout))
                rows[TSHARK, k].runs.append(run)
                log(f"{head}: {TSHARK}: {run.wall:.2f} s (others {run.others:.2f} cores)")
    return list(rows.values()), startups


def _per_minute(row: Row) -> float | None:
    best = row.best()
    return best.captures / best.wall * 60 if best is not None and best.wall > 0 else None


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
    by_key = {(r.runner, r.workers): r for r in rows}
    for r in rows:
        best = r.best()
        if best is None:
            continue
        rate = _per_minute(r)
        one = by_key.get((r.runner, 1))
        one_best = one.best() if one is not None else None
        speedup = one_best.wall / best.wall if one_best is not None else None
        ref = by_key.get((TSHARK, r.workers))
        ref_rate = _per_minute(ref) if ref is not None and r.runner != TSHARK else None
        cells = [
            r.runner,
            str(r.workers),
            str(best.captures),
            f"{best.wall:.2f}",
            "—" if best.run_seconds is None else f"{best.run_seconds:.2f}",
            "—" if rate is None else f"{rate:,.0f}",
            "—" if speedup is None else f"{speedup:.2f}×",
            "—" if speedup is None else f"{speedup / r.workers * 100:.0f} %",
            "—" if rate is None or not ref_rate else f"{rate / ref_rate:.2f}×",
            "—" if best.others is None else f"{best.others:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(rows: Sequence[Row], startups: Sequence[float], tshark: bool) -> list[str]:
    out = []
    for r in rows:
        walls = ", ".join(f"{x.wall:.2f}" for x in r.runs)
        busy = ", ".join(f"{x.others:.2f}" for x in r.runs if x.others is not None)
        line = f"{r.runner}, {r.workers} worker(s): wall {walls} s; others {busy} cores"
        if r.runner != TSHARK:
            secs = ", ".join(f"{x.run_seconds:.2f}" for x in r.runs if x.run_seconds is not None)
            line += f"; run.seconds {secs}"
            partial = [x for x in r.runs if x.analysed != x.captures]
            if partial:
                line += f"; only {partial[0].analysed} of {partial[0].captures} analysed"
        out.append(line)
    if startups:
        out.append(
            f"Dask LocalCluster start-up (not counted): {min(startups):.2f} to "
            f"{max(startups):.2f} s"
        )
    analyzer = sorted({x.sip_messages or 0 for r in rows if r.runner != TSHARK for x in r.runs})
    reference = sorted({x.sip_messages or 0 for r in rows if r.runner == TSHARK for x in r.runs})
    if reference:
        verdict = "equal" if reference == analyzer else "they differ"
        out.append(
            "SIP messages over the set: tshark "
            + "/".join(f"{n:,}" for n in reference)
            + ", the analyzer "
            + "/".join(f"{n:,}" for n in analyzer)
            + f" ({verdict})"
        )
    if not tshark:
        out.append("tshark is not installed: no tshark rows, no 'vs tshark' ratio")
    return out


def loadavg() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def machine(cores: int, dask: bool) -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{cores} cores ({model}), not pinned"
    ]
    if shutil.which("tshark") is not None:
        first = subprocess.run(
            ["tshark", "--version"], capture_output=True, text=True, check=False, timeout=60
        ).stdout.splitlines()
        parts.append(first[0].rstrip(".") if first else "tshark ?")
    if dask:
        parts.append(f"Dask distributed {importlib.metadata.version('distributed')}")
    parts.append(f"Linux {platform.release()}")
    return "; ".join(parts)


def _counts(text: str) -> list[int]:
    try:
        counts = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated worker counts") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: worker counts must be at least 1")
    return counts


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers",
        type=_counts,
        default=sorted({1, 2, cores()}),
        metavar="K,K...",
        help="worker counts (default: 1, 2 and the core count if larger)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--copies", type=int, default=4, help="copies of each lab capture (default 4)"
    )
    parser.add_argument(
        "--load-copies",
        type=int,
        default=4,
        help=f"copies of {LOAD_CAPTURE.name} (default 4)",
    )
    parser.add_argument("--no-load", action="store_true", help=f"leave {LOAD_CAPTURE.name} out")
    parser.add_argument("--limit", type=int, help="only the first N lab captures (by name)")
    parser.add_argument(
        "--dask", action="store_true", help="also run on a Dask LocalCluster of K workers"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per program run (default 1800)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.copies < 1 or args.load_copies < 0:
        parser.error("--rounds and --copies must be at least 1, --load-copies at least 0")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    load_copies = 0 if args.no_load else args.load_copies
    if load_copies and not LOAD_CAPTURE.is_file():
        parser.error(
            f"{LOAD_CAPTURE} is missing: make it (captures/lab/run.py --load) or --no-load"
        )
    lab = lab_captures(args.limit)
    if not lab:
        parser.error(f"no *.pcap or *.pcapng in {CAPTURES}")
    if args.dask:
        try:
            importlib.metadata.version("distributed")
        except importlib.metadata.PackageNotFoundError:
            parser.error("--dask needs Dask distributed: pip install 'dask[distributed]'")
    with_tshark = shutil.which("tshark") is not None
    from ingest_bench import git_revision  # noqa: PLC0415 - not at import: Dask's spawn re-imports

    revision = git_revision()
    load_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        workdir, scratch = Path(tmp, "captures"), Path(tmp, "out")
        workdir.mkdir()
        scratch.mkdir()
        capture_set = build_set(workdir, lab, args.copies, load_copies)
        log(f"capture set: {capture_set.describe()} in {workdir}")
        try:
            with OtherLoad() as others:
                rows, startups = bench(
                    capture_set,
                    args.workers,
                    args.rounds,
                    dask=args.dask,
                    tshark=with_tshark,
                    scratch=scratch,
                    timeout=args.timeout,
                    others=others,
                )
        except BenchError as error:
            print(f"batch_bench.py: {error}", file=sys.stderr)
            return 1
        described = capture_set.describe()
    first = rows[0].runs[0]
    print(
        f"capture set: {described}; {first.packets:,} packets, "
        f"{first.sip_messages:,} SIP messages (batch.json of the first run)"
    )
    print(
        f"machine: {machine(cores(), args.dask)}; "
        f"load average {load_start} at the start, {loadavg()} at the end"
    )
    print(f"analyzer: {revision}; best of {args.rounds} round(s), round-robin")
    print()
    print(table(rows))
    print()
    for line in notes(rows, startups, with_tshark):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
