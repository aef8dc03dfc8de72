"""An event's registrant list, as a follow-up list to print: title rows, numbered households,
the count and whether the class reached its minimum size. .csv (with BOM) or .xlsx."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from messages.phones import national_format
from messages.render import _, moment
from storage.events import RegistrantLine
from storage.exports.tables import Cell, local
from storage.models import Event

STAFF = "staff"  # the channel of a registration staff took in person or by phone
TITLE_ROWS = 4  # the rows above the header


def header() -> list[str]:
    """The column titles."""
    return [
        _("No."),
        _("Household code"),
        _("Head of household"),
        _("Village"),
        _("Commune"),
        _("Phone"),
        _("Registered at"),
        _("Channel"),
    ]


def rows(event: Event, lines: Sequence[RegistrantLine], *, zone: ZoneInfo) -> list[list[Cell]]:
    """Every row of the list: titles, header, numbered households, count, minimum size."""
    titles: list[list[Cell]] = [
        [_("REGISTRANT LIST")],
        [event.title],
        [_("Time: {when}").format(when=moment(event.starts_at, zone))],
        [_("Place: {place}").format(place=event.place)],
    ]
    body: list[list[Cell]] = [
        [
            n,
            x.household_code,
            x.head_name,
            x.village,
            x.commune,
            national_format(x.phone) if x.phone else "",
            local(x.registered_at, zone),
            _("in person") if x.channel == STAFF else (x.channel or ""),
        ]
        for n, x in enumerate(lines, 1)
    ]
    footer = _footer(len(lines), event.min_size)
    head: list[Cell] = list(header())
    return [*titles, head, *body, [], *footer]


def _footer(count: int, min_size: int | None) -> list[list[Cell]]:
    """The count, and whether the minimum size is reached."""
    footer: list[list[Cell]] = [[_("Registered households: {n}").format(n=count)]]
    if min_size and count >= min_size:
        footer.append([_("Minimum size {n}: reached.").format(n=min_size)])
    elif min_size:
        missing = _("Minimum size {n}: {missing} more needed.")
        footer.append([missing.format(n=min_size, missing=min_size - count)])
    return footer


def write(path: Path, table: Sequence[Sequence[Cell]], *, fmt: str) -> None:
    """Write the list to PATH (csv or xlsx), whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "xlsx":
            _xlsx(partial, table)
        else:
            with partial.open("w", encoding="utf-8-sig", newline="") as handle:
                write_csv(handle, table)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_csv(handle: TextIO, table: Sequence[Sequence[Cell]]) -> None:
    """The list as csv on an open text file."""
    writer = csv.writer(handle)
    for row in table:
        writer.writerow(["" if cell is None else cell for cell in row])


def _xlsx(path: Path, table: Sequence[Sequence[Cell]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet: Any = book.active
    sheet.title = _("Registrants")[:31]
    for row in table:
        sheet.append(list(row))
    bold = Font(bold=True)
    for row_number in (1, TITLE_ROWS + 1):  # the list's title and the header
        for cell in sheet[row_number]:
            cell.font = bold
    widths = (6, 14, 26, 18, 18, 14, 20, 12)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(row=TITLE_ROWS + 2, column=1)
    book.save(path)
