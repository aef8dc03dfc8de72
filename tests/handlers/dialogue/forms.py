"""Writing small XLSForms for tests, as pyxform CSV or as .xlsx."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

Rows = Sequence[Sequence[str]]
SURVEY_HEAD = ("type", "name", "label", "hint", "required", "relevant", "constraint")
YES_NO = (("yn", "yes", "Có"), ("yn", "no", "Không"))


def sheets(
    survey: Rows,
    *,
    survey_head: Sequence[str] = SURVEY_HEAD,
    choices: Rows = YES_NO,
    choices_head: Sequence[str] = ("list_name", "name", "label"),
    settings: Sequence[str] = ("test", "Thử", "1"),
    settings_head: Sequence[str] = ("form_id", "form_title", "version"),
    followups: Rows = (),
    followups_head: Sequence[str] = ("kind", "condition", "priority", "note"),
) -> dict[str, list[list[str]]]:
    """A workbook as sheet -> rows (header first)."""
    book = {
        "survey": [list(survey_head), *map(list, survey)],
        "choices": [list(choices_head), *map(list, choices)],
        "settings": [list(settings_head), list(settings)],
    }
    if followups:
        book["loa_followups"] = [list(followups_head), *map(list, followups)]
    return book


def write_csv(path: Path, book: dict[str, list[list[str]]]) -> Path:
    """The workbook in pyxform's CSV layout (sheet name in the first column)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for name, rows in book.items():
            writer.writerow([name, *rows[0]])
            for row in rows[1:]:
                writer.writerow(["", *row])
    return path


def write_xlsx(path: Path, book: dict[str, list[list[str]]]) -> Path:
    """The workbook as an .xlsx file, one sheet each."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in book.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path
