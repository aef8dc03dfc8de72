"""Reading and checking VBSP loan schedules and repayment lists; nothing here writes.

A loan list has one row per instalment: the household, the programme, the loan (amount,
disbursement day, savings-and-loan group) and what falls due on one day (principal, interest).
A repayment list has one row per payment: which instalment (household, programme, due day),
when it was paid and how much.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from messages.phones import InvalidPhone, normalize_phone, split_phones
from messages.render import _, number
from messages.text import fold
from storage.importers import cells
from storage.importers.errors import Problem
from storage.importers.report import ImportReport
from storage.importers.sheets import Cell, find_header, header_key, is_blank, is_signature_row
from storage.vocab import LOAN_PROGRAMME_NAMES, programme_code

T = TypeVar("T")
TEXT_LIMIT = 200  # Loan.group_name, Commune.transaction_place

# field -> the title VBSP's lists use; more spellings in _LOAN_EXTRA / _REPAYMENT_EXTRA
LOAN_TITLES = {
    "household": "Mã hộ",
    "programme": "Chương trình",
    "amount": "Số tiền vay",
    "disbursed_on": "Ngày giải ngân",
    "due_on": "Ngày đến hạn",
    "principal": "Số tiền gốc",
    "interest": "Số tiền lãi",
    "group_name": "Tổ TK&VV",
    "group_head_phone": "SĐT tổ trưởng",
}
REPAYMENT_TITLES = {
    "household": "Mã hộ",
    "programme": "Chương trình",
    "due_on": "Ngày đến hạn",
    "paid_on": "Ngày trả",
    "amount": "Số tiền",
}
_COMMON_EXTRA = {
    "household": ["Mã số hộ", "Mã hộ gia đình", "Mã hộ vay"],
    "programme": ["Chương trình cho vay", "Chương trình vay", "Chương trình tín dụng"],
    "due_on": ["Ngày đến hạn trả", "Hạn trả", "Ngày hạn trả", "Kỳ hạn trả"],
    # read so that they are not reported as unused; never checked
    "stt": ["STT", "TT", "Số TT"],
    "head_name": ["Họ và tên chủ hộ", "Họ tên chủ hộ", "Tên chủ hộ", "Chủ hộ", "Họ và tên"],
    "village": ["Thôn", "Ấp", "Thôn/ấp", "Thôn, ấp"],
}
_LOAN_EXTRA = {
    "amount": ["Số tiền cho vay", "Số tiền giải ngân", "Số tiền vay (đồng)"],
    "disbursed_on": ["Ngày vay", "Ngày cho vay"],
    "principal": ["Gốc", "Gốc phải trả", "Số tiền gốc phải trả", "Nợ gốc"],
    "interest": ["Lãi", "Lãi phải trả", "Số tiền lãi phải trả", "Tiền lãi"],
    "group_name": [
        "Tổ TK và VV",
        "Tổ TKVV",
        "Tổ tiết kiệm và vay vốn",
        "Tổ tiết kiệm vay vốn",
        "Tên tổ TK&VV",
    ],
    "group_head_phone": [
        "Số điện thoại tổ trưởng",
        "ĐT tổ trưởng",
        "SĐT tổ trưởng tổ TK&VV",
        "Điện thoại tổ trưởng",
    ],
}
_REPAYMENT_EXTRA = {
    "paid_on": ["Ngày trả nợ", "Ngày thu", "Ngày nộp", "Ngày thanh toán"],
    "amount": ["Số tiền trả", "Số tiền đã trả", "Số tiền thu", "Số tiền nộp"],
}
_INFORMATIONAL = {"stt", "head_name", "village"}


def _aliases(titles: Mapping[str, str], *extras: Mapping[str, list[str]]) -> dict[str, str]:
    aliases = {header_key(title): name for name, title in titles.items()}
    for extra in extras:
        aliases |= {header_key(t): name for name, spellings in extra.items() for t in spellings}
    return aliases


LOAN_ALIASES = _aliases(LOAN_TITLES, _COMMON_EXTRA, _LOAN_EXTRA)
REPAYMENT_ALIASES = _aliases(REPAYMENT_TITLES, _COMMON_EXTRA, _REPAYMENT_EXTRA)
LOAN_REQUIRED = [
    "household",
    "programme",
    "amount",
    "disbursed_on",
    "due_on",
    "principal",
    "interest",
]
REPAYMENT_REQUIRED = ["household", "programme", "due_on", "paid_on", "amount"]

_GROUPED = re.compile(r"^\d{1,3}([.,])\d{3}(?:\1\d{3})*$")  # 1.500.000 or 1,500,000
_DECIMAL_ZEROS = re.compile(r"[.,]0{1,2}$")  # 1500000.00, 1.500.000,00
_SEPARATORS = re.compile(r"[.,]")
_CURRENCY = ("vnd", "dong", "d", "₫")
_SPACE = re.compile(r"\s+")
_MEMO_LIMIT = 200_000


def _amount_hint() -> str:
    """How to write an amount (translated when needed, not at import)."""
    return _("Write the amount in đồng as a whole number, for example 1.500.000.")


def money(cell: Cell, *, positive: bool) -> int | None:
    """Đồng as lists write them: 1.500.000, 1,500,000, 1500000, a number cell; None if empty."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise cells.CellError(_amount_hint())
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        if not cell.is_integer():
            raise cells.CellError(_("The amount must be whole đồng, without decimals."))
        value = int(cell)
    else:
        raw = _SPACE.sub("", cells.text(cell))
        if not raw:
            return None
        key = fold(raw)
        for unit in _CURRENCY:
            if key.endswith(unit) and key[: -len(unit)][-1:].isdigit():
                raw = raw[: -len(unit)]
                break
        negative = raw.startswith("-")
        raw = _DECIMAL_ZEROS.sub("", raw.removeprefix("-"))
        if raw.isdigit():
            value = int(raw)
        elif _GROUPED.match(raw):
            value = int(_SEPARATORS.sub("", raw))
        else:
            raise cells.CellError(_amount_hint())
        value = -value if negative else value
    if value < 0:
        raise cells.CellError(_("The amount cannot be negative."))
    if positive and value == 0:
        raise cells.CellError(_("The amount must be more than 0."))
    return value


class _Failure(str):
    """A remembered CellError message."""


class Memo(Generic[T]):
    """A cell parser that remembers its answers: lists repeat the same days, names and phones."""

    def __init__(self, parse: Callable[[Cell], T]) -> None:
        self.parse = parse
        self.seen: dict[Hashable, T | _Failure] = {}

    def __call__(self, cell: Cell) -> T:
        try:
            hit = self.seen[cell]
        except KeyError:
            try:
                hit = self.parse(cell)
            except cells.CellError as exc:
                hit = _Failure(str(exc))
            if len(self.seen) < _MEMO_LIMIT:
                self.seen[cell] = hit
        if isinstance(hit, _Failure):
            raise cells.CellError(str(hit))
        return hit


def _programme(cell: Cell) -> str:
    value = cells.text(cell)
    if not value:
        return ""
    found = programme_code(value)
    if found is None:
        raise cells.CellError(
            _("Unknown loan programme; use one of: {names}.").format(
                names=", ".join(LOAN_PROGRAMME_NAMES.values())
            )
        )
    return found


def _phone(cell: Cell) -> str | None:
    raw = cells.lines_text(cell)
    if isinstance(cell, (int, float)) and len(raw) == 9:  # Excel dropped the leading 0
        raw = "0" + raw
    numbers: list[str] = []
    for piece in split_phones(raw):
        try:
            numbers.append(normalize_phone(piece))
        except InvalidPhone as exc:
            raise cells.CellError(
                _("{value} is not a valid phone number.").format(value=piece)
            ) from exc
    return numbers[0] if numbers else None


def _short_text(cell: Cell) -> str | None:
    value = cells.text(cell)
    if len(value) > TEXT_LIMIT:
        raise cells.CellError(_("This text is longer than {n} characters.").format(n=TEXT_LIMIT))
    return sys.intern(value) if value else None


class _Loan(NamedTuple):
    """The cells every instalment row of a loan repeats, checked."""

    household: str
    programme: str
    amount: int
    disbursed_on: date
    group_name: str | None
    group_head_phone: str | None


_loan_cells = itemgetter(
    "household", "programme", "amount", "disbursed_on", "group_name", "group_head_phone"
)


@dataclass(slots=True)
class LoanRow:
    """One checked instalment line of a loan list."""

    row: int
    household: str
    programme: str
    amount: int
    disbursed_on: date
    group_name: str | None
    group_head_phone: str | None
    due_on: date
    principal: int
    interest: int

    @property
    def loan_key(self) -> tuple[str, str, date]:
        """Which loan the row belongs to."""
        return (self.household, self.programme, self.disbursed_on)


@dataclass(slots=True)
class RepaymentRow:
    """One checked payment line."""

    row: int
    household: str
    programme: str
    due_on: date
    paid_on: date
    amount: int


class _Checker:
    """What both checkers share: typed cells, one Problem per rejected value."""

    titles: Mapping[str, str]

    def __init__(self, report: ImportReport, today: date) -> None:
        self.report = report
        self.today = today
        self.present: frozenset[str] = frozenset()  # the fields the file has a column for
        self.programme = Memo(_programme)
        self.past_day = Memo(lambda c: cells.day(c, today=today))
        self.any_day = Memo(lambda c: cells.day(c, today=date.max))
        self.positive = Memo(lambda c: money(c, positive=True))
        self.amount = Memo(lambda c: money(c, positive=False))

    def reject(self, row: int, field: str, value: Cell, reason: str) -> None:
        """Refuse the row for this value."""
        self.report.rejects.append(Problem(row, self.titles[field], cells.text(value), reason))

    def get(
        self, row: int, values: dict[str, Cell], field: str, parse: Callable[[Cell], T]
    ) -> T | None:
        """The parsed cell, or None (and a rejection) when it does not fit."""
        cell = values.get(field)
        try:
            return parse(cell)
        except cells.CellError as exc:
            self.reject(row, field, cell, str(exc))
            return None

    def required(
        self, row: int, values: dict[str, Cell], field: str, parse: Callable[[Cell], T | None]
    ) -> T | None:
        """Like get(), and an empty cell is refused (the parsers give None or "" for one)."""
        cell = values.get(field)
        try:
            value = parse(cell)
        except cells.CellError as exc:
            self.reject(row, field, cell, str(exc))
            return None
        if value is None or value == "":
            self.reject(row, field, "", _("This column is required."))
            return None
        return value


class LoanRowChecker(_Checker):
    """Checks one instalment row; problems go to the report, a bad row yields None."""

    titles = LOAN_TITLES

    def __init__(self, report: ImportReport, today: date) -> None:
        super().__init__(report, today)
        self.phone = Memo(_phone)
        self.text = Memo(_short_text)
        # The loan's cells repeat on each of its instalment rows: checked once per loan.
        self.loans: dict[tuple[Cell, ...], _Loan] = {}

    def _loan(self, row: int, values: dict[str, Cell]) -> _Loan | None:
        """The loan's own cells, checked (and remembered when good)."""
        raw = _loan_cells(values)
        known = self.loans.get(raw)
        if known is not None:
            return known
        before = len(self.report.rejects)
        household = self.required(row, values, "household", cells.text)
        programme = self.required(row, values, "programme", self.programme)
        amount = self.required(row, values, "amount", self.positive)
        disbursed = self.required(row, values, "disbursed_on", self.past_day)
        group = self.get(row, values, "group_name", self.text)
        phone = self.get(row, values, "group_head_phone", self.phone)
        if len(self.report.rejects) > before:
            return None
        if not (household and programme and amount and disbursed):
            return None
        loan = _Loan(sys.intern(household), programme, amount, disbursed, group, phone)
        if len(self.loans) < _MEMO_LIMIT:
            self.loans[raw] = loan
        return loan

    def check(self, row: int, values: dict[str, Cell]) -> LoanRow | None:
        """The row as an instalment of a loan, or None when any value was rejected."""
        before = len(self.report.rejects)
        loan = self._loan(row, values)
        due = self.required(row, values, "due_on", self.any_day)
        principal = self.required(row, values, "principal", self.amount)
        interest = self.required(row, values, "interest", self.amount)
        if loan is not None and due is not None and due <= loan.disbursed_on:
            self.reject(
                row,
                "due_on",
                values.get("due_on"),
                _("The due date must come after the disbursement date ({day}).").format(
                    day=f"{loan.disbursed_on:%d/%m/%Y}"
                ),
            )
        if principal == 0 and interest == 0:
            self.reject(
                row, "principal", values.get("principal"), _("Principal and interest are both 0.")
            )
        if len(self.report.rejects) > before or loan is None or due is None:
            return None
        if principal is None or interest is None:
            return None
        return LoanRow(row, *loan, due_on=due, principal=principal, interest=interest)


class RepaymentRowChecker(_Checker):
    """Checks one payment row; problems go to the report, a bad row yields None."""

    titles = REPAYMENT_TITLES

    def check(self, row: int, values: dict[str, Cell]) -> RepaymentRow | None:
        """The row as a payment, or None when any value was rejected."""
        before = len(self.report.rejects)
        household = self.required(row, values, "household", cells.text)
        programme = self.required(row, values, "programme", self.programme)
        due = self.required(row, values, "due_on", self.any_day)
        paid = self.required(row, values, "paid_on", self.past_day)
        amount = self.required(row, values, "amount", self.positive)
        if len(self.report.rejects) > before:
            return None
        if not (household and programme and due and paid and amount):
            return None
        return RepaymentRow(row, sys.intern(household), programme, due, paid, amount)


def _data_rows(
    path: Path,
    rows: Iterator[list[Cell]],
    checker: _Checker,
    *,
    aliases: Mapping[str, str],
    titles: Mapping[str, str],
    required: list[str],
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[int, dict[str, Cell]]]:
    """The numbered data rows below the header, as field -> cell; titles and signatures skipped."""
    header, rows = find_header(
        rows,
        path=path,
        aliases=aliases,
        required=[{field} for field in required],
        required_titles=", ".join(titles[field] for field in required),
    )
    checker.report.ignored_columns = [t for t in header.ignored if header_key(t) not in aliases]
    checker.present = frozenset(header.titles)
    columns = [(i, f) for i, f in header.columns.items() if f not in _INFORMATIONAL]
    absent: dict[str, Cell] = {f: None for f in titles if f not in header.titles}
    width = max(header.columns, default=0) + 1
    for at, raw in enumerate(rows, start=header.row_number + 1):
        if progress and at % 1000 == 0:
            progress(at)
        if len(raw) < width:
            raw = [*raw, *([None] * (width - len(raw)))]
        values = {field: raw[i] for i, field in columns}
        if absent:
            values.update(absent)  # every field is there, None when empty
        # A row with a household, a programme and a due day is data; only others can be the
        # blank lines and signature block that close a list.
        looks_like_data = (
            values.get("household") and values.get("programme") and values.get("due_on")
        )
        if not looks_like_data and (is_blank(raw) or is_signature_row(raw)):
            continue
        yield at, values


def read_loan_rows(
    path: Path,
    checker: LoanRowChecker,
    rows: Iterator[list[Cell]],
    progress: Callable[[int], None] | None = None,
) -> list[LoanRow]:
    """Check every instalment row; a repeated instalment rejects all its rows, and a later row
    of a loan that disagrees with the loan's first row (amount, group, group head) is rejected."""
    report = checker.report
    good: list[LoanRow] = []
    first_seen: dict[tuple[str, str, date, date], int] = {}
    duplicates: set[tuple[str, str, date, date]] = set()
    loans: dict[tuple[str, str, date], LoanRow] = {}
    data = _data_rows(
        path,
        rows,
        checker,
        aliases=LOAN_ALIASES,
        titles=LOAN_TITLES,
        required=LOAN_REQUIRED,
        progress=progress,
    )
    for at, values in data:
        line = checker.check(at, values)
        if line is None:
            continue
        loan_key = line.loan_key
        key = (*loan_key, line.due_on)
        if key in first_seen:
            duplicates.add(key)
            reason = _(
                "This instalment (same household, programme, disbursement and due date) "
                "is already on row {first}."
            ).format(first=first_seen[key])
            checker.reject(at, "due_on", values.get("due_on"), reason)
            continue
        first_seen[key] = at
        loan = loans.setdefault(loan_key, line)
        if loan is not line and not _agrees(checker, loan, line, values):
            continue
        good.append(line)
    for key in sorted(duplicates):
        reason = _("This instalment appears more than once in the file.")
        report.rejects.append(
            Problem(first_seen[key], LOAN_TITLES["due_on"], f"{key[3]:%d/%m/%Y}", reason)
        )
    return [line for line in good if (*line.loan_key, line.due_on) not in duplicates]


def _agrees(checker: LoanRowChecker, loan: LoanRow, line: LoanRow, values: dict[str, Cell]) -> bool:
    """Whether a later row of a loan says the same as its first row; a rejection if not."""
    if (line.amount, line.group_name, line.group_head_phone) == (
        loan.amount,
        loan.group_name,
        loan.group_head_phone,
    ):
        return True
    before = len(checker.report.rejects)
    if line.amount != loan.amount:
        checker.reject(
            line.row,
            "amount",
            values.get("amount"),
            _("Row {first} gives this loan the amount {amount}.").format(
                first=loan.row, amount=number(loan.amount)
            ),
        )
    fills: dict[str, str] = {}
    for field in ("group_name", "group_head_phone"):
        mine, theirs = getattr(line, field), getattr(loan, field)
        if mine and theirs and fold(mine) != fold(theirs):
            checker.reject(
                line.row,
                field,
                values.get(field),
                _("Row {first} of the same loan says {value}.").format(
                    first=loan.row, value=theirs
                ),
            )
        elif mine and not theirs:
            fills[field] = mine
    if len(checker.report.rejects) > before:
        return False
    for field, value in fills.items():  # a later row fills in what the first left empty
        setattr(loan, field, value)
    return True


def read_repayment_rows(
    path: Path,
    checker: RepaymentRowChecker,
    rows: Iterator[list[Cell]],
    progress: Callable[[int], None] | None = None,
) -> list[RepaymentRow]:
    """Check every payment row (which instalment each pays is settled against the store)."""
    data = _data_rows(
        path,
        rows,
        checker,
        aliases=REPAYMENT_ALIASES,
        titles=REPAYMENT_TITLES,
        required=REPAYMENT_REQUIRED,
        progress=progress,
    )
    return [line for at, values in data if (line := checker.check(at, values))]
