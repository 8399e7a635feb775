"""RFC 5118 IPv6 torture messages: verdicts and the addresses the RFC names."""

from __future__ import annotations

import pytest

from analyzer.sip import SipMessage, parse
from tests.conftest import CORPUS

FOLDER = CORPUS / "rfc5118-messages"

# The printed Content-Length of these three is shorter than the printed body
# (measured: 241 vs 251, 236 vs 245, 181 vs 189 octets), so the surplus is
# reported as it would be for a datagram.
_SHORT_CL = frozenset({"extra_bytes_after_body"})

VERDICTS: dict[str, tuple[str, frozenset[str]]] = {
    "ipv6-good": ("4.1", frozenset()),
    "ipv6-bad": ("4.2", frozenset({"unbracketed_ipv6_host"})),
    "port-ambiguous": ("4.3", frozenset()),
    "port-unambiguous": ("4.4", frozenset()),
    "via-received-param-with-delim": ("4.5", frozenset()),
    "via-received-param-no-delim": ("4.5", frozenset()),
    "ipv4-mapped-ipv6": ("4.6", _SHORT_CL),
    "mult-ip-in-header": ("4.7", frozenset()),
    "mult-ip-in-sdp": ("4.8", _SHORT_CL),
    "ipv6-bug-abnf-3-colons": ("4.9", frozenset({"invalid_ipv6_reference"})),
    "ipv6-correct-abnf-2-colons": ("4.10", frozenset()),
    "ipv6-in-sdp": ("4.7", _SHORT_CL),
}


def msg(name: str) -> SipMessage:
    path = FOLDER / f"{name}.sip"
    if not path.exists():
        pytest.skip(f"corpus file {path} absent")
    return parse(path.read_bytes())


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str) -> None:
    section, expected = VERDICTS[name]
    assert set(msg(name).anomalies) == expected, section


def test_every_corpus_case_has_a_verdict() -> None:
    if not FOLDER.is_dir():
        pytest.skip("corpus absent")
    assert {p.stem for p in FOLDER.glob("*.sip")} == set(VERDICTS)


def test_ipv6_references_in_request_uri() -> None:
    good = msg("ipv6-good").request_uri
    assert good is not None
    assert (good.host, good.port, good.is_ipv6) == ("2001:db8::10", None, True)
    # §4.3: inside the brackets, ":5070" is part of the address, not a port.
    ambiguous = msg("port-ambiguous").request_uri
    assert ambiguous is not None
    assert (ambiguous.host, ambiguous.port) == ("2001:db8::10:5070", None)
    unambiguous = msg("port-unambiguous").request_uri
    assert unambiguous is not None
    assert (unambiguous.host, unambiguous.port) == ("2001:db8::10", 5070)
    assert unambiguous.hostport == "[2001:db8::10]:5070"
    assert msg("ipv6-bad").request_uri is None
    correct = msg("ipv6-correct-abnf-2-colons").request_uri
    assert correct is not None
    assert correct.host == "2001:db8::192.0.2.1"


def test_via_received_with_and_without_brackets() -> None:
    for name in ("via-received-param-with-delim", "via-received-param-no-delim"):
        via = msg(name).vias[0]
        assert via.host == "2001:db8::9:1"
        assert via.received == "2001:db8::9:255"


def test_multiple_addresses_in_headers() -> None:
    vias = msg("mult-ip-in-header").vias
    assert [(v.transport, v.host, v.port) for v in vias] == [
        ("UDP", "2001:db8::9:1", 6050),
        ("UDP", "192.0.2.1", None),
        ("TCP", "2001:db8::9:255", None),
    ]
    assert vias[2].received == "192.0.2.200"
    mapped = msg("ipv4-mapped-ipv6")
    assert mapped.vias[0].sent_by == "[::ffff:192.0.2.10]:19823"
    assert mapped.vias[0].port == 19823
    contact = mapped.contacts[0]
    assert contact.display == "T. desk phone"
    assert contact.uri is not None
    assert contact.uri.host == "::ffff:192.0.2.2"


def test_ipv6_in_sdp() -> None:
    sdp = msg("ipv6-in-sdp").sdp
    assert sdp is not None
    assert sdp.connection is not None
    assert (sdp.connection.addrtype, sdp.connection.address) == ("IP6", "2001:db8::20")
    mixed = msg("mult-ip-in-sdp").sdp
    assert mixed is not None
    assert [(m.media, m.connection and m.connection.address) for m in mixed.media] == [
        ("audio", "192.0.2.1"),
        ("video", "2001:db8::1"),
    ]
    assert mixed.addresses == ("192.0.2.1", "2001:db8::1")
