"""Redaction: credentials really leave every output and exported pcap; identities are
replaced by stable pseudonyms without changing the analysis."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from analyzer import analyze
from analyzer.cli import main
from analyzer.pipeline import Options
from analyzer.redact import Redactor
from analyzer.sip import parse
from tests.conftest import CAPTURES
from tests.tshark import require_tshark

AUTH_CAPTURES = [
    "udp4-register-auth.pcap",
    "tcp4-register-auth.pcap",
    "udp6-register-auth.pcap",
    "tcp6-register-auth.pcap",
    "udp4-proxy-auth.pcap",
    "tcp4-proxy-auth.pcap",
    "udp6-proxy-auth.pcap",
    "tcp6-proxy-auth.pcap",
    "udp4-register-wrong-password.pcap",
    "udp4-auth-nonce-replay.pcap",
    "udp4-auth-stale.pcap",
]
LAB_PASSWORDS = ("lab-secret", "not-the-secret")  # captures/lab/run.py
TEXT_FORMATS = ("terminal", "markdown", "html", "json", "junit")
TABLE_FORMATS = ("csv", "parquet")

REGISTER = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK1;received=10.1.2.3\r\n"
    b'From: "Alice Smith" <sip:alice:hunter2@example.com>;tag=1\r\n'
    b"To: <sip:+15551234567@example.com>\r\n"
    b"Contact: <sip:alice@[2001:db8:1::5]:5060>\r\n"
    b"Call-ID: abc@10.1.2.3\r\n"
    b"CSeq: 2 REGISTER\r\n"
    b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
    b'Authorization: Digest username="alice", realm="example.com", '
    b'nonce="abcdef0123456789", uri="sip:example.com", '
    b'response="0123456789abcdef0123456789abcdef", cnonce="xyz987", nc=00000001, qop=auth\r\n'
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 50\r\n"
    b"\r\n"
    b"v=0\r\no=alice 1 1 IN IP4 10.1.2.3\r\nc=IN IP4 10.1.2.3\r\n"
)


def test_credentials_keep_length_and_are_stable() -> None:
    r = Redactor()
    out = r.credentials(REGISTER)
    assert len(out) == len(REGISTER)
    for secret in (b"abcdef0123456789", b"0123456789abcdef0123456789abcdef", b"xyz987", b"hunter2"):
        assert secret in REGISTER
        assert secret not in out
    assert b'nonce="REDACTED1xxxxxxx"' in out
    assert r.credentials(REGISTER) == out  # the same value gets the same stand-in
    assert b"alice" in out
    assert b"10.1.2.3" in out
    other = r.credentials(REGISTER.replace(b"abcdef0123456789", b"fedcba9876543210"))
    assert other != out  # a different nonce gets a different stand-in


def test_basic_and_unquoted_credentials() -> None:
    r = Redactor()
    msg = (
        b"Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
        b"Authentication-Info: nextnonce=abc12345, rspauth=ffee\r\n"
    )
    out = r.credentials(msg)
    assert b"YWxpY2U6c2VjcmV0" not in out
    assert b"abc12345" not in out
    assert b"ffee" not in out
    assert len(out) == len(msg)


def test_identities() -> None:
    r = Redactor(identities=True)
    out = r.message(REGISTER)
    text = out.decode()
    for original in ("alice", "Alice Smith", "15551234567", "10.1.2.3", "2001:db8:1::5"):
        assert original not in text, original
    assert "sip:user1:" in text
    assert 'username="user1"' in text
    assert "+5550001@" in text
    assert '"Name 1"' in text
    assert "Via: SIP/2.0/UDP 192.0.2.1:5060" in text
    assert "abc@192.0.2.1" in text
    assert "[2001:db8::1]" in text
    assert "23:29:00 GMT" in text  # a time is not an IPv6 address
    msg = parse(out)
    assert msg.body is not None
    assert int(msg.get("Content-Length") or 0) == len(msg.body)
    assert not any("length" in a for a in msg.anomalies)
    assert r.address("0.0.0.0") == "0.0.0.0"  # SDP hold keeps its meaning
    assert r.address("10.1.2.3") == "192.0.2.1"


@cache
def _originals(name: str) -> frozenset[str]:
    """Every digest nonce, response and cnonce in the capture, as tshark reads them."""
    path = CAPTURES / name
    ports = set()
    for m in analyze(path).store:
        for end in (m.src, m.dst):
            ports.add(int(end.rsplit(":", 1)[1]))
    cmd = [require_tshark(), "-n", "-r", str(path)]
    for p in sorted(ports):
        cmd += ["-d", f"udp.port=={p},sip", "-d", f"tcp.port=={p},sip"]
    cmd += ["-Y", "sip", "-T", "fields", "-E", "separator=,"]
    for field in ("sip.auth.nonce", "sip.auth.digest.response", "sip.auth.cnonce"):
        cmd += ["-e", field]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    values = {v.strip('"') for v in re.split(r"[,\n]", out) if v.strip('"')}
    return frozenset(values)


def _outputs(tmp_path: Path, capture: Path, *options: str) -> dict[str, bytes]:
    """Every output format, and an exported pcap, as bytes."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    got: dict[str, bytes] = {}
    for fmt in TEXT_FORMATS:
        out = tmp_path / f"report.{fmt}"
        args = ["analyze", str(capture), "--format", fmt, "--ladder", "all", "-o", str(out)]
        assert main([*args, *options]) == 0
        got[fmt] = out.read_bytes()
    for fmt in TABLE_FORMATS:
        out = tmp_path / fmt
        assert main(["analyze", str(capture), "--format", fmt, "-o", str(out), *options]) == 0
        for f in sorted(out.iterdir()):
            if fmt == "parquet":  # compressed: compare the values, read back
                got[f"{fmt}/{f.name}"] = pd.read_parquet(f).to_csv().encode()
            else:
                got[f"{fmt}/{f.name}"] = f.read_bytes()
    if "--redact-identities" not in options:
        pcap = tmp_path / "calls.pcapng"
        args = ["analyze", str(capture), "--export-pcap", str(pcap), "-o", str(tmp_path / "x")]
        assert main([*args, *options]) == 0
        got["pcap"] = pcap.read_bytes()
    return got


@pytest.mark.parametrize("name", AUTH_CAPTURES)
def test_no_credential_survives_redact(tmp_path: Path, name: str) -> None:
    secrets = _originals(name)
    assert len(secrets) >= 3, "the capture should carry digest credentials"
    plain = _outputs(tmp_path / "plain", CAPTURES / name)
    # Without --redact the exported pcap carries them: the check below can fail.
    assert all(s.encode() in plain["pcap"] for s in secrets)
    redacted = _outputs(tmp_path / "redacted", CAPTURES / name, "--redact")
    for where, data in redacted.items():
        for secret in (*secrets, *LAB_PASSWORDS):
            assert secret.encode() not in data, f"{secret} in {where}"
    assert b"REDACTED" in redacted["pcap"]


def test_redaction_keeps_the_analysis() -> None:
    path = CAPTURES / "udp4-auth-nonce-replay.pcap"
    plain = analyze(path)
    red = analyze(path, Options(redactor=Redactor(identities=True)))
    assert [c.outcome for c in red.call_records] == [c.outcome for c in plain.call_records]
    assert [f.id for f in red.finding_records] == [f.id for f in plain.finding_records]
    assert "auth.nonce-reused" in {f.id for f in red.finding_records}
    assert len(red.store) == len(plain.store)


def test_identities_leave_every_output(tmp_path: Path) -> None:
    capture = CAPTURES / "udp6-register-auth.pcap"
    got = _outputs(tmp_path, capture, "--redact-identities")
    for where, data in got.items():
        text = data.decode("utf-8", "replace")
        # The loopback address itself, not the tail of the pseudonym 2001:db8::1.
        assert not re.search(r"(?<![0-9a-fA-F:])::1(?![0-9a-fA-F])", text), where
        for original in ("alice", *_originals("udp6-register-auth.pcap")):
            assert original not in text, f"{original} in {where}"
        if where in TEXT_FORMATS:
            assert "2001:db8::1" in text, where


def test_export_refuses_identities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["analyze", str(CAPTURES / "udp4-register-auth.pcap"), "--redact-identities"]
    assert main([*args, "--export-pcap", str(tmp_path / "x.pcapng")]) == 2
    assert "--redact" in capsys.readouterr().err
    assert not (tmp_path / "x.pcapng").exists()
