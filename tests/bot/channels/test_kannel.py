"""SMS end to end through the real Kannel (bearerbox, smsbox, fakesmsc) on loopback ports:
a phone registers by DK and a one-time code, agrees, answers a built-in survey, and delivery
reports come back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import get_settings
from bot.workers import lanes
from storage.models import Contact, Conversation, Message, Registration
from storage.models.surveys import COMPLETED
from tests.bot.channels.conftest import KANNEL_SECRET, drain, start_needs
from tests.fakes.kannel import KANNEL_MARKS, FakeSms, KannelGateway
from tests.fakes.server import aserve
from tests.handlers.conftest import load_built_in, one_time_code, register  # noqa: F401
from tests.handlers.test_builtin_surveys import PLAYS

pytestmark = KANNEL_MARKS
PHONE = "84905556677"  # not on the register


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sms:
    gateway: KannelGateway
    app_state: object
    clock: FixedClock

    async def say(self, text: str) -> None:
        """Text Loa from the phone and wait until Loa has taken it in."""
        before = await self.inbound()
        await self.gateway.asend_from_phone(PHONE, text)
        for _ in range(200):
            if await self.inbound() > before:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"Loa never got {text!r}")

    async def inbound(self) -> int:
        async with self.app_state.sessions() as session:  # type: ignore[attr-defined]
            count = await session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
        return int(count or 0)

    async def deliver(self) -> None:
        state = self.app_state
        await drain(lanes(get_settings(), state.sessions, self.clock, state.channels))  # type: ignore[attr-defined]

    async def read(self, predicate: str) -> FakeSms:
        return await self.gateway.await_for(lambda sms: predicate in sms.text, timeout=10)


@pytest.fixture
async def sms(
    monkeypatch: pytest.MonkeyPatch,
    settings_env: str,
    register: None,  # noqa: F811
    clock: FixedClock,
    tmp_path: Path,
) -> AsyncIterator[Sms]:
    port = free_port()
    inbound = f"http://127.0.0.1:{port}/webhooks/kannel/inbound?secret={KANNEL_SECRET}"
    with KannelGateway(tmp_path / "kannel", inbound) as gateway:
        env = {
            "LOA_KANNEL_SENDSMS_URL": gateway.sendsms_url,
            "LOA_KANNEL_USERNAME": gateway.username,
            "LOA_KANNEL_PASSWORD": gateway.password,
            "LOA_KANNEL_FROM": "8085",
            "LOA_KANNEL_SECRET": KANNEL_SECRET,
            "LOA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        app = create_app(get_settings(), clock=clock)
        async with aserve(app, port=port, lifespan="on"):
            yield Sms(gateway, app.state, clock)
        get_settings.cache_clear()


async def test_a_phone_registers_by_sms_and_answers_a_survey(sms: Sms) -> None:
    state = sms.app_state
    code = await one_time_code(state.sessions, sms.clock, "H003")  # type: ignore[attr-defined]
    await sms.say(f"DK {code}")
    await sms.deliver()
    welcome = await sms.read("H003")
    assert "UBND xa An Hiep" in welcome.text  # accents stripped: GSM-7, a third of the cost
    await sms.say("CO")
    await sms.deliver()
    await sms.read("Cam on")

    await load_built_in(state.sessions, "needs", sms.clock)  # type: ignore[attr-defined]
    assert await start_needs(state, "H003", sms.clock) == "sms"
    await sms.deliver()
    for reply in PLAYS["needs"][0]:
        await sms.say(reply)
        await sms.deliver()
    async with state.sessions() as session:  # type: ignore[attr-defined]
        assert await session.scalar(select(Conversation.status)) == COMPLETED
        contact = await session.scalar(select(Contact).where(Contact.address == "+" + PHONE))
        assert contact is not None
        assert contact.basis == "consent"
    for _ in range(100):  # delivery reports arrive from smsbox on their own
        async with state.sessions() as session:  # type: ignore[attr-defined]
            statuses = (
                await session.scalars(select(Message.status).where(Message.direction == "out"))
            ).all()
        if statuses and all(s == "delivered" for s in statuses):
            break
        await asyncio.sleep(0.05)
    assert statuses
    assert all(s == "delivered" for s in statuses), statuses


async def test_a_bare_household_code_waits_for_the_commune(sms: Sms) -> None:
    await sms.say("DK H002")
    await sms.deliver()
    await sms.read("xac nhan")
    async with sms.app_state.sessions() as session:  # type: ignore[attr-defined]
        waiting = (await session.scalars(select(Registration))).all()
    assert [(r.address, r.status) for r in waiting] == [("+" + PHONE, "pending")]


async def test_a_call_without_the_secret_is_refused(sms: Sms) -> None:
    import httpx

    base = get_settings().public_url
    async with httpx.AsyncClient() as client:
        for hook in ("inbound", "dlr"):
            answer = await client.get(f"{base}/webhooks/kannel/{hook}", params={"from": PHONE})
            assert answer.status_code == 401
        answer = await client.get(
            f"{base}/webhooks/kannel/inbound", params={"secret": KANNEL_SECRET, "text": "hi"}
        )
        assert answer.status_code == 400  # no sender
    assert await sms.inbound() == 0
