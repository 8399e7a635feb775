"""Where the jobs run: in this process (one worker), a local process pool, or a Dask
distributed cluster. Every way hands back the same `Result`s, one per job, as they
complete; the batch sorts them by key, so the aggregate does not depend on the order."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from .worker import Job, Result, run


class SchedulerError(Exception):
    """The Dask scheduler cannot be reached or used."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_local(jobs: Sequence[Job], workers: int) -> Iterator[Result]:
    """Run `jobs` in a pool of `workers` processes (in this process when 1), yielding
    each result as it completes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run(job)
        return
    # forkserver: the parent may hold threads (a progress bar), which fork would copy
    # in whatever state they are in.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(run, job): job for job in jobs}
        for future in as_completed(futures):
            yield _outcome(future.result, futures[future])


def run_dask(jobs: Sequence[Job], address: str, timeout: float = 30.0) -> Iterator[Result]:
    """Run `jobs` on the Dask distributed scheduler at `address`, one task per capture.

    The workers need this package installed (the same version) and must see the
    capture paths and the output directory under the same names.
    """
    try:
        from distributed import Client  # noqa: PLC0415 - optional: only for --scheduler
        from distributed import as_completed as dask_completed  # noqa: PLC0415
    except ImportError as exc:
        raise SchedulerError(
            "--scheduler needs Dask distributed: pip install 'sip-trace-analyzer[cluster]'"
        ) from exc
    try:
        client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        # Keys unique to this run: Dask shares the results of equal keys between clients.
        token = uuid.uuid4().hex[:12]
        futures = client.map(
            run, list(jobs), key=[f"sip-analyzer-{token}-{i}" for i in range(len(jobs))]
        )
        by_key = {f.key: job for f, job in zip(futures, jobs, strict=True)}
        for future in dask_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
            yield _outcome(future.result, by_key[future.key])
    finally:
        client.close()  # type: ignore[no-untyped-call]


def _outcome(result: Callable[[], Result], job: Job) -> Result:
    """A future's result; a worker that died or could not run the task becomes the
    capture's error, so the batch goes on."""
    try:
        return result()
    except Exception as exc:  # a lost worker is that capture's failure
        return Result(
            job.key,
            job.path,
            None,
            0.0,
            error=f"internal error: the worker failed: {type(exc).__name__}: {exc}",
            error_kind="internal",
        )
