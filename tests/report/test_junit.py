"""JUnit XML: one case per call and registration, failures exactly the failed ones,
counts that add up, a shape CI consumers accept, and well-formed XML whatever the
capture holds.

Expectations are derived here from the records (outcomes and error findings), not
from the reporter's own helpers; lab captures pin a few concrete facts.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from analyzer import Analysis, analyze
from analyzer.catalogue import lookup
from analyzer.findings import Finding
from analyzer.report import junit
from analyzer.report.interface import RenderOptions
from analyzer.select import Selection, select
from tests.conftest import CAPTURES
from tests.report.edit import edited

# Written independently of analyzer.select and analyzer.report.junit on purpose.
CALL_FAILED = {"busy", "no_answer", "rejected", "not_found", "auth_failed", "failed", "no_response"}
REG_FAILED = {"auth_failed", "failed", "no_response"}

CAPTURE_NAMES = [
    "demo.pcapng",
    "udp4-busy.pcap",
    "tcp4-busy.pcap",
    "tcp4-flow-failed.pcap",
    "tcp4-register-auth.pcap",
    "udp4-codec-mismatch-606.pcap",
    "udp4-register-wrong-password.pcap",
    "udp4-no-response.pcap",
    "udp4-cancel.pcap",
    "udp4-scanner.pcap",
]

# The structure Jenkins, GitLab and the GitHub reporters read, strictest ordering (as
# Ant's schema: properties, testcases, then output); written for this test.
XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="seconds">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9]+\\.[0-9]{3}"/></xs:restriction>
  </xs:simpleType>
  <xs:complexType name="verdict">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="message" type="xs:string"/>
        <xs:attribute name="type" type="xs:string"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="testsuites">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="testsuite" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="properties" minOccurs="0">
                <xs:complexType>
                  <xs:sequence>
                    <xs:element name="property" minOccurs="0" maxOccurs="unbounded">
                      <xs:complexType>
                        <xs:attribute name="name" type="xs:string" use="required"/>
                        <xs:attribute name="value" type="xs:string" use="required"/>
                      </xs:complexType>
                    </xs:element>
                  </xs:sequence>
                </xs:complexType>
              </xs:element>
              <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
                <xs:complexType>
                  <xs:sequence>
                    <xs:choice minOccurs="0">
                      <xs:element name="failure" type="verdict"/>
                      <xs:element name="error" type="verdict"/>
                      <xs:element name="skipped" type="verdict"/>
                    </xs:choice>
                    <xs:element name="system-out" type="xs:string" minOccurs="0"/>
                    <xs:element name="system-err" type="xs:string" minOccurs="0"/>
                  </xs:sequence>
                  <xs:attribute name="name" type="xs:string" use="required"/>
                  <xs:attribute name="classname" type="xs:string" use="required"/>
                  <xs:attribute name="time" type="seconds" use="required"/>
                </xs:complexType>
              </xs:element>
              <xs:element name="system-out" type="xs:string" minOccurs="0"/>
              <xs:element name="system-err" type="xs:string" minOccurs="0"/>
            </xs:sequence>
            <xs:attribute name="name" type="xs:string" use="required"/>
            <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="skipped" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="time" type="seconds" use="required"/>
            <xs:attribute name="timestamp" type="xs:dateTime"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="time" type="seconds" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def render(analysis: Analysis) -> str:
    return junit.render(analysis, RenderOptions())


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert text.endswith("\n")
    return ET.fromstring(text.encode("utf-8"))


def suite(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f"testsuite[@name='{name}']")
    assert found is not None
    return found


def out_of(case: ET.Element) -> str:
    out = case.find("system-out")
    if out is None:
        return ""
    return out.text or ""


def call_id_of(case: ET.Element) -> str:
    ids = re.findall(r"^call-id: (.*)$", out_of(case), re.M)
    assert len(ids) == 1
    return str(ids[0])


def errors_by_call(analysis: Analysis) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in analysis.finding_records:
        if f.severity == "error" and f.call_id is not None:
            out.setdefault(f.call_id, []).append(f)
    return out


def check_counts(root: ET.Element) -> None:
    """Every suite's counts are its cases', and the root's the suites' sums."""
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["calls", "registrations", "capture"]
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = Decimal(0)
    for s in suites:
        cases = s.findall("testcase")
        assert int(s.get("tests", "-1")) == len(cases)
        assert int(s.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
        assert int(s.get("errors", "-1")) == sum(c.find("error") is not None for c in cases) == 0
        assert int(s.get("skipped", "-1")) == sum(c.find("skipped") is not None for c in cases)
        assert Decimal(s.get("time", "x")) == sum(Decimal(c.get("time", "x")) for c in cases)
        for c in cases:
            verdicts = [e.tag for e in c if e.tag in ("failure", "error", "skipped")]
            assert len(verdicts) <= 1
        for key in totals:
            totals[key] += int(s.get(key, "0"))
        time += Decimal(s.get("time", "x"))
    assert {k: int(root.get(k, "-1")) for k in totals} == totals
    assert Decimal(root.get("time", "x")) == time


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_one_case_per_call_and_registration_failures_exactly_the_failed(name: str) -> None:
    analysis = analyze(str(CAPTURES / name))
    root = parse(render(analysis))
    check_counts(root)
    errors = errors_by_call(analysis)
    regs = {r.call_id: r for r in analysis.registration_records}
    calls = {c.call_id: c for c in analysis.call_records if c.call_id not in regs}

    call_cases = suite(root, "calls").findall("testcase")
    reg_cases = suite(root, "registrations").findall("testcase")
    assert [call_id_of(c) for c in call_cases] == list(calls)
    assert [call_id_of(c) for c in reg_cases] == list(regs)
    # Every Call-ID is exactly one case.
    assert sorted(calls.keys() | regs.keys()) == sorted(c.call_id for c in analysis.call_records)

    for case in call_cases:
        call = calls[call_id_of(case)]
        assert case.get("classname") == f"sip.calls.{call.method}"
        assert abs(Decimal(case.get("time", "x")) - Decimal(call.end - call.start)) <= Decimal(
            "0.0005"
        )
        failed = call.outcome in CALL_FAILED or call.call_id in errors
        failure = case.find("failure")
        assert (failure is not None) == failed, call
        if failure is not None:
            want = call.outcome if call.outcome in CALL_FAILED else errors[call.call_id][0].id
            assert failure.get("type") == want
            if call.final_status is not None:
                assert str(call.final_status) in failure.get("message", "")
    for case in reg_cases:
        reg = regs[call_id_of(case)]
        assert case.get("classname") == "sip.registrations"
        failed = reg.outcome in REG_FAILED or reg.call_id in errors
        assert (case.find("failure") is not None) == failed, reg

    # Every error finding is in its case's failure, with its evidence; the rest in output.
    by_id = {call_id_of(c): c for c in [*call_cases, *reg_cases]}
    for f in analysis.finding_records:
        assert f.call_id is not None
        case = by_id[f.call_id]
        if f.severity == "error":
            failure = case.find("failure")
            assert failure is not None
            text = failure.text or ""
            for part in (f.title, f.detail, f.fix, f.rfc or "", f.display_filter):
                assert part in text
            assert f"frames: {' '.join(map(str, f.frames))}" in text
            assert f"{f.id}: {f.title}" in failure.get("message", "")
        else:
            assert f"{f.severity} {f.id}: {f.title}" in out_of(case)
    assert suite(root, "capture").findall("testcase") == []


def test_busy_calls_fail_with_486_and_its_meaning() -> None:
    analysis = analyze(str(CAPTURES / "udp4-busy.pcap"))
    root = parse(render(analysis))
    cases = suite(root, "calls").findall("testcase")
    assert len(cases) == 3
    meaning = lookup(486).meaning
    for case in cases:
        failure = case.find("failure")
        assert failure is not None
        assert failure.get("type") == "busy"
        assert failure.get("message") == "busy: 486 Busy Here"
        assert meaning in (failure.text or "")
        assert "alice@lab.test → bob@127.0.0.1:5070 (" in case.get("name", "")
    assert root.get("failures") == "3"


def test_demo_capture_facts() -> None:
    analysis = analyze(str(CAPTURES / "demo.pcapng"))
    root = parse(render(analysis))
    calls = {call_id_of(c): c for c in suite(root, "calls").findall("testcase")}
    regs = {call_id_of(c): c for c in suite(root, "registrations").findall("testcase")}
    # Answered, cancelled and OPTIONS pings pass.
    assert calls["1-15950@127.0.0.1"].find("failure") is None
    assert calls["1-15956@127.0.0.1"].find("failure") is None
    assert calls["1-15992@127.0.0.1"].get("classname") == "sip.calls.OPTIONS"
    # The 500 a proxy made of a 503: the outcome failed, the 503 finding is an error,
    # and the proxy's rewrite is a warning in the output.
    rewritten = calls["1-15971@127.0.0.1"]
    failure = rewritten.find("failure")
    assert failure is not None
    assert failure.get("type") == "failed"
    assert "server.service-unavailable" in failure.get("message", "")
    assert "registered reason: Server Internal Error" in (failure.text or "")
    assert "warning proxy.503-rewritten-as-500" in out_of(rewritten)
    # Registrations: the one that registered passes, the rejected credentials fail.
    assert regs["1-15984@127.0.0.1"].find("failure") is None
    rejected = regs["1-15990@127.0.0.1"].find("failure")
    assert rejected is not None
    assert rejected.get("type") == "auth_failed"
    assert "auth_failed: 401 Unauthorized" in rejected.get("message", "")
    assert set(calls).isdisjoint(regs)
    # Suite properties: the packet accounting of the capture.
    props = {p.get("name"): p.get("value") for p in suite(root, "calls").iter("property")}
    acc = analysis.captures[0]
    assert props["capture.0.path"] == acc.path
    assert props["capture.0.packets"] == str(acc.packets)
    assert props["capture.0.sip_messages"] == str(acc.sip_messages)
    assert suite(root, "calls").get("timestamp", "").startswith("20")


def test_registrations_only_capture_has_no_call_cases() -> None:
    root = parse(render(analyze(str(CAPTURES / "tcp4-register-auth.pcap"))))
    assert suite(root, "calls").get("tests") == "0"
    regs = suite(root, "registrations")
    assert (regs.get("tests"), regs.get("failures")) == ("3", "0")
    assert "info auth.challenge-resolved" in out_of(regs.findall("testcase")[0])


def test_output_is_deterministic() -> None:
    a = render(analyze(str(CAPTURES / "demo.pcapng")))
    b = render(analyze(str(CAPTURES / "demo.pcapng")))
    assert a == b


@pytest.mark.parametrize("name", ["demo.pcapng", "tcp4-flow-failed.pcap"])
def test_report_validates_against_a_junit_schema(name: str) -> None:
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.fromstring(XSD.encode()))
    doc = etree.fromstring(render(analyze(str(CAPTURES / name))).encode("utf-8"))
    assert schema.validate(doc), schema.error_log


def test_selection_keeps_only_the_failed_calls() -> None:
    analysis = analyze(str(CAPTURES / "demo.pcapng"))
    failed = select(analysis, Selection(calls="failed"))
    root = parse(render(failed))
    check_counts(root)
    cases = [*suite(root, "calls").findall("testcase")]
    cases += suite(root, "registrations").findall("testcase")
    assert len(cases) == len(failed.call_records) < len(analysis.call_records)
    assert all(c.find("failure") is not None for c in cases)
    props = {p.get("name"): p.get("value") for p in suite(root, "calls").iter("property")}
    assert props["selection"] == "--calls failed"


HOSTILE = "\x00\x1b[31m\x07<&]]>\"'\ud800\ufffe\uffff\t\n\r\x85\u202e"


def test_hostile_strings_give_well_formed_xml(tmp_path: Path) -> None:
    # Markup in the Call-ID and an escape sequence in the From, through the parser...
    path = edited(
        CAPTURES / "udp4-busy.pcap",
        tmp_path / "hostile.pcap",
        [
            (b"1-15501@127.0.0.1", b"1-<&]]>\"'\x1b[2J@evil"),
            (b'"Alice" <sip:alice', b'"\x1b]0;pwned\x07" <sip:<&]]>'),
        ],
    )
    analysis = analyze(str(path))
    assert any("]]>" in c.call_id for c in analysis.call_records)
    # ...and, straight into the records, what no parser lets through: NUL, lone
    # surrogates, U+FFFE/FFFF, C1 controls, bidi overrides.
    call = analysis.call_records[1]
    hostile_call = dataclasses.replace(call, call_id=HOSTILE, from_=HOSTILE, to=HOSTILE)
    loose = Finding("x.capture-wide", "error", HOSTILE, HOSTILE, HOSTILE, (1, 2))
    analysis = dataclasses.replace(
        analysis,
        correlation=dataclasses.replace(
            analysis.correlation,
            calls=(analysis.call_records[0], hostile_call, *analysis.call_records[2:]),
        ),
        finding_records=(*analysis.finding_records, loose),
    )
    text = render(analysis)
    root = parse(text)  # well-formed UTF-8 XML 1.0
    check_counts(root)
    for bad in ("\x00", "\x1b", "\x07", "\ud800", "\ufffe", "\uffff", "\x85", "\u202e"):
        assert bad not in text
    names = [c.get("name", "") for c in root.iter("testcase")]
    assert any("<&]]>" in n for n in names)  # escaped in the file, intact once parsed
    assert any("\\x1b" in n and "\\ud800" in n for n in names)
    assert all("\n" not in n and "\t" not in n for n in names)
    # The capture-wide error is a failing case of its own.
    capture = suite(root, "capture").findall("testcase")
    assert len(capture) == 1
    assert capture[0].get("classname") == "sip.capture"
    failure = capture[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "x.capture-wide"
    etree = pytest.importorskip("lxml.etree")
    etree.fromstring(text.encode("utf-8"))  # and by a strict parser


def test_loose_findings_and_incomplete_calls(tmp_path: Path) -> None:
    analysis = analyze(str(CAPTURES / "udp4-answered.pcap"))
    first, *rest = analysis.call_records
    unknown = dataclasses.replace(first, outcome="incomplete", final_status=None)
    findings = (
        Finding("x.flood", "warning", "flood", "many", "block", (1,)),
        Finding("x.orphan", "error", "no such call", "d", "f", (2,), call_id="nobody@x"),
    )
    analysis = dataclasses.replace(
        analysis,
        correlation=dataclasses.replace(analysis.correlation, calls=(unknown, *rest)),
        finding_records=(*analysis.finding_records, *findings),
    )
    root = parse(render(analysis))
    check_counts(root)
    calls = suite(root, "calls")
    assert (calls.get("tests"), calls.get("failures"), calls.get("skipped")) == ("3", "0", "1")
    skipped = calls.findall("testcase")[0].find("skipped")
    assert skipped is not None
    assert "capture ended" in skipped.get("message", "")
    # An error about a Call-ID with no record fails in `capture`; a capture-wide warning
    # is in that suite's output, not a case.
    capture = suite(root, "capture")
    assert [c.get("name", "").split(":")[0] for c in capture.findall("testcase")] == ["x.orphan"]
    out = capture.find("system-out")
    assert out is not None
    assert "warning x.flood: flood" in (out.text or "")
