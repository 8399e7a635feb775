"""Transaction matching and retransmission detection (RFC 3261 §17.1.3, §17.2.3).

A message belongs to the transaction named by its top Via branch (with the
RFC 3261 magic cookie), the sent-by of that Via and its CSeq method; the ACK
to a non-2xx response and a CANCEL share the INVITE's branch. Messages from
RFC 2543 agents (no magic cookie) fall back to Call-ID, From tag, CSeq and
the top Via.

Matching runs as messages arrive (the message store feeds it), and the
result is kept as columns: a big capture has hundreds of thousands of
transactions, and memory must follow the open ones, not the capture.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import overload

from ..sip import SipMessage
from .model import Transaction

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7

TxnKey = tuple[str, ...]


def transaction_key_of(sip: SipMessage) -> TxnKey | None:
    """The transaction key of a parsed message, or None when it lacks Via or CSeq."""
    top = sip.top_via
    cseq = sip.cseq
    if top is None or cseq is None:
        return None
    method = cseq.method
    if method == "ACK":
        method = "INVITE"  # §17.2.3: an ACK matches the INVITE it acknowledges
    branch = top.branch or ""
    if branch.startswith(MAGIC_COOKIE):
        return (branch, top.sent_by.lower(), method)
    # §17.2.3 fallback for RFC 2543 peers.
    return (
        "2543",
        sip.call_id or "",
        sip.from_tag or "",
        str(cseq.number),
        top.sent_by.lower(),
        branch,
        method,
    )


# A transaction quiet for this long (capture time) is closed: its key and
# retransmission memory are dropped, so a later message with the same key opens
# a new one. 64*T1 covers every retransmission timer of RFC 3261 §17
# (T1 = 500 ms), doubled for slow captures.
RETIRE_AFTER = 2 * 64 * 0.5
_SWEEP_EVERY = 4096

_NONE = -1


class TransactionTable(Sequence[Transaction]):
    """Every transaction of an analysis, numbered in order of first appearance.

    `add` is called once per message, in capture order. A `Transaction` is made
    on access; its message lists come from a per-message chain.
    """

    def __init__(self) -> None:
        # Per transaction (4-byte signed: -1 is "none").
        self._method: list[str] = []
        self._call: list[str] = []
        self._request = array("i")
        self._final = array("i")
        self._head = array("i")
        self._tail = array("i")
        self._last_time = array("d")
        # Per message: its transaction, the next message of that transaction, kind.
        self._txn = array("i")
        self._next = array("i")
        self._is_request = bytearray()
        # Open transactions only: key -> number, and what each has seen on which hop.
        self._open: dict[TxnKey, int] = {}
        self._seen: dict[int, set[tuple[object, ...]]] = {}
        self.retransmissions: set[int] = set()
        """Indexes of messages repeating an earlier one of their transaction on the same hop."""

    def add(
        self,
        key: TxnKey | None,
        time: float,
        call_id: str,
        hop: tuple[str, str],
        request: tuple[str, int] | None,
        response: tuple[int, str] | None,
    ) -> int | None:
        """Match the next message; returns its transaction number (None without a key).

        `request` is (method, CSeq number) for a request, `response` (status, To
        tag) for a response. A retransmission is a repeat, on the same hop (same
        source and destination), of a request or of a response with the same
        status and To tag already seen in the transaction.
        """
        index = len(self._txn)
        self._next.append(_NONE)
        self._is_request.append(1 if request is not None else 0)
        if index and index % _SWEEP_EVERY == 0:
            self._retire(time)
        if key is None:
            self._txn.append(_NONE)
            return None
        number = self._open.get(key)
        if number is None:
            number = self._open[key] = len(self._method)
            # An ACK opening a transaction acknowledges a 2xx: it has a branch of its own
            # and is not part of the INVITE transaction (RFC 3261 §17.1.1.3, §13.2.2.4).
            ack = request is not None and request[0] == "ACK"
            self._method.append("ACK" if ack else key[-1])
            self._call.append(call_id)
            self._request.append(_NONE)
            self._final.append(_NONE)
            self._head.append(index)
            self._tail.append(index)
            self._last_time.append(time)
            self._seen[number] = set()
        else:
            self._next[self._tail[number]] = index
            self._tail[number] = index
        self._txn.append(number)
        self._last_time[number] = time
        seen = self._seen[number]
        # The request method tells an INVITE from its ACK within one transaction.
        mark: tuple[object, ...] = (*hop, *(request or response or ()))
        if mark in seen:
            self.retransmissions.add(index)
        seen.add(mark)
        if request is not None:
            if self._request[number] == _NONE and request[0] != "ACK":
                self._request[number] = index
        elif response is not None and response[0] >= 200 and self._final[number] == _NONE:
            self._final[number] = index
        return number

    def _retire(self, now: float) -> None:
        last = self._last_time
        quiet = [k for k, n in self._open.items() if now - last[n] > RETIRE_AFTER]
        for key in quiet:
            del self._seen[self._open.pop(key)]

    # -- reading ------------------------------------------------------------

    def of(self, index: int) -> int | None:
        """The transaction number of message `index` (None when it has no key)."""
        number = self._txn[index]
        return None if number == _NONE else number

    def call_id(self, number: int) -> str:
        """Call-ID of transaction `number` (without making the record)."""
        return self._call[number]

    def method_of(self, number: int) -> str:
        """Method of transaction `number` (without making the record)."""
        return self._method[number]

    def request_of(self, number: int) -> int | None:
        """Index of the first request copy of transaction `number`."""
        found = self._request[number]
        return None if found == _NONE else found

    def final_of(self, number: int) -> int | None:
        """Index of the first final response of transaction `number`."""
        found = self._final[number]
        return None if found == _NONE else found

    def sizes(self) -> Counter[int]:
        """Messages per transaction number (transactions with any message)."""
        counts = Counter(self._txn)
        counts.pop(_NONE, None)
        return counts

    def __len__(self) -> int:
        return len(self._method)

    @overload
    def __getitem__(self, number: int) -> Transaction: ...

    @overload
    def __getitem__(self, number: slice) -> Sequence[Transaction]: ...

    def __getitem__(self, number: int | slice) -> Transaction | Sequence[Transaction]:
        if isinstance(number, slice):
            return [self._record(i) for i in range(*number.indices(len(self)))]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._record(number)

    def __iter__(self) -> Iterator[Transaction]:
        for i in range(len(self)):
            yield self._record(i)

    def _record(self, number: int) -> Transaction:
        requests, responses = array("I"), array("I")
        i = self._head[number]
        while i != _NONE:
            (requests if self._is_request[i] else responses).append(i)
            i = self._next[i]
        request, final = self._request[number], self._final[number]
        return Transaction(
            id=number,
            method=self._method[number],
            call_id=self._call[number],
            request=None if request == _NONE else request,
            requests=requests,
            responses=responses,
            final=None if final == _NONE else final,
        )
