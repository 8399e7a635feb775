"""The `sip-analyzer` command: argument parsing, writing files, exit codes.

Exit codes (docs/architecture): 0 analysed; 1 a --fail-on threshold tripped;
2 usage error; 3 unreadable input.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from importlib import resources
from pathlib import Path

from . import __version__
from .analysis import Analysis
from .batch.gates import GateResult, check_analysis, parse_gates
from .catalogue import LANGUAGES, default_lang, lookup
from .catalogue.compare import compare
from .ingest import Accounting, CaptureError
from .pipeline import Options, analyze
from .redact import Redactor
from .report import LADDERS, Format, RenderOptions, catalogue, stream, write_tables
from .select import Selection, capture_day, missing_call_ids, parse_status, parse_time, select

EXIT_OK = 0
EXIT_GATE = 1
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
    a.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="output file (- = stdout); a directory for csv and parquet",
    )
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
    a.add_argument(
        "--ladder",
        choices=LADDERS,
        default="failed",
        help="which calls get a ladder diagram in markdown and html (default: failed)",
    )
    sel = a.add_argument_group("selection (narrows calls, findings, exported packets)")
    sel.add_argument(
        "--calls",
        nargs="+",
        default=["all"],
        metavar="failed|all|CALL-ID",
        help="'failed' (failed outcome or an error finding), 'all' (default), or Call-IDs",
    )
    sel.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="CODE",
        help="calls with a response of this code or class (486, 4xx); repeatable",
    )
    sel.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="METHOD",
        help="calls with a request of this method; repeatable",
    )
    sel.add_argument(
        "--since",
        metavar="TIME",
        help="calls still going at TIME: epoch seconds, ISO date-time (UTC unless zoned), "
        "or HH:MM:SS on the capture's first day",
    )
    sel.add_argument("--until", metavar="TIME", help="calls that started by TIME (as --since)")
    tix = a.add_argument_group("for tickets")
    tix.add_argument(
        "--redact",
        action="store_true",
        help="remove digest response/nonce/cnonce values and URI passwords from every output",
    )
    tix.add_argument(
        "--redact-identities",
        action="store_true",
        help="also replace user parts, numbers, display names and IP addresses with "
        "stable pseudonyms (implies --redact)",
    )
    tix.add_argument(
        "--export-pcap",
        metavar="FILE",
        help="write the packets of the selected calls to FILE (pcapng)",
    )
    _gate_option(a)

    b = sub.add_parser(
        "batch",
        help="analyse a directory of captures in parallel: a report per capture, one "
        "aggregated report, baselines and gates",
    )
    b.add_argument(
        "inputs",
        nargs="+",
        metavar="DIR|GLOB|FILE",
        help="directories (walked for *.pcap, *.pcapng, *.cap, *.dmp, also .gz), globs "
        "(quote them; ** recurses) or files",
    )
    b.add_argument(
        "--out",
        metavar="DIR",
        help="write a report per capture and the aggregated batch.json (and batch.md, "
        "batch.junit.xml, batch.html for those formats) here",
    )
    b.add_argument(
        "--format",
        action="append",
        default=[],
        metavar="FORMAT",
        help="per-capture report formats, comma-separated or repeated: "
        + ", ".join(f.value for f in Format)
        + " (default: json)",
    )
    b.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes analysing at once (default: one per core)",
    )
    b.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (tcp://host:8786), one task per capture",
    )
    b.add_argument(
        "--scheduler-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to try reaching the --scheduler (default: 30)",
    )
    b.add_argument(
        "--baseline",
        metavar="PREVIOUS.json",
        help="an earlier batch.json: report what changed since",
    )
    b.add_argument(
        "--tolerance",
        type=float,
        default=10.0,
        metavar="PCT",
        help="a count or delay moved when it changed by more than PCT %% of the baseline "
        "(delays also by more than 10 ms), a ratio when by more than PCT points "
        "(default: 10)",
    )
    _lang_option(b)
    b.add_argument("--engine", choices=["native", "tshark"], default="native")
    b.add_argument("--ladder", choices=LADDERS, default="failed")
    b.add_argument("--redact", action="store_true", help="as for analyze")
    b.add_argument("--redact-identities", action="store_true", help="as for analyze")
    _gate_option(b)

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


def _gate_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="EXPR",
        help="exit 1 when EXPR holds, e.g. 'ser<95', 'status:5xx>0', 'finding:outbound.*', "
        "'srd.p95>2s', 'any:calls:failed>0', 'new-finding' (batch --baseline); repeatable "
        "(docs/batch.md lists every measure)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command in ("explain", "compare"):
        return _page(args)
    if args.command == "batch":
        from .batch.cli import run_batch  # noqa: PLC0415 - only this command needs it

        return run_batch(args)
    return _analyze(args)


def _use_color(output: str) -> bool:
    return output == "-" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _analyze(args: argparse.Namespace) -> int:
    captures = args.captures or [str(demo_capture())]
    fmt = Format(args.format)
    if fmt.is_directory and args.output == "-":
        print(
            f"sip-analyzer: --format {fmt} writes one file per view: give -o DIR", file=sys.stderr
        )
        return EXIT_USAGE
    if args.export_pcap and args.redact_identities:
        print(
            "sip-analyzer: --export-pcap keeps the packets' addresses and lengths, so it "
            "cannot pseudonymise identities; use --redact (credentials only) with it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    engine = args.engine or ("tshark" if args.tls_keylog else "native")
    if args.tls_keylog and engine != "tshark":
        print("sip-analyzer: --tls-keylog needs --engine tshark", file=sys.stderr)
        return EXIT_USAGE
    try:
        statuses = tuple(parse_status(s) for arg in args.status for s in arg.split(",") if s)
        gates = parse_gates(args.fail_on, baseline=False)
    except ValueError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    redactor = (
        Redactor(identities=args.redact_identities)
        if args.redact or args.redact_identities
        else None
    )
    try:
        with _progress(captures) as progress:
            options = Options(
                lang=args.lang,
                engine=engine,
                tls_keylog=args.tls_keylog,
                redactor=redactor,
                progress=progress,
            )
            analysis = analyze(captures, options)
    except CaptureError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        selection = _selection(args, statuses, analysis)
    except ValueError as exc:
        print(f"sip-analyzer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for missing in missing_call_ids(analysis, selection):
        print(f"sip-analyzer: no call has Call-ID {missing!r}", file=sys.stderr)
    if gates:
        # Gates judge the whole capture, whatever the selection shows.
        analysis = replace(analysis, gates=check_analysis(gates, analysis))
        report_gates(analysis.gates, str)
    analysis = select(analysis, selection)
    if args.export_pcap:
        code = _export(analysis, args.export_pcap, redactor)
        if code != EXIT_OK:
            return code
    if fmt.is_directory:
        try:
            write_tables(analysis, Path(args.output), fmt)
        except (OSError, ValueError) as exc:
            print(f"sip-analyzer: cannot write {args.output}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return gate_exit(analysis.gates)
    width = _width(args.width, args.output)
    render_options = RenderOptions(color=_use_color(args.output), width=width, ladder=args.ladder)
    code = _write(stream(analysis, fmt, render_options), args.output)
    return code if code != EXIT_OK else gate_exit(analysis.gates)


def report_gates(results: Sequence[GateResult], name: Callable[[str], str]) -> None:
    """One stderr line per tripped gate (the report says the same, with every gate)."""
    for g in results:
        if g.tripped:
            where = f" ({', '.join(name(c) for c in g.captures[:10])})" if g.captures else ""
            print(f"sip-analyzer: gate {g.gate.text!r} tripped: {g.detail}{where}", file=sys.stderr)


def gate_exit(results: Sequence[GateResult]) -> int:
    """Exit code 1 when any gate tripped, else 0."""
    return EXIT_GATE if any(g.tripped for g in results) else EXIT_OK


def _selection(
    args: argparse.Namespace, statuses: tuple[str, ...], analysis: Analysis
) -> Selection:
    calls: str | tuple[str, ...]
    if len(args.calls) == 1 and args.calls[0] in ("all", "failed"):
        calls = args.calls[0]
    else:
        calls = tuple(args.calls)
    day = capture_day(analysis)
    return Selection(
        calls=calls,
        statuses=statuses,
        methods=tuple(m.upper() for arg in args.method for m in arg.split(",") if m),
        since=parse_time(args.since, day) if args.since else None,
        until=parse_time(args.until, day) if args.until else None,
    )


def _export(analysis: Analysis, path: str, redactor: Redactor | None) -> int:
    from .export import export_pcap  # noqa: PLC0415 - only this option needs it

    try:
        result = export_pcap(
            analysis, Path(path), redactor.credentials if redactor is not None else None
        )
    except (OSError, ValueError, CaptureError) as exc:
        print(f"sip-analyzer: cannot export {path}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"sip-analyzer: {result.summary()}", file=sys.stderr)
    return EXIT_OK


@contextmanager
def _progress(captures: Sequence[str]) -> Iterator[Callable[[int, Accounting], None] | None]:
    """A progress bar on stderr while reading big captures (a terminal only)."""
    sizes = []
    for c in captures:
        try:
            sizes.append(os.stat(c).st_size if c != "-" else 0)
        except OSError:
            sizes.append(0)
    total = sum(sizes)
    if not sys.stderr.isatty() or total < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    done_before = [sum(sizes[:i]) for i in range(len(sizes))]
    bar = Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[packets]} packets"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("read", total=total, packets=0)
    counted = [0] * len(captures)

    def update(index: int, acc: Accounting) -> None:
        counted[index] = acc.packets
        here = acc.position() if acc.position is not None else 0
        bar.update(task, completed=done_before[index] + here, packets=sum(counted))

    with bar:
        yield update


PROGRESS_MIN_BYTES = 16 * 1024 * 1024
"""Captures smaller than this read in well under a second: no bar."""


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
