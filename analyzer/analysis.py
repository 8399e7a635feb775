"""`Analysis`: the one object every reporter reads, with pandas views for notebooks.

The records (`store`, `call_records`, `finding_records`...) are what the
reporters stream; the DataFrames (`messages`, `responses`, `transactions`,
`calls`, `registrations`, `subscriptions`, `findings`) are made on first
access, one row per record, with the columns documented in docs/pandas.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .catalogue import Entry
from .classify import Finding
from .correlate import (
    OUTCOMES,
    Call,
    Correlation,
    Message,
    MessageStore,
    Metrics,
    Registration,
    Subscription,
)
from .ingest import Accounting

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from .batch.gates import GateResult
    from .select import Selection


def _view(analysis: Analysis, name: str) -> pd.DataFrame:
    # pandas is imported only when a view is asked for: the CLI does not need it.
    from . import views  # noqa: PLC0415

    return views.FRAMES[name](analysis)


@dataclass(frozen=True)
class Analysis:
    """Result of analysing one or more captures."""

    captures: tuple[Accounting, ...]
    """Per-capture facts and packet accounting, in the order given."""
    store: MessageStore
    """Every SIP message, in capture order (retransmissions included); each `Message` is
    made on access."""
    correlation: Correlation
    """Transactions, retransmissions, calls, registrations, checks, metrics."""
    annotations: dict[int, Entry]
    """Catalogue entry per response status code present in the capture."""
    finding_records: tuple[Finding, ...]
    """Diagnoses, errors first."""
    lang: str = "en"
    """Language of catalogue texts."""
    selection: Selection | None = None
    """What `analyzer.select.select` narrowed the per-call records to (None: everything)."""
    selected: frozenset[int] | None = None
    """Indexes of the messages of the selected calls (None: every message)."""
    unselected_calls: tuple[Call, ...] | None = None
    """Every call of the capture when a selection narrowed `call_records`."""
    gates: tuple[GateResult, ...] = ()
    """`--fail-on` gates checked against the whole analysis (empty: none asked)."""

    # -- records ------------------------------------------------------------

    @property
    def call_records(self) -> tuple[Call, ...]:
        """One record per Call-ID."""
        return self.correlation.calls

    @property
    def all_call_records(self) -> tuple[Call, ...]:
        """Every call of the capture, whatever the selection (summary counts use these)."""
        if self.unselected_calls is not None:
            return self.unselected_calls
        return self.correlation.calls

    @property
    def registration_records(self) -> tuple[Registration, ...]:
        """One record per Call-ID holding a REGISTER."""
        return self.correlation.registrations

    @property
    def subscription_records(self) -> tuple[Subscription, ...]:
        """One record per Call-ID holding a SUBSCRIBE."""
        return self.correlation.subscriptions

    @property
    def metrics(self) -> Metrics:
        """RFC 6076 metrics."""
        assert self.correlation.metrics is not None
        return self.correlation.metrics

    def message_records(self) -> Iterator[Message]:
        """The messages of the selected calls (every message without a selection)."""
        if self.selected is None:
            yield from self.store
            return
        store = self.store
        for i in sorted(self.selected):
            yield store[i]

    def response_records(self) -> Iterator[Message]:
        """The responses among `message_records()`."""
        if self.selected is None:
            yield from self.store.responses()
            return
        for msg in self.message_records():
            if not msg.is_request:
                yield msg

    def entry(self, msg: Message) -> Entry | None:
        """The catalogue entry of a response (None for requests)."""
        if msg.is_request or msg.status is None:
            return None
        return self.annotations.get(msg.status)

    def is_retransmission(self, msg: Message) -> bool:
        """Whether the message repeats an earlier one on the same hop."""
        return msg.index in self.correlation.retransmissions

    def outcome_counts(self) -> dict[str, int]:
        """Calls per outcome over the whole capture, every outcome present (zero
        included), vocabulary order."""
        counts = Counter(c.outcome for c in self.all_call_records)
        return {o: counts.get(o, 0) for o in OUTCOMES}

    def responses_by_status(self) -> dict[int, int]:
        """Responses per status code (retransmissions included, as tshark counts)."""
        counts = self.store.status_counts()
        return dict(sorted(counts.items()))

    def requests_by_method(self) -> dict[str, int]:
        """Requests per method (retransmissions included, as tshark counts)."""
        counts = self.store.method_counts()
        return dict(sorted(counts.items()))

    # -- pandas views ---------------------------------------------------------

    @cached_property
    def messages(self) -> pd.DataFrame:
        """One row per SIP message (retransmissions included)."""
        return _view(self, "messages")

    @cached_property
    def responses(self) -> pd.DataFrame:
        """One row per response, with its catalogue entry and its request."""
        return _view(self, "responses")

    @cached_property
    def transactions(self) -> pd.DataFrame:
        """One row per transaction."""
        return _view(self, "transactions")

    @cached_property
    def calls(self) -> pd.DataFrame:
        """One row per call (Call-ID), with outcome, timings and RFC 6076 metrics."""
        return _view(self, "calls")

    @cached_property
    def registrations(self) -> pd.DataFrame:
        """One row per registration (Call-ID holding a REGISTER)."""
        return _view(self, "registrations")

    @cached_property
    def subscriptions(self) -> pd.DataFrame:
        """One row per subscription (Call-ID holding a SUBSCRIBE)."""
        return _view(self, "subscriptions")

    @cached_property
    def findings(self) -> pd.DataFrame:
        """One row per finding."""
        return _view(self, "findings")
