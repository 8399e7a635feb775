"""`sip-analyzer batch`: find the captures, run them, write the reports, print the
summary, exit with the gates' verdict. The I/O edge of the batch package.

Exit codes: 0 done; 1 a `--fail-on` gate tripped; 2 usage error (bad gate, bad
baseline, no output directory for the formats); 3 nothing could be analysed (no
capture found, or none readable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..cli import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, gate_exit, report_gates
from ..report import Format, RenderOptions
from ..report.text import inert
from . import aggregate, html_index, report
from .discover import find
from .gates import parse_gates
from .runner import SchedulerError, default_workers, run_dask, run_local
from .worker import Job, Result

AGGREGATED = {
    Format.MARKDOWN: ("batch.md", report.markdown),
    Format.JUNIT: ("batch.junit.xml", report.junit),
    Format.HTML: ("batch.html", html_index.render),
}
"""Aggregated reports written besides batch.json when their format is asked for."""


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"sip-analyzer: {message}", file=sys.stderr)
    return code


def _formats(values: list[str]) -> list[Format]:
    names = [v.strip() for arg in values for v in arg.split(",") if v.strip()] or ["json"]
    out: list[Format] = []
    for name in names:
        try:
            fmt = Format(name)
        except ValueError:
            raise ValueError(
                f"--format {name!r}: one of {', '.join(f.value for f in Format)}"
            ) from None
        if fmt not in out:
            out.append(fmt)
    return out


def run_batch(args: argparse.Namespace) -> int:
    """The `batch` command."""
    try:
        formats = _formats(args.format)
        gates = parse_gates(args.fail_on, baseline=args.baseline is not None)
    except ValueError as exc:
        return _fail(str(exc))
    if args.format and args.out is None:
        return _fail("--format writes a report per capture: give --out DIR")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be at least 1")
    if args.tolerance < 0:
        return _fail("--tolerance must be 0 or more")
    baseline = None
    if args.baseline is not None:
        try:
            text = Path(args.baseline).read_text(encoding="utf-8")
            baseline = aggregate.load_baseline(text, args.baseline)
        except (OSError, ValueError) as exc:
            return _fail(f"--baseline: {exc}")
    out = Path(args.out) if args.out is not None else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _fail(f"cannot create {out}: {exc.strerror or exc}")
    found = find(args.inputs, skip=out)
    for arg in found.unmatched:
        print(f"sip-analyzer: {arg}: no such file, directory or matching capture", file=sys.stderr)
    if found.ignored:
        print(
            f"sip-analyzer: passed over {len(found.ignored)} file(s) without a capture "
            f"suffix (e.g. {inert(str(found.ignored[0]), 200)})",
            file=sys.stderr,
        )
    if not found.captures:
        return _fail("no captures found in " + ", ".join(args.inputs), EXIT_UNREADABLE)
    jobs = [
        Job(
            key=key,
            # Dask workers elsewhere must see the same path: give them an absolute one.
            path=str(path.resolve()) if args.scheduler else str(path),
            out=str(out.resolve()) if out is not None else None,
            formats=tuple(f.value for f in formats) if out is not None else (),
            lang=args.lang,
            engine=args.engine,
            ladder=args.ladder,
            redact=args.redact,
            redact_identities=args.redact_identities,
        )
        for key, path in found.captures
    ]
    workers = args.workers or default_workers()
    started = time.time()
    t0 = time.monotonic()
    try:
        with _progress(len(jobs)) as progress:
            results = list(
                _tracked(
                    run_dask(jobs, args.scheduler, args.scheduler_timeout)
                    if args.scheduler
                    else run_local(jobs, workers),
                    progress,
                )
            )
    except SchedulerError as exc:
        return _fail(str(exc))
    run_info: dict[str, Any] = {
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - t0, 3),
        "host": socket.gethostname(),
        "workers": None if args.scheduler else min(workers, len(jobs)),
        "scheduler": args.scheduler,
        "inputs": list(args.inputs),
        "out": str(out) if out is not None else None,
    }
    doc = aggregate.document(
        results,
        lang=args.lang,
        formats=[f.value for f in formats] if out is not None else [],
        ignored=len(found.ignored),
        run=run_info,
    )
    if baseline is not None:
        doc = aggregate.with_baseline(doc, baseline, args.baseline, args.tolerance)
    doc, checked = aggregate.with_gates(doc, gates)
    if out is not None:
        code = _write_aggregate(doc, out, formats)
        if code != EXIT_OK:
            return code
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size((120, 40)).columns
    sys.stdout.write(report.terminal(doc, RenderOptions(color=color, width=width)))
    sys.stdout.flush()
    report_gates(checked, lambda c: inert(c, 120))
    if doc["totals"]["analysed"] == 0:
        return _fail("no capture could be analysed", EXIT_UNREADABLE)
    return gate_exit(checked)


def _write_aggregate(doc: dict[str, Any], out: Path, formats: list[Format]) -> int:
    files = [("batch.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")]
    for fmt, (name, render) in AGGREGATED.items():
        if fmt in formats:
            files.append((name, render(doc)))
    for name, text in files:
        try:
            (out / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {out / name}: {exc.strerror or exc}")
    return EXIT_OK


def _tracked(results: Iterable[Result], progress: Callable[[Result], None]) -> Iterator[Result]:
    for r in results:
        progress(r)
        yield r


def _line(r: Result, done: int, total: int) -> str:
    width = len(str(total))
    head = f"[{done:>{width}}/{total}] {inert(r.key, 200)}"
    if r.error is not None:
        return f"{head}: {r.error_kind}: {inert(r.error, 300)}"
    assert r.row is not None
    return (
        f"{head}: {r.row['accounting']['packets']} packets, {r.row['calls']} call(s), "
        f"{r.row['failed_calls']} failed ({r.seconds:.2f} s)"
    )


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Result], None]]:
    """Progress on stderr: a line per capture (logs), or a bar on a terminal."""
    done = [0]
    if not sys.stderr.isatty():

        def line(r: Result) -> None:
            done[0] += 1
            print(f"sip-analyzer: {_line(r, done[0], total)}", file=sys.stderr, flush=True)

        yield line
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True, highlight=False, markup=False, emoji=False)
    bar = Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("batch", total=total)

    def tick(r: Result) -> None:
        done[0] += 1
        if r.error is not None:
            # Errors stay on screen above the bar; the rest is in the summary.
            console.print(_line(r, done[0], total))
        bar.update(task, completed=done[0])

    with bar:
        yield tick
