"""Checking what staff type into a follow-up's forms: due dates and notes."""

from __future__ import annotations

from datetime import date

import pytest

from storage.followup_changes import FollowUpError, appended, check_note, parse_due

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("typed", "due"),
    [
        ("2026-12-15", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("5.1.2027", date(2027, 1, 5)),
        ("21/11/2026", TODAY),
        ("", None),
        ("  ", None),
    ],
)
def test_a_due_date_is_read_as_people_write_it(typed: str, due: date | None) -> None:
    assert parse_due(typed, today=TODAY) == due


@pytest.mark.parametrize("typed", ["2026-11-20", "31/02/2027", "ngày mai", "2026-13-01"])
def test_a_past_or_impossible_due_date_is_refused_on_its_field(typed: str) -> None:
    with pytest.raises(FollowUpError) as refused:
        parse_due(typed, today=TODAY)
    assert refused.value.field == "due_on"


def test_a_note_is_appended_dated_and_signed_and_the_old_ones_stay() -> None:
    first = appended("", "Đã gọi điện.", by="lan", on=TODAY)
    assert first == "[21/11/2026 lan] Đã gọi điện."
    second = appended(first + "\n", "Hẹn thứ Hai.", by="minh", on=date(2026, 11, 23))
    assert second == "[21/11/2026 lan] Đã gọi điện.\n[23/11/2026 minh] Hẹn thứ Hai."


def test_a_note_loses_control_characters_and_must_say_something() -> None:
    assert check_note(" Có\x00 mặt\n ") == "Có mặt"
    for empty in ("", " \n ", "\x00"):
        with pytest.raises(FollowUpError):
            check_note(empty)
    with pytest.raises(FollowUpError):
        check_note("x" * 2001)
