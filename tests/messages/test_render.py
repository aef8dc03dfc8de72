"""Vietnamese formatting and text keys."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

from messages.render import _, day, moment, money, number
from messages.text import fold, nfc, strip_accents


def test_money_dates_and_numbers_the_vietnamese_way() -> None:
    assert money(1_500_000) == "1.500.000\xa0₫"
    assert money(1_500_000, unit="word") == "1.500.000 đồng"
    assert day(date(2026, 12, 15)) == "15/12/2026"
    assert moment(datetime(2026, 12, 15, 0, 30, tzinfo=UTC)) == "07:30 15/12/2026"
    assert number(400_496) == "400.496"


def test_default_language_is_vietnamese() -> None:
    assert _("This column is required.") == "Cột này không được để trống."


def test_fold_ignores_accents_case_spacing_and_normal_form() -> None:
    nfd = unicodedata.normalize("NFD", "Xã  Ia Hdréh")
    assert fold(nfd) == fold("xa ia hdreh") == "xa ia hdreh"
    assert strip_accents("Đặng Thị Ngọc Ánh") == "Dang Thi Ngoc Anh"
    assert nfc(nfd) == unicodedata.normalize("NFC", "Xã Ia Hdréh")


def test_newly_escaped_households_keep_benefits_for_36_months() -> None:
    from storage.vocab import benefits_until

    assert benefits_until("escaped", date(2024, 3, 15)) == date(2027, 3, 15)
    assert benefits_until("escaped", date(2024, 2, 29)) == date(2027, 2, 28)
    assert benefits_until("poor", date(2024, 3, 15)) is None
    assert benefits_until("escaped", None) is None
