"""Nightly mode: analyse directories of captures in parallel (a process pool or a Dask
cluster), write a report per capture and one aggregated report, compare it with a
baseline, and gate on it (docs/batch.md).

Modules, in the order a batch uses them: `discover` (which files), `worker` (one
capture: analyse, write its reports, return its row), `runner` (where workers run),
`summary` (rows and totals), `diff` (baseline), `gates` (`--fail-on`), `aggregate`
(the `sip-analyzer-batch/1` document), `report` (it as text), `cli` (the command).

Nothing is imported here: the reporters import `gates`, and `summary` imports the
reporters, so an eager import would be circular.
"""
