"""Parser benchmark: messages per second on one core, against tshark on the same file.

Usage:
    python bench/parse_bench.py [CAPTURE] [--rounds N] [--cpu K]

The SIP payloads of CAPTURE (default: the lab's load capture) are extracted
once; `analyzer.sip.parse` then runs over all of them, best of N rounds, on
one pinned core. Three figures come out of the same run:

* parse: `parse()` alone (the issue 3 target: >= 50,000 messages/s);
* parse + ids: parse, then the values correlation reads (Call-ID, CSeq,
  Via stack, tags);
* ingest + parse vs tshark: reading the file and parsing every message,
  against `tshark -Y sip` printing one field per message, wall time of
  both on the same file, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.ingest.stream import Accounting, read_sip  # noqa: E402
from analyzer.sip import ParseError, parse  # noqa: E402
from analyzer.sip.memo import clear_all  # noqa: E402

DEFAULT_CAPTURE = ROOT / "captures" / "load" / "udp4-load.pcap.gz"


def payloads(path: Path) -> list[bytes]:
    """Every SIP payload the ingest stage finds in the capture."""
    return [pkt.data for pkt in read_sip(str(path), Accounting(str(path)))]


def best_times(rounds: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The fastest of `rounds` runs of each measure, in seconds.

    Rounds go round-robin over the measures, so that a slow spell of a
    shared machine hits all of them alike. Every run starts with empty memo
    tables: the parser memoises header checks (values recur within a call),
    and a cold start is what one pass over a new capture gets.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            clear_all()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def parse_all(messages: list[bytes]) -> int:
    errors = 0
    for data in messages:
        try:
            parse(data)
        except ParseError:
            errors += 1
    return errors


def parse_with_ids(messages: list[bytes]) -> None:
    for data in messages:
        try:
            m = parse(data)
        except ParseError:
            continue
        _ = (m.call_id, m.cseq, m.vias, m.from_tag, m.to_tag)


def ingest_and_parse(path: Path) -> int:
    count = 0
    for pkt in read_sip(str(path), Accounting(str(path))):
        try:
            parse(pkt.data)
        except ParseError:
            continue
        count += 1
    return count


def tshark_run(path: Path, ports: list[int]) -> tuple[float, int] | None:
    """Wall time and SIP message count of tshark on the file, None without tshark."""
    if shutil.which("tshark") is None:
        return None
    argv = ["tshark", "-n", "-r", str(path), "-Y", "sip", "-T", "fields", "-e", "sip.Call-ID"]
    for port in ports:
        if port != 5060:
            argv += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, check=True, timeout=600).stdout
    elapsed = time.perf_counter() - start
    return elapsed, sum(1 for line in out.splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", nargs="?", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--rounds", type=int, default=7, help="best of N (default 7)")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to (default 0)")
    parser.add_argument(
        "--ports", default="5060,5062,5070", help="SIP ports for tshark's decode-as"
    )
    args = parser.parse_args(argv)

    # One core, as the target says; tshark (a child) inherits the pinning.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    messages = payloads(args.capture)
    if not messages:
        print(f"no SIP messages in {args.capture}", file=sys.stderr)
        return 2
    size = sum(map(len, messages)) / len(messages)
    errors = parse_all(messages)
    best = best_times(
        args.rounds,
        {
            "parse": lambda: parse_all(messages),
            "ids": lambda: parse_with_ids(messages),
            "ingest": lambda: ingest_and_parse(args.capture),
        },
    )
    t_parse, t_ids, t_ingest = best["parse"], best["ids"], best["ingest"]
    ports = [int(p) for p in args.ports.split(",") if p]
    tshark = tshark_run(args.capture, ports)

    n = len(messages)
    shown = args.capture.relative_to(ROOT) if args.capture.is_relative_to(ROOT) else args.capture
    print(f"capture: {shown}")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, pinned to core {args.cpu}; best of {args.rounds} rounds"
    )
    print(f"messages: {n} (mean {size:.0f} bytes, {errors} ParseError)")
    print()
    print("| measure | time (s) | messages/s |")
    print("|---|---:|---:|")
    print(f"| parse | {t_parse:.3f} | {n / t_parse:,.0f} |")
    print(f"| parse + ids (Call-ID, CSeq, Vias, tags) | {t_ids:.3f} | {n / t_ids:,.0f} |")
    print(f"| ingest + parse (whole file) | {t_ingest:.3f} | {n / t_ingest:,.0f} |")
    if tshark is not None:
        t_tshark, tshark_n = tshark
        print(
            f"| tshark -Y sip (whole file, {tshark_n} messages) | {t_tshark:.3f} | "
            f"{tshark_n / t_tshark:,.0f} |"
        )
        print()
        print(f"ratio (tshark time / ingest + parse time): {t_tshark / t_ingest:.2f}x")
    else:
        print()
        print("tshark not installed: no ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
