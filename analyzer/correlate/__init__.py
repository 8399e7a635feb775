"""Correlate: transactions, retransmissions, calls and their outcomes.

Pure: takes parsed messages with their capture context, returns records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..findings import Finding
from .calls import build_calls
from .checks import transaction_checks
from .metrics import Delay, Metrics, Ratio, compute
from .model import (
    OUTCOMES,
    REG_OUTCOMES,
    SUB_OUTCOMES,
    Call,
    Interval,
    Message,
    Registration,
    SipSource,
    Subscription,
    Transaction,
)
from .store import MessageStore
from .transactions import TransactionTable, transaction_key_of


@dataclass(frozen=True, slots=True)
class Correlation:
    """Everything the correlate stage derived from a message list."""

    transactions: Sequence[Transaction]
    """Transactions in order of first appearance (the store's table: a record is made on
    access); `Message.txn` indexes it."""
    retransmissions: frozenset[int]
    """Indexes of messages that repeat an earlier one on the same hop."""
    calls: tuple[Call, ...]
    """One record per Call-ID, in order of first appearance."""
    registrations: tuple[Registration, ...] = ()
    """One record per Call-ID holding a REGISTER."""
    subscriptions: tuple[Subscription, ...] = ()
    """One record per Call-ID holding a SUBSCRIBE."""
    checks: tuple[Finding, ...] = ()
    """Transaction-level anomalies."""
    metrics: Metrics | None = None
    """RFC 6076 metrics."""


def correlate(messages: MessageStore, capture_end: float) -> Correlation:
    """Build calls from the store (transactions were matched as it was filled).
    `capture_end` is the last frame's time."""
    txns = messages.transactions
    retrans = frozenset(txns.retransmissions)
    dialogs = build_calls(messages, txns, retrans, capture_end)
    checks = transaction_checks(messages, txns, retrans, capture_end)
    return Correlation(
        txns,
        retrans,
        tuple(dialogs.calls),
        tuple(dialogs.registrations),
        tuple(dialogs.subscriptions),
        tuple(checks),
        compute(dialogs.calls, dialogs.registrations),
    )


__all__ = [
    "OUTCOMES",
    "REG_OUTCOMES",
    "SUB_OUTCOMES",
    "Call",
    "Correlation",
    "Delay",
    "Interval",
    "Message",
    "MessageStore",
    "Metrics",
    "Ratio",
    "Registration",
    "SipSource",
    "Subscription",
    "Transaction",
    "TransactionTable",
    "correlate",
    "transaction_key_of",
]
