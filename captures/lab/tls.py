#!/usr/bin/env python3
"""Generate the lab's SIP-over-TLS capture, ``tls4-answered.pcap``, with its TLS key log.

The Debian SIPp has no TLS, so the TLS leg is made by ``tls_relay.py``::

    SIPp UAC --tcp--> relay client end --TLS--> relay server end --tcp--> SIPp UAS
    127.0.0.1:5060    127.0.0.1:5072            127.0.0.1:5061            127.0.0.1:5070

tcpdump records only the TLS leg (tcp port 5061): every SIP message of the
calls crosses it, encrypted. The relay's server end writes the session
secrets (NSS key log format), saved beside the capture as
``tls4-answered.keys``, so that tshark (``-o tls.keylog_file:...``, or
``sip-analyzer analyze --tls-keylog``) decrypts it. The certificate is a
throwaway made for the run and never kept.

Writes into ``--out`` (default ``captures/``): ``tls4-answered.pcap``,
``tls4-answered.keys`` and ``tls4-answered.sipp.json`` (SIPp's statistics of
both runs and the expected result, all derived from SIPp's own records: calls,
outcomes, final statuses, and the SIP messages that cross the TLS leg, per
method and per status). Nothing is written unless every call succeeded, the
UAS saw exactly the messages the UAC exchanged, and tshark (when installed)
finds them all with the key log and none without.

Usage:
    python3 captures/lab/tls.py [--out DIR] [--keep]

Needs root (tcpdump on lo), sipp, tcpdump and openssl; only 127.0.0.1 is used.
The process helpers, SIPp command line and statistics come from ``run.py``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run
import tls_relay

STEM = "tls4-answered"
SCENARIO = run.SCENARIO_BY_NAME["answered"]
TRANSPORT = run.TCP4  # what SIPp speaks; the relay turns the middle leg into TLS
RELAY_PORT = 5072  # the relay's plain TCP end, where the UAC sends
TLS_PORT = 5061  # the relay's TLS end: the recorded leg
MAX_CAPTURE_BYTES = 60 * 1024


def relay_argv(cert: Path, key: Path, keylog: Path) -> list[str]:
    host = TRANSPORT.host
    return [
        sys.executable,
        str(Path(tls_relay.__file__).resolve()),
        *("--cert", str(cert), "--key", str(key), "--keylog", str(keylog)),
        *("--listen", f"{host}:{RELAY_PORT}", "--tls", f"{host}:{TLS_PORT}"),
        *("--upstream", f"{host}:{run.PORTS['uas']}"),
    ]


def uac_argv(calls: int, workdir: Path) -> list[str]:
    """run.py's UAC command line, sent to the relay's plain end instead of the UAS."""
    argv = run.sipp_argv(SCENARIO, "uac", TRANSPORT, calls, workdir)
    direct = TRANSPORT.hostport(run.PORTS[SCENARIO.target])
    if argv[1] != direct:
        raise run.LabError(f"unexpected SIPp UAC command line: {argv[:3]}")
    argv[1] = TRANSPORT.hostport(RELAY_PORT)
    return argv


def run_calls(calls: int, workdir: Path, cert: Path, key: Path, keylog: Path) -> list[run.SippRun]:
    """UAS, relay, UAC; every process stopped by PID on the way out (UAC, relay, UAS)."""
    run.log(f"  {STEM}: {calls} call(s) through the TLS relay")
    with contextlib.ExitStack() as stack:
        uas_argv = run.sipp_argv(SCENARIO, "uas", TRANSPORT, calls, workdir)
        uas = run.spawn("sipp-uas", uas_argv, workdir)
        stack.callback(run.stop, uas, signal.SIGTERM)
        uas_port = run.PORTS["uas"]
        run.wait_until(
            f"listening on tcp4 port {uas_port}",
            lambda: run.port_bound(TRANSPORT, uas_port),
            uas,
        )
        relay = run.spawn("tls-relay", relay_argv(cert, key, keylog), workdir)
        stack.callback(run.stop, relay, signal.SIGTERM)
        run.wait_until(
            f"listening on tcp4 ports {RELAY_PORT} and {TLS_PORT}",
            lambda: run.port_bound(TRANSPORT, RELAY_PORT) and run.port_bound(TRANSPORT, TLS_PORT),
            relay,
        )
        uac = run.spawn("sipp-uac", uac_argv(calls, workdir), workdir)
        stack.callback(run.stop, uac, signal.SIGTERM)
        deadline = SCENARIO.deadline(calls)
        try:
            uac.popen.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            raise run.LabError(f"{STEM}: SIPp UAC still running after {deadline}s") from None
        uac_run = run.SippRun(SCENARIO.name, "uac", SCENARIO.uac_xml, calls)
        run.finish_sipp(uac_run, uac, workdir, calls)
        assert SCENARIO.uas_xml is not None
        try:
            uas.popen.wait(timeout=run.UAS_EXIT_WAIT_S)  # -m: it exits after its calls
        except subprocess.TimeoutExpired:
            raise run.LabError(
                f"{STEM}: SIPp UAS did not finish its {calls} calls:\n{uas.tail()}"
            ) from None
        uas_run = run.SippRun(SCENARIO.name, "uas", SCENARIO.uas_xml, calls)
        run.finish_sipp(uas_run, uas, workdir, calls)
        if relay.popen.poll() is not None:
            raise run.LabError(f"{STEM}: the relay exited early:\n{relay.tail()}")
    return [uac_run, uas_run]


# --------------------------------------------------------------------------
# Expected truth: the messages on the TLS leg, from SIPp's message traces


def leg_messages(sipp: run.SippRun) -> tuple[dict[str, int], dict[str, int]]:
    """(requests per method, responses per status) that one SIPp end sent or received."""
    methods: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[str] = collections.Counter()
    for line in sipp.short_trace:
        first_line = line[6]
        if first_line.startswith("SIP/2.0 "):
            statuses[first_line.split()[1]] += 1
        else:
            methods[first_line.split()[0]] += 1
    return dict(sorted(methods.items())), dict(sorted(statuses.items()))


def tls_leg_truth(uac: run.SippRun, uas: run.SippRun) -> tuple[dict[str, int], dict[str, int]]:
    """Every message the UAC exchanged crossed the TLS leg, and the UAS saw the same."""
    at_uac, at_uas = leg_messages(uac), leg_messages(uas)
    if at_uac != at_uas:
        raise run.LabError(f"{STEM}: the UAC exchanged {at_uac}, the UAS {at_uas}")
    return at_uac


def tshark_sip(pcap: Path, keylog: Path | None) -> tuple[set[str], int]:
    """(Call-IDs, SIP messages) tshark dissects in the capture, with or without the keys."""
    argv = ["tshark", "-n", "-r", str(pcap)]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    argv += ["-Y", "sip", "-T", "fields", "-e", "sip.Call-ID"]
    argv += ["-E", "occurrence=a", "-E", "aggregator=,"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise run.LabError(f"{pcap.name}: tshark failed:\n{done.stderr[-1000:]}")
    found = [cid for line in done.stdout.splitlines() for cid in line.split(",") if cid]
    return set(found), len(found)


def check_capture(pcap: Path, keylog: Path, calls: int, messages: int) -> None:
    """tshark, when installed, must find every call and message with the keys, none without."""
    if shutil.which("tshark") is None:
        return
    call_ids, seen = tshark_sip(pcap, keylog)
    if len(call_ids) != calls or seen != messages:
        raise run.LabError(
            f"{pcap.name}: with the key log tshark sees {len(call_ids)} Call-IDs and "
            f"{seen} SIP messages, {calls} and {messages} expected"
        )
    _, opaque = tshark_sip(pcap, None)
    if opaque:
        raise run.LabError(f"{pcap.name}: tshark sees {opaque} SIP messages without the keys")


def tls_parameters(relay_log: str) -> dict[str, str]:
    """The TLS version and cipher suite the relay's server end logged."""
    found = re.search(r"server end #\d+ .*?: (TLSv[\d.]+) \('([^']+)'", relay_log)
    if found is None:
        raise run.LabError(f"{STEM}: the relay logged no TLS session:\n{relay_log[-1000:]}")
    return {"version": found.group(1), "cipher": found.group(2)}


# --------------------------------------------------------------------------
# The capture


def capture_tls(out: Path, keep: bool, calls: int = run.CALLS_PER_CAPTURE) -> None:
    with run.workspace(STEM, keep) as workdir:
        pcap, keylog = workdir / f"{STEM}.pcap", workdir / f"{STEM}.keys"
        cert, key = tls_relay.make_cert(workdir)
        with run.tcpdump(pcap, [TLS_PORT], workdir):
            runs = run_calls(calls, workdir, cert, key, keylog)
        uac, uas = runs
        truth = run.expected_truth(SCENARIO, uac)
        requests, responses = tls_leg_truth(uac, uas)
        messages = sum(requests.values()) + sum(responses.values())
        if not keylog.is_file() or "CLIENT_TRAFFIC_SECRET_0" not in keylog.read_text():
            raise run.LabError(f"{STEM}: the relay wrote no TLS 1.3 traffic secrets to {keylog}")
        check_capture(pcap, keylog, truth.calls, messages)
        size = pcap.stat().st_size
        if size > MAX_CAPTURE_BYTES:
            raise run.LabError(f"{pcap.name}: {size} bytes, more than {MAX_CAPTURE_BYTES}")
        tls = tls_parameters((workdir / "tls-relay.log").read_text(errors="replace"))
        shutil.move(str(pcap), out / pcap.name)
        shutil.move(str(keylog), out / keylog.name)
        host = TRANSPORT.host
        run.write_json(
            out / f"{STEM}.sipp.json",
            {
                "capture": pcap.name,
                "scenario": SCENARIO.name,
                "transport": "tls",
                "ip": TRANSPORT.ip,
                "description": f"{SCENARIO.description}, the SIPp TCP connection relayed "
                f"over TLS by lab/tls_relay.py; only the TLS leg (tcp port {TLS_PORT}) "
                "is recorded",
                "tls_keylog": keylog.name,
                "tls": tls,
                "sip_ports": [TLS_PORT],
                "relay": {
                    "script": "lab/tls_relay.py",
                    "listen": f"{host}:{RELAY_PORT}",
                    "tls": f"{host}:{TLS_PORT}",
                    "upstream": f"{host}:{run.PORTS['uas']}",
                },
                "sipp": [r.as_json() for r in runs],
                "kamailio": [],
                "expected": truth.as_json()
                | {"sip_messages": messages, "requests": requests, "responses": responses},
            },
        )
        run.log(
            f"  wrote {pcap.name} ({size} bytes, {tls['version']}): {messages} SIP messages, "
            f"{dict(truth.outcomes)}"
        )


def check_tools() -> None:
    missing = [tool for tool in ("sipp", "tcpdump", "openssl") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"tls.py: missing {', '.join(missing)}: apt-get install sip-tester tcpdump"
        )
    if os.geteuid() != 0:
        raise SystemExit("tls.py: must run as root (tcpdump on lo)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=run.CAPTURES_DIR, help="output directory (default: captures/)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs, SIPp traces, certificate)"
    )
    args = parser.parse_args(argv)
    check_tools()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with run.exclusive_lab():
            capture_tls(args.out, args.keep)
    except run.LabError as error:
        run.log(f"tls.py: FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        run.log("tls.py: interrupted (every process it started has been stopped)")
        return 130
    run.log(f"tls.py: 1 capture in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
