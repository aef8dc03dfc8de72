"""Survey rounds day by day: first questions, reminders after 24 and 48 hours, the deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.config import Settings
from bot.outreach import start_for
from handlers.dialogue.conversations import Turn
from handlers.router import Incoming, Policy, handle
from messages.render import VN_ZONE
from scheduler import rounds
from scheduler.delivery import Routing
from scheduler.tick import Context
from storage import relays
from storage import rounds as store
from storage.audit import Actor
from storage.models import Conversation, FollowUp, Message, SurveyRound
from storage.models.broadcasts import SOURCE_ROUND
from storage.models.messages import CANCELLED, QUEUED, SURVEY, SURVEY_REMINDER
from storage.models.surveys import ACTIVE, COMPLETED, EXPIRED, STOPPED
from tests.handlers.conftest import load_built_in

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = Settings(database_url="sqlite+aiosqlite:///unused.db")
QUESTION = "Trong hộ có ai muốn học nghề không?"  # the training survey's first question
REACHED = ("H001", "H002", "H003", "H006")  # H004: no contact; H005: opted out


async def open_round(
    sessions: Sessions, clock: FixedClock, *, audience: str = "all", reminders: int = 2
) -> store.RoundRow:
    """A training round for AUDIENCE, answers closing five days after the clock."""
    await load_built_in(sessions, "training", clock)
    now = clock.now()
    async with sessions() as session, session.begin():
        planned = await rounds.plan(
            session,
            form_id="training",
            audience=audience,
            deadline=now + timedelta(days=5),
            reminders=reminders,
            title="Học nghề 2027",
            now=now,
            zone=VN_ZONE,
        )
        return await rounds.open_round(session, planned, actor=Actor("cli:test", "cli"), now=now)


async def run(sessions: Sessions, routing: Routing, at: datetime) -> dict[str, int]:
    """One rounds pass at AT: its lines by label."""
    lines = await rounds.run(Context(sessions, routing, SETTINGS, at))
    return {line.label: line.count for line in lines}


async def reminded(sessions: Sessions, ids: dict[str, int]) -> dict[str, int]:
    """Reminders queued so far, by household code."""
    codes = {v: k for k, v in ids.items()}
    async with sessions() as session:
        rows = await session.execute(
            select(Message.household_id, func.count())
            .where(Message.kind == SURVEY_REMINDER)
            .group_by(Message.household_id)
        )
        return {codes[h]: n for h, n in rows.all()}


async def statuses(sessions: Sessions, round_id: int, ids: dict[str, int]) -> dict[str, str]:
    codes = {v: k for k, v in ids.items()}
    async with sessions() as session:
        rows = await session.execute(
            select(Conversation.household_id, Conversation.status).where(
                Conversation.round_id == round_id
            )
        )
        return {codes[h]: status for h, status in rows.all()}


async def answer(sessions: Sessions, address: str, text: str, at: datetime) -> list[str]:
    """H002's phone replies by SMS."""
    async with sessions() as session, session.begin():
        sent = await handle(
            session,
            Incoming("sms", address, text),
            turn=Turn.at(at, VN_ZONE),
            policy=Policy(),
        )
    return [m.text for m in sent]


async def test_a_round_from_its_first_questions_to_its_deadline(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    one = await open_round(sessions, clock)
    t0 = clock.now()
    lines = await run(sessions, routing, t0)
    assert lines["Survey rounds started"] == 1
    assert lines["Survey questions queued"] == 4
    assert lines["Survey households on the relay list"] == 1
    assert await statuses(sessions, one.id, town) == dict.fromkeys(REACHED, ACTIVE)
    async with sessions() as session:
        first = (
            await session.execute(
                select(Message.household_id, Message.channel, Message.text, Message.buttons)
                .where(Message.kind == SURVEY, Message.dedup_key.like(f"round{one.id}.ask.2:%"))
                .order_by(Message.household_id)
            )
        ).all()
        relay = await relays.lines(session, sources=[(SOURCE_ROUND, one.id)])
    assert [(h, ch) for h, ch, _t, _b in first] == [
        (town["H001"], "telegram"),
        (town["H002"], "sms"),
        (town["H003"], "zalo"),
        (town["H006"], "sms"),
    ]
    assert all(QUESTION in text for _h, _ch, text, _b in first)
    assert first[0][3] is not None  # Telegram shows buttons
    assert "1. Có  2. Không" in first[1][2]  # SMS numbers the choices
    assert [line.household_code for line in relay] == ["H004"]
    assert "Học nghề 2027" in relay[0].text

    again = await run(sessions, routing, t0)  # a second pass at the same moment
    assert again["Survey questions queued"] == 0
    assert again["Survey rounds started"] == 0

    await answer(sessions, "+84912000002", "2", t0 + timedelta(hours=1))
    replies = await answer(sessions, "+84912000002", "1", t0 + timedelta(hours=2))
    assert replies  # thanked
    assert (await statuses(sessions, one.id, town))["H002"] == COMPLETED

    assert (await run(sessions, routing, t0 + timedelta(hours=23)))["Survey reminders queued"] == 0
    day1 = await run(sessions, routing, t0 + timedelta(hours=24))
    assert day1["Survey reminders queued"] == 3
    assert await reminded(sessions, town) == {"H001": 1, "H003": 1, "H006": 1}
    assert (await run(sessions, routing, t0 + timedelta(hours=30)))["Survey reminders queued"] == 0
    assert (await run(sessions, routing, t0 + timedelta(hours=47)))["Survey reminders queued"] == 0
    assert (await run(sessions, routing, t0 + timedelta(hours=48)))["Survey reminders queued"] == 3
    assert await reminded(sessions, town) == {"H001": 2, "H003": 2, "H006": 2}
    assert (await run(sessions, routing, t0 + timedelta(hours=72)))["Survey reminders queued"] == 0
    assert (await run(sessions, routing, t0 + timedelta(hours=96)))["Survey reminders queued"] == 0
    async with sessions() as session:
        texts = dict(
            (
                await session.execute(
                    select(Message.dedup_key, Message.text).where(Message.kind == SURVEY_REMINDER)
                )
            ).all()
        )
        touched = await session.scalar(
            select(func.min(Conversation.updated_at)).where(Conversation.status == ACTIVE)
        )
    sms = texts[f"round{one.id}.remind2:{town['H006']}"]
    assert QUESTION in sms
    assert "1. Có  2. Không" in sms
    assert "Học nghề 2027" in sms
    assert "10:00" in sms
    assert "26/11/2026" in sms
    assert touched == t0 + timedelta(hours=48)  # a reminder restarts the silence

    deadline = t0 + timedelta(days=5)
    assert (await run(sessions, routing, deadline - timedelta(minutes=1)))[
        "Survey rounds closed"
    ] == 0
    closing = await run(sessions, routing, deadline)
    assert closing["Survey rounds closed"] == 1
    assert closing["No-answer follow-ups"] == 5
    assert await statuses(sessions, one.id, town) == {
        "H001": STOPPED,
        "H002": COMPLETED,
        "H003": STOPPED,
        "H006": STOPPED,
    }
    async with sessions() as session:
        items = (
            await session.execute(
                select(FollowUp.household_id, FollowUp.priority, FollowUp.note).where(
                    FollowUp.kind == "no_answer"
                )
            )
        ).all()
        closed = await session.scalar(select(SurveyRound.closed_at).where(SurveyRound.id == one.id))
        waiting = await session.scalar(
            select(func.count()).where(Message.source_id == one.id, Message.status == QUEUED)
        )
        withdrawn = await session.scalar(
            select(func.count()).where(Message.source_id == one.id, Message.status == CANCELLED)
        )
    codes = {v: k for k, v in town.items()}
    assert sorted(codes[h] for h, _p, _n in items) == ["H001", "H003", "H004", "H005", "H006"]
    assert {p for _h, p, _n in items} == {"normal"}
    assert all("Học nghề 2027" in note and "26/11/2026" in note for _h, _p, note in items)
    assert closed == deadline
    assert waiting == 0
    assert withdrawn  # nothing of a closed round goes out late

    after = await run(sessions, routing, deadline + timedelta(hours=1))
    assert after["No-answer follow-ups"] == 0
    assert after["Survey rounds closed"] == 0
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(FollowUp))
    assert count == 5


async def test_closing_again_after_an_interruption_opens_nothing_twice(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    one = await open_round(sessions, clock, audience="commune=29002")
    await run(sessions, routing, clock.now())
    deadline = clock.now() + timedelta(days=5)
    assert await rounds.close_round(sessions, one, now=deadline, zone=VN_ZONE) == 5
    async with sessions() as session, session.begin():  # as if the pass died before closing
        await session.execute(
            update(SurveyRound).where(SurveyRound.id == one.id).values(closed_at=None)
        )
    assert (await run(sessions, routing, deadline))["Survey rounds closed"] == 1
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(FollowUp))
    assert count == 5  # H001-H005: H006 lives in the other commune


async def test_a_household_busy_with_another_survey_is_asked_later(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    await load_built_in(sessions, "feedback", clock)
    async with sessions() as session, session.begin():
        assert await start_for(
            session,
            household_id=town["H002"],
            form_id="feedback",
            channels=routing.channels,
            order=routing.order,
            turn=Turn.at(clock.now(), VN_ZONE),
        )
    one = await open_round(sessions, clock)
    lines = await run(sessions, routing, clock.now())
    assert lines["Survey questions queued"] == 3
    assert "H002" not in await statuses(sessions, one.id, town)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Conversation).where(Conversation.round_id != one.id).values(status=EXPIRED)
        )
    later = await run(sessions, routing, clock.now() + timedelta(minutes=1))
    assert later["Survey questions queued"] == 1
    assert (await statuses(sessions, one.id, town))["H002"] == ACTIVE


async def test_a_large_round_is_asked_over_several_passes(
    sessions: Sessions,
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rounds, "PAGE", 2)
    monkeypatch.setattr(rounds, "START_PER_PASS", 2)
    one = await open_round(sessions, clock)
    asked = []
    for minute in range(4):
        lines = await run(sessions, routing, clock.now() + timedelta(minutes=minute))
        asked.append(
            (lines["Survey questions queued"], lines["Survey households on the relay list"])
        )
    assert asked == [(2, 0), (1, 1), (1, 0), (0, 0)]  # H005 opted out: never asked
    assert sorted(await statuses(sessions, one.id, town)) == list(REACHED)


async def test_no_reminders_when_the_round_allows_none_or_the_conversation_expired(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    one = await open_round(sessions, clock, reminders=0)
    t0 = clock.now()
    await run(sessions, routing, t0)
    assert (await run(sessions, routing, t0 + timedelta(hours=24)))["Survey reminders queued"] == 0
    async with sessions() as session, session.begin():
        await session.execute(
            update(SurveyRound).where(SurveyRound.id == one.id).values(max_reminders=2)
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.household_id == town["H001"])
            .values(status=EXPIRED)
        )
    lines = await run(sessions, routing, t0 + timedelta(hours=25))
    assert lines["Survey reminders queued"] == 3  # reminders are for running conversations only
    assert "H001" not in await reminded(sessions, town)


async def test_a_round_cannot_open_twice_nor_for_nobody_nor_in_the_past(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    await open_round(sessions, clock)
    now = clock.now()
    attempts: list[tuple[str, str, timedelta, int]] = [
        ("training", "all", timedelta(days=2), 2),  # a round of it is already open
        ("nope", "all", timedelta(days=2), 2),
        ("feedback", "followup=no_answer", timedelta(days=2), 2),
        ("feedback", "commune=99999", timedelta(days=2), 2),
        ("feedback", "all", timedelta(hours=-1), 2),
        ("feedback", "all", timedelta(days=2), 3),
    ]
    await load_built_in(sessions, "feedback", clock)
    for form_id, audience, ahead, reminders in attempts:
        async with sessions() as session:
            with pytest.raises(ValueError, match=r"\w") as raised:
                await rounds.plan(
                    session,
                    form_id=form_id,
                    audience=audience,
                    deadline=now + ahead,
                    reminders=reminders,
                    title=None,
                    now=now,
                    zone=VN_ZONE,
                )
            assert "\n" not in str(raised.value)  # one sentence
    async with sessions() as session:
        fine = await rounds.plan(
            session,
            form_id="feedback",
            audience="all",
            deadline=now + timedelta(hours=1),
            reminders=0,
            title=None,
            now=now,
            zone=VN_ZONE,
        )
    assert (fine.households, fine.reminders) == (6, 0)
    assert fine.title  # the survey's own title
