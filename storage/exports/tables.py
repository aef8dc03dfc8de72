"""Writing a table to .csv (UTF-8 with BOM, so Excel reads the accents) or .xlsx."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

Cell = str | int | float | None


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC instant as local time for a list: 2026-11-21 09:15:00."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def write_table(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, fmt: str
) -> int:
    """Write HEADER and ROWS to PATH as csv or xlsx, whole or not at all; the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        count = (
            _write_xlsx(partial, header, rows)
            if fmt == "xlsx"
            else _write_csv(partial, header, rows)
        )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if cell is None else cell for cell in row])
            count += 1
    return count


def _write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet: Any = book.create_sheet("Data")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for index, title in enumerate(header, 1):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cells.append(cell)
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(title) + 2))
    sheet.append(cells)
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    book.save(path)
    return count
