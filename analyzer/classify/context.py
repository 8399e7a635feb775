"""What a rule sees: messages, the correlation, and lookups between them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from ..correlate import Call, Correlation, Message, MessageStore, Transaction


@dataclass(frozen=True)
class Context:
    """Read-only view over one analysis for the rules."""

    messages: MessageStore
    correlation: Correlation

    @classmethod
    def build(cls, messages: MessageStore, correlation: Correlation) -> Context:
        return cls(messages, correlation)

    @cached_property
    def _calls(self) -> dict[str, Call]:
        return {c.call_id: c for c in self.correlation.calls}

    @cached_property
    def _by_call_id(self) -> Mapping[str, Sequence[int]]:
        return self.messages.by_call_id()

    def call(self, call_id: str | None) -> Call | None:
        """The call (Call-ID) a message belongs to."""
        return self._calls.get(call_id or "")

    def in_call(self, call_id: str | None) -> Iterator[Message]:
        """Every message with this Call-ID, in capture order."""
        return (self.messages[i] for i in self._by_call_id.get(call_id or "", ()))

    def same_cseq(self, msg: Message) -> tuple[list[Message], list[Message]]:
        """The requests and the responses sharing the message's Call-ID and CSeq: every
        copy on every hop, retransmissions included, in capture order."""
        requests: list[Message] = []
        responses: list[Message] = []
        for m in self.in_call(msg.call_id):
            if m.cseq == msg.cseq:
                (requests if m.is_request else responses).append(m)
        return requests, responses

    def transaction_of(self, msg: Message) -> Transaction | None:
        """The transaction a message belongs to."""
        return None if msg.txn is None else self.correlation.transactions[msg.txn]

    def request_of(self, response: Message) -> Message | None:
        """The request a response answers (on the same hop)."""
        txn = self.transaction_of(response)
        return self.messages[txn.request] if txn and txn.request is not None else None

    def final_of(self, request: Message) -> Message | None:
        """The first final response to a request (on the same hop)."""
        txn = self.transaction_of(request)
        return self.messages[txn.final] if txn and txn.final is not None else None

    def origin_final(self, request: Message) -> Message | None:
        """The final response to a request from the element that decided it: of the
        final responses to that CSeq on every hop, the one with the most Vias."""
        best = self.final_of(request)
        for m in self.same_cseq(request)[1]:
            if (
                m.status is not None
                and m.status >= 200
                and (best is None or m.via_count > best.via_count)
            ):
                best = m
        return best

    def is_retransmission(self, msg: Message) -> bool:
        """A copy of an earlier message of the same transaction on the same hop."""
        return msg.index in self.correlation.retransmissions

    def retry_of(self, request: Message) -> Message | None:
        """The request the same UA sent next in the same Call-ID with the same method and
        a higher CSeq (RFC 3261 §8.1.3.5: a retry after a 4xx that names what to change),
        on the same hop."""
        if request.cseq is None:
            return None
        for m in self.in_call(request.call_id):
            if (
                m.index > request.index
                and m.is_request
                and m.method == request.method
                and m.src == request.src
                and m.cseq is not None
                and m.cseq.number > request.cseq.number
                and not self.is_retransmission(m)
            ):
                return m
        return None

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

    def ua_copy(self, request: Message) -> Message:
        """The copy of a request as its UA sent it: the first copy with the fewest Vias
        (each proxy adds one, RFC 3261 §16.6 item 8)."""
        best = request
        for m in self.same_cseq(request)[0]:
            if m.method == request.method and m.via_count < best.via_count:
                best = m
        return best
