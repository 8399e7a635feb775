"""Exporting the selected calls' packets, with tshark as the reference dissector.

For a selection, the SIP messages tshark sees in the exported file (time, Call-ID,
CSeq, method, status, frame by frame) must be exactly those it sees in the
original filtered on the selected Call-IDs; timestamps are compared as tshark
prints them (nanoseconds). Scrubbing uses a stand-in for the redactor that
blanks known nonce values with same-length Xs.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from analyzer import Analysis, Options, analyze
from analyzer.export import ExportError, export_pcap
from analyzer.select import Selection, select
from tests.conftest import CAPTURES
from tests.ingest import pcapgen
from tests.tshark import require_tshark

DATA = Path(__file__).parent / "data"
# tshark finds SIP by port; the lab captures use several ports besides 5060.
_HEURISTICS = ("--enable-heuristic", "sip_udp", "--enable-heuristic", "sip_tcp")
_CHECKSUMS = ("-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE")

Row = tuple[str, str, str, str, str]
"""One frame holding SIP as tshark dissects it: time, Call-IDs, CSeqs, methods, statuses."""


def _tshark(path: Path, display: str, fields: Iterable[str], *options: str) -> list[list[str]]:
    cmd = [require_tshark(), "-n", "-r", str(path), *_HEURISTICS, *options, "-Y", display]
    cmd += ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    errors = [line for line in proc.stderr.splitlines() if "Running as user" not in line]
    assert proc.returncode == 0, proc.stderr
    assert not errors, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


_SIP_FIELDS = ("frame.time_epoch", "sip.Call-ID", "sip.CSeq", "sip.Method", "sip.Status-Code")


def _sip_rows(path: Path, call_ids: Iterable[str] | None = None, *options: str) -> list[Row]:
    """Frames with SIP (of `call_ids` only, when given), in order."""
    display = "sip"
    if call_ids is not None:
        display = " || ".join(f'sip.Call-ID == "{c}"' for c in call_ids)
    rows = _tshark(path, display, _SIP_FIELDS, *options)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _times(path: Path, display: str = "frame") -> list[str]:
    return [r[0] for r in _tshark(path, display, ["frame.time_epoch"])]


def _export(analysis: Analysis, tmp_path: Path, *call_ids: str, **kw: object) -> Path:
    if call_ids:
        analysis = select(analysis, Selection(calls=call_ids))
        assert {c.call_id for c in analysis.call_records} == set(call_ids)
    out = tmp_path / "out.pcapng"
    result = export_pcap(analysis, out, **kw)  # type: ignore[arg-type]
    assert out.exists()
    assert result.path == str(out)
    assert not list(tmp_path.glob("*.part")), "temporary file left behind"
    return out


def _blank(values: Iterable[bytes]) -> Callable[[bytes], bytes]:
    """A stand-in redactor: every occurrence of `values` becomes same-length Xs."""
    pattern = re.compile(b"|".join(re.escape(v) for v in sorted(set(values), key=len)[::-1]))
    return lambda data: pattern.sub(lambda m: b"X" * len(m.group()), data)


# -- selections checked against tshark -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "call_ids"),
    [
        ("demo.pcapng", ("2-15950@127.0.0.1", "1-15978@127.0.0.1")),
        ("udp4-answered.pcap", ("2-15406@127.0.0.1",)),
        ("udp6-answered.pcap", ("3-15476@::1",)),
        ("tcp4-answered.pcap", ("2-15442@127.0.0.1",)),
        ("tcp6-answered.pcap", ("1-15495@::1",)),
        ("tcp4-proxy-auth.pcap", ("2-15669@127.0.0.1",)),
    ],
)
def test_selection_holds_exactly_the_selected_calls(
    name: str, call_ids: tuple[str, ...], tmp_path: Path
) -> None:
    source = CAPTURES / name
    analysis = analyze(source)
    out = _export(analysis, tmp_path, *call_ids)
    expected = _sip_rows(source, call_ids)
    assert expected, "tshark sees the selected calls in the original"
    selected = select(analysis, Selection(calls=call_ids))
    assert len(list(selected.message_records())) == sum(len(r[1].split("|")) for r in expected), (
        "tshark and the analysis agree on the selected messages"
    )
    # Exactly the selected calls' messages, frame by frame, with their timestamps.
    assert _sip_rows(out) == expected
    # Exactly their frames: one per message here (no pure ACKs, no other call's segment).
    tcp = name.startswith("tcp")
    carrying = "tcp.len > 0" if tcp else "frame"
    expected_times = [t for t in _times(source, carrying) if t in {r[0] for r in expected}]
    assert _times(out) == expected_times


def test_tcp_export_leaves_out_segments_without_payload(tmp_path: Path) -> None:
    source = CAPTURES / "tcp4-answered.pcap"
    out = _export(analyze(source), tmp_path)  # every call
    assert _times(out) == _times(source, "tcp.len > 0")
    assert _sip_rows(out) == _sip_rows(source)


def test_fragmented_datagrams_come_with_their_fragments_and_captures_keep_their_order(
    tmp_path: Path,
) -> None:
    fragmented, other = CAPTURES / "udp4-large-udp-fragmented.pcap", CAPTURES / "udp4-busy.pcap"
    analysis = analyze([fragmented, other])
    call_ids = ("1-29424@127.0.0.1", "2-15501@127.0.0.1")
    result_path = _export(analysis, tmp_path, *call_ids)
    # tshark reassembles the fragments: it sees the same messages as in the originals.
    expected = _sip_rows(fragmented, call_ids[:1]) + _sip_rows(other, call_ids[1:])
    assert _sip_rows(result_path) == expected
    fragments = _times(fragmented, "ip.flags.mf == 1")
    assert fragments, "the capture has IP fragments"
    assert set(fragments) <= set(_times(result_path))
    assert _times(result_path) == _times(fragmented) + [
        r[0] for r in _sip_rows(other, call_ids[1:])
    ]
    # One interface per source capture, in order.
    interfaces = _tshark(
        result_path, "frame", ["frame.interface_id", "frame.interface_description"]
    )
    assert [i[0] for i in interfaces] == ["0"] * len(_times(fragmented)) + ["1"] * len(
        _sip_rows(other, call_ids[1:])
    )
    assert interfaces[0][1].startswith(fragmented.name)


@pytest.mark.parametrize(
    "name", ["fmt-pcap-ns-le.pcap", "fmt-pcap-us-be.pcap", "fmt-pcapng-sections.pcapng"]
)
def test_timestamps_and_link_types_are_kept_exactly(name: str, tmp_path: Path) -> None:
    source = DATA / name
    out = _export(analyze(source), tmp_path)
    fields = ["frame.time_epoch", "frame.encap_type", "frame.len", "frame.cap_len"]
    # A Simple Packet Block has no timestamp: it is written with time 0.
    timeless = [
        ["0.000000000", *r[1:]] if not r[0] else r for r in _tshark(source, "frame", fields)
    ]
    assert _tshark(out, "frame", fields) == timeless
    assert [r[1:] for r in _sip_rows(out)] == [r[1:] for r in _sip_rows(source)]


@pytest.mark.parametrize("name", ["demo.pcapng", "tcp4-proxy-auth.pcap"])
def test_frames_are_copied_byte_for_byte(name: str, tmp_path: Path) -> None:
    source = CAPTURES / name
    analysis = analyze(source)
    out = _export(analysis, tmp_path, analysis.call_records[-1].call_id)
    original = {str(p.time): bytes(p) for p in rdpcap(str(source))}
    exported = [(str(p.time), bytes(p)) for p in rdpcap(str(out))]
    assert exported
    assert all(original[t] == data for t, data in exported)


# -- TCP segments shared by several calls ----------------------------------------------

CLIENT, SERVER = ("192.0.2.10", 40000), ("192.0.2.20", 5060)
SEGMENT = 97  # odd, so that messages and nonces straddle segment boundaries


@dataclasses.dataclass
class _Rechunked:
    """A capture whose TCP segments cut across message (and call) boundaries."""

    path: Path
    times: list[str]
    """Time of each payload segment, as tshark prints it."""
    ranges: list[tuple[bool, int, int]]
    """Per payload segment: direction (client to server) and stream offsets [start, end)."""
    messages: list[tuple[bool, int, int, str]]
    """Per message: direction, stream offsets, Call-ID."""
    streams: dict[bool, bytes]
    """The bytes of each direction (client to server: True)."""


def _rechunk(source: Path, tmp_path: Path) -> _Rechunked:
    """The messages of `source` sent again on one TCP connection in `SEGMENT`-byte
    segments (each direction one stream), with a handshake, pure ACKs and one
    retransmission of a segment that straddles two calls."""
    analysis = analyze(source)
    streams = {True: b"", False: b""}
    messages: list[tuple[bool, int, int, str]] = []
    client_ip = analysis.store[0].src
    for msg in analysis.store:
        up = msg.src == client_ip
        raw = analysis.store.raw(msg.index)
        messages.append((up, len(streams[up]), len(streams[up]) + len(raw), msg.call_id or ""))
        streams[up] += raw
    isn = {True: 1000, False: 0xFFFFFF00}  # the server's sequence numbers wrap
    t0 = 1_700_000_000.0
    packets: list[tuple[float, bytes]] = []
    ranges: list[tuple[bool, int, int]] = []

    def send(up: bool, flags: str, offset: int = 0, data: bytes = b"") -> None:
        src, dst = (CLIENT, SERVER) if up else (SERVER, CLIENT)
        seq = (isn[up] + 1 + offset) & 0xFFFFFFFF
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src[0], dst=dst[0])
        pkt /= TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=1) / data
        packets.append((t0 + len(packets) * 0.001, bytes(pkt)))
        if data:
            ranges.append((up, offset, offset + len(data)))

    send(True, "S", -1)
    send(False, "SA", -1)
    send(True, "A")
    cuts = {up: list(range(0, len(streams[up]), SEGMENT)) for up in streams}
    for i in range(max(len(c) for c in cuts.values())):
        for up in (True, False):
            if i < len(cuts[up]):
                start = cuts[up][i]
                send(up, "PA", start, streams[up][start : start + SEGMENT])
                send(not up, "A")
    # A late retransmission of the client segment where the second call starts.
    second = next(m for m in messages if m[0] and m[3] != messages[0][3])
    start = second[1] - second[1] % SEGMENT
    send(True, "PA", start, streams[True][start : start + SEGMENT])
    path = tmp_path / "rechunked.pcap"
    path.write_bytes(pcapgen.pcap(packets))
    times = [r[0] for r in _tshark(path, "tcp.len > 0", ["frame.time_epoch"])]
    return _Rechunked(path, times, ranges, messages, streams)


def test_segments_shared_by_two_calls_belong_to_both(tmp_path: Path) -> None:
    cap = _rechunk(CAPTURES / "tcp4-register-auth.pcap", tmp_path)
    analysis = analyze(cap.path)
    call_ids = sorted({c.call_id for c in analysis.call_records})
    assert len(call_ids) == 3
    assert analysis.captures[0].skipped["tcp_retransmission"] == 1
    chosen = call_ids[1]
    out = _export(analysis, tmp_path, chosen)
    wanted = [(up, s, e) for up, s, e, cid in cap.messages if cid == chosen]
    expected = [
        t
        for t, (up, s, e) in zip(cap.times, cap.ranges, strict=True)
        if any(up == u and s < we and ws < e for u, ws, we in wanted)
    ]
    assert len(expected) > len(wanted), "some segments carry two calls' bytes"
    assert _times(out) == expected
    # Read back, the export holds the selected call's messages and nothing else (the
    # other calls' partial messages at its edges are skipped as incomplete).
    again = analyze(out)
    assert [(m.call_id, m.cseq, m.label) for m in again.store] == [
        (m.call_id, m.cseq, m.label) for m in analysis.store if m.call_id == chosen
    ]
    # tshark opens it without errors (checked by _times); it is no reference for the SIP
    # content here: its desegmentation does not find a message that starts inside a
    # segment after another's tail, not even in the original capture.


def test_scrub_reaches_nonces_split_between_segments(tmp_path: Path) -> None:
    cap = _rechunk(CAPTURES / "tcp4-register-auth.pcap", tmp_path)
    analysis = analyze(cap.path)
    nonces = _nonces(analysis)
    # Some nonces cross a segment boundary in the capture.
    spans = [
        (m.start(), m.end())
        for stream in cap.streams.values()
        for v in nonces
        for m in re.finditer(re.escape(v), stream)
    ]
    assert any(start // SEGMENT != (end - 1) // SEGMENT for start, end in spans)
    out = _export(analysis, tmp_path, scrub=_blank(nonces))
    data = out.read_bytes()
    assert not any(v in data for v in nonces)
    again = analyze(out)
    assert len(again.store) == len(analysis.store)
    for m in again.store:
        assert not any(v in again.store.raw(m.index) for v in nonces)
    statuses = _tshark(out, "tcp.len > 0", ["tcp.checksum.status"], *_CHECKSUMS)
    assert {s[0] for s in statuses} == {"1"}  # scapy's checksums were good; still good


def _nonces(analysis: Analysis) -> list[bytes]:
    found = set()
    for m in analysis.store:
        found.update(re.findall(rb'[^c]nonce="([^"]+)"', analysis.store.raw(m.index)))
    assert found
    return sorted(found)


# -- scrubbing real captures -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "udp4-register-auth.pcap",
        "tcp4-register-auth.pcap",
        "udp6-register-auth.pcap",
        "tcp6-register-auth.pcap",
    ],
)
def test_scrubbed_export_has_no_nonce_and_good_checksums(name: str, tmp_path: Path) -> None:
    source = CAPTURES / name
    analysis = analyze(source)
    nonces = _nonces(analysis)
    out = _export(analysis, tmp_path, scrub=_blank(nonces))
    assert not any(v in out.read_bytes() for v in nonces)
    assert any(v in source.read_bytes() for v in nonces)
    # tshark still parses every SIP message, and sees the Xs.
    assert _sip_rows(out) == _sip_rows(source)
    shown = {v for r in _tshark(out, "sip.auth.nonce", ["sip.auth.nonce"]) for v in r[0].split("|")}
    assert shown
    assert all(set(v.strip('"')) == {"X"} for v in shown)
    # Checksums: good wherever the scrub changed the frame; untouched frames keep
    # theirs (these loopback captures carry offloaded, "bad" checksums).
    field = "udp.checksum.status" if name.startswith("udp") else "tcp.checksum.status"
    before = dict(_tshark(source, "sip", ["frame.time_epoch", field], *_CHECKSUMS))
    after = _tshark(out, "sip", ["frame.time_epoch", field], *_CHECKSUMS)
    scrubbed = {r[0] for r in _tshark(out, "sip.auth.nonce", ["frame.time_epoch"])}
    assert scrubbed
    for when, status in after:
        assert status == ("1" if when in scrubbed else before[when]), when


@pytest.mark.parametrize(
    "name", ["udp4-register-auth.pcap", "tcp4-register-auth.pcap", "rechunked"]
)
def test_an_analysis_that_stored_redacted_messages_exports_the_same_frames(
    name: str, tmp_path: Path
) -> None:
    # `--redact --export-pcap`: the store holds the messages with their credentials
    # replaced, the export reads the originals and scrubs them with the same redactor.
    redact = pytest.importorskip("analyzer.redact")
    if "redactor" not in {f.name for f in dataclasses.fields(Options)}:
        pytest.skip("the pipeline does not redact yet")
    source = _rechunk(CAPTURES / "tcp4-register-auth.pcap", tmp_path).path
    if name != "rechunked":
        source = CAPTURES / name
    plain = analyze(source)
    nonces = _nonces(plain)
    redactor = redact.Redactor()
    redacted = analyze(source, Options(redactor=redactor))
    assert not any(v in redacted.store.raw(m.index) for m in redacted.store for v in nonces)
    chosen = sorted(c.call_id for c in plain.call_records)[1]
    (tmp_path / "plain").mkdir()
    expected = _export(plain, tmp_path / "plain", chosen, scrub=redactor.credentials)
    out = tmp_path / "out.pcapng"
    result = export_pcap(select(redacted, Selection(calls=(chosen,))), out, redactor.credentials)
    assert (result.unmapped, result.missing, result.omitted) == (0, 0, 0)
    assert out.read_bytes() == expected.read_bytes()
    assert not any(v in out.read_bytes() for v in nonces)


def test_scrub_of_fragmented_datagram_writes_every_fragment_back(tmp_path: Path) -> None:
    source = CAPTURES / "udp4-large-udp-fragmented.pcap"
    analysis = analyze(source)
    token = b"29424"  # in every Call-ID, so in the first fragment of each datagram
    out = _export(analysis, tmp_path, scrub=_blank([token]))
    assert token not in out.read_bytes()
    rows = _sip_rows(out, None, *_CHECKSUMS)
    assert [r[0] for r in rows] == [r[0] for r in _sip_rows(source)]
    assert {r[1] for r in rows} == {"1-XXXXX@127.0.0.1"}
    # tshark checks the UDP checksum over each reassembled datagram.
    statuses = _tshark(out, "udp", ["udp.checksum.status"], *_CHECKSUMS)
    assert {s[0] for s in statuses} == {"1"}


def test_scrub_must_keep_the_length(tmp_path: Path) -> None:
    analysis = analyze(CAPTURES / "udp4-register-auth.pcap")
    with pytest.raises(ValueError, match="length"):
        export_pcap(analysis, tmp_path / "out.pcapng", lambda b: b.replace(b"nonce", b"n"))
    assert list(tmp_path.iterdir()) == []


# -- other carriers, read back with our own reader ---------------------------------


def _signature(analysis: Analysis) -> list[tuple[float, str, str, str]]:
    return [(round(m.time, 6), m.transport, m.call_id or "", m.label) for m in analysis.store]


@pytest.mark.parametrize(
    "name",
    [
        "ws-masked-fragmented.pcap",
        "sctp-multi-chunk.pcap",
        "hep3-ipv4.pcap",
        "hep2-ipv4.pcap",
        "tunnel-gtpu.pcap",
        "tunnel-gre.pcap",
        "tunnel-erspan3.pcap",
        "frag-ipv6-reverse.pcap",
        "tcp-ooo.pcap",
        "tcp-gap.pcap",
        "tcp-split-many.pcap",
        "link-sll2.pcap",
    ],
)
def test_other_carriers_round_trip_and_scrub(name: str, tmp_path: Path) -> None:
    analysis = analyze(DATA / name)
    out = _export(analysis, tmp_path)
    assert _signature(analyze(out)) == _signature(analysis)
    token = b"make-data"  # in every Call-ID of the generated captures
    (tmp_path / "scrubbed").mkdir()
    scrubbed = _export(analysis, tmp_path / "scrubbed", scrub=_blank([token]))
    assert token not in scrubbed.read_bytes()
    again = [
        (t, tr, cid.replace("XXXXXXXXX", "make-data"), label)
        for t, tr, cid, label in _signature(analyze(scrubbed))
    ]
    assert again == _signature(analysis)
    prefs = (*_CHECKSUMS, "-o", "sctp.checksum:CRC-32C")
    fields = ["udp.checksum.status", "tcp.checksum.status", "sctp.checksum.status"]
    for row in _tshark(scrubbed, "frame", fields, *prefs):
        assert set(",".join(row).replace("|", ",").split(",")) <= {"", "1"}, row


def test_websocket_export_keeps_the_upgrade_and_only_the_selected_frames(tmp_path: Path) -> None:
    source = DATA / "ws-masked-fragmented.pcap"
    out = _export(analyze(source), tmp_path, "ws-masked-fragmented-2@make-data.test")
    # The HTTP upgrade (both halves), then the segments of the fragmented INVITE.
    assert _times(out) == _times(source, "http || frame.number >= 8")
    rows = _sip_rows(out)
    assert [r[1:] for r in rows] == [
        ("ws-masked-fragmented-2@make-data.test", "1 INVITE", "INVITE", "")
    ]


def test_compressed_hep_cannot_be_scrubbed_and_is_left_out(tmp_path: Path) -> None:
    analysis = analyze(DATA / "hep3-compressed.pcap")
    result = export_pcap(analysis, tmp_path / "out.pcapng", _blank([b"make-data"]))
    assert (result.frames, result.omitted) == (0, 1)
    assert "left out" in result.summary()
    assert export_pcap(analysis, tmp_path / "plain.pcapng").frames == 1


# -- sources that cannot be exported from --------------------------------------------


def test_stdin_cannot_be_read_again(tmp_path: Path) -> None:
    analysis = analyze(CAPTURES / "udp4-busy.pcap")
    piped = dataclasses.replace(analysis.captures[0], path="-")
    analysis = dataclasses.replace(analysis, captures=(piped,))
    with pytest.raises(ValueError, match="stdin"):
        export_pcap(analysis, tmp_path / "out.pcapng")


def test_a_capture_that_vanished_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "gone.pcap"
    shutil.copy(CAPTURES / "udp4-busy.pcap", copy)
    analysis = analyze(copy)
    copy.unlink()
    with pytest.raises(ExportError, match=r"gone\.pcap"):
        export_pcap(analysis, tmp_path / "out.pcapng")
    assert not (tmp_path / "out.pcapng").exists()


@pytest.mark.parametrize("other", ["udp4-answered.pcap", "tcp4-busy.pcap"])
def test_a_capture_that_changed_is_named(other: str, tmp_path: Path) -> None:
    copy = tmp_path / "changed.pcap"
    shutil.copy(CAPTURES / "udp4-busy.pcap", copy)
    analysis = analyze(copy)
    shutil.copy(CAPTURES / other, copy)
    with pytest.raises(ExportError, match=r"changed\.pcap.*changed since analysis"):
        export_pcap(analysis, tmp_path / "out.pcapng")
    assert list(tmp_path.iterdir()) == [copy]


def test_a_capture_cut_short_since_analysis_counts_missing_frames(tmp_path: Path) -> None:
    copy = tmp_path / "cut.pcap"
    data = (CAPTURES / "udp4-answered.pcap").read_bytes()
    copy.write_bytes(data)
    analysis = analyze(copy)
    copy.write_bytes(data[: len(data) // 2])
    result = export_pcap(analysis, tmp_path / "out.pcapng")
    assert 0 < result.missing < len(analysis.store)
    assert result.frames + result.missing == len(analysis.store)
    assert result.captures[0].truncated
    assert "missing" in result.summary()


def test_an_input_is_never_overwritten(tmp_path: Path) -> None:
    copy = tmp_path / "in.pcap"
    shutil.copy(CAPTURES / "udp4-busy.pcap", copy)
    with pytest.raises(ValueError, match="overwrite"):
        export_pcap(analyze(copy), copy)


def test_summary_line(tmp_path: Path) -> None:
    analysis = select(analyze(CAPTURES / "udp4-answered.pcap"), Selection(calls="all"))
    result = export_pcap(analysis, tmp_path / "out.pcapng")
    assert result.summary() == (
        f"wrote 21 frames (3 calls, 21 SIP messages) to {tmp_path / 'out.pcapng'}"
    )
    assert (result.format, result.calls, result.messages) == ("pcapng", 3, 21)
