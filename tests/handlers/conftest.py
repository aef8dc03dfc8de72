"""A register of three households and phones that talk to the router, on both backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from handlers.dialogue import xlsform
from handlers.dialogue.conversations import Turn
from handlers.dialogue.form import Form
from handlers.dialogue.xlsform import load_form
from handlers.router import Incoming, Policy, handle, start_survey
from messages.render import VN_ZONE
from storage import registrations
from storage.audit import Actor
from storage.conversations import contacts_for
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet

PHONE_A1, PHONE_A2, PHONE_B = "+84912345678", "+84987654321", "+84911222333"
SURVEYS = Path(__file__).resolve().parents[2] / "messages/vi/surveys"


@pytest.fixture
async def register(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, clock: FixedClock
) -> None:
    """H001 with two phones, H002 with one, H003 with none."""
    await load_areas(sessions, tmp_path, clock)
    rows = [
        HEADER,
        household("H001", "Nguyễn Văn An", **{"Số điện thoại": "0912 345 678; 0987 654 321"}),
        household("H002", "Trần Thị Bình", **{"Số điện thoại": "0911 222 333", "Thôn": "Ấp 2"}),
        household("H003", "Lê Văn Cường", **{"Số điện thoại": ""}),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "ho.csv", rows), clock)
    assert report.applied, report.rejects


async def save_form(
    sessions: async_sessionmaker[AsyncSession], form: Form, clock: FixedClock
) -> str:
    """Store a form version as `loa survey import` does."""
    async with sessions() as session, session.begin():
        actor = Actor(name="cli:test", source="test")
        return await xlsform.save_form(
            session, form, source_name="test", actor=actor, now=clock.now()
        )


async def load_built_in(
    sessions: async_sessionmaker[AsyncSession], form_id: str, clock: FixedClock
) -> Form:
    """Load one of the built-in surveys into the store."""
    form = load_form(SURVEYS / f"{form_id}.csv")
    await save_form(sessions, form, clock)
    return form


@dataclass
class Phone:
    """A household's phone on the console channel: say a line, read the replies."""

    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    address: str
    policy: Policy = field(default_factory=Policy)

    def turn(self) -> Turn:
        now = self.clock.now()
        return Turn(now=now, today=now.astimezone(VN_ZONE).date())

    async def say(self, text: str) -> list[str]:
        async with self.sessions() as session, session.begin():
            incoming = Incoming("console", self.address, text)
            sent = await handle(session, incoming, turn=self.turn(), policy=self.policy)
        return [m.text for m in sent]

    async def start(self, form_id: str) -> list[str]:
        async with self.sessions() as session, session.begin():
            contacts = (await contacts_for(session, addresses=[self.address]))[self.address]
            sent = await start_survey(
                session, form_id=form_id, contact=contacts[0], channel="console", turn=self.turn()
            )
        return [m.text for m in sent]


async def one_time_code(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, code: str
) -> str:
    """The printed one-time registration code of the household with this code."""
    async with sessions() as session, session.begin():
        owner = await registrations.household(session, code=code)
        assert owner is not None
        found = await registrations.codes_for(session, household_ids=[owner.id], now=clock.now())
        return found[owner.id]


def phone(sessions: async_sessionmaker[AsyncSession], clock: FixedClock, address: str) -> Phone:
    """A phone for ADDRESS."""
    return Phone(sessions, clock, address)
