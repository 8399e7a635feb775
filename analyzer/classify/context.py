"""What a rule sees: messages, the correlation, and lookups between them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..correlate import Correlation, Message, MessageStore, Transaction


@dataclass(frozen=True)
class Context:
    """Read-only view over one analysis for the rules."""

    messages: MessageStore
    correlation: Correlation

    @classmethod
    def build(cls, messages: MessageStore, correlation: Correlation) -> Context:
        return cls(messages, correlation)

    def transaction_of(self, msg: Message) -> Transaction | None:
        """The transaction a message belongs to."""
        return None if msg.txn is None else self.correlation.transactions[msg.txn]

    def request_of(self, response: Message) -> Message | None:
        """The request a response answers (on the same hop)."""
        txn = self.transaction_of(response)
        return self.messages[txn.request] if txn and txn.request is not None else None

    def origin_responses(self, *statuses: int) -> Iterator[Message]:
        """One copy of each response with one of `statuses`: the one sent by the
        element that generated it, in capture order.

        A proxy relays a response hop by hop, removing its own Via (RFC 3261
        §16.7), so the generating element's copy is the one with the most Via
        headers. Rules about why a response was sent read that copy, with the
        request it answers on that hop. Only rows with those statuses are made.
        """
        rt = self.correlation.retransmissions
        best: dict[tuple[object, ...], tuple[int, int]] = {}
        for i in self.messages.with_status(statuses):
            if i in rt:
                continue
            m = self.messages[i]
            key = (m.call_id, m.cseq, m.status, m.to_tag)
            have = best.get(key)
            if have is None or m.via_count > have[1]:
                best[key] = (m.index, m.via_count)
        return (self.messages[i] for i in sorted(i for i, _ in best.values()))
