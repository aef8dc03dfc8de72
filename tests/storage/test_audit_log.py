"""Reading the audit log: date ranges by bisection on ids, filters, keyset pages both ways."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import audit, audit_log
from storage.audit_log import AuditFilter
from tests.conftest import NOW

Sessions = async_sessionmaker[AsyncSession]


async def _fill(sessions: Sessions) -> None:
    """300 changes, one an hour; every third by "lan", the rest by "binh"."""
    rows = [
        audit.entry(
            actor=audit.Actor("lan" if i % 3 == 0 else "binh", "console"),
            at=NOW + timedelta(hours=i),
            action="update",
            entity="households" if i % 2 else "followups",
            key=f"H{i:03d}",
            changes={"note": [None, str(i)]},
        )
        for i in range(300)
    ]
    async with sessions() as session, session.begin():
        await audit.record(session, rows)


async def test_a_date_range_and_filters_find_exactly_their_rows(sessions: Sessions) -> None:
    await _fill(sessions)
    wanted = AuditFilter(since=NOW + timedelta(hours=100), until=NOW + timedelta(hours=110))
    async with sessions() as session:
        page = await audit_log.read(session, wanted)
        assert [line.key for line in page.lines] == [f"H{i:03d}" for i in range(109, 99, -1)]
        assert page.older is None
        assert page.newer is None
        lan = await audit_log.read(session, AuditFilter(actor="lan", entity="households"))
        assert {line.actor for line in lan.lines} == {"lan"}
        assert {line.entity for line in lan.lines} == {"households"}
        assert len(lan.lines) == 50  # i = 3, 9, 15 ... : 50 of them
        late = AuditFilter(since=NOW + timedelta(days=30))
        assert (await audit_log.read(session, late)).lines == []
        early = AuditFilter(until=NOW - timedelta(days=1))
        assert (await audit_log.read(session, early)).lines == []
        everything = AuditFilter(since=NOW - timedelta(days=1), until=NOW + timedelta(days=30))
        assert len((await audit_log.read(session, everything, limit=500)).lines) == 300


async def test_pages_walk_older_and_back(sessions: Sessions) -> None:
    await _fill(sessions)
    async with sessions() as session:
        first = await audit_log.read(session, AuditFilter(), limit=100)
        assert first.lines[0].key == "H299"
        assert first.newer is None
        assert first.older is not None
        second = await audit_log.read(session, AuditFilter(), before=first.older, limit=100)
        assert second.lines[0].key == "H199"
        third = await audit_log.read(session, AuditFilter(), before=second.older, limit=100)
        assert third.lines[-1].key == "H000"
        assert third.older is None
        assert third.newer is not None
        back = await audit_log.read(session, AuditFilter(), after=third.newer, limit=100)
        assert [line.key for line in back.lines] == [line.key for line in second.lines]
        top = await audit_log.read(session, AuditFilter(), after=back.newer, limit=100)
        assert [line.key for line in top.lines] == [line.key for line in first.lines]
        assert top.newer is None


async def test_an_empty_log_reads_as_empty(sessions: Sessions) -> None:
    async with sessions() as session:
        wanted = AuditFilter(since=NOW, until=NOW + timedelta(days=1))
        assert (await audit_log.read(session, wanted)).lines == []
    assert "audit_log" in audit_log.entities()


async def test_a_row_committed_a_little_out_of_order_is_still_in_its_range(
    sessions: Sessions,
) -> None:
    """Every ten minutes a change; one stamped 13:50 is written after the one of 14:10 (two
    processes, one slow to commit): the range 13:00-14:00 still holds it."""
    moments = [NOW + timedelta(minutes=10 * i) for i in range(30)]
    late = NOW + timedelta(hours=3, minutes=50)
    order = [*moments[:26], late, *moments[26:]]  # written after NOW + 4h10
    rows = [
        audit.entry(
            actor=audit.Actor("lan", "console"),
            at=at,
            action="update",
            entity="households",
            key="late" if at == late else f"H{n:02d}",
            changes={},
        )
        for n, at in enumerate(order)
    ]
    async with sessions() as session, session.begin():
        await audit.record(session, rows)
    wanted = AuditFilter(since=NOW + timedelta(hours=3), until=NOW + timedelta(hours=4))
    async with sessions() as session:
        keys = [line.key for line in (await audit_log.read(session, wanted)).lines]
    assert "late" in keys
    assert len(keys) == 7  # 3:00, 3:10 ... 3:50, and the late one
