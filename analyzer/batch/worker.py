"""One capture of a batch, in a worker (a pool process or a Dask worker): analyse it,
write its reports, return its row. Nothing here raises: a capture that cannot be
read, or a report that cannot be written, comes back as a result with its error."""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..correlate import Metrics
from ..ingest import CaptureError
from ..pipeline import Options, analyze
from ..redact import Redactor
from ..report import Format, RenderOptions, stream, write_tables
from . import summary

EXTENSIONS = {
    Format.TERMINAL: ".txt",
    Format.MARKDOWN: ".md",
    Format.HTML: ".html",
    Format.JSON: ".json",
    Format.JUNIT: ".junit.xml",
    Format.CSV: ".csv",
    Format.PARQUET: ".parquet",
}
"""What a per-capture report's file name adds to the capture's name (CSV and Parquet:
a directory of that name)."""


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker needs to analyse one capture (sent to it pickled)."""

    key: str
    """The capture's name in the batch (its path under the directory it was found in)."""
    path: str
    """Where the worker reads it (with Dask: a path every worker sees)."""
    out: str | None = None
    """Directory for the per-capture reports (None: none written)."""
    formats: tuple[str, ...] = ()
    """Per-capture report formats (`Format` values)."""
    lang: str = "en"
    """Catalogue language."""
    engine: str = "native"
    """Ingestion engine."""
    ladder: str = "failed"
    """Ladders in Markdown and HTML."""
    redact: bool = False
    """`--redact`."""
    redact_identities: bool = False
    """`--redact-identities`."""


@dataclass(frozen=True, slots=True)
class Result:
    """One capture's result, as the batch gathers it."""

    key: str
    """The capture's key."""
    path: str
    """The path it was read from."""
    size: int | None
    """File size in bytes (None when it could not be stat'ed)."""
    seconds: float
    """Wall time the worker spent on it."""
    row: dict[str, Any] | None = None
    """Its measures (`summary.row`); None when it could not be analysed."""
    metrics: Metrics | None = None
    """Its RFC 6076 metrics with their samples, for pooling into the totals."""
    reports: dict[str, str] = field(default_factory=dict)
    """Format -> report path relative to the output directory."""
    error: str | None = None
    """Why it failed, when it did."""
    error_kind: str | None = None
    """`unreadable` (not a capture), `write` (a report could not be written) or
    `internal` (a defect of ours: the message holds the traceback's last lines)."""
    worker: str = ""
    """Host and process that ran it."""


def report_path(key: str, fmt: Format) -> str:
    """A per-capture report's path relative to the output directory."""
    return key + EXTENSIONS[fmt]


def run(job: Job) -> Result:
    """Analyse `job`'s capture and write its reports."""
    start = time.monotonic()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        size: int | None = os.stat(job.path).st_size
    except OSError:
        size = None

    def result(**fields: Any) -> Result:
        return Result(job.key, job.path, size, time.monotonic() - start, worker=worker, **fields)

    def failed(
        kind: str, message: str, row: dict[str, Any] | None = None, metrics: Metrics | None = None
    ) -> Result:
        return result(row=row, metrics=metrics, error=message, error_kind=kind)

    redactor = (
        Redactor(identities=job.redact_identities) if job.redact or job.redact_identities else None
    )
    try:
        analysis = analyze(job.path, Options(lang=job.lang, engine=job.engine, redactor=redactor))
    except CaptureError as exc:
        return failed("unreadable", str(exc))
    except Exception:  # one capture's defect must not stop the night's batch
        return failed("internal", _last_lines(traceback.format_exc()))
    try:
        row = summary.row(analysis)
    except Exception:  # as above, reported with its traceback
        return failed("internal", _last_lines(traceback.format_exc()))
    reports: dict[str, str] = {}
    if job.out is not None:
        options = RenderOptions(color=False, width=120, ladder=job.ladder)
        for name in job.formats:
            fmt = Format(name)
            rel = report_path(job.key, fmt)
            target = Path(job.out, rel)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if fmt.is_directory:
                    write_tables(analysis, target, fmt)
                else:
                    with open(target, "w", encoding="utf-8") as f:
                        f.writelines(stream(analysis, fmt, options))
            except (OSError, ValueError) as exc:
                return failed("write", f"cannot write {target}: {exc}", row, analysis.metrics)
            except Exception:  # as above
                return failed(
                    "internal", _last_lines(traceback.format_exc()), row, analysis.metrics
                )
            reports[name] = rel
    return result(row=row, metrics=analysis.metrics, reports=reports)


def _last_lines(tb: str, n: int = 6) -> str:
    return "internal error: " + " | ".join(line.strip() for line in tb.strip().splitlines()[-n:])
