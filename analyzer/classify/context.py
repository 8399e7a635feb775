"""What a rule sees: messages, the correlation, and lookups between them."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..correlate import Correlation, Message, MessageStore, Transaction


@dataclass(frozen=True)
class Context:
    """Read-only view over one analysis for the rules."""

    messages: MessageStore
    correlation: Correlation
    _origin: array[int] = field(default_factory=lambda: array("q"))

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

    def responses(self) -> Iterator[Message]:
        """Every response that is not a retransmission."""
        rt = self.correlation.retransmissions
        return (m for m in self.messages.responses() if m.index not in rt)

    def origin_responses(self) -> Iterator[Message]:
        """One copy of each response: the one sent by the element that generated it.

        A proxy relays a response hop by hop, removing its own Via (RFC 3261
        §16.7), so the generating element's copy is the one with the most Via
        headers. Rules about why a response was sent read that copy, with the
        request it answers on that hop. Worked out once, kept as indexes.
        """
        if not self._origin:
            best: dict[tuple[object, ...], tuple[int, int]] = {}
            for m in self.responses():
                key = (m.call_id, m.cseq, m.status, m.to_tag)
                have = best.get(key)
                if have is None or m.via_count > have[1]:
                    best[key] = (m.index, m.via_count)
            self._origin.extend(sorted(i for i, _ in best.values()))
            self._origin.append(-1)  # marks "worked out", even when empty
        return (self.messages[i] for i in self._origin if i >= 0)
