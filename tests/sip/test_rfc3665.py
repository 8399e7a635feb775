"""Every RFC 3665 call-flow message parses with the right identifiers.

Two oracles independent of the parser: the ladder diagram in each file's
comment (message labels `INVITE F1`, `F4 180 Ringing`) gives method/status
order, and line-anchored regular expressions over the raw text give Call-ID,
CSeq, top-Via branch and tags.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analyzer.sip import SipMessage, parse
from tests.conftest import CORPUS

FOLDER = CORPUS / "rfc3665-callflows"
FILES = sorted(FOLDER.glob("*.yaml")) if FOLDER.is_dir() else []

# Defects of the printed RFC text itself, which the parser must report.
KNOWN_PRINT_DEFECTS = {
    # §3.11 F1 lost its Content-Length and `v=0` lines across a page break.
    ("3.11_unsuccessful-temporarily-unavailable.yaml", 0): {"missing_content_length"},
}

_LABEL = re.compile(
    r"(?<![\w-])(?:([A-Z]{3,}|\d{3})\b[^|]*?\bF(\d+)\b|F(\d+)\s+([A-Z]{3,}|\d{3})\b)"
)


def ladder(text: str) -> list[str]:
    """Method or status of each message, in F-number order, from the diagram."""
    labels: dict[int, str] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            for m in _LABEL.finditer(line):
                if m.group(1):
                    labels[int(m.group(2))] = m.group(1)
                else:
                    labels[int(m.group(3))] = m.group(4)
    return [labels[n] for n in sorted(labels)]


def wire(printed: str) -> bytes:
    """The printed message as sent: CRLF line ends, header section terminated."""
    if "\n\n" not in printed.rstrip("\n") + "\n":
        printed = printed.rstrip("\n") + "\n\n"
    return printed.replace("\n", "\r\n").encode()


def first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, re.M | re.I)
    return m.group(1) if m else None


def flows() -> list[tuple[Path, str, list[str]]]:
    out = []
    for path in FILES:
        text = path.read_text()
        out.append((path, text, yaml.safe_load(text)))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_flow_messages_match_ladder_and_raw_identifiers(path: Path) -> None:
    text = path.read_text()
    printed: list[str] = yaml.safe_load(text)
    messages = [parse(wire(p)) for p in printed]
    assert [m.method or str(m.status) for m in messages] == ladder(text)
    for n, (raw, m) in enumerate(zip(printed, messages, strict=True)):
        where = f"{path.name} message {n + 1}"
        assert set(m.anomalies) == KNOWN_PRINT_DEFECTS.get((path.name, n), set()), where
        assert m.call_id == first(r"^(?:Call-ID|i)\s*:\s*(\S+)", raw), where
        cseq = re.search(r"^CSeq\s*:\s*(\d+)\s+(\S+)", raw, re.M)
        assert cseq is not None
        assert m.cseq is not None
        assert (m.cseq.number, m.cseq.method) == (int(cseq.group(1)), cseq.group(2)), where
        assert m.vias[0].branch == first(r"^Via\s*:[^\n]*?;\s*branch=([^;,\s]+)", raw), where
        assert m.from_tag == first(r"^From\s*:[^\n]*;\s*tag=([^;\s]+)", raw), where
        assert m.to_tag == first(r"^To\s*:[^\n]*;\s*tag=([^;\s]+)", raw), where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_every_response_matches_a_request_transaction(path: Path) -> None:
    """RFC 3261 §17.1.3: a response carries its request's top branch and CSeq."""
    messages: list[SipMessage] = [parse(wire(p)) for p in yaml.safe_load(path.read_text())]
    requests = {
        (m.vias[0].branch, m.cseq.number, m.cseq.method)
        for m in messages
        if m.is_request and m.cseq is not None
    }
    for m in messages:
        if not m.is_request:
            assert m.cseq is not None
            assert (m.vias[0].branch, m.cseq.number, m.cseq.method) in requests, m.first_line


def test_corpus_has_every_flow() -> None:
    if not FILES:
        pytest.skip("corpus absent")
    assert len(FILES) == 16
    assert sum(len(p) for _, _, p in flows()) == 193


def test_digest_credentials_and_challenge_are_typed() -> None:
    path = FOLDER / "3.03_session-with-multiple-proxy-authentication.yaml"
    if not path.exists():
        pytest.skip("corpus absent")
    messages = [parse(wire(p)) for p in yaml.safe_load(path.read_text())]
    challenge = next(m for m in messages if m.status == 407)
    (auth,) = challenge.proxy_authenticate
    assert auth.scheme == "Digest"
    assert auth.realm is not None
    assert auth.nonce is not None
    retry = next(m for m in messages if m.is_request and m.proxy_authorization)
    cred = retry.proxy_authorization[0]
    assert cred.username is not None
    assert cred.get("response") is not None
    assert cred.get("uri") == "sip:bob@biloxi.example.com"
