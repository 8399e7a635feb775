"""`compare` builds the seed pages' comparison for any pair from the two entries."""

from __future__ import annotations

import pytest

from analyzer.catalogue import LANGUAGES, lookup, text
from analyzer.catalogue.compare import compare


@pytest.mark.parametrize("lang", LANGUAGES)
def test_200_vs_439_reads_like_the_seed_page(lang: str) -> None:
    cmp = compare(200, 439, lang)
    ok, outbound = lookup(200, lang), lookup(439, lang)
    assert cmp.title == text(
        lang, "cmp.title", a=200, b=439, reason_a="OK", reason_b="First Hop Lacks Outbound Support"
    )
    # Intro: class contrast, then both meanings.
    assert ok.klass in cmp.intro[0]
    assert outbound.klass in cmp.intro[0]
    assert ok.meaning in cmp.intro[1]
    assert outbound.meaning in cmp.intro[1]
    # Key differences: the class contrast first, then finality/retry per class, then
    # each code's meaning and when you see it.
    assert text(lang, "class.2.about") in cmp.differences[0]
    assert text(lang, "class.4.about") in cmp.differences[0]
    assert "13.2.2.4" in cmp.differences[1]
    assert "17.1.1.3" in cmp.differences[2]
    for entry in (ok, outbound):
        assert any(entry.meaning in d for d in cmp.differences)
        assert any(entry.when in d for d in cmp.differences)
    assert any("5626" in d for d in cmp.differences)  # where each is defined
    assert any(text(lang, "severity.error") in d for d in cmp.differences)
    # When to use which: each code's fix.
    assert ok.fix in cmp.which[1]
    assert outbound.fix in cmp.which[2]


def test_same_class_pair_says_so_and_skips_class_rules() -> None:
    cmp = compare(430, 439)
    assert "both" in cmp.intro[0]
    assert "4xx Client Failure" in cmp.intro[0]
    assert cmp.differences[0].startswith("Both are")
    assert not any("17.1.1.3" in d for d in cmp.differences)
    # 439 lists 430 among its related codes and 430 lists 439.
    assert text("en", "cmp.related.both") in cmp.differences


def test_provisional_and_global_failure_rules() -> None:
    cmp = compare(183, 603)
    assert "provisional" in cmp.differences[1]
    assert "7.2" in cmp.differences[1]
    assert "21.6" in cmp.differences[2]


def test_unregistered_code_compares_as_its_class() -> None:
    cmp = compare(499, 400)
    assert cmp.a.fallback
    assert not cmp.b.fallback
    assert "8.1.3.2" in cmp.intro[1]


@pytest.mark.parametrize(("a", "b"), [(200, 200), (99, 200), (200, 700)])
def test_bad_pairs_are_refused(a: int, b: int) -> None:
    with pytest.raises(ValueError, match=r"different codes|not a SIP response code"):
        compare(a, b)
