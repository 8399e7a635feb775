"""`Analysis`: the one object every reporter reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .catalogue import Entry
from .classify import Finding
from .correlate import OUTCOMES, Call, Correlation, Message, MessageStore
from .ingest import Accounting


@dataclass(frozen=True)
class Analysis:
    """Result of analysing one or more captures."""

    captures: tuple[Accounting, ...]
    """Per-capture facts and packet accounting, in the order given."""
    messages: MessageStore
    """Every SIP message, in capture order (retransmissions included); each `Message` is
    made on access."""
    correlation: Correlation
    """Transactions, retransmissions, calls."""
    annotations: dict[int, Entry]
    """Catalogue entry per response status code present in the capture."""
    findings: tuple[Finding, ...]
    """Diagnoses, errors first."""
    lang: str = "en"
    """Language of catalogue texts."""

    @property
    def calls(self) -> tuple[Call, ...]:
        """One record per Call-ID."""
        return self.correlation.calls

    def entry(self, msg: Message) -> Entry | None:
        """The catalogue entry of a response (None for requests)."""
        if msg.is_request or msg.status is None:
            return None
        return self.annotations.get(msg.status)

    def is_retransmission(self, msg: Message) -> bool:
        """Whether the message repeats an earlier one on the same hop."""
        return msg.index in self.correlation.retransmissions

    def outcome_counts(self) -> dict[str, int]:
        """Calls per outcome, every outcome present (zero included), vocabulary order."""
        counts = Counter(c.outcome for c in self.calls)
        return {o: counts.get(o, 0) for o in OUTCOMES}

    def responses_by_status(self) -> dict[int, int]:
        """Responses per status code (retransmissions included, as tshark counts)."""
        counts = self.messages.status_counts()
        return dict(sorted(counts.items()))

    def requests_by_method(self) -> dict[str, int]:
        """Requests per method (retransmissions included, as tshark counts)."""
        counts = self.messages.method_counts()
        return dict(sorted(counts.items()))
