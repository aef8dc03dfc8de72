"""Zalo's rotating refresh token: one refresher at a time, across processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import TemporaryError
from bot.channels.zalo_tokens import TokenKeeper
from bot.clock import FixedClock
from bot.config import get_settings
from storage import tokens
from tests.fakes.zalo import FakeZalo


@pytest.mark.usefixtures("channel_env")
async def test_two_processes_refresh_once_and_keep_the_new_pair(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    fake = FakeZalo(now=clock.now)
    transport = httpx.ASGITransport(app=fake.app)
    settings = get_settings()
    first, second = (TokenKeeper(settings, sessions, clock, transport=transport) for _ in range(2))
    got = await asyncio.gather(first.access_token(), second.access_token())
    assert got[0] == got[1] == fake.access_token
    assert fake.refresh_calls == 1  # the refresh token works once: nobody spent it twice
    async with sessions() as session:
        stored = await tokens.current(session, channel="zalo")
    assert stored is not None
    assert stored.refresh_token == fake.refresh_token
    assert stored.expires_at == clock.now() + timedelta(seconds=90000)
    clock.advance(timedelta(hours=24, minutes=30))  # within the hour before it ends
    assert await second.access_token() != got[0]
    assert await first.access_token() == fake.access_token  # reads the pair second stored
    assert fake.refresh_calls == 2
    await first.close()
    await second.close()


@pytest.mark.usefixtures("channel_env")
async def test_a_refused_refresh_keeps_the_stored_pair(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    fake = FakeZalo(now=clock.now, refresh_token="another")
    keeper = TokenKeeper(
        get_settings(), sessions, clock, transport=httpx.ASGITransport(app=fake.app)
    )
    with pytest.raises(TemporaryError):
        await keeper.access_token()
    async with sessions() as session:
        stored = await tokens.current(session, channel="zalo")
    assert stored is not None
    assert stored.refresh_token == "refresh-0"  # nothing lost: fix the app, it goes on
    await keeper.close()
