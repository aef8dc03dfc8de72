"""Reading and checking the rows of a household list; nothing here writes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from messages.phones import InvalidPhone, normalize_phone, split_phones
from messages.render import _
from messages.text import fold
from storage.importers import cells
from storage.importers.errors import Problem
from storage.importers.places import CommuneIndex
from storage.importers.report import ImportReport
from storage.importers.sheets import Cell, find_header, header_key, is_blank, is_signature_row
from storage.vocab import category_code, deprivation_code

# field -> the title the issue and the communes use; more spellings in _EXTRA_TITLES
TITLES = {
    "code": "Mã hộ",
    "head_name": "Họ và tên chủ hộ",
    "commune_code": "Mã xã",
    "commune_name": "Xã",
    "village": "Thôn",
    "category": "Phân loại",
    "recognized_on": "Ngày công nhận",
    "phones": "Số điện thoại",
    "ethnicity": "Dân tộc",
    "woman_head": "Nữ chủ hộ",
    "group_no": "Nhóm hộ",
    "members": "Số nhân khẩu",
    "deprivations": "Thiếu hụt",
    "note": "Ghi chú",
}
_EXTRA_TITLES = {
    "code": ["Mã số hộ", "Mã hộ gia đình"],
    "head_name": ["Họ tên chủ hộ", "Tên chủ hộ", "Chủ hộ"],
    "commune_name": ["Tên xã", "Xã/phường", "Xã, phường"],
    "village": ["Thôn/ấp", "Ấp", "Thôn, ấp", "Thôn, ấp, bản", "Thôn/bản", "Buôn"],
    "category": ["Loại hộ"],
    "phones": ["SĐT", "Điện thoại"],
    "woman_head": ["Chủ hộ là nữ"],
    "group_no": ["Nhóm"],
    "members": ["Nhân khẩu"],
    "deprivations": ["Chỉ số thiếu hụt"],
    "stt": ["STT", "TT", "Số TT"],
}
ALIASES = {header_key(t): f for f, t in TITLES.items()} | {
    header_key(t): f for f, titles in _EXTRA_TITLES.items() for t in titles
}
REQUIRED = [{"code"}, {"head_name"}, {"commune_code", "commune_name"}, {"category"}]
_NOT_MINORITY = {"", "kinh"}
T = TypeVar("T")


@dataclass(slots=True)
class HouseholdRow:
    """One checked line of the list, ready to store."""

    row: int
    code: str
    head_name: str
    commune_code: str
    village: str
    category: str
    recognized_on: date | None
    ethnicity: str | None
    ethnic_minority: bool
    woman_head: bool
    group_no: int | None
    members: int | None
    deprivations: tuple[str, ...]
    note: str | None
    phones: tuple[str, ...]


class RowChecker:
    """Checks one row's cells; problems go to the report, a bad row yields None."""

    def __init__(self, communes: CommuneIndex, report: ImportReport, today: date) -> None:
        self.communes = communes
        self.report = report
        self.today = today

    def _reject(self, row: int, field: str, value: Cell, reason: str) -> None:
        self.report.rejects.append(Problem(row, TITLES[field], cells.text(value), reason))

    def _get(
        self, row: int, values: dict[str, Cell], field: str, parse: Callable[[Cell], T]
    ) -> T | None:
        try:
            return parse(values.get(field))
        except cells.CellError as exc:
            self._reject(row, field, values.get(field), str(exc))
            return None

    def _required(
        self, row: int, values: dict[str, Cell], field: str, parse: Callable[[Cell], str]
    ) -> str | None:
        value = self._get(row, values, field, parse)
        if value == "":
            self._reject(row, field, "", _("This column is required."))
            return None
        return value

    def _commune(self, row: int, values: dict[str, Cell]) -> str | None:
        code, name = cells.text(values.get("commune_code")), cells.text(values.get("commune_name"))
        field = "commune_code" if code else "commune_name"
        if not code and not name:
            self._reject(row, field, "", _("This column is required."))
            return None
        lookup = self.communes.by_code if code else self.communes.by_name
        return self._get(row, values, field, lambda _c: lookup(code or name))

    def _category(self, cell: Cell) -> str:
        value = cells.text(cell)
        if not value:
            return ""
        found = category_code(value)
        if found is None:
            raise cells.CellError(
                _("Use one of: Nghèo, Cận nghèo, Mới thoát nghèo, Thoát cận nghèo, Khác.")
            )
        return found

    def _deprivations(self, cell: Cell) -> tuple[str, ...]:
        found: set[str] = set()
        for piece in cells.text(cell).replace(";", ",").split(","):
            if piece.strip():
                code = deprivation_code(piece)
                if code is None:
                    raise cells.CellError(
                        _("Unknown deprivation indicator: {value}.").format(value=piece.strip())
                    )
                found.add(code)
        return tuple(sorted(found))

    def _phones(self, row: int, cell: Cell) -> tuple[str, ...]:
        raw = cells.lines_text(cell)
        if isinstance(cell, (int, float)) and len(raw) == 9:  # Excel dropped the leading 0
            raw = "0" + raw
        phones: list[str] = []
        for piece in split_phones(raw):
            try:
                phone = normalize_phone(piece)
            except InvalidPhone:
                self.report.dropped.append(
                    Problem(
                        row,
                        TITLES["phones"],
                        piece,
                        _(
                            "Not a valid phone number; the number was dropped, "
                            "the household imported."
                        ),
                    )
                )
                continue
            if phone not in phones:
                phones.append(phone)
        return tuple(phones)

    def check(self, row: int, values: dict[str, Cell]) -> HouseholdRow | None:
        """The row as a household, or None when any value was rejected."""
        before = len(self.report.rejects)
        code = self._required(row, values, "code", cells.text)
        head = self._required(row, values, "head_name", cells.name_text)
        commune = self._commune(row, values)
        category = self._required(row, values, "category", self._category)
        village = self._get(row, values, "village", cells.name_text) or ""
        recognized = self._get(
            row, values, "recognized_on", lambda c: cells.day(c, today=self.today)
        )
        woman = self._get(row, values, "woman_head", cells.flag)
        group = self._get(row, values, "group_no", lambda c: cells.whole(c, low=1, high=3))
        members = self._get(row, values, "members", lambda c: cells.whole(c, low=1, high=99))
        deprivations = self._get(row, values, "deprivations", self._deprivations)
        ethnicity = self._get(row, values, "ethnicity", cells.name_text) or ""
        if len(self.report.rejects) > before or not (code and head and commune and category):
            return None
        return HouseholdRow(
            row=row,
            code=code,
            head_name=head,
            commune_code=commune,
            village=sys.intern(village),
            category=category,
            recognized_on=recognized,
            ethnicity=sys.intern(ethnicity) if ethnicity else None,
            ethnic_minority=fold(ethnicity) not in _NOT_MINORITY,
            woman_head=bool(woman),
            group_no=group,
            members=members,
            deprivations=deprivations or (),
            note=cells.text(values.get("note")) or None,
            phones=self._phones(row, values.get("phones")),
        )


def read_household_rows(
    path: Path,
    checker: RowChecker,
    rows: Iterator[list[Cell]],
    progress: Callable[[int], None] | None = None,
) -> list[HouseholdRow]:
    """Check every data row below the header; duplicates of Mã hộ reject both rows."""
    report = checker.report
    header, rows = find_header(
        rows,
        path=path,
        aliases=ALIASES,
        required=REQUIRED,
        required_titles="Mã hộ, Họ và tên chủ hộ, Mã xã (hoặc Xã), Phân loại",
    )
    report.ignored_columns = [t for t in header.ignored if header_key(t) not in ALIASES]
    good: list[HouseholdRow] = []
    first_seen: dict[str, int] = {}
    duplicates: set[str] = set()
    for number, raw in enumerate(rows, start=header.row_number + 1):
        if progress and number % 1000 == 0:
            progress(number)
        values = {field: raw[i] for i, field in header.columns.items() if i < len(raw)}
        # A row with a code, a name and a category is data; only others can be the
        # blank lines and signature block that close a list.
        looks_like_data = all(values.get(f) for f in ("code", "head_name", "category"))
        if not looks_like_data and (is_blank(raw) or is_signature_row(raw)):
            continue
        household = checker.check(number, values)
        code = cells.text(values.get("code"))
        if code in first_seen:
            duplicates.add(code)
            reason = _("Mã hộ {code} appears more than once in the file (row {first}).").format(
                code=code, first=first_seen[code]
            )
            report.rejects.append(Problem(number, TITLES["code"], code, reason))
        elif code:
            first_seen[code] = number
        if household is not None:
            good.append(household)
    return _drop_duplicates(good, duplicates, first_seen, report)


def _drop_duplicates(
    good: list[HouseholdRow], duplicates: set[str], first_seen: dict[str, int], report: ImportReport
) -> list[HouseholdRow]:
    for code in sorted(duplicates):
        reason = _("Mã hộ {code} appears more than once in the file.").format(code=code)
        report.rejects.append(Problem(first_seen[code], TITLES["code"], code, reason))
    return [h for h in good if h.code not in duplicates]
