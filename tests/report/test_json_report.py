"""JSON reports validate against the schema and say what the catalogue says."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from analyzer import analyze
from analyzer.catalogue import lookup
from analyzer.report import Format, json_report, render, stream
from tests.conftest import corpus_file


def schema() -> dict[str, Any]:
    text = resources.files("analyzer").joinpath("schema", "sip-analyzer-1.schema.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def report_of(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(analyze(path), Format.JSON))
    return data


@pytest.mark.parametrize(
    "rel", ["sngrep/aaa.pcap", "heplify/sip_ipv4_tcp_fragmented.pcap", "pcap2sipp/example.pcap"]
)
def test_report_validates_and_accounts_for_every_packet(rel: str) -> None:
    doc = report_of(str(corpus_file(rel)))
    jsonschema.validate(doc, schema())
    for cap in doc["captures"]:
        assert cap["packets"] == cap["sip_packets"] + cap["non_sip"] + sum(cap["skipped"].values())
    assert doc["summary"]["sip_messages"] == len(doc["messages"])
    assert len(doc["responses"]) == sum(1 for m in doc["messages"] if m["type"] == "response")


def test_responses_carry_their_catalogue_entry() -> None:
    doc = report_of(str(corpus_file("sngrep/aaa.pcap")))
    for r in doc["responses"]:
        entry = lookup(r["status"])
        assert (r["meaning"], r["fix"], r["rfc"]) == (entry.meaning, entry.fix, list(entry.rfc))
        assert r["class"] == entry.klass


def test_schema_rejects_a_broken_document() -> None:
    doc = report_of(str(corpus_file("sipnab/sip_call.pcap")))
    doc["calls"][0]["outcome"] = "hung_up_happily"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema())


@pytest.mark.parametrize("rel", ["sngrep/aaa.pcap", "ndpi/fuzz-2006-06-26-2594.pcap"])
def test_message_lines_are_exactly_what_json_dumps_makes(rel: str) -> None:
    # The report builds each message's line by hand for speed; it must not drift from
    # the documented record (unusual strings included: the fuzzed capture has NULs).
    analysis = analyze(str(corpus_file(rel)))
    assert len(analysis.store) > 40
    for msg in analysis.store:
        expected = json.dumps(json_report.message_dict(analysis, msg), ensure_ascii=False)
        assert json_report.message_line(analysis, msg) == expected


def test_report_streams_in_pieces_that_join_to_the_rendered_text() -> None:
    analysis = analyze(str(corpus_file("sngrep/aaa.pcap")))
    pieces = list(stream(analysis, Format.JSON))
    assert len(pieces) > len(analysis.store)
    assert "".join(pieces) == render(analysis, Format.JSON)
    json.loads("".join(pieces))
