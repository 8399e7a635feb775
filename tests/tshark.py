"""tshark as the reference dissector: SIP requests per method and responses per status."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

# tshark's own SIP ports need no hint; others are passed with -d (decode-as).
_DEFAULT_SIP_PORTS = frozenset({5060})


def require_tshark() -> str:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark not installed (sh scripts/bootstrap.sh --test installs it)")
    return exe


def sip_counts(path: Path, ports: Iterable[int] = ()) -> tuple[dict[str, int], dict[int, int]]:
    """(requests per method, responses per status) as tshark dissects `path`.

    `ports` are extra UDP/TCP ports to decode as SIP: tshark finds SIP by
    port, we find it by start line, so it needs telling where to look.
    """
    out = _fields(path, ports, "sip.Method", "sip.Status-Code")
    methods: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    for line in out.splitlines():
        method_field, _, status_field = line.partition("\t")
        methods.update(m for m in method_field.split(",") if m)
        statuses.update(int(s) for s in status_field.split(",") if s.strip().isdigit())
    return dict(sorted(methods.items())), dict(sorted(statuses.items()))


def frame_cseqs(path: Path, ports: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Sorted (frame.number, CSeq number) of every SIP message tshark sees."""
    rows: list[tuple[int, str]] = []
    for line in _fields(path, ports, "frame.number", "sip.CSeq.seq").splitlines():
        frame, _, seqs = line.partition("\t")
        rows += [(int(frame), s) for s in seqs.split(",") if s]
    return sorted(rows)


def _fields(path: Path, ports: Iterable[int], *fields: str) -> str:
    cmd = [require_tshark(), "-n", "-r", str(path), "-Y", "sip"]
    for port in sorted(set(ports) - _DEFAULT_SIP_PORTS):
        cmd += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    cmd += ["-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    cmd += ["-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout


def sip_frames(path: Path, ports: Iterable[int] = ()) -> dict[int, list[str]]:
    """Per frame holding SIP: its messages' labels as tshark dissects them (`INVITE`,
    `488`), in order."""
    found: dict[int, list[str]] = {}
    for line in _fields(path, ports, "frame.number", "sip.Method", "sip.Status-Code").splitlines():
        frame, methods, statuses = [*line.split("\t"), "", ""][:3]
        labels = [m for m in methods.split(",") if m] + [s for s in statuses.split(",") if s]
        found[int(frame)] = labels
    return found
