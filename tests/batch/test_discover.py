"""Which files a batch takes, and the keys baselines match on."""

from __future__ import annotations

from pathlib import Path

from analyzer.batch.discover import find, is_capture_name


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


def test_a_directory_is_walked_for_capture_names(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "a.pcap",
            "b.PCAPNG",
            "c.pcap.gz",
            "d.cap",
            "sub/e.pcapng.gz",
            "sub/deeper/f.dmp",
            "notes.txt",
            "a.sipp.json",
            ".hidden.pcap",
            ".git/g.pcap",
            "out/report.pcap",
        ],
    )
    found = find([str(tmp_path)], skip=tmp_path / "out")
    assert [k for k, _ in found.captures] == [
        "a.pcap",
        "b.PCAPNG",
        "c.pcap.gz",
        "d.cap",
        "sub/deeper/f.dmp",
        "sub/e.pcapng.gz",
    ]
    assert sorted(p.name for p in found.ignored) == ["a.sipp.json", "notes.txt"]
    assert found.unmatched == ()


def test_keys_are_relative_to_the_directory_so_two_nights_match(tmp_path: Path) -> None:
    for night in ("2026-11-20", "2026-11-21"):
        _tree(tmp_path / night, ["lab/x.pcap", "y.pcap"])
    one = find([str(tmp_path / "2026-11-20")])
    two = find([str(tmp_path / "2026-11-21")])
    assert [k for k, _ in one.captures] == [k for k, _ in two.captures] == ["lab/x.pcap", "y.pcap"]


def test_globs_files_duplicates_and_missing(tmp_path: Path) -> None:
    _tree(tmp_path, ["a/x.pcap", "a/y.pcap", "b/z.pcap", "b/w.trace"])
    found = find(
        [
            str(tmp_path / "a" / "*.pcap"),
            str(tmp_path / "**" / "x.pcap"),  # x again: analysed once
            str(tmp_path / "b" / "w.trace"),  # a file named directly is taken
            str(tmp_path / "nothing" / "*.pcap"),
            str(tmp_path / "missing.pcap"),
        ]
    )
    assert sorted(p.name for _, p in found.captures) == ["w.trace", "x.pcap", "y.pcap"]
    assert found.unmatched == (
        str(tmp_path / "nothing" / "*.pcap"),
        str(tmp_path / "missing.pcap"),
    )


def test_the_same_name_under_two_roots_gets_distinct_keys(tmp_path: Path) -> None:
    _tree(tmp_path, ["site1/x.pcap", "site2/x.pcap"])
    found = find([str(tmp_path / "site1"), str(tmp_path / "site2")])
    assert [k for k, _ in found.captures] == ["site1/x.pcap", "site2/x.pcap"]


def test_capture_names() -> None:
    assert is_capture_name("trace.PCAP")
    assert is_capture_name("t.pcapng.gz")
    assert not is_capture_name("trace.pcap.txt")
    assert not is_capture_name("batch.json")
