"""Capture formats: pcap variants, pcapng blocks, gzip, truncation, unknown formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether, Loopback

from analyzer.ingest import Accounting, CaptureError, iter_frames, read_sip
from analyzer.sip import parse
from tests.ingest import pcapgen

SIP = (
    b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
    b"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)
RESP = b"SIP/2.0 200 OK\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"


def udp4(payload: bytes, sport: int = 5060, dport: int = 5060) -> bytes:
    return bytes(
        Ether() / IP(src="127.0.0.1", dst="127.0.0.2") / UDP(sport=sport, dport=dport) / payload
    )


def read(path: Path) -> tuple[Accounting, list[bytes]]:
    acc = Accounting(str(path))
    data = [p.data for p in read_sip(str(path), acc)]
    return acc, data


@pytest.mark.parametrize(
    ("big", "ns"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, big: bool, ns: bool) -> None:
    f = tmp_path / "x.pcap"
    f.write_bytes(
        pcapgen.pcap([(1700000000.25, udp4(SIP)), (1700000001.5, udp4(RESP))], big=big, ns=ns)
    )
    info, frames = iter_frames(f)
    got = list(frames)
    assert info.format == ("pcap-ns" if ns else "pcap")
    assert [fr.number for fr in got] == [1, 2]
    assert got[0].time == pytest.approx(1700000000.25, abs=1e-6)
    acc, msgs = read(f)
    assert msgs == [SIP, RESP]
    assert acc.sip == 2
    assert acc.balanced


def test_pcapng_interfaces_link_types_and_block_kinds(tmp_path: Path) -> None:
    sll = bytes(
        CookedLinux(proto=0x0800)
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / UDP(sport=5062, dport=5070)
        / SIP
    )
    null = bytes(
        Loopback(type=2) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5070, dport=5062) / RESP
    )
    raw6 = bytes(IPv6(src="::1", dst="::1") / UDP(sport=7000, dport=7001) / SIP)
    data = b"".join(
        [
            pcapgen.shb(),
            pcapgen.idb(1),
            pcapgen.idb(113, tsresol=9),  # nanosecond interface
            pcapgen.idb(0),
            pcapgen.epb(
                0, 1.0, bytes(Ether() / Dot1Q(vlan=7) / Dot1Q(vlan=8) / IP() / UDP() / SIP)
            ),
            pcapgen.epb(1, 2.5, sll, units=10**9),
            pcapgen.epb(2, 3.0, null),
            pcapgen.spb(udp4(b"not sip at all")),
            # A second section, big-endian, raw IPv6.
            pcapgen.shb(">"),
            pcapgen.idb(101, ">"),
            pcapgen.epb(0, 4.0, raw6, ">"),
        ]
    )
    f = tmp_path / "x.pcapng"
    f.write_bytes(data)
    info, frames = iter_frames(f)
    got = list(frames)
    assert info.format == "pcapng"
    assert [fr.linktype for fr in got] == [1, 113, 0, 1, 101]
    assert got[1].time == pytest.approx(2.5)
    acc, msgs = read(f)
    assert msgs == [SIP, SIP, RESP, SIP]
    assert (acc.packets, acc.sip, acc.non_sip) == (5, 4, 1)
    assert acc.balanced


def test_gzip_compressed_capture(tmp_path: Path) -> None:
    f = tmp_path / "x.pcap.gz"
    f.write_bytes(gzip.compress(pcapgen.pcap([(1.0, udp4(SIP))])))
    acc, msgs = read(f)
    assert acc.format == "pcap+gzip"
    assert msgs == [SIP]


def test_file_cut_mid_record_keeps_what_came_before(tmp_path: Path) -> None:
    whole = pcapgen.pcap([(1.0, udp4(SIP)), (2.0, udp4(RESP))])
    f = tmp_path / "cut.pcap"
    f.write_bytes(whole[:-10])
    acc, msgs = read(f)
    assert msgs == [SIP]
    assert acc.truncated
    assert any("record 2" in w for w in acc.warnings)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"hello, this is a text file\n", "text file"),
        (b"GMBU\x00\x02" + b"\0" * 40, "Network Monitor"),
        (b"", "empty file"),
        (gzip.compress(b"just text"), "not a pcap"),
    ],
)
def test_unknown_formats_are_named_errors(tmp_path: Path, content: bytes, words: str) -> None:
    f = tmp_path / "bad.cap"
    f.write_bytes(content)
    with pytest.raises(CaptureError) as info:
        iter_frames(f)
    assert str(f) in str(info.value)
    assert words in str(info.value)


def test_missing_file_is_a_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open"):
        iter_frames(tmp_path / "nope.pcap")


def test_unknown_link_type_is_counted_not_lost(tmp_path: Path) -> None:
    f = tmp_path / "x.pcap"
    f.write_bytes(pcapgen.pcap([(1.0, b"\x01\x02\x03" + SIP)], linktype=147))
    acc, msgs = read(f)
    assert msgs == []
    assert acc.skipped == {"unknown_link_type:147": 1}
    assert acc.balanced


def test_sip_on_any_port_found_by_start_line(tmp_path: Path) -> None:
    f = tmp_path / "x.pcap"
    f.write_bytes(
        pcapgen.pcap(
            [(1.0, udp4(SIP, 40000, 12345)), (2.0, udp4(b"\x80\x00" + b"\0" * 40, 5060, 5060))]
        )
    )
    acc, msgs = read(f)
    assert msgs == [SIP]
    assert acc.non_sip == 1


def test_ipv4_fragments_out_of_order_are_reassembled(tmp_path: Path) -> None:
    body = b"v=0\r\n" + b"a=x-padding:" + b"p" * 3000 + b"\r\n"
    big = SIP.replace(b"Content-Length: 0", f"Content-Length: {len(body)}".encode()) + body
    frags = fragment(  # type: ignore[no-untyped-call]
        IP(src="10.1.1.1", dst="10.1.1.2", id=77) / UDP(sport=5060, dport=5060) / big, fragsize=1200
    )
    assert len(frags) == 3
    packets = [(float(i), bytes(Ether() / fr)) for i, fr in enumerate(reversed(frags))]
    f = tmp_path / "frag.pcap"
    f.write_bytes(pcapgen.pcap(packets))
    acc, msgs = read(f)
    assert msgs == [big]
    assert parse(msgs[0]).body == body
    assert (acc.packets, acc.sip) == (3, 3)
    assert acc.balanced


def test_lone_fragment_is_counted_as_unreassembled(tmp_path: Path) -> None:
    frags = fragment(  # type: ignore[no-untyped-call]
        IP(id=9) / UDP() / (SIP + b"x" * 3000), fragsize=1200
    )
    f = tmp_path / "frag.pcap"
    f.write_bytes(pcapgen.pcap([(0.0, bytes(Ether() / frags[0]))]))
    acc, msgs = read(f)
    assert msgs == []
    assert acc.skipped == {"unreassembled_fragment": 1}
    assert acc.balanced


def _tcp(seq: int, payload: bytes, flags: str = "PA") -> bytes:
    return bytes(
        Ether()
        / IP(src="127.0.0.1", dst="127.0.0.1")
        / TCP(sport=40000, dport=5060, seq=seq, flags=flags)
        / payload
    )


def test_tcp_out_of_order_retransmitted_and_split_messages(tmp_path: Path) -> None:
    stream = SIP + RESP + SIP
    a, b, c = stream[:50], stream[50:130], stream[130:]
    isn = 1000
    packets = [
        (0.0, _tcp(isn, b"", "S")),
        (1.0, _tcp(isn + 1, a)),
        (2.0, _tcp(isn + 1 + len(a) + len(b), c)),  # arrives before b
        (3.0, _tcp(isn + 1, a)),  # retransmission
        (4.0, _tcp(isn + 1 + len(a), b)),
    ]
    f = tmp_path / "tcp.pcap"
    f.write_bytes(pcapgen.pcap(packets))
    acc = Accounting(str(f))
    got = list(read_sip(str(f), acc))
    assert [p.data for p in got] == [SIP, RESP, SIP]
    assert {p.frame for p in got} == {5}  # all completed when the hole filled
    assert acc.skipped == {"tcp_retransmission": 1}
    assert acc.balanced


def test_tcp_capture_ending_inside_a_message_warns(tmp_path: Path) -> None:
    f = tmp_path / "tcp.pcap"
    f.write_bytes(pcapgen.pcap([(0.0, _tcp(1, SIP + RESP[:20]))]))
    acc, msgs = read(f)
    assert msgs == [SIP]
    assert acc.sip_errors == {"tcp_incomplete_message": 1}
    assert any("capture ended inside a SIP message" in w for w in acc.warnings)
