"""Delivery: each note on its household's best channel, the SMS text apart, relays by hand."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from scheduler.delivery import Note, Routing, deliver
from storage import relays
from storage.models import Message
from storage.models.broadcasts import SOURCE_BROADCAST
from storage.models.messages import BROADCAST, BULK
from tests.scheduler.conftest import TOWN, stub_routing


def notes(ids: dict[str, int], sms_text: str | None = None) -> list[Note]:
    return [
        Note(
            ids[code],
            f"b1:{ids[code]}",
            f"Kính gửi hộ {code}: họp dân tối nay.",
            BROADCAST,
            SOURCE_BROADCAST,
            1,
            sms_text=sms_text,
            priority=BULK,
        )
        for code in TOWN
    ]


async def test_each_household_on_its_best_channel(
    sessions: async_sessionmaker[AsyncSession],
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
) -> None:
    async with sessions() as session, session.begin():
        tally = await deliver(
            session, notes(town, "Hop dan toi nay"), routing=routing, now=clock.now()
        )
    assert tally.households == 6
    assert dict(tally.channels) == {"telegram": 1, "sms": 2, "zalo": 1}
    assert (tally.relayed, tally.opted_out) == (1, 1)
    assert tally.segments == 2
    assert tally.longest == 1
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Message.household_id, Message.channel, Message.text, Message.data)
            )
        ).all()
        lines = await relays.lines(session, sources=[(SOURCE_BROADCAST, 1)])
    by_household = {h: (ch, text, data) for h, ch, text, data in rows}
    assert by_household[town["H002"]][:2] == ("sms", "Hop dan toi nay")
    assert by_household[town["H001"]][0] == "telegram"
    assert by_household[town["H001"]][2] == {
        "texts": {"chat": "Kính gửi hộ H001: họp dân tối nay.", "sms": "Hop dan toi nay"}
    }
    assert [line.household_code for line in lines] == ["H004"]


async def test_twice_queues_once(
    sessions: async_sessionmaker[AsyncSession],
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
) -> None:
    for _ in range(2):
        async with sessions() as session, session.begin():
            await deliver(session, notes(town), routing=routing, now=clock.now())
    async with sessions() as session:
        count = len((await session.scalars(select(Message.id))).all())
        lines = await relays.lines(session, sources=[(SOURCE_BROADCAST, 1)])
    assert count == 4
    assert len(lines) == 1


async def test_preview_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], town: dict[str, int], clock: FixedClock
) -> None:
    async with sessions() as session, session.begin():
        tally = await deliver(
            session, notes(town), routing=stub_routing(("sms",)), now=clock.now(), write=False
        )
    assert dict(tally.channels) == {"sms": 3}  # H001's phone too; H003 has only Zalo: relay
    assert tally.relayed == 2
    async with sessions() as session:
        assert (await session.scalars(select(Message.id))).first() is None
