"""Turning spreadsheet cells into typed values; each failure is a Vietnamese reason."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from messages.render import _
from messages.text import fold, nfc
from storage.importers.sheets import Cell

_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?\s*$")
_EXCEL_EPOCH = date(1899, 12, 30)
_YES = {"x", "co", "1", "yes", "y", "true", "dung", "v", "nu"}
_NO = {"", "0", "khong", "no", "n", "false", "-"}
_DATE_TYPES = (datetime, date)  # tuples: `X | Y` in isinstance() is rebuilt on every call
_NUMBER_TYPES = (int, float)
_HAS_LETTER = re.compile(r"[^\W\d_]")


class CellError(ValueError):
    """A value that does not fit its column; the message is the reason, in Vietnamese."""


def text(cell: Cell) -> str:
    """The cell as tidy NFC text ('' for empty); whole numbers lose Excel's '.0'."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, _DATE_TYPES):
        return cell.strftime("%d/%m/%Y")
    return nfc(str(cell))


def lines_text(cell: Cell) -> str:
    """Like text(), but line breaks inside the cell are kept (they separate values)."""
    if isinstance(cell, str):
        return "\n".join(nfc(line) for line in cell.splitlines())
    return text(cell)


def name_text(cell: Cell) -> str:
    """Text that must be words (a person's name, a place): a bare number is refused."""
    value = text(cell)
    if value and not _HAS_LETTER.search(value):
        raise CellError(_("A name is expected here, not a number."))
    return value


def day(cell: Cell, *, today: date) -> date | None:
    """A date written dd/mm/yyyy, an Excel date, or an Excel day number; None when empty."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, datetime):
        value = cell.date()
    elif isinstance(cell, date):
        value = cell
    elif isinstance(cell, _NUMBER_TYPES) and 1 < cell < 2958466:
        value = _EXCEL_EPOCH + timedelta(days=int(cell))
    else:
        value = _parse_day_text(str(cell))
    if value > today:
        raise CellError(_("The date is in the future."))
    if value.year < 1945:
        raise CellError(_("The date is too far in the past."))
    return value


def _parse_day_text(raw: str) -> date:
    match = _DATE.match(raw)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        iso = _ISO_DATE.match(raw)
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError as exc:
        raise CellError(_("This day does not exist in the calendar.")) from exc
    raise CellError(_("Write the date as dd/mm/yyyy, for example 15/03/2024."))


def whole(cell: Cell, *, low: int, high: int) -> int | None:
    """A whole number between LOW and HIGH; None when empty."""
    value = text(cell)
    if not value:
        return None
    digits = fold(value).removeprefix("nhom").strip()
    if not digits.isdigit() or not low <= int(digits) <= high:
        raise CellError(
            _("A whole number from {low} to {high} is expected.").format(low=low, high=high)
        )
    return int(digits)


def flag(cell: Cell) -> bool:
    """A yes mark: x, có, 1, yes (anything of no/empty is False)."""
    key = fold(text(cell))
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError(_("Write x (or có) for yes and leave it empty for no."))
