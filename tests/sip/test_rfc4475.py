"""RFC 4475 torture messages: verdicts and the values the RFC text names.

Each case's expectation comes from the RFC section it cites: valid messages
parse with no anomaly (or only the tolerated one the RFC describes); each
invalid message raises `ParseError` with a reason naming its defect or
parses with the anomaly naming it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer.sip import ParseError, SipMessage, parse
from tests.conftest import CORPUS

FOLDER = CORPUS / "rfc4475-messages"

# file -> (RFC 4475 section, anomalies expected; a string means ParseError reason)
VERDICTS: dict[str, tuple[str, frozenset[str] | str]] = {
    # §3.1.1 valid messages
    "wsinv": ("3.1.1.1", frozenset()),
    "intmeth": ("3.1.1.2", frozenset({"unknown_method"})),  # IN%56ITE-like: unknown method
    "esc01": ("3.1.1.3", frozenset()),
    "escnull": ("3.1.1.4", frozenset()),
    "esc02": ("3.1.1.5", frozenset({"unknown_method"})),  # RE%47IST%45R is not REGISTER
    "lwsdisp": ("3.1.1.6", frozenset()),
    "longreq": ("3.1.1.7", frozenset()),
    "dblreq": ("3.1.1.8", frozenset({"extra_bytes_after_body"})),  # ignored, but noted
    "semiuri": ("3.1.1.9", frozenset()),
    "transports": ("3.1.1.10", frozenset()),
    "mpart01": ("3.1.1.11", frozenset()),
    "unreason": ("3.1.1.12", frozenset()),
    "noreason": ("3.1.1.13", frozenset()),
    # §3.1.2 invalid messages
    "badinv01": ("3.1.2.1", frozenset({"empty_parameter", "empty_list_element"})),
    "clerr": ("3.1.2.2", frozenset({"content_length_exceeds_body"})),
    "ncl": ("3.1.2.3", frozenset({"negative_content_length"})),
    "scalar02": (
        "3.1.2.4",
        frozenset(
            {
                "cseq_out_of_range",
                "max_forwards_out_of_range",
                "expires_out_of_range",
                "contact_expires_out_of_range",
            }
        ),
    ),
    "scalarlg": (
        "3.1.2.5",
        frozenset({"cseq_out_of_range", "retry_after_out_of_range", "invalid_warning_code"}),
    ),
    "quotbal": ("3.1.2.6", frozenset({"unterminated_quoted_string"})),
    "ltgtruri": ("3.1.2.7", frozenset({"angle_brackets_in_request_uri"})),
    "lwsruri": ("3.1.2.8", frozenset({"whitespace_in_request_uri"})),
    "lwsstart": ("3.1.2.9", frozenset({"extra_whitespace_in_start_line"})),
    "trws": ("3.1.2.10", frozenset({"trailing_whitespace_in_start_line"})),
    "escruri": ("3.1.2.11", frozenset({"headers_in_request_uri"})),
    "baddate": ("3.1.2.12", frozenset({"invalid_date"})),
    "regbadct": ("3.1.2.13", frozenset({"uri_not_in_angle_brackets"})),
    "badaspec": ("3.1.2.14", frozenset({"whitespace_in_addr_spec"})),
    "baddn": ("3.1.2.15", frozenset({"invalid_display_name"})),
    "badvers": ("3.1.2.16", frozenset({"unsupported_version"})),
    "mismatch01": ("3.1.2.17", frozenset({"cseq_method_mismatch"})),
    "mismatch02": ("3.1.2.18", frozenset({"unknown_method", "cseq_method_mismatch"})),
    "bigcode": ("3.1.2.19", "status_code_out_of_range"),
    # §3.2 transaction layer
    "badbranch": ("3.2.1", frozenset({"branch_without_transaction_id"})),
    # §3.3 application layer: syntactically valid unless noted
    "insuf": ("3.3.1", frozenset({"missing_call_id", "missing_from", "missing_to"})),
    "unkscm": ("3.3.2", frozenset()),
    "novelsc": ("3.3.3", frozenset()),
    "unksm2": ("3.3.4", frozenset()),
    "bext01": ("3.3.5", frozenset()),
    "invut": ("3.3.6", frozenset()),
    "regaut01": ("3.3.7", frozenset()),
    "multi01": ("3.3.8", frozenset({"duplicate_singleton_header"})),
    "mcl01": ("3.3.9", frozenset({"duplicate_singleton_header", "conflicting_content_length"})),
    "bcast": ("3.3.10", frozenset()),
    "zeromf": ("3.3.11", frozenset()),
    "cparam01": ("3.3.12", frozenset()),
    "cparam02": ("3.3.13", frozenset()),
    "regescrt": ("3.3.14", frozenset()),
    "sdp01": ("3.3.15", frozenset()),
    # §3.4.1: RFC 2543 syntax, accepted; the body runs to the datagram's end.
    "inv2543": ("3.4.1", frozenset({"missing_content_length"})),
}


def _load(name: str) -> bytes:
    path = FOLDER / f"{name}.dat"
    if not path.exists():
        pytest.skip(f"corpus file {path} absent (../shared not checked out)")
    return path.read_bytes()


def msg(name: str) -> SipMessage:
    return parse(_load(name))


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str) -> None:
    section, expected = VERDICTS[name]
    data = _load(name)
    if isinstance(expected, str):
        with pytest.raises(ParseError) as info:
            parse(data)
        assert info.value.reason == expected, section
    else:
        assert set(parse(data).anomalies) == expected, section


def test_every_corpus_case_has_a_verdict() -> None:
    if not FOLDER.is_dir():
        pytest.skip("corpus absent")
    names = {p.stem for p in FOLDER.glob("*.dat")} - {"test"}  # test.dat is not an RFC case
    assert names == set(VERDICTS)


def test_3_1_1_1_wsinv_values() -> None:
    m = msg("wsinv")
    assert m.method == "INVITE"
    assert m.request_uri is not None
    assert dict(m.request_uri.params) == {"unknownparam": None}
    assert m.max_forwards == 68  # leading zeros
    assert m.cseq is not None
    assert (m.cseq.number, m.cseq.method) == (9, "INVITE")
    assert m.to_tag == "1918181833n"
    assert m.from_addr is not None
    assert m.from_addr.display == 'J Rosenberg \\"'
    assert m.from_tag == "98asjd8"
    assert m.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert m.content_length == 150
    assert m.get("s") == ""  # empty subject
    assert m.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert m.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert [(v.transport, v.sent_by, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    (route,) = m.route
    assert route.uri is not None
    assert dict(route.uri.params) == {
        "lr": None,
        "unknownwith": "value",
        "unknown-no-value": None,
    }
    (contact,) = m.contacts
    assert contact.display == 'Quoted string ""'
    assert dict(contact.params) == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert contact.q == 0.33
    assert m.sdp is not None
    assert [(md.media, md.port) for md in m.sdp.media] == [("audio", 49217), ("video", 3227)]


def test_3_1_1_2_intmeth_values() -> None:
    m = msg("intmeth")
    assert m.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.cseq is not None
    assert m.cseq.method == m.method
    uri = m.request_uri
    assert uri is not None
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"
    assert m.vias[0].branch == "z9hG4bK-.!%66*_+`'~"
    assert m.to_addr is not None
    assert m.to_addr.display == "BEL:\x07 NUL:\x00 DEL:\x7f"
    frm = m.from_addr
    assert frm is not None
    assert frm.display == "token1~` token2'+_ token3*%!.-"
    assert frm.params["fromparam''~+*_!.-%"] == '"работающий"'
    assert frm.tag == "_token~1'+`*%!-."
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"


def test_3_1_1_3_esc01_unescapes_once() -> None:
    m = msg("esc01")
    uri = m.request_uri
    assert uri is not None
    assert (uri.user, uri.host) == ("sips:user@example.com", "example.net")
    assert m.to_addr is not None
    assert m.to_addr.uri is not None
    assert m.to_addr.uri.user == "user"
    assert m.from_addr is not None
    assert m.from_addr.uri is not None
    assert m.from_addr.uri.user == "I have spaces"
    contact_uri = m.contacts[0].uri
    assert contact_uri is not None
    assert contact_uri.user == "caller"
    # "value%41" is NOT "valueA": unescaping is never recursive.
    assert dict(contact_uri.params) == {"lr": None, "name": "value%41"}


def test_3_1_1_4_escnull_keeps_nulls() -> None:
    m = msg("escnull")
    assert m.to_addr is not None
    assert m.to_addr.uri is not None
    assert m.to_addr.uri.user == "null-\x00-null"
    users = [c.uri.user for c in m.contacts if c.uri]
    assert users == ["\x00", "\x00\x00"]  # two distinct contacts


def test_3_1_1_5_esc02_percent_is_not_an_escape() -> None:
    m = msg("esc02")
    assert m.method == "RE%47IST%45R"
    assert m.to_addr is not None
    assert m.to_addr.display == "%Z%45"
    assert len(m.contacts) == 2  # C%6Fntact is another header
    assert m.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert m.vias[0].branch == "z9hG4bK209%fzsnel234"


def test_3_1_1_6_lwsdisp() -> None:
    frm = msg("lwsdisp").from_addr
    assert frm is not None
    assert (frm.display, frm.uri_text, frm.tag) == ("caller", "sip:caller@example.com", "323")


def test_3_1_1_7_longreq_values() -> None:
    data = _load("longreq")
    m = parse(data)
    to = m.to_addr
    assert to is not None
    assert to.display is not None
    assert "extreme" * 10 in to.display
    assert to.uri is not None
    assert to.uri.port == 6000
    assert to.uri.params["unknownparam1"] == "very" + "long" * 20 + "value"
    assert to.uri.params["longparam" + "name" * 25] == "shortvalue"
    assert m.from_tag == "12" + "982" * 50 + "424"
    assert m.call_id == "longreq.one" + "really" * 20 + "longcallid"
    # Count Via lines independently of the parser: every case and spacing of
    # "Via"/"v" before the colon, plus comma-separated values in them.
    via_lines = re.findall(rb"(?im)^(?:via|v)[ \t]*:(.*)$", data)
    assert len(m.vias) == sum(line.count(b"SIP/2.0/") for line in via_lines)
    assert len(m.vias) > 30
    assert m.vias[-1].params["received"] == "192.0.2.5"


def test_3_1_1_8_dblreq_ignores_trailing_request() -> None:
    m = msg("dblreq")
    assert m.method == "REGISTER"
    assert m.body == b""


def test_3_1_1_9_semiuri_user_part() -> None:
    uri = msg("semiuri").request_uri
    assert uri is not None
    assert (uri.user, uri.host) == ("user;par=u@example.net", "example.com")
    assert [t.mime for t in msg("semiuri").accept] == [
        "application/sdp",
        "application/pkcs7-mime",
        "multipart/mixed",
        "multipart/signed",
        "message/sip",
        "message/sipfrag",
    ]


def test_3_1_1_10_transports() -> None:
    assert [v.transport for v in msg("transports").vias] == [
        "UDP",
        "SCTP",
        "TLS",
        "UNKNOWN",
        "TCP",
    ]


def test_3_1_1_11_mpart01_two_parts_with_nulls() -> None:
    m = msg("mpart01")
    assert m.content_type is not None
    assert m.content_type.params["boundary"] == "7a9cbec02ceef655"
    text, binary = m.body_parts
    assert text.content_type is not None
    assert text.content_type.mime == "text/plain"
    assert text.body == b"Hello"
    assert binary.content_type is not None
    assert binary.content_type.mime == "application/octet-stream"
    assert binary.body.startswith(bytes.fromhex("3082015206092A86"))
    assert binary.body.endswith(bytes.fromhex("7B65BC99D005"))
    assert b"\x00" in binary.body
    assert m.identity is not None
    assert m.identity.value.startswith("r5mwreLuyDRYBi/0TiPwEsY3rEVsk")


def test_3_1_1_12_and_13_reason_phrases() -> None:
    m = msg("unreason")
    assert m.status == 200
    assert m.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    m = msg("noreason")
    assert (m.status, m.reason) == (100, "")


def test_3_1_2_values_survive_the_defects() -> None:
    assert msg("quotbal").to_addr is not None
    assert msg("ltgtruri").uri == "sip:user@example.com"
    assert msg("lwsruri").uri == "sip:user@example.com;lr"
    assert msg("lwsstart").uri == "sip:user@example.com"
    assert msg("trws").version == "SIP/2.0"
    escruri = msg("escruri").request_uri
    assert escruri is not None
    assert dict(escruri.headers) == {"Route": "<sip:example.com>"}
    baddn = msg("baddn").from_addr
    assert baddn is not None
    assert (baddn.display, baddn.tag) == ("Bell, Alexander", "43")
    badaspec = msg("badaspec").to_addr
    assert badaspec is not None
    assert badaspec.uri_text == "sip:t.watson@example.org"
    scalarlg = msg("scalarlg")
    assert scalarlg.warnings[0].code == 1812
    assert scalarlg.cseq is not None
    assert scalarlg.cseq.number == 9292394834772304023312
    assert msg("mismatch02").method == "NEWMETHOD"
    assert msg("clerr").body.startswith(b"v=0")


def test_3_3_application_layer_values() -> None:
    assert msg("bcast").vias[1].host == "255.255.255.255"
    bext = msg("bext01")
    assert bext.require == ("nothingsupportsthis", "nothingsupportsthiseither")
    assert bext.proxy_require == ("noproxiessupportthis", "nordoanyproxiessupportthis")
    unk = msg("unkscm").request_uri
    assert unk is not None
    assert (unk.scheme, unk.host) == ("nobodyknowsthisscheme", "")
    novel = msg("novelsc").request_uri
    assert novel is not None
    assert novel.scheme == "soap.beep"
    unksm2 = msg("unksm2")
    schemes = [a.uri.scheme if a and a.uri else None for a in (unksm2.to_addr, unksm2.from_addr)]
    assert schemes == ["isbn", "http"]
    assert unksm2.contacts[0].uri_text == "name:John_Smith"
    ctype = msg("invut").content_type
    assert ctype is not None
    assert ctype.mime == "application/unknownformat"
    (auth,) = msg("regaut01").authorization
    assert (auth.scheme, dict(auth.params)) == ("NoOneKnowsThisScheme", {"opaque-data": "here"})
    assert msg("zeromf").max_forwards == 0
    (c1,) = msg("cparam01").contacts
    assert c1.uri is not None
    assert (dict(c1.params), dict(c1.uri.params)) == ({"unknownparam": None}, {})
    (c2,) = msg("cparam02").contacts
    assert c2.uri is not None
    assert (dict(c2.params), dict(c2.uri.params)) == ({}, {"unknownparam": None})
    (c3,) = msg("regescrt").contacts
    assert c3.uri is not None
    assert dict(c3.uri.headers) == {"Route": "<sip:sip.example.com>"}
    assert [t.mime for t in msg("sdp01").accept] == ["text/nobodyknowsthis"]


def test_3_4_1_inv2543() -> None:
    m = msg("inv2543")
    assert m.vias[0].branch is None
    assert m.from_tag is None
    assert m.max_forwards is None
    assert m.sdp is not None
    assert m.sdp.media[0].port == 49217
    assert m.sdp.media[0].codec_names == ("PCMU",)


def test_torture_folder_only_raises_parse_error(tmp_path: Path) -> None:
    if not FOLDER.is_dir():
        pytest.skip("corpus absent")
    for path in FOLDER.glob("*.dat"):
        try:
            m = parse(path.read_bytes())
        except ParseError:
            continue
        # Every typed accessor copes with whatever the headers hold.
        _ = (m.vias, m.cseq, m.from_addr, m.to_addr, m.contacts, m.route, m.reasons)
        _ = (m.warnings, m.retry_after, m.authorization, m.sdp, m.body_parts, m.request_uri)
