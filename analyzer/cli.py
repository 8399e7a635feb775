"""The `sip-analyzer` command: argument parsing, writing files, exit codes.

Exit codes (docs/architecture): 0 analysed; 1 a --fail-on threshold tripped;
2 usage error; 3 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from . import __version__
from .catalogue import LANGUAGES, lookup
from .ingest import CaptureError
from .pipeline import Options, analyze
from .report import Format, RenderOptions, stream
from .report.text import inert

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


def demo_capture() -> Path:
    """The bundled demo capture (made by the lab, see captures/lab/)."""
    packaged = resources.files("analyzer").joinpath("demo", "demo.pcapng")
    return Path(str(packaged))


def _default_lang() -> str:
    # LANG=ru_RU.UTF-8 -> "ru" when we have it, else English.
    code = (os.environ.get("LANG") or "").split("_")[0].split(".")[0].lower()
    return code if code in LANGUAGES else "en"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sip-analyzer",
        description="Explain every SIP response and every call outcome in a packet capture.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse capture files (pcap, pcapng, gzip; - = stdin)")
    a.add_argument(
        "captures",
        nargs="*",
        metavar="CAPTURE",
        help="capture files; none = the bundled demo capture",
    )
    a.add_argument("--format", choices=[f.value for f in Format], default=Format.TERMINAL.value)
    a.add_argument("-o", "--output", default="-", metavar="FILE", help="output file (- = stdout)")
    a.add_argument("--lang", choices=LANGUAGES, default=_default_lang())
    a.add_argument("--width", type=int, default=None, help="terminal report width")
    a.add_argument(
        "--engine",
        choices=["native", "tshark"],
        default=None,
        help="ingestion engine: native (default, fast) or tshark (Wireshark's dissectors)",
    )
    a.add_argument(
        "--tls-keylog",
        metavar="FILE",
        default=None,
        help="TLS key log (SSLKEYLOGFILE) to decrypt SIP over TLS; implies --engine tshark",
    )

    e = sub.add_parser("explain", help="explain a SIP response code")
    e.add_argument("code", type=int)
    e.add_argument("--format", choices=["terminal", "json"], default="terminal")
    e.add_argument("--lang", choices=LANGUAGES, default=_default_lang())
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "explain":
        return _explain(args)
    return _analyze(args)


def _use_color(output: str) -> bool:
    return output == "-" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _analyze(args: argparse.Namespace) -> int:
    captures = args.captures or [str(demo_capture())]
    try:
        engine = args.engine or ("tshark" if args.tls_keylog else "native")
        if args.tls_keylog and engine != "tshark":
            print("sip-analyzer: --tls-keylog needs --engine tshark", file=sys.stderr)
            return EXIT_USAGE
        options = Options(lang=args.lang, engine=engine, tls_keylog=args.tls_keylog)
        analysis = analyze(captures, options)
    except CaptureError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    width = args.width or (
        shutil.get_terminal_size((120, 40)).columns if args.output == "-" else 120
    )
    pieces = stream(
        analysis, Format(args.format), RenderOptions(color=_use_color(args.output), width=width)
    )
    return _write(pieces, args.output)


def _write(pieces: Iterable[str], output: str) -> int:
    if output == "-":
        sys.stdout.writelines(pieces)
        sys.stdout.flush()
        return EXIT_OK
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.writelines(pieces)
    except OSError as exc:
        print(f"sip-analyzer: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    try:
        entry = lookup(args.code, args.lang)
    except ValueError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        data = {
            "code": entry.code,
            "reason": entry.reason,
            "class": entry.klass,
            "meaning": entry.meaning,
            "when": entry.when,
            "fix": entry.fix,
            "rfc": list(entry.rfc),
            "severity": entry.severity,
            "related": list(entry.related),
            "fallback": entry.fallback,
        }
        return _write([json.dumps(data, indent=2, ensure_ascii=False) + "\n"], "-")
    lines = [
        f"SIP {entry.code} {entry.reason}" if not entry.fallback else f"SIP {entry.code}",
        f"class:    {entry.klass}",
        f"rfc:      {', '.join(entry.rfc)}",
        f"severity: {entry.severity}",
        f"meaning:  {entry.meaning}",
        f"when:     {entry.when}",
        f"fix:      {entry.fix}",
        f"related:  {', '.join(str(c) for c in entry.related)}",
    ]
    return _write(["\n".join(inert(line) for line in lines) + "\n"], "-")
