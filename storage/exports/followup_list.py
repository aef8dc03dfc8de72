"""The follow-up list as an official document: a sheet per commune with the national heading,
"DANH SÁCH ...", the place and date, numbered rows, the count and the signature lines, set up
to print on A4 landscape with the header row on every page.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import groupby
from typing import Any

from messages.phones import national_format
from messages.render import _, day
from storage.console_followups import ListLine
from storage.exports.relays import _sheet_name
from storage.exports.tables import Cell
from storage.vocab import followup_label

WIDTHS = (6, 14, 26, 18, 14, 30, 12, 40)
NOTE_COLUMN = 8  # wide and wrapped, as is "what to do"
WRAPPED = (3, 4, 6, NOTE_COLUMN)
HEADER_ROW = 8  # the rows above hold the headings, the title and what the list holds


def header() -> list[str]:
    """The columns of the list."""
    return [
        _("No."),
        _("Household code"),
        _("Head of household (full name)"),
        _("Village / hamlet"),
        _("Phone no."),
        _("What to do"),
        _("Due"),
        _("Note"),
    ]


def title() -> str:
    """The list's title."""
    return _("LIST OF HOUSEHOLDS TO FOLLOW UP AND SUPPORT")


def dated(place: str, on: date) -> str:
    """ "Xã A, ngày 21 tháng 11 năm 2026"."""
    text = _("{place}, day {day} month {month} year {year}")
    return text.format(place=place, day=f"{on.day:02d}", month=f"{on.month:02d}", year=on.year)


def in_all(lines: Sequence[ListLine]) -> str:
    """The count under the table: items and the households they concern."""
    households = len({x.item.household_code for x in lines})
    return _("In all: {n} items, {h} households.").format(n=len(lines), h=households)


def row(number: int, line: ListLine) -> list[Cell]:
    """One numbered household line."""
    x = line.item
    return [
        number,
        x.household_code,
        x.head_name,
        x.village,
        national_format(line.phone) if line.phone else "",
        followup_label(x.kind),
        day(x.due_on) if x.due_on else "",
        x.note,
    ]


def by_commune(lines: Sequence[ListLine]) -> Iterator[tuple[str, list[ListLine]]]:
    """The lines of each commune (they come sorted by commune)."""
    for _code, group in groupby(lines, key=lambda x: x.item.commune_code):
        found = list(group)
        yield found[0].commune_name, found


def workbook(lines: Sequence[ListLine], *, about: str, on: date) -> bytes:
    """The .xlsx file: a sheet per commune (one empty sheet when nothing matches)."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for commune, group in by_commune(lines):
        sheet = book.create_sheet(_sheet_name(commune, used))
        _sheet(sheet, group, about=about, on=on)
    if not book.sheetnames:
        _sheet(book.create_sheet(_("List")), [], about=about, on=on)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _heading(sheet: Any, row_no: int, first: int, last: int, text: str, **font: Any) -> None:
    from openpyxl.styles import Alignment, Font

    cell = sheet.cell(row=row_no, column=first, value=text)
    cell.font = Font(**font)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=row_no, start_column=first, end_row=row_no, end_column=last)


def _sheet(sheet: Any, group: Sequence[ListLine], *, about: str, on: date) -> None:
    """Headings, title, the table, the count and the signatures; the page set up to print."""
    commune = group[0].commune_name if group else ""
    province = group[0].province_name if group else ""
    last = len(WIDTHS)
    _heading(sheet, 1, 1, 3, province.upper(), size=11)
    _heading(
        sheet,
        2,
        1,
        3,
        _("PEOPLE'S COMMITTEE OF {commune}").format(commune=commune.upper()),
        bold=True,
        size=11,
    )
    _heading(sheet, 1, 5, last, _("SOCIALIST REPUBLIC OF VIETNAM"), bold=True, size=11)
    _heading(
        sheet,
        2,
        5,
        last,
        _("Independence - Freedom - Happiness"),
        bold=True,
        underline="single",
        size=11,
    )
    _heading(sheet, 3, 5, last, dated(commune or "", on), italic=True, size=11)
    _heading(sheet, 5, 1, last, title(), bold=True, size=14)
    _heading(sheet, 6, 1, last, about, italic=True, size=11)
    _table(sheet, group)
    _signatures(sheet, HEADER_ROW + len(group) + 2, in_all(group))
    _page(sheet)


def _table(sheet: Any, group: Sequence[ListLine]) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, name in enumerate(header(), 1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=name)
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, line in enumerate(group, 1):
        for column, value in enumerate(row(n, line), 1):
            cell = sheet.cell(row=HEADER_ROW + n, column=column, value=value)
            cell.border = box
            cell.alignment = Alignment(vertical="top", wrap_text=column in WRAPPED)


def _signatures(sheet: Any, top: int, count: str) -> None:
    """The count, then "Người lập biểu" on the left and the committee's chair on the right."""
    from openpyxl.styles import Font

    sheet.cell(row=top, column=1, value=count)
    sheet.cell(row=top, column=1).font = Font(bold=True)
    last = len(WIDTHS)
    _heading(sheet, top + 2, 1, 3, _("Prepared by"), bold=True, size=11)
    _heading(sheet, top + 3, 1, 3, _("(Sign, full name)"), italic=True, size=10)
    _heading(sheet, top + 2, 6, last, _("ON BEHALF OF THE PEOPLE'S COMMITTEE"), bold=True, size=11)
    _heading(sheet, top + 3, 6, last, _("CHAIRPERSON"), bold=True, size=11)
    _heading(sheet, top + 4, 6, last, _("(Sign, full name, seal)"), italic=True, size=10)


def _page(sheet: Any) -> None:
    """Column widths and print settings: A4 landscape, one page wide, header on every page."""
    from openpyxl.utils import get_column_letter

    for column, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
