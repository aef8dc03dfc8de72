"""The VBSP loan and repayment importers, on SQLite and PostgreSQL, and their commands."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from storage.importers.loans import import_loans, import_repayments
from storage.importers.report import ImportReport
from storage.models import AuditEntry, Household, Instalment, Loan
from storage.vocab import programme_code, programme_label
from tests.conftest import NOW, loa
from tests.storage.sheets import (
    ACTOR,
    HEADER,
    TODAY,
    household,
    load_areas,
    run_import,
    write_sheet,
)

Sessions = async_sessionmaker[AsyncSession]
LOAN_HEADER = [
    "STT",
    "Mã hộ",
    "Họ và tên chủ hộ",
    "Chương trình",
    "Số tiền vay",
    "Ngày giải ngân",
    "Ngày đến hạn",
    "Số tiền gốc",
    "Số tiền lãi",
    "Tổ TK&VV",
    "SĐT tổ trưởng",
]
PAYMENT_HEADER = ["Mã hộ", "Chương trình", "Ngày đến hạn", "Ngày trả", "Số tiền"]
TITLE_ROWS = [
    ["NGÂN HÀNG CHÍNH SÁCH XÃ HỘI - PHÒNG GIAO DỊCH HUYỆN CHÂU THÀNH"],
    ["DANH SÁCH HỘ VAY VỐN VÀ LỊCH TRẢ NỢ"],
    [],
]
SIGNATURES = [[], ["", "Người lập biểu", "", "", "", "", "", "TM. ỦY BAN NHÂN DÂN"]]


def instalment(code: str, due: Any, **fields: Any) -> list[Any]:
    """An instalment row in LOAN_HEADER order; fields override by header title."""
    values: dict[str, Any] = {
        "STT": 1,
        "Mã hộ": code,
        "Họ và tên chủ hộ": "Nguyễn Văn An",
        "Chương trình": "Cho vay hộ nghèo",
        "Số tiền vay": "30.000.000",
        "Ngày giải ngân": "15/01/2026",
        "Ngày đến hạn": due,
        "Số tiền gốc": "2.500.000",
        "Số tiền lãi": "165.000",
        "Tổ TK&VV": "Tổ TK&VV ấp 1",
        "SĐT tổ trưởng": "0912 345 678",
    }
    values.update(fields)
    return [values[title] for title in LOAN_HEADER]


def payment(code: str, due: Any, paid: Any, amount: Any, programme: str = "Hộ nghèo") -> list[Any]:
    """A repayment row in PAYMENT_HEADER order."""
    return [code, programme, due, paid, amount]


GOOD = [
    instalment("H1", "15/02/2026"),
    instalment("H1", "15/03/2026"),
    instalment("H1", date(2026, 4, 15), **{"Số tiền gốc": 25_000_000, "Số tiền lãi": 0}),
    instalment(
        "H2",
        "2026-06-10",
        **{
            "Chương trình": "GQVL",
            "Số tiền vay": "50,000,000",
            "Ngày giải ngân": date(2025, 12, 10),
            "Số tiền gốc": 50_000_000.0,
            "Số tiền lãi": "1 650 000",
            "Tổ TK&VV": "",
            "SĐT tổ trưởng": "",
        },
    ),
]


@pytest.fixture
async def register(sessions: Sessions, tmp_path: Path, clock: FixedClock) -> None:
    """Areas and three households: H1, H2, H3."""
    await load_areas(sessions, tmp_path, clock)
    rows = [HEADER, household("H1"), household("H2", "Trần Thị Bình"), household("H3")]
    report = await run_import(sessions, write_sheet(tmp_path / "ho.csv", rows), clock)
    assert report.applied, report.rejects


async def loans(sessions: Sessions, path: Path, clock: FixedClock, **options: Any) -> ImportReport:
    async with sessions() as session:
        return await import_loans(
            session, path, actor=ACTOR, now=clock.now(), today=TODAY, **options
        )


async def repayments(
    sessions: Sessions, path: Path, clock: FixedClock, **options: Any
) -> ImportReport:
    async with sessions() as session:
        return await import_repayments(
            session, path, actor=ACTOR, now=clock.now(), today=TODAY, **options
        )


def loan_sheet(tmp: Path, rows: Sequence[Sequence[Any]], name: str = "vay.csv") -> Path:
    return write_sheet(tmp / name, [LOAN_HEADER, *rows])


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def schedule(sessions: Sessions) -> dict[tuple[str, str, date], list[tuple[Any, ...]]]:
    """Every stored loan with its instalments: (due, principal, interest, paid_on, paid)."""
    query = (
        select(
            Household.code,
            Loan.programme,
            Loan.disbursed_on,
            Instalment.due_on,
            Instalment.principal,
            Instalment.interest,
            Instalment.paid_on,
            Instalment.paid_amount,
        )
        .join(Loan, Loan.household_id == Household.id)
        .join(Instalment, Instalment.loan_id == Loan.id)
        .order_by(Household.code, Loan.disbursed_on, Instalment.due_on)
    )
    found: dict[tuple[str, str, date], list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for code, programme, disbursed, *rest in await session.execute(query):
            found.setdefault((code, programme, disbursed), []).append(tuple(rest))
    return found


def problems(report: ImportReport) -> set[tuple[int, str]]:
    return {(p.row, p.column) for p in report.rejects}


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Cho vay hộ nghèo", "ho_ngheo"),
        ("HỘ NGHÈO", "ho_ngheo"),
        ("Chương trình cho vay hộ cận nghèo", "can_ngheo"),
        ("Hộ mới thoát nghèo", "moi_thoat_ngheo"),
        ("Giải quyết việc làm", "giai_quyet_viec_lam"),
        ("GQVL", "giai_quyet_viec_lam"),
        ("Cho vay hỗ trợ tạo việc làm, duy trì và mở rộng việc làm", "giai_quyet_viec_lam"),
        ("Nước sạch và vệ sinh môi trường nông thôn", "nuoc_sach"),
        ("NS&VSMT", "nuoc_sach"),
        ("SXKD vùng KK", "sxkd_vung_kk"),
        ("Học sinh sinh viên", "hssv"),
        ("HSSV", "hssv"),
        ("Nhà ở xã hội", "nha_o"),
        ("nhà ở", "nha_o"),
        ("Khác", "khac"),
        ("ho_ngheo", "ho_ngheo"),
        ("Vay mua xe máy", None),
        ("Cho vay", None),
        ("", None),
    ],
)
def test_programme_spellings(written: str, code: str | None) -> None:
    assert programme_code(written) == code
    if code:
        assert programme_code(programme_label(code)) == code
    assert programme_label("gold") == "gold"


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_a_good_file_with_title_rows_and_signatures(
    sessions: Sessions, tmp_path: Path, clock: FixedClock, suffix: str
) -> None:
    rows = [*TITLE_ROWS, LOAN_HEADER, *GOOD, *SIGNATURES]
    report = await loans(sessions, write_sheet(tmp_path / f"vay{suffix}", rows), clock)
    assert report.applied, report.rejects
    assert report.rejects == []
    assert report.ignored_columns == []
    assert (report.counts["rows"], report.counts["loans_created"]) == (4, 2)
    assert report.counts["instalments_created"] == 4
    assert await schedule(sessions) == {
        ("H1", "ho_ngheo", date(2026, 1, 15)): [
            (date(2026, 2, 15), 2_500_000, 165_000, None, None),
            (date(2026, 3, 15), 2_500_000, 165_000, None, None),
            (date(2026, 4, 15), 25_000_000, 0, None, None),
        ],
        ("H2", "giai_quyet_viec_lam", date(2025, 12, 10)): [
            (date(2026, 6, 10), 50_000_000, 1_650_000, None, None)
        ],
    }
    async with sessions() as session:
        stored = {loan.programme: loan for loan in (await session.scalars(select(Loan))).all()}
        audited = (
            await session.scalars(
                select(AuditEntry.entity_key).where(
                    AuditEntry.entity == "loans", AuditEntry.action == "create"
                )
            )
        ).all()
    poor = stored["ho_ngheo"]
    assert (poor.amount, poor.group_name, poor.group_head_phone) == (
        30_000_000,
        "Tổ TK&VV ấp 1",
        "+84912345678",
    )
    assert poor.source_name == f"vay{suffix}"
    jobs = stored["giai_quyet_viec_lam"]
    assert (jobs.amount, jobs.group_name, jobs.group_head_phone) == (50_000_000, None, None)
    assert sorted(audited) == ["H1/ho_ngheo/2026-01-15", "H2/giai_quyet_viec_lam/2025-12-10"]


@pytest.mark.usefixtures("register")
async def test_reimport_updates_loans_and_instalments_and_keeps_payments(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    path = loan_sheet(tmp_path, GOOD)
    await loans(sessions, path, clock)
    async with sessions() as session:
        await session.execute(
            update(Instalment)
            .where(Instalment.due_on == date(2026, 2, 15))
            .values(paid_on=date(2026, 2, 14), paid_amount=2_665_000)
        )
        await session.commit()
    changed = {"Số tiền vay": "32.000.000", "Tổ TK&VV": "Tổ TK&VV ấp 2"}
    rows = [
        instalment("H1", "15/02/2026", **changed, **{"Số tiền gốc": "2.000.000"}),
        instalment("H1", "15/03/2026", **changed),
        # 15/04/2026 is no longer listed: it stays
        instalment("H1", "15/05/2026", **changed),
        GOOD[3],
    ]
    report = await loans(sessions, loan_sheet(tmp_path, rows), clock)
    assert report.applied, report.rejects
    names = ("loans_created", "loans_updated", "loans_unchanged")
    assert [report.counts[name] for name in names] == [0, 1, 1]
    names = ("instalments_created", "instalments_updated", "instalments_unchanged")
    assert [report.counts[name] for name in names] == [1, 1, 2]
    stored = await schedule(sessions)
    assert stored[("H1", "ho_ngheo", date(2026, 1, 15))] == [
        (date(2026, 2, 15), 2_000_000, 165_000, date(2026, 2, 14), 2_665_000),
        (date(2026, 3, 15), 2_500_000, 165_000, None, None),
        (date(2026, 4, 15), 25_000_000, 0, None, None),
        (date(2026, 5, 15), 2_500_000, 165_000, None, None),
    ]
    async with sessions() as session:
        loan = await session.scalar(select(Loan).where(Loan.programme == "ho_ngheo"))
        audits = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "loans", AuditEntry.action == "update"
                )
            )
        ).all()
    assert loan is not None
    assert (loan.amount, loan.group_name) == (32_000_000, "Tổ TK&VV ấp 2")
    assert len(audits) == 1
    assert audits[0].entity_key == "H1/ho_ngheo/2026-01-15"
    assert audits[0].changes == {
        "amount": [30_000_000, 32_000_000],
        "group_name": ["Tổ TK&VV ấp 1", "Tổ TK&VV ấp 2"],
        "instalment 2026-02-15": [[2_500_000, 165_000], [2_000_000, 165_000]],
        "instalment 2026-05-15": [None, [2_500_000, 165_000]],
    }
    # The same file again: nothing changes.
    report = await loans(sessions, loan_sheet(tmp_path, rows), clock)
    assert report.counts["loans_unchanged"] == 2
    assert report.counts["instalments_unchanged"] == 4
    assert report.counts["loans_updated"] == report.counts["instalments_updated"] == 0


@pytest.mark.usefixtures("register")
async def test_a_file_without_the_group_columns_leaves_the_group_alone(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    await loans(sessions, loan_sheet(tmp_path, GOOD[:1]), clock)
    header = [
        "Mã hộ",
        "Chương trình cho vay",
        "Số tiền cho vay",
        "Ngày vay",
        "Hạn trả",
        "Gốc",
        "Lãi",
    ]
    row = ["H1", "HN", 30_000_000, "15/01/2026", "15/02/2026", 2_500_000, 165_000]
    report = await loans(sessions, write_sheet(tmp_path / "b.csv", [header, row]), clock)
    assert report.applied, report.rejects
    assert report.counts["loans_unchanged"] == 1
    async with sessions() as session:
        loan = await session.scalar(select(Loan))
    assert loan is not None
    assert (loan.group_name, loan.group_head_phone) == ("Tổ TK&VV ấp 1", "+84912345678")
    # With the columns, empty cells clear them.
    rows = [LOAN_HEADER, instalment("H1", "15/02/2026", **{"Tổ TK&VV": "", "SĐT tổ trưởng": ""})]
    report = await loans(sessions, write_sheet(tmp_path / "c.csv", rows), clock)
    assert report.counts["loans_updated"] == 1
    async with sessions() as session:
        loan = await session.scalar(select(Loan))
    assert loan is not None
    assert (loan.group_name, loan.group_head_phone) == (None, None)


@pytest.mark.usefixtures("register")
async def test_unknown_households_and_programmes_are_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        instalment("H1", "15/02/2026"),
        instalment("NOPE", "15/02/2026"),
        instalment("H2", "15/02/2026", **{"Chương trình": "Vay mua xe máy"}),
        instalment("H3", "15/02/2026", **{"Chương trình": ""}),
    ]
    report = await loans(sessions, loan_sheet(tmp_path, rows), clock)
    assert not report.applied
    assert problems(report) == {(3, "Mã hộ"), (4, "Chương trình"), (5, "Chương trình")}
    reasons = {p.row: p.reason for p in report.rejects}
    assert reasons[3] == "Không có hộ nào mang mã NOPE."
    assert "Hộ nghèo" in reasons[4]
    assert "Học sinh sinh viên" in reasons[4]
    assert "Giải quyết việc làm" in reasons[4]
    assert reasons[5] == "Cột này không được để trống."
    assert await count(sessions, Loan) == 0


@pytest.mark.usefixtures("register")
async def test_impossible_dates_are_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        instalment("H1", "15/02/2026"),
        instalment("H1", "10/01/2026"),  # before the disbursement
        instalment("H1", "15/01/2026"),  # the disbursement day itself
        instalment("H1", "31/02/2026"),
        instalment("H2", "15/02/2027", **{"Ngày giải ngân": "01/12/2026"}),  # in the future
        instalment("H3", "mười lăm"),
    ]
    report = await loans(sessions, loan_sheet(tmp_path, rows), clock)
    assert not report.applied
    assert problems(report) == {
        (3, "Ngày đến hạn"),
        (4, "Ngày đến hạn"),
        (5, "Ngày đến hạn"),
        (6, "Ngày giải ngân"),
        (7, "Ngày đến hạn"),
    }
    reasons = {p.row: p.reason for p in report.rejects}
    assert "15/01/2026" in reasons[3]
    assert reasons[5] == "Ngày này không có trên lịch."
    assert reasons[6] == "Ngày này ở tương lai."
    assert "15/03/2024" in reasons[7]


@pytest.mark.usefixtures("register")
async def test_bad_amounts_are_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        instalment("H1", "15/02/2026", **{"Số tiền vay": "1,5"}),
        instalment("H1", "15/03/2026", **{"Số tiền vay": "ba mươi triệu"}),
        instalment("H1", "15/04/2026", **{"Số tiền vay": 0}),
        instalment("H2", "15/02/2026", **{"Số tiền gốc": "-500.000"}),
        instalment("H2", "15/03/2026", **{"Số tiền gốc": 0, "Số tiền lãi": "0"}),
        instalment("H3", "15/02/2026", **{"Số tiền lãi": 1500.5}),
        instalment("H3", "15/03/2026", **{"SĐT tổ trưởng": "09123"}),
        instalment("H3", "15/04/2026", **{"Số tiền vay": "30.000.000 đ"}),
    ]
    report = await loans(sessions, loan_sheet(tmp_path, rows, "vay.xlsx"), clock)
    assert not report.applied
    assert problems(report) == {
        (2, "Số tiền vay"),
        (3, "Số tiền vay"),
        (4, "Số tiền vay"),
        (5, "Số tiền gốc"),
        (6, "Số tiền gốc"),
        (7, "Số tiền lãi"),
        (8, "SĐT tổ trưởng"),
    }
    assert {p.value for p in report.rejects if p.row in (2, 8)} == {"1,5", "09123"}


@pytest.mark.usefixtures("register")
async def test_repeated_instalments_and_disagreeing_loans_are_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        instalment("H1", "15/02/2026"),
        instalment("H1", "15/03/2026"),
        instalment("H1", "15/02/2026"),  # the same instalment again
        instalment("H1", "15/04/2026", **{"Số tiền vay": "35.000.000"}),
        instalment("H1", "15/05/2026", **{"Tổ TK&VV": "Tổ TK&VV ấp 9"}),
        instalment("H1", "15/06/2026", **{"Tổ TK&VV": "", "SĐT tổ trưởng": ""}),  # fine
        # another loan of the same household and programme: its own amount
        instalment("H1", "15/02/2026", **{"Ngày giải ngân": "20/01/2026", "Số tiền vay": 9e6}),
    ]
    path = loan_sheet(tmp_path, rows)
    report = await loans(sessions, path, clock)
    assert not report.applied
    assert problems(report) == {
        (2, "Ngày đến hạn"),
        (4, "Ngày đến hạn"),
        (5, "Số tiền vay"),
        (6, "Tổ TK&VV"),
    }
    reasons = {p.row: p.reason for p in report.rejects}
    assert "2" in reasons[4]
    assert "30.000.000" in reasons[5]
    report = await loans(sessions, path, clock, skip_invalid=True)
    assert report.applied
    stored = await schedule(sessions)
    assert [due for due, *_r in stored[("H1", "ho_ngheo", date(2026, 1, 15))]] == [
        date(2026, 3, 15),
        date(2026, 6, 15),
    ]
    assert len(stored[("H1", "ho_ngheo", date(2026, 1, 20))]) == 1


@pytest.mark.usefixtures("register")
async def test_one_bad_row_means_nothing_is_written_unless_skip_invalid(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [*GOOD, instalment("H3", "15/02/2026", **{"Số tiền lãi": "nhiều"})]
    path = loan_sheet(tmp_path, rows)
    report = await loans(sessions, path, clock)
    assert not report.applied
    assert report.counts["rows"] == 5
    assert report.counts["loans_created"] == 0
    assert report.rejects_path.exists()
    with report.rejects_path.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[1][:3] == ["6", "Số tiền lãi", "nhiều"]
    assert await count(sessions, Loan) == await count(sessions, Instalment) == 0
    async with sessions() as session:
        audited = await session.scalar(select(func.count()).where(AuditEntry.entity == "loans"))
    assert audited == 0
    report = await loans(sessions, path, clock, skip_invalid=True)
    assert report.applied
    assert (report.counts["loans_created"], report.counts["instalments_created"]) == (2, 4)
    assert report.rejected_rows == 1
    assert await count(sessions, Instalment) == 4


@pytest.mark.usefixtures("register")
async def test_dry_run_counts_exactly_and_changes_nothing(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    path = loan_sheet(tmp_path, GOOD)
    report = await loans(sessions, path, clock, dry_run=True)
    assert not report.applied
    assert (report.counts["loans_created"], report.counts["instalments_created"]) == (2, 4)
    assert await count(sessions, Loan) == 0
    await loans(sessions, path, clock)
    report = await loans(
        sessions, loan_sheet(tmp_path, [*GOOD, instalment("H3", "01/12/2026")]), clock, dry_run=True
    )
    assert (report.counts["loans_created"], report.counts["loans_unchanged"]) == (1, 2)
    assert await count(sessions, Loan) == 2


@pytest.mark.usefixtures("register")
async def test_repayments_mark_instalments_paid_once(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    await loans(sessions, loan_sheet(tmp_path, GOOD), clock)
    rows = [
        PAYMENT_HEADER,
        payment("H1", "15/02/2026", "14/02/2026", "2.665.000", "Cho vay hộ nghèo"),
        payment("H1", date(2026, 3, 15), date(2026, 3, 16), 2_665_000),
        payment("H2", "10/06/2026", "10/06/2026", "51.650.000", "Giải quyết việc làm"),
    ]
    path = write_sheet(tmp_path / "tra.xlsx", rows)
    report = await repayments(sessions, path, clock)
    assert report.applied, report.rejects
    assert (report.counts["rows"], report.counts["paid"], report.counts["unchanged"]) == (3, 3, 0)
    stored = await schedule(sessions)
    assert [i[3:] for i in stored[("H1", "ho_ngheo", date(2026, 1, 15))]] == [
        (date(2026, 2, 14), 2_665_000),
        (date(2026, 3, 16), 2_665_000),
        (None, None),
    ]
    async with sessions() as session:
        keys = (
            await session.scalars(
                select(AuditEntry.entity_key).where(AuditEntry.entity == "instalments")
            )
        ).all()
    assert "H1/ho_ngheo/2026-01-15/2026-02-15" in keys
    report = await repayments(sessions, path, clock)
    assert report.applied
    assert (report.counts["paid"], report.counts["unchanged"]) == (0, 3)
    # A corrected amount replaces the recorded payment.
    rows[1] = payment("H1", "15/02/2026", "14/02/2026", "2.600.000")
    report = await repayments(sessions, write_sheet(path, rows), clock)
    assert (report.counts["corrected"], report.counts["unchanged"]) == (1, 2)
    stored = await schedule(sessions)
    assert stored[("H1", "ho_ngheo", date(2026, 1, 15))][0][3:] == (date(2026, 2, 14), 2_600_000)


@pytest.mark.usefixtures("register")
async def test_repayments_without_an_instalment_are_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    await loans(sessions, loan_sheet(tmp_path, GOOD), clock)
    rows = [
        PAYMENT_HEADER,
        payment("H1", "15/02/2026", "14/02/2026", "2.665.000"),
        payment("H1", "16/02/2026", "14/02/2026", "2.665.000"),  # no instalment that day
        payment("H1", "15/02/2026", "14/02/2026", "2.665.000", "HSSV"),  # no such loan
        payment("NOPE", "15/02/2026", "14/02/2026", "2.665.000"),
        payment("H1", "15/03/2026", "01/12/2026", "2.665.000"),  # paid in the future
        payment("H1", "15/04/2026", "14/04/2026", "0"),
        payment("H1", "15/02/2026", "15/02/2026", "1.000"),  # the instalment is taken
    ]
    path = write_sheet(tmp_path / "tra.csv", rows)
    report = await repayments(sessions, path, clock)
    assert not report.applied
    assert problems(report) == {
        (3, "Ngày đến hạn"),
        (4, "Ngày đến hạn"),
        (5, "Mã hộ"),
        (6, "Ngày trả"),
        (7, "Số tiền"),
        (8, "Ngày đến hạn"),
    }
    assert report.counts["rows"] == 7
    assert report.counts["paid"] == 0
    stored = await schedule(sessions)
    assert all(i[3] is None for items in stored.values() for i in items)
    report = await repayments(sessions, path, clock, skip_invalid=True)
    assert report.applied
    assert report.counts["paid"] == 1
    stored = await schedule(sessions)
    assert stored[("H1", "ho_ngheo", date(2026, 1, 15))][0][3] == date(2026, 2, 14)


@pytest.mark.usefixtures("register")
async def test_two_loans_due_the_same_day_are_paid_earliest_first(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        instalment("H1", "15/06/2026", **{"Ngày giải ngân": "01/03/2026"}),
        instalment("H1", "15/06/2026", **{"Ngày giải ngân": "01/02/2026"}),
    ]
    await loans(sessions, loan_sheet(tmp_path, rows), clock)
    path = write_sheet(
        tmp_path / "tra.csv",
        [PAYMENT_HEADER, payment("H1", "15/06/2026", "15/06/2026", "2.665.000")],
    )
    report = await repayments(sessions, path, clock, dry_run=True)
    assert (report.applied, report.counts["paid"]) == (False, 1)
    await repayments(sessions, path, clock)
    stored = await schedule(sessions)
    assert stored[("H1", "ho_ngheo", date(2026, 2, 1))][0][3] == date(2026, 6, 15)
    assert stored[("H1", "ho_ngheo", date(2026, 3, 1))][0][3] is None
    # The next payment for that day goes to the other loan; the first is recognised.
    path = write_sheet(
        path,
        [
            PAYMENT_HEADER,
            payment("H1", "15/06/2026", "15/06/2026", "2.665.000"),
            payment("H1", "15/06/2026", "16/06/2026", "2.665.000"),
        ],
    )
    report = await repayments(sessions, path, clock)
    assert (report.counts["unchanged"], report.counts["paid"]) == (1, 1)
    stored = await schedule(sessions)
    assert stored[("H1", "ho_ngheo", date(2026, 3, 1))][0][3] == date(2026, 6, 16)


# --- the commands --------------------------------------------------------------------------


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "clock", FixedClock(NOW))


def shown(output: str, label: str) -> int:
    """The count the summary table prints beside a label (numbers grouped with dots)."""
    line = next(line for line in output.splitlines() if line.strip().startswith(_(label)))
    return int(line.strip().removeprefix(_(label)).strip().replace(".", ""))


@pytest.mark.usefixtures("fixed_clock")
def test_loans_and_repayments_commands(demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "vay.xlsx"
    code, output = loa(
        "demo-data",
        "--households",
        "200",
        "--communes",
        "2",
        "--seed",
        "7",
        "--out",
        str(tmp_path / "ho.csv"),
        "--loans-out",
        str(path),
    )
    assert code == 0, output
    code, output = loa("import", "loans", str(path), "--dry-run")
    assert code == 0, output
    assert "Chạy thử" in output
    created = shown(output, "Loans created")
    assert created > 10
    code, output = loa("import", "loans", str(path))
    assert code == 0, output
    assert shown(output, "Loans created") == created
    assert shown(output, "Rows rejected") == 0
    assert not path.with_name("vay.xlsx.rejects.csv").exists()
    code, output = loa("import", "loans", str(path))
    assert code == 0, output
    assert shown(output, "Loans unchanged") == created
    assert shown(output, "Instalments unchanged") == shown(output, "Rows read")

    values = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(values) if row and row[0] == "STT")
    first = values[header_at + 1]  # Mã hộ, Chương trình, Ngày đến hạn, Số tiền gốc
    paid = [first[1], first[3], first[6], "20/11/2026", first[7]]
    payments = write_sheet(tmp_path / "tra.csv", [PAYMENT_HEADER, paid, ["NOPE", "HN"]])
    code, output = loa("import", "repayments", str(payments))
    assert code == 1
    assert "Chưa nhập gì" in output
    assert payments.with_name("tra.csv.rejects.csv").exists()
    code, output = loa("import", "repayments", str(payments), "--skip-invalid")
    assert code == 0, output
    assert shown(output, "Instalments marked paid") == 1
    assert shown(output, "Rows rejected") == 1
    code, output = loa("import", "repayments", str(payments), "--skip-invalid", "--dry-run")
    assert code == 0, output
    assert shown(output, "Payments already recorded") == 1
    assert shown(output, "Instalments marked paid") == 0


def test_a_missing_loans_file_is_one_sentence(settings_env: str, tmp_path: Path) -> None:
    for command in ("loans", "repayments"):
        code, output = loa("import", command, str(tmp_path / "khong-co.xlsx"))
        assert code == 1
        assert "không có" in output
        assert "Traceback" not in output
