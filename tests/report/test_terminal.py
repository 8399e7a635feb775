"""Terminal report: content, colour only on request, hostile strings inert."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from analyzer import analyze
from analyzer.catalogue import lookup
from analyzer.report import Format, RenderOptions, render
from tests.conftest import corpus_file
from tests.ingest import pcapgen


def test_lists_each_response_with_meaning_and_fix_and_each_call() -> None:
    analysis = analyze(str(corpus_file("sngrep/aaa.pcap")))
    text = render(analysis, Format.TERMINAL, RenderOptions(width=200))
    for status in analysis.responses_by_status():
        entry = lookup(status)
        assert f"{status} {entry.reason}" in text
        assert (
            entry.fix[:60] in text.replace("\n", " ").replace("  ", " ") or entry.fix[:30] in text
        )
    for call in analysis.call_records:
        assert call.call_id[:20] in text
        assert call.outcome in text
    assert "\x1b[" not in text  # no colour unless asked


def test_colour_only_when_asked() -> None:
    analysis = analyze(str(corpus_file("sipnab/sip_call.pcap")))
    assert "\x1b[" in render(analysis, Format.TERMINAL, RenderOptions(color=True))


def test_hostile_header_values_render_inert(tmp_path: Path) -> None:
    evil = (
        b"INVITE sip:x@127.0.0.1 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKevil\r\n"
        b'From: "\x1b[31mRED\x1b]0;title\x07" <sip:[bold]markup[/bold]@a>;tag=1\r\n'
        b"To: <sip:<script>alert(1)</script>@b>\r\n"
        b"Call-ID: \x1b[2Jclear\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )
    pkt = bytes(Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=5060, dport=5060) / evil)
    f = tmp_path / "evil.pcap"
    f.write_bytes(pcapgen.pcap([(1.0, pkt)]))
    text = render(analyze(str(f)), Format.TERMINAL, RenderOptions(width=300, color=True))
    plain = render(analyze(str(f)), Format.TERMINAL, RenderOptions(width=300))
    assert "\x1b[31mRED" not in text
    assert "\x1b]0;" not in text
    assert "\x07" not in text
    assert "\x1b[2J" not in text
    assert "\\x1b[31mRED" in plain  # shown, made visible
    assert "[bold]markup[/bold]" in plain  # not interpreted as rich markup
