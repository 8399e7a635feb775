"""The message store keeps every message as a few bytes of columns plus its raw bytes,
spilling raw bytes to a temporary file past its RAM budget."""

from __future__ import annotations

from analyzer.correlate import MessageStore
from analyzer.correlate.transactions import transaction_key_of
from analyzer.ingest import Accounting, read_sip
from analyzer.sip import parse
from tests.conftest import CAPTURES


def _fill(store: MessageStore) -> list[bytes]:
    path = str(CAPTURES / "udp4-proxy-auth.pcap")
    raws = []
    for pkt in read_sip(path, Accounting(path)):
        sip = parse(pkt.data)
        store.append(pkt.frame, pkt.time, pkt.src, pkt.dst, pkt.transport, 0, pkt.data, sip)
        raws.append(pkt.data)
    return raws


def test_rows_give_back_what_was_stored_in_ram_and_on_disk() -> None:
    in_ram, spilled = MessageStore(), MessageStore(ram_budget=2000)
    raws = _fill(in_ram)
    _fill(spilled)
    assert len(raws) == len(in_ram) == len(spilled) > 10
    try:
        for i, raw in enumerate(raws):
            sip = parse(raw)
            for store in (in_ram, spilled):
                m = store[i]
                assert store.raw(i) == raw
                assert m.sip == sip
                assert (m.index, m.method, m.status, m.reason, m.call_id) == (
                    i,
                    sip.method,
                    sip.status,
                    sip.reason,
                    sip.call_id,
                )
                assert (m.cseq, m.from_tag, m.to_tag) == (sip.cseq, sip.from_tag, sip.to_tag)
                assert (m.txn is None) == (transaction_key_of(sip) is None)
                assert m.via_count == len(sip.vias)
                assert m.has_credentials == sip.has("proxy-authorization")
        assert list(spilled) == list(in_ram)
        assert spilled[-1] == in_ram[len(raws) - 1]
        # Past the budget, raw bytes are on disk, not in memory.
        assert spilled.memory_bytes() < in_ram.memory_bytes()
    finally:
        spilled.close()


def test_counts_come_from_the_columns() -> None:
    store = MessageStore()
    _fill(store)
    statuses = {m.status for m in store if m.status is not None}
    assert set(store.status_counts()) == statuses
    assert sum(store.method_counts().values()) == sum(1 for m in store if m.is_request)
