"""JUnit XML report: each call and registration a test case, for CI test reporters.

Jenkins, GitLab CI and the GitHub test-report actions read the common JUnit
shape `testsuites > testsuite > testcase > (failure | skipped | system-out)`.
The document has three suites, always present (empty ones included) so that
consumers can rely on its shape:

- `calls`: one case per Call-ID that holds no REGISTER (INVITE, OPTIONS,
  SUBSCRIBE, MESSAGE...), classname `sip.calls.<METHOD>`;
- `registrations`: one case per registration (Call-ID holding a REGISTER),
  classname `sip.registrations`;
- `capture`: one case per error finding that no call or registration owns
  (no Call-ID, or one without a record), classname `sip.capture`;
- `gates`, only when `--fail-on` gates were given: one case per gate,
  classname `sip.gates`, failed when the gate tripped.

So every Call-ID of the (selected) analysis is exactly one case. A case
FAILS when its outcome failed (`analyzer.select.FAILED_OUTCOMES` for calls;
`auth_failed`, `failed`, `no_response` for registrations) or when an
error-severity finding is about it; the failure's text gives the outcome, the
final response with the catalogue's meaning and fix, and each error finding
with its detail, fix, RFC, frames and Wireshark display filter. A case whose
outcome is `incomplete` (the capture ended first) and that has no error
finding is SKIPPED: there is no verdict. Every other case passes. Warning and
info findings go into the case's `<system-out>` (those with no case into the
`capture` suite's). Nothing in the report is a JUnit `<error>`: errors="0".

A case's time is its call's (registration's) duration in seconds, to the
millisecond; a suite's time is the sum of its cases', the root's the sum of
the suites' (so they add up exactly, though calls overlap in real time).
Each suite carries the same `<properties>`: generator, language, selection,
and the per-capture packet accounting. Output depends only on the analysis
(no wall clock, no host name): the same capture gives the same bytes.

Every capture string goes through `inert()`, and the code points XML 1.0
cannot hold that it leaves (lone surrogates, U+FFFE, U+FFFF) are shown as
`\\uXXXX` too; ElementTree escapes the markup characters.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .. import __version__
from ..analysis import Analysis
from ..correlate import Call, Registration, Subscription
from ..findings import Finding
from ..select import FAILED_OUTCOMES, REG_FAILED_OUTCOMES
from ..sip import address_uri
from .interface import RenderOptions
from .text import inert

_NAME_LIMIT = 200
_MESSAGE_LIMIT = 500
# Code points XML 1.0 (§2.2 Char) excludes that `inert()` leaves alone.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


def xml_text(text: str | None, limit: int | None = None) -> str:
    """`text` made inert and legal in XML 1.0 (tab and newline kept)."""
    out = inert(text, limit)
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def _line(text: str | None, limit: int | None = None) -> str:
    """`_xml` on one line: tab and newline shown as escapes too."""
    return xml_text(text, limit).replace("\t", "\\x09").replace("\n", "\\x0a")


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _secs(ms: int) -> str:
    """Milliseconds as JUnit seconds: `0.113`."""
    return f"{ms // 1000}.{ms % 1000:03d}"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _uri(value: str | None) -> str:
    return address_uri(value).removeprefix("sip:").removeprefix("sips:") if value else "?"


def _span(frames: Sequence[int]) -> str:
    if not frames:
        return "none"
    if len(frames) == 1:
        return str(frames[0])
    return f"{frames[0]}-{frames[-1]} ({len(frames)} frames)"


def _call_filter(call_id: str) -> str:
    """A Wireshark display filter for one Call-ID (a string literal, escaped)."""
    literal = call_id.replace("\\", "\\\\").replace('"', '\\"')
    return f'sip.Call-ID == "{_line(literal)}"'


@dataclass(slots=True)
class _Case:
    """One `<testcase>` before it becomes XML."""

    classname: str
    name: str
    ms: int
    failure: tuple[str, str, str] | None = None
    """(type, message, text) when the case failed."""
    skipped: str | None = None
    """Why there is no verdict."""
    out: list[str] = field(default_factory=list)
    """Lines of `<system-out>`."""


@dataclass(slots=True)
class _Suite:
    """One `<testsuite>` before it becomes XML; its counts come from its cases."""

    name: str
    cases: list[_Case] = field(default_factory=list)
    out: list[str] = field(default_factory=list)
    """Lines of the suite's own `<system-out>`."""

    @property
    def failures(self) -> int:
        return sum(c.failure is not None for c in self.cases)

    @property
    def skipped(self) -> int:
        return sum(c.failure is None and c.skipped is not None for c in self.cases)

    @property
    def ms(self) -> int:
        return sum(c.ms for c in self.cases)


class _Catalogue:
    """What the catalogue says about final responses, in the analysis's language."""

    def __init__(self, analysis: Analysis) -> None:
        self.annotations = analysis.annotations

    def final(self, status: int | None, reason: str | None) -> str:
        """`486 Busy Here` (`reason` as on the wire; None: the registered phrase)."""
        if status is None:
            return "none"
        entry = self.annotations.get(status)
        said = reason if reason is not None or entry is None else entry.reason
        return f"{status} {_line(said)}".rstrip()

    def explain(self, status: int | None, reason: str | None) -> list[str]:
        """The catalogue's reason phrase (when the wire's differs), meaning and fix."""
        entry = self.annotations.get(status) if status is not None else None
        if entry is None:
            return []
        lines = []
        if reason is not None and reason != entry.reason:
            lines.append(f"registered reason: {entry.reason}")
        lines.append(f"meaning: {entry.meaning} ({entry.klass}; {', '.join(entry.rfc)})")
        lines.append(f"fix: {entry.fix}")
        return [xml_text(x) for x in lines]


def _finding(f: Finding) -> list[str]:
    """A finding as a block: its headline, then indented detail and evidence."""
    lines = [
        f"{f.severity} {_line(f.id)}: {_line(f.title)}",
        f"  {_line(f.detail)}",
        f"  fix: {_line(f.fix)}",
    ]
    if f.rfc:
        lines.append(f"  rfc: {_line(f.rfc)}")
    if f.status is not None:
        lines.append(f"  status: {f.status}")
    lines.append(f"  frames: {' '.join(str(x) for x in f.frames) or 'none'}")
    if f.display_filter:
        lines.append(f"  filter: {f.display_filter}")
    return lines


@dataclass(frozen=True, slots=True)
class _Record:
    """What a case is judged on: a call's or a registration's result and identity."""

    outcome: str
    """Its outcome."""
    failed: bool
    """Whether the outcome is a failed one."""
    status: int | None
    """Final status."""
    reason: str | None
    """Its reason phrase as on the wire (None: not recorded)."""
    facts: list[str]
    """Lines identifying it (addresses, Call-ID, capture, frames), already safe."""


def _judge(case: _Case, rec: _Record, findings: list[Finding], catalogue: _Catalogue) -> _Case:
    """Fail `case` on a failed outcome or an error finding, skip it when its outcome is
    unknown; its findings below error go to its system-out."""
    outcome, final = _line(rec.outcome), catalogue.final(rec.status, rec.reason)
    head = [f"outcome: {outcome}", f"final: {final}"]
    errors = [f for f in findings if f.severity == "error"]
    if rec.failed or errors:
        said = [outcome if rec.status is None else f"{outcome}: {final}"] if rec.failed else []
        said += [f"{_line(f.id)}: {_line(f.title)}" for f in errors]
        text = [*head, *catalogue.explain(rec.status, rec.reason)]
        for f in errors:
            text += _finding(f)
        case.failure = (
            _line(rec.outcome) if rec.failed else _line(errors[0].id),
            _line("; ".join(said), _MESSAGE_LIMIT),
            "\n".join([*text, *rec.facts]),
        )
    elif rec.outcome == "incomplete":
        case.skipped = "the capture ended before the outcome was known"
    case.out = [*head, *rec.facts]
    for f in findings:
        if f.severity != "error":
            case.out += _finding(f)
    return case


def _call_case(
    call: Call, sub: Subscription | None, findings: list[Finding], path: str, cat: _Catalogue
) -> _Case:
    case = _Case(
        classname=f"sip.calls.{_NOT_TOKEN.sub('_', call.method) or '_'}",
        name=(
            f"{_line(_uri(call.from_), _NAME_LIMIT)} → {_line(_uri(call.to), _NAME_LIMIT)} "
            f"({_line(call.call_id, _NAME_LIMIT)})"
        ),
        ms=_ms(call.end - call.start),
    )
    facts = [
        f"method: {_line(call.method)}",
        f"from: {_line(call.from_)}",
        f"to: {_line(call.to)}",
        f"call-id: {_line(call.call_id)}",
        f"capture: {_line(path)}",
        f"start: {_iso(call.start)}",
        f"frames: {_span(call.frames)}",
        f"filter: {_call_filter(call.call_id)}",
    ]
    if sub is not None:
        facts.append(
            f"subscription: event {_line(sub.event or '-')}, outcome {sub.outcome}, "
            f"state {_line(sub.state or '-')}, {sub.notifies} NOTIFY"
        )
    failed = call.outcome in FAILED_OUTCOMES
    rec = _Record(call.outcome, failed, call.final_status, call.final_reason, facts)
    return _judge(case, rec, findings, cat)


def _registration_case(
    reg: Registration, findings: list[Finding], path: str, cat: _Catalogue
) -> _Case:
    case = _Case(
        classname="sip.registrations",
        name=f"{_line(_uri(reg.aor), _NAME_LIMIT)} ({_line(reg.call_id, _NAME_LIMIT)})",
        ms=_ms(reg.end - reg.start),
    )
    expires = "-" if reg.expires_granted is None else f"{reg.expires_granted} s"
    facts = [
        f"aor: {_line(reg.aor)}",
        f"contact: {_line(reg.contact or '-')}",
        f"ua: {_line(reg.ua)}",
        f"call-id: {_line(reg.call_id)}",
        f"capture: {_line(path)}",
        f"start: {_iso(reg.start)}",
        f"attempts: {reg.attempts} ({reg.failed_attempts} failed), "
        f"challenges: {reg.challenges}, refreshes: {reg.refreshes}, expires: {expires}",
        f"frames: {_span(reg.frames)}",
        f"filter: {_call_filter(reg.call_id)}",
    ]
    failed = reg.outcome in REG_FAILED_OUTCOMES
    return _judge(case, _Record(reg.outcome, failed, reg.final_status, None, facts), findings, cat)


def _capture_case(f: Finding) -> _Case:
    frames = sorted(set(f.frames))
    return _Case(
        classname="sip.capture",
        name=f"{_line(f.id)}: {_line(f.title, _NAME_LIMIT)} [frames {_span(frames)}]",
        ms=0,
        failure=(_line(f.id), _line(f.title, _MESSAGE_LIMIT), "\n".join(_finding(f))),
    )


def _properties(analysis: Analysis) -> list[tuple[str, str]]:
    props = [("generator", f"sip-analyzer {__version__}"), ("lang", analysis.lang)]
    if analysis.selection is not None and not analysis.selection.everything:
        props.append(("selection", _line(analysis.selection.describe())))
    for i, a in enumerate(analysis.captures):
        p = f"capture.{i}."
        props += [
            (p + "path", _line(a.path)),
            (p + "format", _line(a.format)),
            (p + "packets", str(a.packets)),
            (p + "sip_packets", str(a.sip)),
            (p + "non_sip", str(a.non_sip)),
            (p + "skipped", str(sum(a.skipped.values()))),
        ]
        props += [(f"{p}skipped.{_line(k)}", str(v)) for k, v in sorted(a.skipped.items())]
        props += [
            (p + "sip_messages", str(a.sip_messages)),
            (p + "sip_errors", str(sum(a.sip_errors.values()))),
        ]
        props += [(f"{p}sip_errors.{_line(k)}", str(v)) for k, v in sorted(a.sip_errors.items())]
        props.append((p + "truncated", "true" if a.truncated else "false"))
        if a.first_time is not None:
            props.append((p + "first_packet", _iso(a.first_time)))
        if a.last_time is not None:
            props.append((p + "last_packet", _iso(a.last_time)))
    return props


def _capture_notes(analysis: Analysis) -> list[str]:
    """Warnings about the capture files, for the `capture` suite's `<system-out>`."""
    lines = []
    for a in analysis.captures:
        lines += [f"{_line(a.path)}: warning: {_line(w)}" for w in a.warnings]
        if a.warnings_suppressed:
            lines.append(f"{_line(a.path)}: {a.warnings_suppressed} more warning(s)")
        if a.truncated:
            lines.append(f"{_line(a.path)}: the file ends in the middle of a record")
        for k, v in sorted(a.sip_errors.items()):
            lines.append(f"{_line(a.path)}: {v} SIP message(s) not parsed: {_line(k)}")
    return lines


def _suites(analysis: Analysis) -> list[_Suite]:
    """The suites of the report (three, four with gates), cases in record order."""
    cat = _Catalogue(analysis)
    by_call: dict[str, list[Finding]] = defaultdict(list)
    for f in analysis.finding_records:
        if f.call_id is not None:
            by_call[f.call_id].append(f)
    paths = [a.path for a in analysis.captures]
    capture_of = {c.call_id: c.capture for c in analysis.call_records}
    regs = {r.call_id: r for r in analysis.registration_records}
    subs = {s.call_id: s for s in analysis.subscription_records}

    def path(call_id: str) -> str:
        i = capture_of.get(call_id, 0)
        return paths[i] if i < len(paths) else "?"

    calls = _Suite("calls")
    for c in analysis.call_records:
        if c.call_id not in regs:
            calls.cases.append(
                _call_case(c, subs.get(c.call_id), by_call[c.call_id], path(c.call_id), cat)
            )
    registrations = _Suite("registrations")
    for r in analysis.registration_records:
        registrations.cases.append(_registration_case(r, by_call[r.call_id], path(r.call_id), cat))
    # Findings that no case owns: capture-wide, or about a Call-ID with no record.
    owned = capture_of.keys() | regs.keys()
    loose = [f for f in analysis.finding_records if f.call_id is None or f.call_id not in owned]
    capture = _Suite("capture", out=_capture_notes(analysis))
    for f in loose:
        if f.severity == "error":
            capture.cases.append(_capture_case(f))
        else:
            capture.out += _finding(f)
    suites = [calls, registrations, capture]
    if analysis.gates:
        gates = _Suite("gates")
        for g in analysis.gates:
            case = _Case("sip.gates", _line(g.gate.text), 0)
            if g.tripped:
                case.failure = ("gate", _line(g.detail), "\n".join(_line(c) for c in g.captures))
            else:
                case.out.append(_line(g.detail))
            gates.cases.append(case)
        suites.append(gates)
    return suites


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _suite_element(
    root: ET.Element, suite: _Suite, props: Iterable[tuple[str, str]], timestamp: str | None
) -> None:
    attrs = {
        "name": suite.name,
        "tests": str(len(suite.cases)),
        "failures": str(suite.failures),
        "errors": "0",
        "skipped": str(suite.skipped),
        "time": _secs(suite.ms),
    }
    if timestamp is not None:
        attrs["timestamp"] = timestamp
    el = _sub(root, "testsuite", **attrs)
    properties = _sub(el, "properties")
    for name, value in props:
        _sub(properties, "property", name=name, value=value)
    for case in suite.cases:
        tc = _sub(el, "testcase", classname=case.classname, name=case.name, time=_secs(case.ms))
        if case.failure is not None:
            kind, message, body = case.failure
            _sub(tc, "failure", body, message=message, type=kind)
        elif case.skipped is not None:
            _sub(tc, "skipped", message=case.skipped)
        if case.out:
            _sub(tc, "system-out", "\n".join(case.out) + "\n")
    if suite.out:
        _sub(el, "system-out", "\n".join(suite.out) + "\n")


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the JUnit XML report (UTF-8 declared, ends with a newline)."""
    del options  # JUnit has no presentation options
    all_suites = _suites(analysis)
    firsts = [a.first_time for a in analysis.captures if a.first_time is not None]
    # ISO 8601 without a zone, as Ant writes it; the time is UTC.
    timestamp = (
        datetime.fromtimestamp(min(firsts), UTC).strftime("%Y-%m-%dT%H:%M:%S") if firsts else None
    )
    props = _properties(analysis)
    root = ET.Element(
        "testsuites",
        {
            "name": "sip-analyzer",
            "tests": str(sum(len(s.cases) for s in all_suites)),
            "failures": str(sum(s.failures for s in all_suites)),
            "errors": "0",
            "time": _secs(sum(s.ms for s in all_suites)),
        },
    )
    for suite in all_suites:
        _suite_element(root, suite, props, timestamp)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
