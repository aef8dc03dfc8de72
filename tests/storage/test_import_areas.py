"""The areas importer and the merger mapping, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from storage.importers.areas import import_areas
from storage.models import AuditEntry, Commune, CommuneAlias
from storage.registry import list_communes
from tests.storage.sheets import ACTOR, AREAS, load_areas, write_sheet

Sessions = async_sessionmaker[AsyncSession]


async def test_areas_with_districts_and_old_communes(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    report = await load_areas(sessions, tmp_path, clock)
    assert report.counts["communes_created"] == 4
    assert report.counts["provinces_created"] == 2
    async with sessions() as session:
        lines = await list_communes(session)
    an_hiep = next(c for c in lines if c.code == "29002")
    assert an_hiep.district_name == "Huyện Châu Thành"
    assert an_hiep.old_codes == ["28756", "28759"]
    assert an_hiep.old_names == ["Xã Tân Thạch", "Xã Hữu Định"]


async def test_reimport_updates_in_place(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    await load_areas(sessions, tmp_path, clock)
    rows = [list(r) for r in AREAS]
    rows[1][5] = "Xã An Hiệp Mới"
    rows[1][6], rows[1][7] = "28756", "Xã Tân Thạch"
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp_path / "a.xlsx", rows), actor=ACTOR, now=clock.now()
        )
    assert report.counts["communes_updated"] == 1
    assert report.counts["communes_created"] == 0
    async with sessions() as session:
        aliases = (await session.scalars(select(CommuneAlias.old_code))).all()
        names = {c.code: c.name for c in await list_communes(session)}
    assert aliases == ["28756"]
    assert names["29002"] == "Xã An Hiệp Mới"
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.entity == "commune_aliases")
            .order_by(AuditEntry.id.desc())
        )
    assert audited is not None
    assert audited.changes == {
        "old_communes": [["28756 Xã Tân Thạch", "28759 Xã Hữu Định"], ["28756 Xã Tân Thạch"]]
    }


async def test_a_bad_areas_file_changes_nothing(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [list(r) for r in AREAS]
    rows[2][4] = ""  # no commune code
    rows[3][6], rows[3][7] = "1;2", "Xã Một"
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp_path / "a.csv", rows), actor=ACTOR, now=clock.now()
        )
    assert not report.applied
    assert sorted((p.row, p.column) for p in report.rejects) == [(3, "Mã xã"), (4, "Mã xã cũ")]
    async with sessions() as session:
        assert await list_communes(session) == []


async def _transaction_points(sessions: Sessions) -> dict[str, tuple[int | None, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Commune.code, Commune.transaction_day, Commune.transaction_place)
        )
        return {code: (day, place) for code, day, place in rows}


async def test_vbsp_transaction_day_and_place(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    header = [*AREAS[0], "Ngày giao dịch NHCSXH", "Điểm giao dịch"]
    days = ["15", 8, "ngày 20 hằng tháng", ""]
    places = ["Trụ sở UBND xã An Hiệp", "Nhà văn hóa ấp 3", "", ""]
    rows: list[list[Any]] = [header]
    rows += [[*r, d, p] for r, d, p in zip(AREAS[1:], days, places, strict=True)]
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp_path / "a.xlsx", rows), actor=ACTOR, now=clock.now()
        )
    assert report.applied, report.rejects
    assert report.ignored_columns == []
    assert await _transaction_points(sessions) == {
        "29002": (15, "Trụ sở UBND xã An Hiệp"),
        "29005": (8, "Nhà văn hóa ấp 3"),
        "29008": (20, None),
        "24001": (None, None),
    }
    # A file without the columns leaves them alone.
    await load_areas(sessions, tmp_path, clock)
    assert (await _transaction_points(sessions))["29002"] == (15, "Trụ sở UBND xã An Hiệp")
    # A file with the columns and empty cells clears them, and the change is audited.
    rows[1][-2:] = ["", ""]
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp_path / "a.csv", rows), actor=ACTOR, now=clock.now()
        )
    assert report.counts["communes_updated"] == 1
    assert (await _transaction_points(sessions))["29002"] == (None, None)
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.entity == "communes", AuditEntry.entity_key == "29002")
            .order_by(AuditEntry.id.desc())
        )
    assert audited is not None
    assert audited.changes == {
        "transaction_day": [15, None],
        "transaction_place": ["Trụ sở UBND xã An Hiệp", None],
    }


async def test_a_bad_transaction_day_is_rejected(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    days = ["32", "0", "15/3", "5"]
    rows = [[*AREAS[0], "Ngày giao dịch"], *([*r, d] for r, d in zip(AREAS[1:], days, strict=True))]
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp_path / "a.csv", rows), actor=ACTOR, now=clock.now()
        )
    assert not report.applied
    assert sorted((p.row, p.column, p.value) for p in report.rejects) == [
        (2, "Ngày giao dịch NHCSXH", "32"),
        (3, "Ngày giao dịch NHCSXH", "0"),
        (4, "Ngày giao dịch NHCSXH", "15/3"),
    ]
    async with sessions() as session:
        assert await list_communes(session) == []
