"""Make the ingest benchmark's captures (issue 4) with the lab, unless they exist.

Usage:
    python bench/make_captures.py [--captures DIR] [--inflate]

Writes to DIR (default bench/.cache/, ignored by git; the files are far too
big to commit):

* ``udp4-rtp.pcap``: about 7500 answered calls through kamailio, each with
  1.9 s of G.711 RTP both ways, about 1,060,000 packets of which about 10 %
  are SIP (``captures/lab/run.py --bench-rtp``, about 3 minutes);
* ``tcp4-load.pcap``: 8000 answered calls through kamailio over TCP, about
  148,000 packets with TCP's ACKs (``captures/lab/run.py --bench-tcp``,
  about 1.5 minutes);
* with ``--inflate``, ``udp4-rtp-2g.pcap``: copies of ``udp4-rtp.pcap``, each
  one's calls made distinct, to at least 2 GiB (``bench/inflate.py``).

Beside each lab capture, ``<name>.sipp.json`` holds SIPp's statistics and the
expected result, as for every lab capture (captures/lab/README.md). The lab
needs root and the Debian packages sip-tester, kamailio, tcpdump and tshark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "captures" / "lab" / "run.py"
INFLATE_PY = ROOT / "bench" / "inflate.py"
DEFAULT_DIR = ROOT / "bench" / ".cache"

RTP = "udp4-rtp.pcap"
TCP = "tcp4-load.pcap"
INFLATED = "udp4-rtp-2g.pcap"
INFLATED_BYTES = 2 * 1024**3


def truth_path(capture: Path) -> Path:
    """The `.sipp.json` the lab writes beside a capture."""
    return capture.with_name(capture.name.removesuffix(".pcap") + ".sipp.json")


def present(capture: Path) -> bool:
    return capture.is_file() and truth_path(capture).is_file()


def make_lab_captures(folder: Path) -> None:
    """Run the lab for whichever of the two captures is missing."""
    argv = [sys.executable, str(RUN_PY)]
    if not present(folder / RTP):
        argv += ["--bench-rtp", str(folder)]
    if not present(folder / TCP):
        argv += ["--bench-tcp", str(folder)]
    if len(argv) > 2:
        subprocess.run(argv, check=True)


def make_inflated(folder: Path) -> None:
    """Write the >= 2 GiB copy of the RTP capture, unless it is there."""
    target = folder / INFLATED
    if target.is_file() and target.stat().st_size >= INFLATED_BYTES:
        return
    argv = [sys.executable, str(INFLATE_PY), str(folder / RTP), str(target)]
    subprocess.run([*argv, "--min-bytes", str(INFLATED_BYTES)], check=True)


def ensure_captures(folder: Path, inflate: bool = False) -> None:
    """Make every missing capture in `folder` (and the inflated one if asked)."""
    folder.mkdir(parents=True, exist_ok=True)
    make_lab_captures(folder)
    if inflate:
        make_inflated(folder)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=Path, default=DEFAULT_DIR, metavar="DIR")
    parser.add_argument("--inflate", action="store_true", help=f"also write {INFLATED} (>= 2 GiB)")
    args = parser.parse_args(argv)
    try:
        ensure_captures(args.captures, args.inflate)
    except subprocess.CalledProcessError as error:
        print(f"make_captures.py: {error}", file=sys.stderr)
        return 1
    for name in (RTP, TCP, *([INFLATED] if args.inflate else [])):
        path = args.captures / name
        print(f"{path}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
