"""Which files a batch analyses: directories walked, globs expanded, each capture named
by a stable key (its path under the directory or glob it came from), so that
tonight's `lab/udp4-busy.pcap` is compared with last night's."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz", ".cap.gz")
"""File names a directory walk takes as captures (case-insensitive). A glob takes
whatever it matches."""


@dataclass(frozen=True, slots=True)
class Found:
    """The captures of a batch, and what a directory walk passed over."""

    captures: tuple[tuple[str, Path], ...]
    """(key, path) per capture, sorted by key."""
    ignored: tuple[Path, ...]
    """Files in the walked directories without a capture suffix."""
    unmatched: tuple[str, ...]
    """Arguments that matched no file (a missing path, an empty glob)."""


def is_capture_name(name: str) -> bool:
    """Whether a directory walk takes a file of this name."""
    low = name.lower()
    return any(low.endswith(s) for s in SUFFIXES)


def _walk(root: Path, skip: Path | None) -> tuple[list[Path], list[Path]]:
    captures: list[Path] = []
    ignored: list[Path] = []
    for here, dirs, files in os.walk(root):
        # Hidden directories and our own output directory are never inputs.
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (skip is None or Path(here, d).resolve() != skip)
        )
        for name in sorted(files):
            if name.startswith("."):
                continue
            (captures if is_capture_name(name) else ignored).append(Path(here, name))
    return captures, ignored


def _glob_root(pattern: str) -> Path:
    """The directory part of a glob before its first wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def find(arguments: list[str], skip: Path | None = None) -> Found:
    """Expand directories (walked recursively) and globs (`**` allowed) into captures.

    A file named directly is taken whatever its name. `skip` (the output directory)
    is never walked into. The same file reached twice is analysed once.
    """
    picked: list[tuple[Path, Path]] = []  # (root, file)
    ignored: list[Path] = []
    unmatched: list[str] = []
    skip = skip.resolve() if skip is not None else None
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            files, passed = _walk(path, skip)
            picked.extend((path, f) for f in files)
            ignored.extend(passed)
        elif path.is_file():
            picked.append((path.parent, path))
        elif glob.has_magic(arg):
            matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                unmatched.append(arg)
            picked.extend((_glob_root(arg), f) for f in files)
        else:
            unmatched.append(arg)
    seen: set[Path] = set()
    unique: list[tuple[Path, Path]] = []
    for root, f in picked:
        real = f.resolve()
        if real not in seen:
            seen.add(real)
            unique.append((root, f))
    keys = [f.relative_to(root).as_posix() for root, f in unique]
    if len(set(keys)) != len(keys):
        # Two roots hold the same relative name: name every capture from their
        # common directory instead.
        common = Path(os.path.commonpath([str(f.resolve().parent) for _, f in unique]))
        keys = [f.resolve().relative_to(common).as_posix() for _, f in unique]
    captures = sorted(zip(keys, (f for _, f in unique), strict=True))
    return Found(tuple(captures), tuple(ignored), tuple(unmatched))
