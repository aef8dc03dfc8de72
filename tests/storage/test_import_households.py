"""The household importer, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from storage.importers.errors import ImportFileError
from storage.models import AuditEntry, Contact, Household, Village
from storage.registry import get_household
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet

Sessions = async_sessionmaker[AsyncSession]
TITLE_ROWS = [
    ["ỦY BAN NHÂN DÂN XÃ AN HIỆP"],
    ["DANH SÁCH HỘ NGHÈO NĂM 2025"],
    ["(Kèm theo Quyết định số 12/QĐ-UBND ngày 10/01/2025)"],
    [],
]
SIGNATURES = [
    [],
    ["", "Người lập biểu", "", "", "", "", "", "TM. ỦY BAN NHÂN DÂN"],
    ["", "(Ký, ghi rõ họ tên)"],
    ["", "An Hiệp, ngày 15 tháng 01 năm 2025"],
]


@pytest.fixture
async def areas(sessions: Sessions, tmp_path: Path, clock: FixedClock) -> None:
    await load_areas(sessions, tmp_path, clock)


async def _count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.usefixtures("areas")
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_title_rows_and_signature_block_are_not_data(
    sessions: Sessions, tmp_path: Path, clock: FixedClock, suffix: str
) -> None:
    rows = [*TITLE_ROWS, HEADER, household("H1"), [], household("H2", "Trần Thị Bình"), *SIGNATURES]
    report = await run_import(sessions, write_sheet(tmp_path / f"list{suffix}", rows), clock)
    assert report.applied
    assert report.counts["created"] == 2
    assert report.rejects == []
    assert await _count(sessions, Household) == 2


@pytest.mark.usefixtures("areas")
async def test_headers_match_without_accents_case_or_spacing(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    header = ["stt", "MA HO", "ho va ten  chu ho", "ma xa", "xa", "THÔN", "phan loai"]
    rows = [header, [1, "H1", "Lê Văn Cường", "29002", "", "Ấp 2", "can ngheo"]]
    report = await run_import(sessions, write_sheet(tmp_path / "l.csv", rows), clock)
    assert report.applied
    assert report.counts["created"] == 1
    async with sessions() as session:
        card = await get_household(session, code="H1")
    assert card is not None
    assert card.household.category == "near_poor"


@pytest.mark.usefixtures("areas")
async def test_nfd_spellings_match_nfc_villages_and_communes(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    nfd = unicodedata.normalize("NFD", "Xã An Hiệp")
    rows = [
        HEADER,
        household("H1", Thôn="Ấp Phú Hòa", **{"Mã xã": "", "Xã": nfd}),
        household(
            "H2", Thôn=unicodedata.normalize("NFD", "ấp phú hòa"), **{"Mã xã": "", "Xã": "an hiep"}
        ),
        household(
            "H3",
            unicodedata.normalize("NFD", "Phạm Thị Đào"),
            **{"Phân loại": unicodedata.normalize("NFD", "Cận nghèo")},
        ),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "l.xlsx", rows), clock)
    assert report.applied, report.rejects
    async with sessions() as session:
        villages = (await session.scalars(select(Village.name))).all()
        card = await get_household(session, code="H3")
    assert sorted(villages) == ["Ấp 1", "Ấp Phú Hòa"]
    assert card is not None
    assert card.household.head_name == unicodedata.normalize("NFC", "Phạm Thị Đào")
    assert card.household.category == "near_poor"
    assert report.new_villages == ["Ấp Phú Hòa (Xã An Hiệp)", "Ấp 1 (Xã An Hiệp)"]


@pytest.mark.usefixtures("areas")
async def test_phone_formats_old_prefixes_and_invalid_numbers(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    phones = "0912 345 678; +84 98 765 4321 / 84868123456\n01683456789, 0912.345.678, 09123"
    rows = [
        HEADER,
        household("H1", **{"Số điện thoại": phones}),
        household("H2", **{"Số điện thoại": ""}),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "l.csv", rows), clock)
    assert report.applied
    async with sessions() as session:
        card = await get_household(session, code="H1")
        empty = await get_household(session, code="H2")
    assert card is not None
    assert empty is not None
    assert [c.address for c in card.contacts] == [
        "+84912345678",
        "+84987654321",
        "+84868123456",
        "+84383456789",
    ]
    assert empty.contacts == []
    assert [(p.row, p.value) for p in report.dropped] == [(2, "09123")]
    with report.rejects_path.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["Dòng", "Cột", "Giá trị", "Lý do"]
    assert lines[1][:3] == ["2", "Số điện thoại", "09123"]


@pytest.mark.usefixtures("areas")
async def test_a_phone_shared_by_two_households_is_kept_and_flagged(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        HEADER,
        household("H1", **{"Số điện thoại": "0912345678, 0987654321"}),
        household("H2", **{"Số điện thoại": "+84912345678"}),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "l.csv", rows), clock)
    assert report.counts["shared_phones"] == 1
    async with sessions() as session:
        shared = (
            await session.execute(select(Contact.address, Contact.shared).order_by(Contact.id))
        ).all()
    assert [tuple(r) for r in shared] == [
        ("+84912345678", True),
        ("+84987654321", False),
        ("+84912345678", True),
    ]
    # H2 moves to another number: the flag on H1's number clears.
    rows[2] = household("H2", **{"Số điện thoại": "0933111222"})
    await run_import(sessions, write_sheet(tmp_path / "l.csv", rows), clock)
    async with sessions() as session:
        flagged = (await session.scalars(select(Contact.address).where(Contact.shared))).all()
    assert flagged == []


@pytest.mark.usefixtures("areas")
async def test_duplicate_code_rejects_both_rows_and_nothing_is_imported(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [*TITLE_ROWS, HEADER, household("H1"), household("H2"), household("H1")]
    path = write_sheet(tmp_path / "l.xlsx", rows)
    report = await run_import(sessions, path, clock)
    assert not report.applied
    assert sorted(p.row for p in report.rejects) == [6, 8]  # rows as the spreadsheet shows them
    assert await _count(sessions, Household) == 0
    report = await run_import(sessions, path, clock, skip_invalid=True)
    assert report.applied
    assert report.counts["created"] == 1
    async with sessions() as session:
        codes = (await session.scalars(select(Household.code))).all()
    assert codes == ["H2"]


@pytest.mark.usefixtures("areas")
async def test_one_bad_row_means_nothing_is_imported(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        HEADER,
        household("H1"),
        household("H2", **{"Ngày công nhận": "31/02/2024"}),
        household("H3", **{"Số nhân khẩu": "bốn"}),
        household("H4", "12345"),
        household("H5", **{"Phân loại": "Giàu"}),
    ]
    path = write_sheet(tmp_path / "l.csv", rows)
    report = await run_import(sessions, path, clock)
    assert not report.applied
    assert await _count(sessions, Household) == 0
    assert await _count(sessions, Village) == 0
    async with sessions() as session:
        audited = await session.scalar(
            select(func.count()).where(AuditEntry.entity == "households")
        )
    assert audited == 0
    got = {(p.row, p.column) for p in report.rejects}
    assert got == {
        (3, "Ngày công nhận"),
        (4, "Số nhân khẩu"),
        (5, "Họ và tên chủ hộ"),
        (6, "Phân loại"),
    }
    reasons = {p.column: p.reason for p in report.rejects}
    assert reasons["Ngày công nhận"] == "Ngày này không có trên lịch."


@pytest.mark.usefixtures("areas")
async def test_dates_in_every_form(sessions: Sessions, tmp_path: Path, clock: FixedClock) -> None:
    rows = [
        HEADER,
        household("H1", **{"Ngày công nhận": date(2024, 3, 15)}),
        household("H2", **{"Ngày công nhận": "5/1/2023"}),
        household("H3", **{"Ngày công nhận": 45366}),
        household("H4", **{"Ngày công nhận": "01/01/2030"}),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "l.xlsx", rows), clock)
    assert [(p.row, p.reason) for p in report.rejects] == [(5, "Ngày này ở tương lai.")]
    report = await run_import(sessions, write_sheet(tmp_path / "l.xlsx", rows[:4]), clock)
    async with sessions() as session:
        dates = dict((await session.execute(select(Household.code, Household.recognized_on))).all())
    assert dates == {"H1": date(2024, 3, 15), "H2": date(2023, 1, 5), "H3": date(2024, 3, 15)}


@pytest.mark.usefixtures("areas")
async def test_merged_and_ambiguous_communes(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        HEADER,
        household("H1", **{"Mã xã": "28756"}),
        household("H2", **{"Mã xã": "", "Xã": "Xã Hữu Định"}),
        household("H3", **{"Mã xã": "", "Xã": "Long Châu"}),
        household("H4", **{"Mã xã": "", "Xã": "Phú Túc"}),
        household("H5", **{"Mã xã": "99999"}),
    ]
    report = await run_import(
        sessions, write_sheet(tmp_path / "l.csv", rows), clock, skip_invalid=True
    )
    async with sessions() as session:
        communes = dict(
            (await session.execute(select(Household.code, Household.commune_code))).all()
        )
    assert communes == {"H1": "29002", "H2": "29002", "H3": "29008"}
    reasons = {p.row: p.reason for p in report.rejects}
    assert "29005" in reasons[5]
    assert "24001" in reasons[5]
    assert reasons[6] == "Không có xã nào mang mã 99999."


@pytest.mark.usefixtures("areas")
async def test_reimport_updates_in_place_and_audits(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "l.csv"
    write_sheet(path, [HEADER, household("H1"), household("H2")])
    await run_import(sessions, path, clock)
    async with sessions() as session:
        created = (
            await session.scalars(
                select(AuditEntry.entity_key).where(
                    AuditEntry.entity == "households", AuditEntry.action == "create"
                )
            )
        ).all()
    assert sorted(created) == ["H1", "H2"]
    write_sheet(
        path,
        [
            HEADER,
            household(
                "H1",
                **{
                    "Phân loại": "Cận nghèo",
                    "Số điện thoại": "0987654321, 0912345678",
                    "Thiếu hụt": "BHYT, Việc làm",
                },
            ),
            household("H2"),
        ],
    )
    report = await run_import(sessions, path, clock)
    assert (report.counts["created"], report.counts["updated"], report.counts["unchanged"]) == (
        0,
        1,
        1,
    )
    async with sessions() as session:
        card = await get_household(session, code="H1")
        audit = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "households", AuditEntry.action == "update"
                )
            )
        ).all()
    assert card is not None
    assert [c.address for c in card.contacts] == ["+84987654321", "+84912345678"]
    assert card.deprivations == ["employment", "health_insurance"]
    assert len(audit) == 1
    assert audit[0].entity_key == "H1"
    assert audit[0].changes["category"] == ["poor", "near_poor"]
    assert audit[0].source == "import:test"


@pytest.mark.usefixtures("areas")
async def test_dry_run_changes_nothing(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    path = write_sheet(tmp_path / "l.csv", [HEADER, household("H1", Thôn="Ấp Mới")])
    report = await run_import(sessions, path, clock, dry_run=True)
    assert report.counts["created"] == 1
    assert report.new_villages == ["Ấp Mới (Xã An Hiệp)"]
    assert not report.applied
    assert await _count(sessions, Household) == 0
    assert await _count(sessions, Village) == 0


@pytest.mark.usefixtures("areas")
async def test_flags_groups_and_deprivations(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        HEADER,
        household(
            "H1",
            "Thạch Thị Sa Rươne",
            **{
                "Dân tộc": "Khmer",
                "Nữ chủ hộ": "x",
                "Nhóm hộ": "Nhóm 3",
                "Số nhân khẩu": 5,
                "Thiếu hụt": "Bảo hiểm y tế, 11, nha tieu hop ve sinh",
                "Ghi chú": "Người cao tuổi",
            },
        ),
    ]
    await run_import(sessions, write_sheet(tmp_path / "l.xlsx", rows), clock)
    async with sessions() as session:
        card = await get_household(session, code="H1")
    assert card is not None
    h = card.household
    assert (h.ethnic_minority, h.woman_head, h.group_no, h.members) == (True, True, 3, 5)
    assert card.deprivations == ["health_insurance", "telecom", "toilet"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "không có"),
        ("notes.txt", "hello", "không phải là bảng tính"),
        ("fake.xlsx", "this is not excel", "không phải là bảng tính Excel"),
        ("empty.csv", "", "trống"),
        ("noheader.csv", "a,b,c\n1,2,3\n", "Không tìm thấy dòng tiêu đề"),
    ],
)
async def test_bad_files_give_one_clear_sentence(
    sessions: Sessions,
    tmp_path: Path,
    clock: FixedClock,
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message) as caught:
        await run_import(sessions, path, clock)
    assert name in str(caught.value)
    assert await _count(sessions, Household) == 0


@pytest.mark.usefixtures("areas")
async def test_numbers_typed_into_excel_as_numbers(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    # Excel keeps 0912345678 as the number 912345678 and a code like 1024 as 1024.0.
    rows = [HEADER, household(1024.0, **{"Số điện thoại": 912345678, "Mã xã": 29002})]
    report = await run_import(sessions, write_sheet(tmp_path / "l.xlsx", rows), clock)
    assert report.applied, report.rejects
    async with sessions() as session:
        card = await get_household(session, code="1024")
    assert card is not None
    assert [c.address for c in card.contacts] == ["+84912345678"]


@pytest.mark.usefixtures("areas")
@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";")])
async def test_csv_with_or_without_bom_and_semicolons(
    sessions: Sessions, tmp_path: Path, clock: FixedClock, encoding: str, delimiter: str
) -> None:
    # Excel set to Vietnamese writes ';' between columns (the comma is the decimal mark).
    path = tmp_path / "l.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerows([HEADER, household("H1", **{"Số điện thoại": "0912345678; 0987654321"})])
    report = await run_import(sessions, path, clock)
    assert report.applied, report.rejects
    async with sessions() as session:
        card = await get_household(session, code="H1")
    assert card is not None
    assert card.household.head_name == "Nguyễn Văn An"
    assert [c.address for c in card.contacts] == ["+84912345678", "+84987654321"]
