"""JSON report, contract `sip-analyzer/1` (docs/json-schema.md, analyzer/schema/).

Within a schema version the document only grows compatibly: fields are
added, never renamed or removed.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..analysis import Analysis
from ..correlate import Message
from .interface import RenderOptions

SCHEMA = "sip-analyzer/1"


def message_dict(analysis: Analysis, msg: Message) -> dict[str, Any]:
    """The `messages[]` record of one message."""
    sip = msg.sip
    cseq = sip.cseq
    return {
        "frame": msg.frame,
        "capture": msg.capture,
        "time": round(msg.time, 6),
        "src": msg.src,
        "dst": msg.dst,
        "transport": msg.transport,
        "type": "request" if sip.is_request else "response",
        "method": sip.method,
        "ruri": sip.uri,
        "status": sip.status,
        "reason": sip.reason,
        "call_id": sip.call_id,
        "cseq": cseq.number if cseq else None,
        "cseq_method": cseq.method if cseq else None,
        "retransmission": analysis.is_retransmission(msg),
        "anomalies": list(sip.anomalies),
    }


def build(analysis: Analysis) -> dict[str, Any]:
    """The report as plain data."""
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
            "truncated": a.truncated,
            "warnings": list(a.warnings),
            "warnings_suppressed": a.warnings_suppressed,
            "first_time": a.first_time,
            "last_time": a.last_time,
        }
        for a in analysis.captures
    ]
    messages = [message_dict(analysis, m) for m in analysis.messages]
    responses = []
    for msg, record in zip(analysis.messages, messages, strict=True):
        entry = analysis.annotations.get(msg.index)
        if entry is None:
            continue
        responses.append(
            record
            | {
                "class": entry.klass,
                "registered_reason": entry.reason,
                "meaning": entry.meaning,
                "when": entry.when,
                "fix": entry.fix,
                "rfc": list(entry.rfc),
                "severity": entry.severity,
            }
        )
    calls = [
        {
            "call_id": c.call_id,
            "capture": c.capture,
            "method": c.method,
            "outcome": c.outcome,
            "final_status": c.final_status,
            "final_reason": c.final_reason,
            "from": c.from_,
            "to": c.to,
            "start": round(c.start, 6),
            "end": round(c.end, 6),
            "duration": round(c.end - c.start, 6),
            "attempts": c.attempts,
            "challenges": c.challenges,
            "cancelled": c.cancelled,
            "frames": list(c.frames),
        }
        for c in analysis.calls
    ]
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
        for f in analysis.findings
    ]
    by_sev = dict.fromkeys(("error", "warning", "info"), 0)
    for f in analysis.findings:
        by_sev[f.severity] += 1
    summary = {
        "captures": len(analysis.captures),
        "packets": sum(a.packets for a in analysis.captures),
        "sip_messages": len(analysis.messages),
        "calls": len(analysis.calls),
        "outcomes": analysis.outcome_counts(),
        "responses_by_status": {str(k): v for k, v in analysis.responses_by_status().items()},
        "requests_by_method": analysis.requests_by_method(),
        "findings_by_severity": by_sev,
    }
    return {
        "schema": SCHEMA,
        "generator": {"name": "sip-analyzer", "version": __version__},
        "lang": analysis.lang,
        "captures": captures,
        "messages": messages,
        "responses": responses,
        "calls": calls,
        "findings": findings,
        "summary": summary,
    }


def render(analysis: Analysis, options: RenderOptions) -> str:
    """Render the JSON report (UTF-8 text, ends with a newline)."""
    del options  # JSON has no presentation options
    return json.dumps(build(analysis), indent=2, ensure_ascii=False) + "\n"
