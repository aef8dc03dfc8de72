"""Conversations over the store: unknown numbers, restarts, versions, expiry, two phones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from handlers.dialogue import conversations
from handlers.dialogue.xlsform import load_form
from handlers.router import FREE_TEXT, UNKNOWN, Policy
from storage.db import create_engine, session_factory
from storage.models import Answer, Conversation, FollowUp, Message
from storage.models.surveys import ACTIVE, COMPLETED, EXPIRED
from tests.handlers.conftest import PHONE_A1, PHONE_A2, PHONE_B, phone, save_form
from tests.handlers.dialogue.forms import sheets, write_csv

pytestmark = pytest.mark.usefixtures("register")
SURVEY = [
    ("select_one yn", "loan", "Hộ có cần vay vốn không?", "", "yes", "", ""),
    ("integer", "people", "Hộ có mấy người?", "", "yes", "", ". > 0"),
    ("text", "wish", "Hộ mong muốn gì?", "", "", "", ""),
]
FOLLOWUPS = [("loan", "${loan} = 'yes'", "high", "Cần vay, ${people} người")]


async def _form(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp: Path, version: str = "1"
) -> None:
    survey = list(SURVEY)
    if version != "1":
        survey[1] = ("integer", "people", "Nhà mình có bao nhiêu người?", "", "yes", "", ". > 0")
    book = sheets(survey, settings=("ask", "Hỏi", version), followups=FOLLOWUPS)
    await save_form(sessions, load_form(write_csv(tmp / f"v{version}.csv", book)), clock)


async def test_an_unknown_number_is_told_whom_to_contact(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    stranger = phone(sessions, clock, "+84900000001")
    stranger.policy = Policy(help_contact="chị Lan, 0912 000 111")
    (reply,) = await stranger.say("xin chào")
    assert "chị Lan, 0912 000 111" in reply
    async with sessions() as session:
        logged = (await session.scalars(select(Message).order_by(Message.id))).all()
    assert [(m.direction, m.kind, m.household_id) for m in logged] == [
        ("in", UNKNOWN, None),
        ("out", "reply", None),
    ]


async def test_a_message_outside_a_survey_goes_to_the_inbox(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    (reply,) = await phone(sessions, clock, PHONE_B).say("Nhà tôi bị ngập")
    assert reply
    async with sessions() as session:
        inbound = await session.scalar(select(Message).where(Message.direction == "in"))
    assert inbound is not None
    assert inbound.kind == FREE_TEXT
    assert inbound.household_id


async def test_answers_and_followups_are_stored_for_the_household(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp_path: Path
) -> None:
    await _form(sessions, clock, tmp_path)
    household = phone(sessions, clock, PHONE_B)
    assert "1. Có  2. Không" in (await household.start("ask"))[0]
    await household.say("có")
    await household.say("4")
    said = await household.say("Được vay sớm")
    assert said  # thanked
    async with sessions() as session:
        answers = (await session.execute(select(Answer.question, Answer.value, Answer.raw))).all()
        followup = await session.scalar(select(FollowUp))
        conversation = await session.scalar(select(Conversation))
    assert sorted(answers) == [
        ("loan", "yes", "có"),
        ("people", "4", "4"),
        ("wish", "Được vay sớm", "Được vay sớm"),
    ]
    assert followup is not None
    assert (followup.kind, followup.priority, followup.status) == ("loan", "high", "open")
    assert followup.note == "Cần vay, 4 người"
    assert conversation is not None
    assert conversation.status == COMPLETED
    assert followup.conversation_id == conversation.id


async def test_a_restart_mid_conversation_resumes_at_the_next_message(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp_path: Path, store_url: str
) -> None:
    await _form(sessions, clock, tmp_path)
    await phone(sessions, clock, PHONE_B).start("ask")
    await phone(sessions, clock, PHONE_B).say("1")
    conversations._ENGINES.clear()  # a new process knows nothing
    engine = create_engine(store_url)
    try:
        again = phone(session_factory(engine), clock, PHONE_B)
        assert "Hộ mong muốn gì?" in (await again.say("5"))[0]
    finally:
        await engine.dispose()


async def test_a_new_version_mid_conversation(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp_path: Path
) -> None:
    await _form(sessions, clock, tmp_path)
    first = phone(sessions, clock, PHONE_B)
    await first.start("ask")
    await _form(sessions, clock, tmp_path, version="2")
    assert (await first.say("1"))[0] == "Hộ có mấy người?"  # finishes on the version it began
    second = phone(sessions, clock, PHONE_A1)
    await second.start("ask")
    assert (await second.say("1"))[0] == "Nhà mình có bao nhiêu người?"
    async with sessions() as session:
        versions = (
            await session.scalars(select(Conversation.version_id).order_by(Conversation.id))
        ).all()
    assert versions[0] != versions[1]


async def test_a_silent_conversation_expires(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp_path: Path
) -> None:
    await _form(sessions, clock, tmp_path)
    household = phone(sessions, clock, PHONE_B)
    await household.start("ask")
    clock.advance(timedelta(hours=71))
    assert "Hộ có mấy người?" in (await household.say("1"))[0]
    clock.advance(timedelta(hours=73))
    replies = await household.say("4")
    assert len(replies) == 2  # closed, and the message goes to the inbox
    async with sessions() as session:
        assert await session.scalar(select(Conversation.status)) == EXPIRED
    assert "1. Có" in (await household.start("ask"))[0]  # a new conversation may begin


async def test_second_phone_of_a_household_is_told_it_already_answered(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, tmp_path: Path
) -> None:
    await _form(sessions, clock, tmp_path)
    one, two = phone(sessions, clock, PHONE_A1), phone(sessions, clock, PHONE_A2)
    await one.start("ask")
    (busy,) = await two.start("ask")
    assert busy == "Hộ mình đang trả lời khảo sát này trên một số điện thoại khác."
    for text in ("2", "3", "bỏ qua"):
        await one.say(text)
    (done,) = await two.start("ask")
    assert done == "Hộ mình đã trả lời khảo sát này rồi. Cảm ơn bà con."
    async with sessions() as session:
        statuses = (await session.scalars(select(Conversation.status))).all()
    assert statuses == [COMPLETED]
    assert ACTIVE not in statuses
