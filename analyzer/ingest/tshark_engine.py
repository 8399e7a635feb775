"""`--engine tshark`: Wireshark's dissectors as an alternative ingestion engine.

Produces the same `SipPacket` stream as `read_sip`, from tshark's EK (one JSON
document per line) output, so it streams in bounded memory. Use it for SIP over
TLS (`--tls-keylog FILE`), for formats our reader does not know, and as a
cross-check of the native engine.

tshark finds SIP by port; with its SIP heuristics tried first it finds SIP on
any port, as the native engine does. pyshark locates the tshark binary; the
records are read here rather than through pyshark's packet objects, which in
pyshark 0.6 keep only one of several same-named layers (the inner header of
IP-in-IP, a second SIP message in one segment) and lose raw bytes in EK mode.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .capture import CaptureError
from .stream import Accounting, SipPacket

# What tshark must output: every layer the packet fields come from, raw bytes included.
_LAYERS = "frame ip ipv6 udp tcp sctp websocket tls sip"
_PREFS = (
    "udp.try_heuristic_first:TRUE",
    "tcp.try_heuristic_first:TRUE",
)
_HEURISTICS = ("sip_udp", "sip_tcp", "sip_sctp")
_TRANSPORTS = ("udp", "tcp", "sctp")


def tshark_path() -> str:
    """The tshark binary (as pyshark finds it), or CaptureError when there is none."""
    try:
        # Imported here: pyshark pulls in asyncio machinery the native engine never needs.
        from pyshark.tshark.tshark import get_process_path  # noqa: PLC0415

        return str(get_process_path())
    except Exception:  # pyshark raises its own TSharkNotFoundException
        found = shutil.which("tshark")
        if found is None:
            raise CaptureError(
                "tshark", "--engine tshark needs tshark (apt-get install tshark)"
            ) from None
        return found


def tshark_command(path: str, keylog: str | None = None) -> list[str]:
    """The tshark command line the engine runs on `path`."""
    cmd = [tshark_path(), "-r", path, "-n", "-Y", "sip", "-T", "ek", "-x", "-J", _LAYERS]
    for pref in _PREFS:
        cmd += ["-o", pref]
    for heuristic in _HEURISTICS:
        cmd += ["--enable-heuristic", heuristic]
    if keylog is not None:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    return cmd


def read_sip_tshark(path: str, acc: Accounting, keylog: str | None = None) -> Iterator[SipPacket]:
    """Yield the SIP messages tshark dissects in `path`, filling `acc` (frames with SIP
    count as `sip`, the others as `non_sip` of kind `tshark_non_sip`)."""
    if path == "-":
        # tshark and capinfos each need to read the file: spool stdin once.
        with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as tmp:
            shutil.copyfileobj(sys.stdin.buffer, tmp)
        try:
            yield from _read(tmp.name, acc, keylog, shown="-")
        finally:
            Path(tmp.name).unlink(missing_ok=True)
        return
    yield from _read(path, acc, keylog, shown=path)


def _read(path: str, acc: Accounting, keylog: str | None, shown: str) -> Iterator[SipPacket]:
    if not Path(path).is_file():
        raise CaptureError(shown, "cannot open: no such file")
    if keylog is not None and not Path(keylog).is_file():
        raise CaptureError(keylog, "TLS key log file not found")
    acc.format = "tshark"
    frames = _frame_count(path, shown)
    proc = subprocess.Popen(
        tshark_command(path, keylog),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    sip_frames = 0
    try:
        for line in proc.stdout:
            if not line.startswith(b'{"timestamp"'):
                continue  # the EK index lines between documents
            layers = json.loads(line)["layers"]
            packets = list(_packets(layers))
            if packets:
                sip_frames += 1
            for pkt in packets:
                if acc.first_time is None or pkt.time < acc.first_time:
                    acc.first_time = pkt.time
                acc.last_time = max(acc.last_time or pkt.time, pkt.time)
                yield pkt
    finally:
        proc.stdout.close()
        err = "\n".join(
            line
            for line in proc.stderr.read().decode(errors="replace").splitlines()
            if line.strip() and not line.startswith("Running as user")  # tshark's root notice
        )
        proc.stderr.close()
        code = proc.wait()
    if code != 0 and not sip_frames:
        raise CaptureError(shown, f"tshark cannot read it: {err.splitlines()[-1] if err else code}")
    if err:
        acc.warn(f"tshark: {err.splitlines()[-1]}")
    acc.packets = frames
    acc.sip = sip_frames
    acc.non_sip = frames - sip_frames
    if acc.non_sip:
        acc.non_sip_kinds["tshark_non_sip"] = acc.non_sip


def _frame_count(path: str, shown: str) -> int:
    capinfos = shutil.which("capinfos")
    if capinfos is None:
        raise CaptureError(shown, "--engine tshark needs capinfos (part of tshark's packages)")
    done = subprocess.run(
        [capinfos, "-c", "-M", "-T", "-r", path], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "unreadable"
        raise CaptureError(shown, f"not a capture tshark can read ({reason})")
    return int(done.stdout.split("\t")[-1])


def _listed(value: Any) -> list[Any]:
    # EK gives one value for one occurrence and a list for several.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _packets(layers: dict[str, Any]) -> Iterator[SipPacket]:
    frame = layers["frame"]
    number = int(frame["frame_frame_number"])
    time = float(frame["frame_frame_time_epoch"])
    protocols = str(frame.get("frame_frame_protocols", "")).split(":")
    src, dst = _addresses(layers, protocols)
    carrier = next((p for p in reversed(protocols) if p in _TRANSPORTS), "udp")
    ports_hex = _listed(layers.get(f"{carrier}_raw"))
    sport = dport = 0
    if ports_hex:
        raw = bytes.fromhex(ports_hex[-1][:8])
        sport, dport = int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:4], "big")
    transport = carrier
    if "websocket" in protocols:
        transport = "ws"
    elif "tls" in protocols:
        transport = "tls"
    for hexdata in _listed(layers.get("sip_raw")):
        yield SipPacket(number, time, transport, src, sport, dst, dport, bytes.fromhex(hexdata))


def _addresses(layers: dict[str, Any], protocols: list[str]) -> tuple[str, str]:
    """Innermost IP header's addresses (the one that carried the SIP)."""
    last_ip = next((p for p in reversed(protocols) if p in ("ip", "ipv6")), "ip")
    headers = _listed(layers.get(f"{last_ip}_raw"))
    if not headers:
        return "", ""
    raw = bytes.fromhex(headers[-1])
    if last_ip == "ip":
        return socket.inet_ntop(socket.AF_INET, raw[12:16]), socket.inet_ntop(
            socket.AF_INET, raw[16:20]
        )
    return socket.inet_ntop(socket.AF_INET6, raw[8:24]), socket.inet_ntop(
        socket.AF_INET6, raw[24:40]
    )
