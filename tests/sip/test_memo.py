"""Memo tables stay bounded: entry count and stored value length."""

from __future__ import annotations

from analyzer.sip import parse
from analyzer.sip.memo import MAX_ENTRIES, MAX_VALUE_LENGTH, memoised


def test_long_values_are_computed_not_stored() -> None:
    calls: list[str] = []

    @memoised
    def length(value: str) -> int:
        calls.append(value)
        return len(value)

    short, long = "x" * 10, "y" * (MAX_VALUE_LENGTH + 1)
    assert [length(short), length(short)] == [10, 10]
    assert [length(long), length(long)] == [MAX_VALUE_LENGTH + 1] * 2
    assert calls == [short, long, long]  # the short one once, the long one every time
    assert length._cached.cache_info().currsize == 1


def test_entry_count_is_bounded() -> None:
    @memoised
    def ident(value: str) -> str:
        return value

    for i in range(MAX_ENTRIES + 100):
        ident(str(i))
    assert ident._cached.cache_info().currsize == MAX_ENTRIES


def test_memoised_checks_give_the_same_verdicts_warm_and_cold() -> None:
    bad = b"OPTIONS sip:a@b SIP/2.0\r\nFrom: Bell, A <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n"
    first = parse(bad).anomalies
    assert "invalid_display_name" in first
    assert parse(bad).anomalies == first
