"""Relay lists for village heads: per village, the households to tell by hand, ready to print.

The .xlsx has a sheet per village with a title, the village and commune, what the notice is
about, a header repeated on every printed page and a signature line; the .csv has the same
rows with the commune and village as columns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from messages.render import _, day
from storage.exports.tables import Cell, write_table
from storage.relays import RelayLine

TEXT_COLUMN = 4  # "what to tell": wide and wrapped
WIDTHS = (6, 12, 26, 60, 14, 18)
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def header() -> list[str]:
    """The columns of a village's table."""
    return [
        _("No."),
        _("Household code"),
        _("Head of household"),
        _("What to tell the household"),
        _("Told on"),
        _("Signature"),
    ]


def title() -> str:
    """The heading of every sheet."""
    return _("HOUSEHOLDS TO TELL IN PERSON")


def villages(lines: Sequence[RelayLine]) -> Iterator[tuple[str, str, list[RelayLine]]]:
    """The lines by commune and village (they come sorted that way)."""
    for (commune, village), group in groupby(lines, key=lambda x: (x.commune, x.village)):
        yield commune, village, list(group)


def _row(number: int, line: RelayLine, zone: ZoneInfo) -> list[Cell]:
    told = day(line.delivered_at.astimezone(zone).date()) if line.delivered_at else ""
    return [number, line.household_code, line.head_name, line.text, told, ""]


def write_relays(
    path: Path, lines: Sequence[RelayLine], *, about: str, fmt: str, zone: ZoneInfo
) -> int:
    """Write the relay list to PATH (.csv or .xlsx), whole or not at all; the household count."""
    if fmt == "csv":
        head = [_("Commune"), _("Village"), *header()]
        rows = (
            [commune, village, *_row(n, line, zone)]
            for commune, village, group in villages(lines)
            for n, line in enumerate(group, 1)
        )
        return write_table(path, head, rows, fmt="csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        _write_xlsx(partial, lines, about=about, zone=zone)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return len(lines)


def _write_xlsx(path: Path, lines: Sequence[RelayLine], *, about: str, zone: ZoneInfo) -> None:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for commune, village, group in villages(lines):
        sheet = book.create_sheet(_sheet_name(village or commune, used))
        _village_sheet(sheet, commune, village, group, about=about, zone=zone)
    if not book.sheetnames:  # nobody to tell: an empty list, still printable
        _village_sheet(book.create_sheet(_("List")), "", "", [], about=about, zone=zone)
    book.save(path)


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique sheet name (31 characters at most, no []:*?/\\)."""
    base = _SHEET_NAME.sub(" ", name).strip()[:28] or "-"
    found, n = base, 1
    while found.lower() in used:
        n += 1
        found = f"{base[:26]} {n}"
    used.add(found.lower())
    return found


def _village_sheet(
    sheet: Any,
    commune: str,
    village: str,
    group: Sequence[RelayLine],
    *,
    about: str,
    zone: ZoneInfo,
) -> None:
    """Title rows, the table, a signature line, and the page set up for printing."""
    from openpyxl.styles import Alignment, Border, Font, Side

    last = len(WIDTHS)
    place = ", ".join(p for p in (village, commune) if p)
    for row, (heading, size) in enumerate(((title(), 14), (place, 12), (about, 11)), 1):
        sheet.cell(row=row, column=1, value=heading).font = Font(bold=row < 3, size=size)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
    top = 5
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, name in enumerate(header(), 1):
        cell = sheet.cell(row=top, column=column, value=name)
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, line in enumerate(group, 1):
        for column, value in enumerate(_row(n, line, zone), 1):
            cell = sheet.cell(row=top + n, column=column, value=value)
            cell.border = box
            cell.alignment = Alignment(vertical="top", wrap_text=column == TEXT_COLUMN)
    footer = top + len(group) + 2
    sheet.cell(row=footer, column=TEXT_COLUMN, value=_("Village head (sign, full name)"))
    _page(sheet, top)


def _page(sheet: Any, header_row: int) -> None:
    """Column widths and print settings: landscape A4, one page wide, header on every page."""
    from openpyxl.utils import get_column_letter

    for column, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
