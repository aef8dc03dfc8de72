"""Reading commune spreadsheets (.xlsx, .csv): rows as text, the header found among title rows."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from messages.render import _
from messages.text import fold
from storage.importers.errors import ImportFileError

HEADER_SEARCH_ROWS = 20
Cell = str | int | float | date | datetime | None
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_SIGNATURE_MARKERS = (
    "nguoi lap bieu",
    "nguoi lap",
    "tm.",
    "tm ",
    "t/m",
    "uy ban nhan dan",
    "ubnd",
    "chu tich",
    "pho chu tich",
    "xac nhan",
    "ky, ghi ro",
    "(ky",
    "ky ten",
    "tong cong",
    "tong so",
    "can bo lao dong",
    "truong thon",
    "thu truong",
    "kt. chu tich",
    "kt chu tich",
)
_SIGNATURE_DATE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")


def header_key(text: str) -> str:
    """A header's matching key: no accents, case, spaces or punctuation ("Mã hộ" -> "maho")."""
    return _NOT_ALNUM.sub("", fold(text))


def is_signature_row(cells: list[Cell]) -> bool:
    """True for the lines that close a list: signatures, totals, "..., ngày ... tháng ... năm"."""
    for cell in cells:
        if isinstance(cell, str) and cell.strip():
            key = fold(cell)
            if key.startswith(_SIGNATURE_MARKERS) or _SIGNATURE_DATE.search(key):
                return True
    return False


def is_blank(cells: list[Cell]) -> bool:
    """True when every cell is empty."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _xlsx_rows(path: Path) -> Iterator[list[Cell]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportFileError(
            _("The file {file} is not an Excel (.xlsx) spreadsheet.").format(file=path.name)
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [None if v is None else v for v in row]
    finally:
        workbook.close()


def _delimiter(sample: str) -> str:
    """The delimiter that splits the widest row (the header) into the most columns."""
    lines = sample.splitlines()[: HEADER_SEARCH_ROWS + 5]
    best, best_width = ",", 0
    for candidate in (",", ";", "\t"):
        try:
            width = max((len(row) for row in csv.reader(lines, delimiter=candidate)), default=0)
        except csv.Error:
            continue
        if width > best_width:
            best, best_width = candidate, width
    return best


def _csv_rows(path: Path) -> Iterator[list[Cell]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            delimiter = _delimiter(handle.read(64 * 1024))
            handle.seek(0)
            yield from csv.reader(handle, delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _('The file {file} is not UTF-8 text; save it from Excel as "CSV UTF-8".').format(
                file=path.name
            )
        ) from exc


def read_rows(path: Path) -> Iterator[list[Cell]]:
    """Every row of the first sheet, as cells; a clear error for a missing or foreign file."""
    if not path.is_file():
        raise ImportFileError(_("The file {file} does not exist.").format(file=path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise ImportFileError(
        _("The file {file} is not a spreadsheet: use .xlsx or .csv.").format(file=path.name)
    )


@dataclass(frozen=True, slots=True)
class Header:
    """Where the header is and which field each column holds."""

    row_number: int
    columns: dict[int, str]  # column index -> field name
    titles: dict[str, str]  # field name -> the title as written
    ignored: list[str]


def find_header(
    rows: Iterator[list[Cell]],
    *,
    path: Path,
    aliases: Mapping[str, str],
    required: list[set[str]],
    required_titles: str,
) -> tuple[Header, Iterator[list[Cell]]]:
    """Find the header among the first 20 rows; aliases map header keys to field names.

    `required` lists groups of fields; each group needs at least one of its fields present.
    """
    seen_any = False
    for number in range(1, HEADER_SEARCH_ROWS + 1):
        cells = next(rows, None)
        if cells is None:
            break
        seen_any = seen_any or not is_blank(cells)
        columns: dict[int, str] = {}
        titles: dict[str, str] = {}
        ignored: list[str] = []
        for index, cell in enumerate(cells):
            if cell is None or not str(cell).strip():
                continue
            field = aliases.get(header_key(str(cell)))
            if field and field not in titles:
                columns[index] = field
                titles[field] = str(cell).strip()
            else:
                ignored.append(str(cell).strip())
        if all(group & titles.keys() for group in required):
            return Header(number, columns, titles, ignored), rows
    if not seen_any:
        raise ImportFileError(_("The file {file} is empty.").format(file=path.name))
    raise ImportFileError(
        _(
            "No header row found in the first {n} rows of {file}: it needs the columns {columns}."
        ).format(n=HEADER_SEARCH_ROWS, file=path.name, columns=required_titles)
    )
