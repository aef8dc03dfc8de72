"""Phone numbers as people type them."""

from __future__ import annotations

import pytest

from messages.phones import InvalidPhone, national_format, normalize_phone, split_phones


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("912345678", "+84912345678"),
        ("01683456789", "+84383456789"),  # Viettel 0168 -> 038
        ("0120 345 6789", "+84703456789"),  # MobiFone 0120 -> 070
        ("0123 456 7890", "+84834567890"),  # VinaPhone 0123 -> 083
        ("0186 123 4567", "+84561234567"),  # Vietnamobile 0186 -> 056
        ("0199 123 4567", "+84591234567"),  # Gmobile 0199 -> 059
        ("+84 168 345 6789", "+84383456789"),
        ("028 3812 3456", "+842838123456"),  # a Ho Chi Minh City landline
    ],
)
def test_normalises_to_e164(typed: str, e164: str) -> None:
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize("typed", ["09123", "không có", "0212 345", "+1 202 555 0100", "", "0"])
def test_refuses_what_is_not_a_vietnamese_number(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(typed)


def test_splits_a_cell_with_several_numbers() -> None:
    cell = "0912 345 678; 0987654321 / +84868123456\n0338, 0339"
    assert split_phones(cell) == ["0912 345 678", "0987654321", "+84868123456", "0338", "0339"]


def test_national_format_is_how_people_read_it() -> None:
    assert national_format("+84912345678") == "0912 345 678"
