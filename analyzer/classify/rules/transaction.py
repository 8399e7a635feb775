"""`txn.*`: the correlate stage's transaction checks (unanswered requests and Timer B/F,
ACKs missing, 481 after BYE/CANCEL, glare, CSeq going backwards, Max-Forwards 0,
retransmission storms), reported as findings."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..model import Finding
from ..rule import Rule


def _transaction_checks(ctx: Context) -> Iterator[Finding]:
    """The correlate stage's transaction checks (RFC 3261 §17, §12.2, §14.1, §16.3)."""
    yield from ctx.correlation.checks


RULES = (
    Rule(
        "txn.*",
        "RFC 3261 §17, §12.2, §14.1, §16.3",
        "Transaction checks: unanswered requests (Timer B/F), missing ACKs, 481 after BYE or "
        "CANCEL, glare, CSeq going backwards, Max-Forwards 0, retransmission storms.",
        _transaction_checks,
    ),
)
