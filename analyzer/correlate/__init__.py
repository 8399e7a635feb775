"""Correlate: transactions, retransmissions, calls and their outcomes.

Pure: takes parsed messages with their capture context, returns records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .calls import build_calls
from .model import OUTCOMES, Call, Message, SipSource, Transaction
from .store import MessageStore
from .transactions import match_transactions, transaction_key


@dataclass(frozen=True, slots=True)
class Correlation:
    """Everything the correlate stage derived from a message list."""

    transactions: tuple[Transaction, ...]
    """Transactions in order of first appearance."""
    retransmissions: frozenset[int]
    """Indexes of messages that repeat an earlier one on the same hop."""
    calls: tuple[Call, ...]
    """One record per Call-ID, in order of first appearance."""


def correlate(messages: Sequence[Message], capture_end: float) -> Correlation:
    """Match transactions and build calls. `capture_end` is the last frame's time."""
    txns, retrans = match_transactions(messages)
    calls = build_calls(messages, txns, retrans, capture_end)
    return Correlation(tuple(txns), frozenset(retrans), tuple(calls))


__all__ = [
    "OUTCOMES",
    "Call",
    "Correlation",
    "Message",
    "MessageStore",
    "SipSource",
    "Transaction",
    "correlate",
    "match_transactions",
    "transaction_key",
]
