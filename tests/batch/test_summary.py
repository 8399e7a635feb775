"""Rows and totals: a batch's totals are what one analysis of all its captures gives."""

from __future__ import annotations

import pytest

from analyzer import analyze
from analyzer.batch.summary import pool_metrics, row, totals
from analyzer.report.json_report import kpis_dict
from tests.conftest import CAPTURES

CAPS = ["udp4-answered.pcap", "udp4-busy.pcap", "udp4-register-auth.pcap", "tcp4-cancel.pcap"]


def test_totals_equal_one_analysis_of_every_capture() -> None:
    paths = [str(CAPTURES / c) for c in CAPS]
    singles = [analyze(p) for p in paths]
    together = analyze(paths)
    pooled = pool_metrics(a.metrics for a in singles)
    # Calls do not span these captures, so pooling loses nothing: same ratios, and the
    # same delay samples (in another order).
    assert kpis_dict(pooled) == kpis_dict(together.metrics)
    t = totals([row(a) for a in singles], pooled)
    whole = row(together)
    for key in (
        "calls",
        "failed_calls",
        "outcomes",
        "registrations",
        "registration_outcomes",
        "responses_by_status",
        "requests_by_method",
        "findings",
        "findings_by_severity",
        "kpis",
    ):
        assert t[key] == whole[key], key
    acc, acc_whole = t["accounting"], whole["accounting"]
    for key in ("packets", "sip_packets", "non_sip", "skipped", "sip_messages", "first_time"):
        assert acc[key] == acc_whole[key], key
    assert acc["last_time"] == pytest.approx(acc_whole["last_time"])


def test_totals_of_nothing_are_zeros() -> None:
    t = totals([], pool_metrics([]))
    assert t["calls"] == 0
    assert t["accounting"]["packets"] == 0
    assert t["kpis"]["ser"]["value"] is None
    assert set(t["outcomes"].values()) == {0}
