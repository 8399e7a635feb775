"""Every RFC 3665 call flow becomes a capture that says what the RFC's diagram says.

Oracles independent of `tests/data/rfc3665.py`: tshark (the reference
dissector) reading the written pcap, `ladder()` and `wire()` of
tests/sip/test_rfc3665.py for method/status order and bytes, top Via branch
and CSeq read from the raw text for transactions, and directions and times
checked by hand against the diagrams.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from scapy.layers.inet import IP, UDP
from scapy.utils import rdpcap

from tests.conftest import corpus_file
from tests.data.rfc3665 import (
    EPOCH,
    MAX_DATAGRAM,
    DiagramError,
    Hop,
    flow_to_pcap,
    read_diagram,
)
from tests.sip.test_rfc3665 import FILES, ladder, wire
from tests.tshark import require_tshark

FLOWS = "rfc3665-callflows/"


def _flow(name: str, tmp_path: Path) -> tuple[Path, list[Hop]]:
    path = corpus_file(FLOWS + name)
    out = tmp_path / (path.stem + ".pcap")
    return out, flow_to_pcap(path, out)


def _by_fnum(hops: list[Hop]) -> dict[int, tuple[str, str]]:
    return {h.fnum: (h.src_name, h.dst_name) for h in hops}


def _relative(hops: list[Hop]) -> list[float]:
    return [round(h.time - EPOCH, 6) for h in hops]


# -- every flow -------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_pcap_holds_each_message_once_as_printed(path: Path, tmp_path: Path) -> None:
    printed: list[str] = yaml.safe_load(path.read_text())
    out = tmp_path / "flow.pcap"
    hops = flow_to_pcap(path, out)
    frames = rdpcap(str(out))
    assert len(frames) == len(printed) == len(hops)
    assert [h.fnum for h in hops] == list(range(1, len(printed) + 1))
    for frame, hop, raw in zip(frames, hops, printed, strict=True):
        assert bytes(frame[UDP].payload) == wire(raw)
        assert (frame[UDP].sport, frame[UDP].dport) == (5060, 5060)
        assert (frame[IP].src, frame[IP].dst) == (hop.src_ip, hop.dst_ip)
        assert round(float(frame.time), 6) == round(hop.time, 6)
    times = [h.time for h in hops]
    assert times[0] == EPOCH
    assert all(a < b for a, b in pairwise(times))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_one_address_per_participant(path: Path, tmp_path: Path) -> None:
    hops = flow_to_pcap(path, tmp_path / "flow.pcap")
    names = read_diagram(path.read_text()).participants
    ips = {h.src_name: h.src_ip for h in hops} | {h.dst_name: h.dst_ip for h in hops}
    assert set(ips) == set(names)  # every participant sends or receives
    assert len(set(ips.values())) == len(names)
    for h in hops:
        assert ips[h.src_name] == h.src_ip
        assert ips[h.dst_name] == h.dst_ip
        assert h.src_name != h.dst_name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_every_response_goes_back_along_its_request_hop(path: Path, tmp_path: Path) -> None:
    """RFC 3261 §18.2.2: a response retraces its request's hop, per the diagram."""
    hops = flow_to_pcap(path, tmp_path / "flow.pcap")
    sent: dict[tuple[str, str, str], tuple[str, str]] = {}
    for raw, hop in zip(yaml.safe_load(path.read_text()), hops, strict=True):
        branch = re.search(r"^Via\s*:[^\n]*?;\s*branch=([^;,\s]+)", raw, re.M)
        cseq = re.search(r"^CSeq\s*:\s*(\d+)\s+(\S+)", raw, re.M)
        assert branch is not None
        assert cseq is not None
        key = (branch.group(1), cseq.group(1), cseq.group(2))
        if raw.lstrip().startswith("SIP/2.0"):
            assert sent[key] == (hop.dst_name, hop.src_name), f"F{hop.fnum} {raw.split()[:3]}"
        else:
            sent[key] = (hop.src_name, hop.dst_name)


@pytest.mark.tshark
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_tshark_sees_the_ladder(path: Path, tmp_path: Path) -> None:
    exe = require_tshark()
    out = tmp_path / "flow.pcap"
    hops = flow_to_pcap(path, out)
    fields = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "udp.srcport"]
    fields += ["sip.Method", "sip.Status-Code", "_ws.malformed", "_ws.expert.severity"]
    cmd = [exe, "-n", "-r", str(out), "-T", "fields", "-E", "separator=/t"]
    cmd += ["-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    problems = [ln for ln in run.stderr.splitlines() if "Running as user" not in ln]
    assert problems == []
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert len(rows) == len(hops)
    seen = []
    for row, hop in zip(rows, hops, strict=True):
        frame, epoch, src, dst, sport, method, status, malformed, severity = row
        assert int(frame) == hop.fnum
        assert abs(float(epoch) - hop.time) < 1e-6
        assert (src, dst, sport) == (hop.src_ip, hop.dst_ip, "5060")
        assert (malformed, severity) == ("", ""), f"F{hop.fnum}"
        assert bool(method) != bool(status), f"F{hop.fnum}: not one SIP message"
        seen.append(method or status)
    assert seen == ladder(path.read_text())


# -- directions checked by hand against the diagrams ------------------------------------

HAND_CHECKED = {
    "2.01_sip-client-new-registration.yaml": {
        1: ("Bob", "SIP Server"),
        2: ("SIP Server", "Bob"),
        4: ("SIP Server", "Bob"),
    },
    "3.01_successful-session-establishment.yaml": {
        1: ("Alice", "Bob"),
        2: ("Bob", "Alice"),
        3: ("Bob", "Alice"),
        4: ("Alice", "Bob"),
        5: ("Bob", "Alice"),
        6: ("Alice", "Bob"),
    },
    "3.03_session-with-multiple-proxy-authentication.yaml": {
        2: ("Proxy 1", "Alice"),  # label spans three gaps
        6: ("Proxy 1", "Proxy 2"),  # label beside F5's arrow
        7: ("Proxy 2", "Proxy 1"),  # label runs past the last column
        9: ("Proxy 1", "Alice"),
        16: ("Bob", "Proxy 2"),
        21: ("Proxy 2", "Bob"),
    },
    "3.04_successful-session-with-proxy-failure.yaml": {
        7: ("Alice", "Proxy 1"),
        8: ("Alice", "Proxy 2"),  # over Proxy 1's column
        9: ("Proxy 2", "Alice"),
        12: ("Proxy 2", "Bob"),
        13: ("Proxy 2", "Alice"),
    },
    "3.05_session-through-a-sip-alg.yaml": {
        3: ("ALG", "Alice"),
        13: ("ALG", "Bob"),  # over Proxy 2's column
        16: ("Bob", "ALG"),
        17: ("ALG", "Alice"),
    },
    "3.06_session-via-redirect-and-proxy-servers-with-sdp-in-ack.yaml": {
        2: ("Redirect Server", "Alice"),
        4: ("Alice", "Proxy 3"),
        14: ("Proxy 3", "Alice"),
    },
    "3.07_session-with-re-invite-ip-address-change.yaml": {
        1: ("Alice", "Proxy 2"),
        3: ("Proxy 2", "Alice"),
        4: ("Bob", "Proxy 2"),
        8: ("Alice", "Bob"),  # over Proxy 2's column
        9: ("Bob", "Alice"),
        12: ("Alice", "Bob"),
        13: ("Bob", "Alice"),
    },
    "3.08_unsuccessful-no-answer.yaml": {
        9: ("Alice", "Proxy 1"),
        16: ("Proxy 2", "Bob"),
        17: ("Proxy 2", "Proxy 1"),
        18: ("Proxy 1", "Proxy 2"),
    },
    "3.10_unsuccessful-no-response-from-user-agent.yaml": {
        3: ("Proxy 1", "Alice"),
        4: ("Proxy 2", "Bob"),
        5: ("Proxy 2", "Proxy 1"),
        11: ("Proxy 2", "Bob"),
        12: ("Proxy 2", "Proxy 1"),
        13: ("Proxy 1", "Proxy 2"),
        14: ("Proxy 1", "Alice"),
        15: ("Alice", "Proxy 1"),
    },
}


@pytest.mark.parametrize("name", sorted(HAND_CHECKED), ids=lambda n: n[:40])
def test_direction_matches_the_diagram(name: str, tmp_path: Path) -> None:
    _, hops = _flow(name, tmp_path)
    got = _by_fnum(hops)
    assert {n: got[n] for n in HAND_CHECKED[name]} == HAND_CHECKED[name]


def test_participants_are_named_left_to_right(tmp_path: Path) -> None:
    path = corpus_file(FLOWS + "3.06_session-via-redirect-and-proxy-servers-with-sdp-in-ack.yaml")
    diagram = read_diagram(path.read_text())
    assert diagram.participants == ("Alice", "Redirect Server", "Proxy 3", "Bob")
    _, hops = _flow("3.07_session-with-re-invite-ip-address-change.yaml", tmp_path)
    assert {(h.src_name, h.src_ip) for h in hops} == {
        ("Alice", "192.0.2.10"),
        ("Proxy 2", "192.0.2.20"),
        ("Bob", "192.0.2.30"),
    }


# -- times -----------------------------------------------------------------------------


def test_no_response_from_bob_spans_timer_b(tmp_path: Path) -> None:
    out, hops = _flow("3.10_unsuccessful-no-response-from-user-agent.yaml", tmp_path)
    times = {h.fnum: round(h.time - EPOCH, 6) for h in hops}
    frames = rdpcap(str(out))
    assert [round(float(f.time) - EPOCH, 6) for f in frames] == list(times.values())
    assert times[12] - times[4] >= 32.0
    copies = [4, 6, 7, 8, 9, 10, 11]
    gaps = [round(times[b] - times[a], 6) for a, b in pairwise(copies)]
    assert gaps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert len({bytes(frames[n - 1][UDP].payload) for n in copies}) == 1
    assert {_by_fnum(hops)[n] for n in copies} == {("Proxy 2", "Bob")}
    assert round(times[5] - times[4], 6) == 0.05  # 100 Trying is not held back
    assert round(times[12] - times[4], 6) == 32.0


def test_proxy_failure_retransmits_then_tries_the_next_proxy(tmp_path: Path) -> None:
    _, hops = _flow("3.04_successful-session-with-proxy-failure.yaml", tmp_path)
    rel = _relative(hops)
    assert rel[:8] == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 32.0]
    assert round(rel[8] - rel[7], 6) == 0.05


def test_default_step_and_human_waits(tmp_path: Path) -> None:
    # 3.01: INVITE, 180, [Bob answers] 200, ACK, [they talk] BYE, 200.
    _, hops = _flow("3.01_successful-session-establishment.yaml", tmp_path)
    assert _relative(hops) == [0.0, 0.05, 2.05, 2.1, 4.1, 4.15]
    # 3.08: ringing reaches Alice (F8), she gives up: CANCEL F9; hop-by-hop CANCELs follow.
    _, hops = _flow("3.08_unsuccessful-no-answer.yaml", tmp_path)
    rel = _relative(hops)
    assert round(rel[8] - rel[7], 6) == 2.0
    steps = [round(b - a, 6) for a, b in pairwise(rel[8:])]
    assert steps == [0.05] * 11  # F18 ACK reuses F16's branch, on another hop: no copy
    # 3.09: busy is no human decision.
    _, hops = _flow("3.09_unsuccessful-busy.yaml", tmp_path)
    assert _relative(hops)[-1] == 0.5
    # 2.01: the challenged REGISTER is retried by the machine.
    _, hops = _flow("2.01_sip-client-new-registration.yaml", tmp_path)
    assert _relative(hops) == [0.0, 0.05, 0.1, 0.15]


# -- the diagram reader on made-up ladders -----------------------------------------------

_FLOW = """\
# made up
#   Alice        Proxy        Bob
#     |            |            |
#     |  INVITE F1 |            |
#     |------------------------>|
#     |            |   F2 180   |
#     |<------------------------|
{extra}
- |
  INVITE sip:bob@example.com SIP/2.0
  Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
  CSeq: 1 INVITE
  Call-ID: c1
  Content-Length: {length}

  {body}
- |
  SIP/2.0 180 Ringing
  Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
  CSeq: 1 INVITE
  Call-ID: c1
  Content-Length: 0
"""


def test_reader_follows_arrows_past_columns_and_labels_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(_FLOW.format(extra="", length=2, body="x"))
    diagram = read_diagram(path.read_text())
    assert diagram.participants == ("Alice", "Proxy", "Bob")
    assert dict(diagram.arrows) == {1: (0, 2), 2: (2, 0)}
    hops = flow_to_pcap(path, tmp_path / "flow.pcap")
    assert [(h.src_ip, h.dst_ip) for h in hops] == [
        ("192.0.2.10", "192.0.2.30"),
        ("192.0.2.30", "192.0.2.10"),
    ]


def test_reader_takes_a_label_drawn_through_its_arrow() -> None:
    text = textwrap.dedent(
        """\
        #   Alice        Proxy        Bob
        #     |            |            |
        #     |------ INVITE F1 ------->|
        #     |<- F2 100 --|            |
        #     |            |<- 180 F3 --|
        #     |            |            |
        """
    )
    assert dict(read_diagram(text).arrows) == {1: (0, 2), 2: (1, 0), 3: (2, 1)}


def test_reader_refuses_an_unlabelled_arrow(tmp_path: Path) -> None:
    text = _FLOW.format(extra="#     |----------->|            |", length=0, body="")
    with pytest.raises(DiagramError, match="without a label"):
        read_diagram(text)


def test_reader_refuses_a_label_without_arrow() -> None:
    text = textwrap.dedent(
        """\
        #   Alice        Bob
        #     |            |
        #     |  INVITE F1 |
        #     |            |
        """
    )
    with pytest.raises(DiagramError, match="F1: no arrow"):
        read_diagram(text)


def test_oversized_message_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    big = MAX_DATAGRAM + 1
    path.write_text(_FLOW.format(extra="", length=big, body="x" * big))
    with pytest.raises(ValueError, match="too big"):
        flow_to_pcap(path, tmp_path / "flow.pcap")
