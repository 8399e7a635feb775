"""pandas views: one row per record, the documented columns and dtypes, values that
agree with the records and with tshark."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from analyzer import Analysis, analyze
from analyzer.views import COLUMNS
from tests.conftest import CAPTURES
from tests.tshark import sip_counts

DOC = Path(__file__).resolve().parents[1] / "docs" / "pandas.md"
DEMO = CAPTURES / "demo.pcapng"


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return analyze(str(DEMO))


@pytest.mark.parametrize("view", list(COLUMNS))
def test_each_view_has_the_documented_columns_and_dtypes(demo: Analysis, view: str) -> None:
    frame: pd.DataFrame = getattr(demo, view)
    assert list(frame.columns) == list(COLUMNS[view])
    assert {c: str(t) for c, t in frame.dtypes.items()} == COLUMNS[view]
    # docs/pandas.md documents exactly these columns under the view's heading.
    section = DOC.read_text().split(f"## `{view}`", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", section, re.M) == list(COLUMNS[view])


def test_rows_are_one_per_record_and_agree_with_tshark(demo: Analysis) -> None:
    methods, statuses = sip_counts(DEMO)
    assert len(demo.messages) == len(demo.store) == sum(methods.values()) + sum(statuses.values())
    assert len(demo.responses) == sum(statuses.values())
    assert demo.responses.status.value_counts().to_dict() == statuses
    assert demo.messages.method.value_counts().to_dict() == methods
    assert len(demo.transactions) == len(demo.correlation.transactions)
    assert len(demo.calls) == len(demo.call_records)
    assert len(demo.registrations) == len(demo.registration_records) > 0
    assert len(demo.findings) == len(demo.finding_records) > 0


def test_views_answer_the_questions_a_notebook_asks(demo: Analysis) -> None:
    counts = demo.calls.groupby("outcome").size().to_dict()
    assert counts == {k: v for k, v in demo.outcome_counts().items() if v}
    answered = demo.calls.query("outcome == 'answered' and method == 'INVITE'")
    assert answered["setup"].mean() == pytest.approx(demo.metrics.setup.mean)
    assert answered["completed"].all()
    # Every response row points at its request's frame, and the latency is positive.
    joined = demo.responses.dropna(subset=["request_frame"])
    assert (joined.latency >= 0).all()
    assert set(joined.request_frame) <= set(demo.messages.frame)
    # Findings carry their evidence frames and filter.
    first = demo.findings.iloc[0]
    want = "frame.number in {" + " ".join(map(str, sorted(set(first["frames"])))) + "}"
    assert first["filter"] == want


def test_views_of_an_empty_capture_are_empty_with_their_columns(tmp_path: Path) -> None:
    a = analyze(str(CAPTURES / "udp4-options.pcap"))
    assert a.registrations.empty
    assert list(a.registrations.columns) == list(COLUMNS["registrations"])
    assert a.subscriptions.empty
