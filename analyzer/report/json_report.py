"""JSON report, contract `sip-analyzer/1` (docs/json-schema.md, analyzer/schema/).

Within a schema version the document only grows compatibly: fields are
added, never renamed or removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .. import __version__
from ..analysis import Analysis
from ..batch.gates import gate_dict
from ..classify import reason_notes, warning_notes
from ..correlate import (
    Call,
    Delay,
    Interval,
    Message,
    Metrics,
    Ratio,
    Registration,
    Subscription,
)
from ..correlate.metrics import is_effective, is_established, is_ineffective
from .interface import RenderOptions

SCHEMA = "sip-analyzer/1"


def message_dict(analysis: Analysis, msg: Message) -> dict[str, Any]:
    """The `messages[]` record of one message."""
    cseq = msg.cseq
    return {
        "frame": msg.frame,
        "capture": msg.capture,
        "time": round(msg.time, 6),
        "src": msg.src,
        "dst": msg.dst,
        "transport": msg.transport,
        "type": "request" if msg.is_request else "response",
        "method": msg.method,
        "ruri": msg.uri,
        "status": msg.status,
        "reason": msg.reason,
        "call_id": msg.call_id,
        "cseq": cseq.number if cseq else None,
        "cseq_method": cseq.method if cseq else None,
        "retransmission": analysis.is_retransmission(msg),
        "anomalies": list(msg.anomalies),
    }


def _interval(iv: Interval | None, **extra: Any) -> dict[str, Any] | None:
    if iv is None:
        return None
    return {"seconds": round(iv.seconds, 6), "frames": list(iv.frames), **extra}


def call_dict(call: Call) -> dict[str, Any]:
    """The `calls[]` record of one call."""
    return {
        "call_id": call.call_id,
        "capture": call.capture,
        "method": call.method,
        "outcome": call.outcome,
        "final_status": call.final_status,
        "final_reason": call.final_reason,
        "from": call.from_,
        "to": call.to,
        "start": round(call.start, 6),
        "end": round(call.end, 6),
        "duration": round(call.end - call.start, 6),
        "attempts": call.attempts,
        "challenges": call.challenges,
        "cancelled": call.cancelled,
        "hops": call.hops,
        "dialogs": list(call.to_tags),
        "answered_tag": call.answered_tag,
        "hangup": call.hangup,
        "reason": call.reason,
        "timings": {"setup": _interval(call.setup), "ring": _interval(call.ring)},
        "metrics": {
            "srd": _interval(call.srd, failed=call.srd_failed),
            "sdd": _interval(call.sdd, failed=call.sdd_failed),
            "sdt": _interval(call.sdt),
            "session_request": call.method == "INVITE" and call.attempts > 0,
            "established": is_established(call),
            "effective": is_effective(call),
            "ineffective": is_ineffective(call),
            "completed": call.completed,
        },
        "frames": list(call.frames),
    }


def _record(obj: object, names: str, **computed: Any) -> dict[str, Any]:
    """A record's attributes by name (times rounded to the microsecond), then `computed`."""
    out: dict[str, Any] = {}
    for name in names.split():
        value = getattr(obj, name)
        out[name] = round(value, 6) if isinstance(value, float) else value
    return {**out, **computed}


def registration_dict(reg: Registration) -> dict[str, Any]:
    """The `registrations[]` record of one registration."""
    return _record(
        reg,
        "call_id aor contact ua outcome final_status requests challenges attempts "
        "failed_attempts refreshes expires_requested expires_granted expires_at start end",
        contacts=list(reg.contacts),
        rrd=[_interval(i) for i in reg.rrd],
        frames=list(reg.frames),
    )


def subscription_dict(sub: Subscription) -> dict[str, Any]:
    """The `subscriptions[]` record of one subscription."""
    return _record(
        sub,
        "call_id event subscriber resource outcome final_status requests refreshes "
        "challenges notifies state state_reason expires_granted start end",
        frames=list(sub.frames),
    )


def _ratio(r: Ratio, section: str) -> dict[str, Any]:
    value = r.value
    return {
        "value": None if value is None else round(value, 3),
        "numerator": r.numerator,
        "denominator": r.denominator,
        "rfc": f"RFC 6076 §{section}",
    }


def _delay(d: Delay, section: str | None) -> dict[str, Any]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 6)

    return {
        "count": d.count,
        "mean": r(d.mean),
        "p50": r(d.percentile(50)),
        "p95": r(d.percentile(95)),
        "min": r(d.minimum),
        "max": r(d.maximum),
        "rfc": f"RFC 6076 §{section}" if section else None,
    }


def kpis_dict(m: Metrics) -> dict[str, Any]:
    """The top-level `kpis` object: RFC 6076 ratios (percent) and delays (seconds)."""
    return {
        "session_requests": m.session_requests,
        "ser": _ratio(m.ser, "4.6"),
        "seer": _ratio(m.seer, "4.7"),
        "isa": _ratio(m.isa, "4.8"),
        "scr": _ratio(m.scr, "4.9"),
        "ira": _ratio(m.ira, "4.2"),
        "rrd": _delay(m.rrd, "4.1"),
        "srd": _delay(m.srd, "4.3.1"),
        "srd_failed": _delay(m.srd_failed, "4.3.2"),
        "sdd": _delay(m.sdd, "4.4"),
        "sdd_failed": m.sdd_failed,
        "sdt": _delay(m.sdt, "4.5"),
        "setup": _delay(m.setup, None),
        "ring": _delay(m.ring, None),
    }


def _skeleton(analysis: Analysis) -> dict[str, Any]:
    """The report as plain data; the big arrays are placeholders for `stream`."""
    captures = [
        {
            "path": a.path,
            "format": a.format,
            "packets": a.packets,
            "sip_packets": a.sip,
            "non_sip": a.non_sip,
            "non_sip_kinds": dict(sorted(a.non_sip_kinds.items())),
            "sip_messages": a.sip_messages,
            "skipped": dict(sorted(a.skipped.items())),
            "sip_errors": dict(sorted(a.sip_errors.items())),
            "partial": a.partial,
            "tcp_gaps": a.tcp_gaps,
            "stream_skipped_bytes": a.stream_skipped_bytes,
            "keepalives": a.keepalives,
            "hep": a.hep,
            "truncated": a.truncated,
            "warnings": list(a.warnings),
            "warnings_suppressed": a.warnings_suppressed,
            "first_time": a.first_time,
            "last_time": a.last_time,
        }
        for a in analysis.captures
    ]
    # Messages, responses and calls are streamed by `stream()`, one record at a time:
    # a capture's report can be larger than the memory the analysis may use.
    messages = _MESSAGES
    responses = _RESPONSES
    calls = _CALLS
    findings = [
        {
            "id": f.id,
            "severity": f.severity,
            "status": f.status,
            "title": f.title,
            "detail": f.detail,
            "fix": f.fix,
            "call_id": f.call_id,
            "frames": list(f.frames),
            "rfc": f.rfc,
            "filter": f.display_filter,
        }
        for f in analysis.finding_records
    ]
    by_sev = dict.fromkeys(("error", "warning", "info"), 0)
    for f in analysis.finding_records:
        by_sev[f.severity] += 1
    summary = {
        "captures": len(analysis.captures),
        "packets": sum(a.packets for a in analysis.captures),
        "sip_messages": len(analysis.store),
        "calls": len(analysis.all_call_records),
        "outcomes": analysis.outcome_counts(),
        "responses_by_status": {str(k): v for k, v in analysis.responses_by_status().items()},
        "requests_by_method": analysis.requests_by_method(),
        "findings_by_severity": by_sev,
    }
    return {
        "schema": SCHEMA,
        "generator": {"name": "sip-analyzer", "version": __version__},
        "lang": analysis.lang,
        "selection": _selection(analysis),
        "captures": captures,
        "messages": messages,
        "responses": responses,
        "calls": calls,
        "registrations": [registration_dict(r) for r in analysis.registration_records],
        "subscriptions": [subscription_dict(x) for x in analysis.subscription_records],
        "findings": findings,
        "kpis": kpis_dict(analysis.metrics),
        "summary": summary,
        "gates": [gate_dict(g) for g in analysis.gates],
    }


def _selection(analysis: Analysis) -> dict[str, Any] | None:
    sel = analysis.selection
    if sel is None:
        return None
    return {
        "options": sel.describe(),
        "calls": len(analysis.call_records),
        "of": len(analysis.all_call_records),
    }


_MESSAGES = "\x00messages\x00"
_RESPONSES = "\x00responses\x00"
_CALLS = "\x00calls\x00"


def _catalogue_fields(analysis: Analysis) -> dict[int, str]:
    """Per status, the catalogue part of a `responses[]` record, already as JSON members."""
    out = {}
    for status, entry in analysis.annotations.items():
        fields = {
            "class": entry.klass,
            "registered_reason": entry.reason,
            "meaning": entry.meaning,
            "when": entry.when,
            "fix": entry.fix,
            "rfc": list(entry.rfc),
            "severity": entry.severity,
        }
        out[status] = json.dumps(fields, ensure_ascii=False)[1:-1]
    return out


_text = json.encoder.encode_basestring


def _opt(value: str | int | None) -> str:
    if value is None:
        return "null"
    return str(value) if isinstance(value, int) else str(_text(value))


def message_line(analysis: Analysis, msg: Message) -> str:
    """`message_dict` as the JSON text `json.dumps` would make of it, built directly:
    this line is written once per message, so it is the report's hot path."""
    cseq = msg.cseq
    anomalies = ", ".join(_text(a) for a in msg.anomalies)
    retrans = "true" if analysis.is_retransmission(msg) else "false"
    return (
        f'{{"frame": {msg.frame}, "capture": {msg.capture}, "time": {round(msg.time, 6)!r}, '
        f'"src": {_text(msg.src)}, "dst": {_text(msg.dst)}, '
        f'"transport": {_text(msg.transport)}, '
        f'"type": "{"request" if msg.is_request else "response"}", '
        f'"method": {_opt(msg.method)}, "ruri": {_opt(msg.uri)}, '
        f'"status": {_opt(msg.status)}, "reason": {_opt(msg.reason)}, '
        f'"call_id": {_opt(msg.call_id)}, '
        f'"cseq": {_opt(cseq.number if cseq else None)}, '
        f'"cseq_method": {_opt(cseq.method if cseq else None)}, '
        f'"retransmission": {retrans}, "anomalies": [{anomalies}]}}'
    )


def _message_lines(analysis: Analysis) -> Iterator[str]:
    for msg in analysis.message_records():
        yield message_line(analysis, msg)


def notes_dict(analysis: Analysis, msg: Message) -> dict[str, Any]:
    """The `reasons[]` and `warnings[]` of a `responses[]` record."""
    if not (msg.has_reason or msg.has_warning):
        return {"reasons": [], "warnings": []}
    sip = msg.sip
    return {
        "reasons": [
            {
                "protocol": n.protocol,
                "cause": n.cause,
                "text": n.text,
                "name": n.name,
                "meaning": n.meaning,
                "sip_status": n.sip_status,
            }
            for n in reason_notes(sip, analysis.lang)
        ],
        "warnings": [
            {
                "code": n.code,
                "agent": n.agent,
                "text": n.text,
                "registered_text": n.registered_text,
                "meaning": n.meaning,
            }
            for n in warning_notes(sip, analysis.lang)
        ],
    }


_NO_NOTES = ', "reasons": [], "warnings": []'


def _response_lines(analysis: Analysis) -> Iterator[str]:
    catalogue = _catalogue_fields(analysis)
    for msg in analysis.response_records():
        members = catalogue.get(msg.status or 0)
        if members is None:
            continue
        notes = _NO_NOTES
        if msg.has_reason or msg.has_warning:
            notes = ", " + json.dumps(notes_dict(analysis, msg), ensure_ascii=False)[1:-1]
        yield message_line(analysis, msg)[:-1] + ", " + members + notes + "}"


def _call_blocks(analysis: Analysis) -> Iterator[str]:
    # Indented as `json.dumps(..., indent=2)` indents an element of a top-level array.
    for call in analysis.call_records:
        yield json.dumps(call_dict(call), indent=2, ensure_ascii=False).replace("\n", "\n    ")


def _array(lines: Iterator[str], indent: str) -> Iterator[str]:
    first = True
    for line in lines:
        yield ("[\n" if first else ",\n") + indent + line
        first = False
    yield "[]" if first else "\n" + indent[:-2] + "]"


def stream(analysis: Analysis, options: RenderOptions) -> Iterator[str]:
    """The JSON report in pieces (the same text as `render`), for writing as it is made."""
    del options  # JSON has no presentation options
    text = json.dumps(_skeleton(analysis), indent=2, ensure_ascii=False) + "\n"
    arrays = {
        json.dumps(_MESSAGES): _message_lines,
        json.dumps(_RESPONSES): _response_lines,
        json.dumps(_CALLS): _call_blocks,
    }
    for piece in re.split(r'("\\u0000(?:messages|responses|calls)\\u0000")', text):
        lines = arrays.get(piece)
        if lines is not None:
            yield from _array(lines(analysis), "    ")
        else:
            yield piece


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the JSON report (UTF-8 text, ends with a newline)."""
    return "".join(stream(analysis, options))
