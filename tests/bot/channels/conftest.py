"""The whole service against the fake Telegram and Zalo APIs, in-process, on both backends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_app
from bot.channels.base import Channel
from bot.clock import FixedClock
from bot.config import Settings, get_settings
from bot.outreach import start_for
from bot.sender import Lane
from bot.workers import lanes
from storage.models import Message
from storage.registrations import household
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZalo
from tests.handlers.conftest import load_built_in, register  # noqa: F401  (a fixture)

TOKEN = "123:TEST"
SECRET = "telegram-webhook-secret"
KANNEL_SECRET = "kannel-shared-secret"


@pytest.fixture
def channel_env(monkeypatch: pytest.MonkeyPatch, settings_env: str) -> Iterator[None]:
    """Settings for Telegram and Zalo pointing at the fakes (their hosts are never resolved)."""
    values = {
        "LOA_TELEGRAM_TOKEN": TOKEN,
        "LOA_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "LOA_TELEGRAM_API_BASE": "http://telegram.fake",
        "LOA_ZALO_APP_ID": "1234567890",
        "LOA_ZALO_APP_SECRET": "app-secret",
        "LOA_ZALO_OA_SECRET_KEY": "oa-secret-key",
        "LOA_ZALO_ACCESS_TOKEN": "access-0",
        "LOA_ZALO_REFRESH_TOKEN": "refresh-0",
        "LOA_ZALO_API_BASE": "http://zalo.fake",
        "LOA_ZALO_ZNS_API_BASE": "http://zalo.fake",
        "LOA_ZALO_OAUTH_BASE": "http://zalo.fake",
        "LOA_ZALO_ZNS_TEMPLATES": json.dumps(
            {"notice": {"template_id": "tpl-1", "params": {"noi_dung": "text"}}}
        ),
        "LOA_HELP_CONTACT": "chị Lan, 0912 000 111",
        "LOA_QUIET_HOURS": "21:00-07:00",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def start_needs(state: Any, code: str, clock: FixedClock) -> str:
    """Begin the needs survey (already loaded) with a household on its best channel."""
    async with state.sessions() as session, session.begin():
        owner = await household(session, code=code)
        assert owner is not None
        started = await start_for(
            session,
            household_id=owner.id,
            form_id="needs",
            channels=state.channels,
            order=["zalo", "telegram", "sms"],
            turn=state.inbox.turn(),
        )
    assert started is not None
    return started[0]


async def drain(work: list[Lane], rounds: int = 10) -> None:
    """Run the lanes batch by batch until none claims anything (a reply may queue another)."""
    for _ in range(rounds):
        worked = 0
        for lane in work:
            lane.pace.gap = 0.0  # tests do not wait a second between two messages
            worked += await lane.step()
        if not worked:
            return


@dataclass
class Stack:
    """Loa's app with its channels on the fakes; `deliver()` runs the sender until idle."""

    app: FastAPI
    client: httpx.AsyncClient
    telegram: FakeTelegram
    zalo: FakeZalo
    clock: FixedClock
    settings: Settings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app.state.sessions  # type: ignore[no-any-return]

    @property
    def channels(self) -> Mapping[str, Channel]:
        return self.app.state.channels  # type: ignore[no-any-return]

    def lanes(self) -> list[Lane]:
        return lanes(self.settings, self.sessions, self.clock, self.channels)

    async def deliver(self) -> None:
        """Send everything due now, lane by lane, until nothing is left to claim."""
        await drain(self.lanes())

    async def telegram_update(self, update: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            "/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )

    async def zalo_event(self, event: tuple[bytes, dict[str, str]]) -> httpx.Response:
        body, headers = event
        return await self.client.post(
            "/webhooks/zalo", content=body, headers={**headers, "Content-Type": "application/json"}
        )

    async def start_needs(self, code: str) -> str:
        """Begin the built-in needs survey with a household; the channel it went to."""
        await load_built_in(self.sessions, "needs", self.clock)
        return await start_needs(self.app.state, code, self.clock)

    async def outbox(self, **where: Any) -> list[Message]:
        async with self.sessions() as session:
            query = select(Message).where(Message.direction == "out").order_by(Message.id)
            for name, value in where.items():
                query = query.where(getattr(Message, name) == value)
            return list((await session.scalars(query)).all())


@pytest.fixture
async def stack(
    channel_env: None,
    register: None,  # noqa: F811
    clock: FixedClock,
) -> AsyncIterator[Stack]:
    """The service on the register of tests/handlers, its channels on in-process fakes."""
    telegram = FakeTelegram(TOKEN, overall_per_second=1000, per_chat_per_second=1000)
    zalo = FakeZalo(now=clock.now)
    transports = {
        "telegram": httpx.ASGITransport(app=telegram.app),
        "zalo": httpx.ASGITransport(app=zalo.app),
    }
    settings = get_settings()
    app = create_app(settings, clock=clock, transports=transports)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://loa") as client:
            yield Stack(app, client, telegram, zalo, clock, settings)
