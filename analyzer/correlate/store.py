"""The message store: every SIP message of an analysis in a few bytes of columns.

Memory must follow open calls, not the capture's size, so messages are not
kept as objects. Each is a row of typed arrays (frame, time, status...) with
its strings interned once per analysis (a Call-ID is stored once for all its
messages); its raw bytes stay in RAM up to a budget, then go to an anonymous
temporary file. `Message` objects are made on access and dropped after use,
and `Message.sip` parses the raw bytes again on demand (a small LRU keeps the
recently used ones), which only the rules that read full headers need.
"""

from __future__ import annotations

import tempfile
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import IO, Generic, TypeVar, overload

from ..sip import CSeq, SipMessage, parse
from .model import Message
from .transactions import TransactionTable, transaction_key_of

T = TypeVar("T")

RAM_BUDGET = 32 << 20
"""Raw message bytes kept in memory before the store spills them to a temporary file."""
PARSED_CACHE = 512

_IS_REQUEST = 1
_CREDENTIALS = 2
_HAS_CSEQ = 4
_HAS_REASON = 8
_HAS_WARNING = 16
_MF_ZERO = 32


class _Interned(Generic[T]):
    """Values stored once; row columns hold their number, 0 for None."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict[T, int] = {}
        self.values: list[T | None] = [None]

    def id(self, value: T | None) -> int:
        if value is None:
            return 0
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


class MessageStore(Sequence[Message]):
    """Append-only, indexable sequence of the analysis's messages, in capture order."""

    def __init__(self, ram_budget: int = RAM_BUDGET) -> None:
        self._budget = ram_budget
        self._frame = array("I")
        self._time = array("d")
        self._capture = array("H")
        self._flags = array("B")
        self._status = array("H")
        self._cseq = array("q")
        self._vias = array("H")
        # Interned columns: src, dst, transport, method, uri, reason, call-id,
        # CSeq method, From tag, To tag.
        self._text: _Interned[str] = _Interned()
        self._tuples: _Interned[tuple[str, ...]] = _Interned()
        self._strs = [array("I") for _ in range(10)]
        # User-Agent in its own table: rules test every distinct value (scanners).
        self._agents: _Interned[str] = _Interned()
        self._agent = array("I")
        self._anomalies = array("I")
        self._offset = array("Q")
        self._length = array("I")
        self._ram = bytearray()
        self._ram_rows = 0
        self._disk: IO[bytes] | None = None
        self._disk_size = 0
        self._parsed: OrderedDict[int, SipMessage] = OrderedDict()
        self.fragments: dict[int, tuple[int, ...]] = {}
        """For a message that came in an IP-fragmented datagram: the frames of its
        earlier fragments (few messages have any, so a dict)."""
        self.transactions = TransactionTable()
        """Transactions, matched as messages are appended."""

    # -- writing ------------------------------------------------------------

    def append(
        self,
        frame: int,
        time: float,
        src: str,
        dst: str,
        transport: str,
        capture: int,
        data: bytes,
        sip: SipMessage,
        fragments: tuple[int, ...] = (),
    ) -> int:
        """Add one parsed message; returns its index. `fragments`: the frames of the
        earlier IP fragments of its datagram, if it was fragmented."""
        index = len(self._frame)
        if fragments:
            self.fragments[index] = fragments
        cseq = sip.cseq
        flags = (_IS_REQUEST if sip.is_request else 0) | (_HAS_CSEQ if cseq is not None else 0)
        if sip.is_request and (sip.has("authorization") or sip.has("proxy-authorization")):
            flags |= _CREDENTIALS
        # Flags so that reports parse again only the messages that carry these.
        if sip.has("reason"):
            flags |= _HAS_REASON
        if sip.has("warning"):
            flags |= _HAS_WARNING
        if sip.is_request and sip.max_forwards == 0:
            flags |= _MF_ZERO
        self._frame.append(frame)
        self._time.append(time)
        self._capture.append(capture)
        self._flags.append(flags)
        self._status.append(sip.status or 0)
        self._cseq.append(cseq.number if cseq is not None else 0)
        self._vias.append(min(sip.via_count, 0xFFFF))
        values = (
            src,
            dst,
            transport,
            sip.method,
            sip.uri,
            sip.reason,
            sip.call_id,
            cseq.method if cseq is not None else None,
            sip.from_tag,
            sip.to_tag,
        )
        self._agent.append(self._agents.id(sip.user_agent))
        intern = self._text.id
        for column, value in zip(self._strs, values, strict=True):
            column.append(intern(value))
        # The interned copies: open transactions hold on to them.
        text = self._text.values
        status = sip.status or 0
        self.transactions.add(
            transaction_key_of(sip),
            time,
            text[self._strs[6][index]] or "",
            (text[self._strs[0][index]] or "", text[self._strs[1][index]] or ""),
            (sip.method or "", cseq.number if cseq is not None else 0) if sip.is_request else None,
            None if sip.is_request else (status, sip.to_tag or ""),
        )
        self._anomalies.append(self._tuples.id(sip.anomalies or None))
        self._keep(data)
        return index

    def _keep(self, data: bytes) -> None:
        if self._disk is None and len(self._ram) + len(data) <= self._budget:
            self._offset.append(len(self._ram))
            self._ram += data
            self._ram_rows += 1
        else:
            if self._disk is None:
                # Closed by close() or with the store; unlinked from the start.
                self._disk = tempfile.TemporaryFile(prefix="sip-analyzer-")  # noqa: SIM115
            self._disk.seek(self._disk_size)
            self._disk.write(data)
            self._offset.append(self._disk_size)
            self._disk_size += len(data)
        self._length.append(len(data))

    def close(self) -> None:
        """Release the temporary file (messages' raw bytes past the RAM budget)."""
        if self._disk is not None:
            self._disk.close()
            self._disk = None

    # -- reading ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._frame)

    @overload
    def __getitem__(self, index: int) -> Message: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Message]: ...

    def __getitem__(self, index: int | slice) -> Message | Sequence[Message]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[Message]:
        for i in range(len(self)):
            yield self._row(i)

    def _row(self, i: int) -> Message:
        v = self._text.values
        s = self._strs
        flags = self._flags[i]
        cseq = CSeq(self._cseq[i], v[s[7][i]] or "") if flags & _HAS_CSEQ else None
        return Message(
            index=i,
            frame=self._frame[i],
            time=self._time[i],
            src=v[s[0][i]] or "",
            dst=v[s[1][i]] or "",
            transport=v[s[2][i]] or "",
            capture=self._capture[i],
            is_request=bool(flags & _IS_REQUEST),
            method=v[s[3][i]],
            uri=v[s[4][i]],
            status=self._status[i] or None,
            reason=v[s[5][i]],
            call_id=v[s[6][i]],
            cseq=cseq,
            from_tag=v[s[8][i]],
            to_tag=v[s[9][i]],
            txn=self.transactions.of(i),
            via_count=self._vias[i],
            has_credentials=bool(flags & _CREDENTIALS),
            has_reason=bool(flags & _HAS_REASON),
            has_warning=bool(flags & _HAS_WARNING),
            max_forwards_zero=bool(flags & _MF_ZERO),
            anomalies=self._tuples.values[self._anomalies[i]] or (),
            store=self,
        )

    def with_status(self, statuses: Collection[int]) -> Iterator[int]:
        """Indexes of the responses with one of `statuses`, read from the column."""
        wanted = frozenset(statuses)
        for i, status in enumerate(self._status):
            if status in wanted:
                yield i

    def by_call_id(self) -> dict[str, array[int]]:
        """Message indexes per Call-ID (`""` for none), in order of first appearance."""
        values = self._text.values
        groups: dict[int, array[int]] = {}
        for i, cid in enumerate(self._strs[6]):
            rows = groups.get(cid)
            if rows is None:
                rows = groups[cid] = array("I")
            rows.append(i)
        return {values[cid] or "": rows for cid, rows in groups.items()}

    def with_reason(self) -> Iterator[int]:
        """Indexes of the messages carrying a Reason header (RFC 3326)."""
        flags = self._flags
        return (i for i in range(len(flags)) if flags[i] & _HAS_REASON)

    def with_credentials(self) -> Iterator[int]:
        """Indexes of the requests carrying Authorization or Proxy-Authorization."""
        flags = self._flags
        return (i for i in range(len(flags)) if flags[i] & _CREDENTIALS)

    def requests(self, methods: Collection[str] | None = None) -> Iterator[int]:
        """Indexes of the requests (of `methods` only, if given), read from the columns."""
        flags = self._flags
        if methods is None:
            return (i for i in range(len(flags)) if flags[i] & _IS_REQUEST)
        ids = self._text.ids
        wanted = frozenset(ids[m] for m in methods if m in ids)
        return (i for i, m in enumerate(self._strs[3]) if m in wanted)

    def sequence_keys(self) -> Iterator[tuple[int, str, str, str, str, str, str, int]]:
        """Per request: index, method, Call-ID, From tag, To tag, src, dst and CSeq number,
        read from the columns (no message is made)."""
        v = self._text.values
        method, src, dst, cid, ftag, ttag = (self._strs[k] for k in (3, 0, 1, 6, 8, 9))
        flags, cseq = self._flags, self._cseq
        for i in range(len(flags)):
            if flags[i] & _IS_REQUEST and flags[i] & _HAS_CSEQ:
                yield (
                    i,
                    v[method[i]] or "",
                    v[cid[i]] or "",
                    v[ftag[i]] or "",
                    v[ttag[i]] or "",
                    v[src[i]] or "",
                    v[dst[i]] or "",
                    cseq[i],
                )

    def method_in(self, rows: Sequence[int], method: str) -> bool:
        """Whether any of the messages at `rows` is a `method` request (read from the column)."""
        wanted = self._text.ids.get(method)
        if wanted is None:
            return False
        column = self._strs[3]
        return any(column[i] == wanted for i in rows)

    def responses(self) -> Iterator[Message]:
        """The responses, in order, made without touching the requests' rows."""
        status = self._status
        for i in range(len(status)):
            if status[i]:
                yield self._row(i)

    def status_counts(self) -> Counter[int]:
        """Responses per status code, counted over the column (no message is made)."""
        counts = Counter(self._status)
        counts.pop(0, None)  # requests
        return counts

    def method_counts(self) -> Counter[str]:
        """Requests per method, counted over the column."""
        values = self._text.values
        ids = Counter(self._strs[3])
        return Counter({str(values[i]): n for i, n in ids.items() if i})

    def size(self, i: int) -> int:
        """The message's length in bytes as captured."""
        return self._length[i]

    def with_user_agent(self, match: Callable[[str], bool]) -> dict[str, list[int]]:
        """Message indexes per User-Agent value, for the values `match` accepts. The
        distinct values are tested first, so a capture without a match costs no scan."""
        values = self._agents.values
        wanted = {i for i, v in enumerate(values) if v and match(v)}
        groups: dict[str, list[int]] = {}
        if wanted:
            for i, ua in enumerate(self._agent):
                if ua in wanted:
                    groups.setdefault(values[ua] or "", []).append(i)
        return groups

    def raw(self, i: int) -> bytes:
        """The message's bytes as captured."""
        start, length = self._offset[i], self._length[i]
        if i < self._ram_rows:
            return bytes(self._ram[start : start + length])
        assert self._disk is not None
        self._disk.seek(start)
        return self._disk.read(length)

    def parsed(self, i: int) -> SipMessage:
        """The full parsed message (parsed again from its bytes, cached briefly)."""
        cache = self._parsed
        sip = cache.get(i)
        if sip is None:
            sip = cache[i] = parse(self.raw(i))
            if len(cache) > PARSED_CACHE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(i)
        return sip

    def memory_bytes(self) -> int:
        """Approximate bytes held in RAM by the columns and raw data (for diagnostics)."""
        columns: list[array[int] | array[float]] = [self._time, *self._strs]
        columns += [self._frame, self._capture, self._flags, self._status, self._cseq]
        columns += [self._vias, self._offset, self._length, self._anomalies, self._agent]
        return sum(c.itemsize * len(c) for c in columns) + len(self._ram)
