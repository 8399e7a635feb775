"""Q.850 causes (RFC 3398 mappings) and SIP warn-codes (RFC 3261 §20.43)."""

from __future__ import annotations

import pytest

from analyzer.catalogue import LANGUAGES
from analyzer.catalogue.tables import q850, q850_causes, q850_for_status, warn_code, warn_codes

# ITU-T Q.850 cause values (those defined in the recommendation).
Q850_VALUES = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29, 30, 31,
    34, 38, 39, 40, 41, 42, 43, 44, 46, 47, 49, 50, 53, 55, 57, 58, 62, 63, 65, 66, 69, 70,
    79, 81, 82, 83, 84, 85, 86, 87, 88, 90, 91, 95, 96, 97, 98, 99, 100, 101, 102, 103,
    110, 111, 127,
}  # fmt: skip


def test_every_q850_cause_is_present() -> None:
    assert set(q850_causes()) == Q850_VALUES


@pytest.mark.parametrize(
    ("cause", "status"),
    # RFC 3398 §7.2.4.1 rows (29 -> 501 per the RFC's erratum of "510").
    [(1, 404), (17, 486), (18, 408), (19, 480), (21, 403), (22, 410), (27, 502), (28, 484),
     (29, 501), (34, 503), (65, 488), (102, 504), (127, 500), (16, None)],
)  # fmt: skip
def test_isup_to_sip_mapping(cause: int, status: int | None) -> None:
    found = q850(cause)
    assert found is not None
    assert found.sip == status


@pytest.mark.parametrize(
    ("status", "cause"),
    # RFC 3398 §8.2.6.1 rows.
    [(404, 1), (486, 17), (480, 18), (603, 21), (484, 28), (408, 102), (503, 41), (600, 17)],
)
def test_sip_to_isup_mapping(status: int, cause: int) -> None:
    assert q850_for_status(status) == cause


def test_q850_in_every_language() -> None:
    names = {lang: q850(16, lang) for lang in LANGUAGES}
    assert names["en"] is not None
    assert names["en"].name == "Normal call clearing"
    assert len({c.name for c in names.values() if c}) == len(LANGUAGES)
    assert q850(24) is None
    assert q850(200) is None


def test_warn_codes() -> None:
    # RFC 3261 §20.43 plus RFC 5630's SIPS codes.
    assert {300, 301, 302, 303, 304, 305, 306, 307, 330, 331, 370, 399} <= set(warn_codes())
    found = warn_code(305, "ja")
    assert found is not None
    assert found.text == "Incompatible media format"
    assert found.rfc == "RFC 3261 §20.43"
    assert found.lang == "ja"
    assert warn_code(392) is None  # SER's private "Noisy feedback" code
