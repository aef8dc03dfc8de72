"""The scheduler service: one leader on PostgreSQL, a pass on demand, `loa scheduler tick`."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.config import Settings
from scheduler.delivery import Routing
from scheduler.jobs import Leader, SchedulerService
from storage.db import create_engine
from tests.conftest import loa


async def test_one_leader_at_a_time(engine: AsyncEngine, store_url: str) -> None:
    other_engine = create_engine(store_url)
    first, second = Leader(engine), Leader(other_engine)
    try:
        assert await first.held()
        if engine.dialect.name != "postgresql":
            assert await second.held()  # one process per SQLite store: always the leader
            return
        assert not await second.held()
        assert await first.held()  # still held, on its own live connection
        await first.release()
        assert await second.held()  # the other takes over
        assert not await first.held()
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()


async def test_a_leader_that_lost_its_connection_leads_again(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    leader = Leader(engine)
    assert await leader.held()
    assert leader.connection is not None
    await leader.connection.invalidate()  # as when the database drops the line
    assert await leader.held()
    await leader.release()


async def test_run_once_when_leading(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db")
    service = SchedulerService(engine, sessions, Routing({}, []), settings, clock)
    lines = await service.run_once()
    assert lines is not None
    assert any("conversations" in line.label for line in lines)
    await service.stop()


def test_tick_at_a_moment(settings_env: str) -> None:
    code, output = loa("scheduler", "tick", "--now", "2026-12-01T08:00")
    assert code == 0, output
    assert "08:00 01/12/2026" in output


def test_tick_refuses_a_moment_it_cannot_read(settings_env: str) -> None:
    code, output = loa("scheduler", "tick", "--now", "mai")
    assert code == 1
    assert "mai" in output
