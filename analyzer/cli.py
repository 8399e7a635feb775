"""The `sip-analyzer` command: argument parsing, writing files, exit codes.

Exit codes (docs/architecture): 0 analysed; 1 a --fail-on threshold tripped;
2 usage error; 3 unreadable input.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from . import __version__
from .catalogue import LANGUAGES, default_lang, lookup
from .catalogue.compare import compare
from .ingest import CaptureError
from .pipeline import Options, analyze
from .report import Format, RenderOptions, catalogue, stream

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


def demo_capture() -> Path:
    """The bundled demo capture (made by the lab, see captures/lab/)."""
    packaged = resources.files("analyzer").joinpath("demo", "demo.pcapng")
    return Path(str(packaged))


def _lang_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=default_lang(os.environ),
        help="language of catalogue texts and headings (default: from LC_ALL/LC_MESSAGES/LANG)",
    )


_PAGE_FORMATS = ("terminal", "markdown", "json")


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
    _lang_option(a)
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
    e.add_argument("code", type=int, metavar="CODE")
    e.add_argument("--format", choices=_PAGE_FORMATS, default="terminal")
    e.add_argument("-o", "--output", default="-", metavar="FILE", help="output file (- = stdout)")
    _lang_option(e)

    c = sub.add_parser("compare", help="compare two SIP response codes side by side")
    c.add_argument("codes", type=int, nargs=2, metavar="CODE")
    c.add_argument("--format", choices=_PAGE_FORMATS, default="terminal")
    c.add_argument("-o", "--output", default="-", metavar="FILE", help="output file (- = stdout)")
    _lang_option(c)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command in ("explain", "compare"):
        return _page(args)
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
    width = _width(args.width, args.output)
    pieces = stream(
        analysis, Format(args.format), RenderOptions(color=_use_color(args.output), width=width)
    )
    return _write(pieces, args.output)


def _width(asked: int | None, output: str) -> int:
    return asked or (shutil.get_terminal_size((120, 40)).columns if output == "-" else 120)


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


def _page(args: argparse.Namespace) -> int:
    """`explain` and `compare`: one catalogue page."""
    options = RenderOptions(color=_use_color(args.output), width=_width(None, args.output))
    try:
        if args.command == "explain":
            entry = lookup(args.code, args.lang)
            page = {
                "json": lambda: catalogue.explain_json(entry),
                "markdown": lambda: catalogue.explain_markdown(entry),
                "terminal": lambda: catalogue.explain_terminal(entry, options),
            }[args.format]()
        else:
            cmp = compare(args.codes[0], args.codes[1], args.lang)
            page = {
                "json": lambda: catalogue.compare_json(cmp),
                "markdown": lambda: catalogue.compare_markdown(cmp),
                "terminal": lambda: catalogue.compare_terminal(cmp, options),
            }[args.format]()
    except ValueError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _write([page], args.output)
