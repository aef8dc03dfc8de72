"""Each built-in survey played through on a phone, with the follow-ups it should open."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from storage.models import Answer, Conversation, FollowUp
from storage.models.surveys import COMPLETED
from tests.handlers.conftest import PHONE_B, load_built_in, phone

PLAYS = {
    "needs": (
        ["1", "20 triệu", "1", "2", "1", "1", "1", "1", "1,2", "2"],
        ["loan", "job", "training", "visit"],
    ),
    "escape_poverty": (
        ["1", "1,2", "1", "10 triệu", "1", "2"],
        ["escape_poverty", "loan"],
    ),
    "training": (
        ["có", "1", "Nguyễn Văn Bình", "2", "3", "5", "1", "1", "1", "1"],
        ["training", "job"],
    ),
    "loan_use": (
        ["1", "1", "bỏ qua", "1", "3", "1,2", "2", "1", "2"],
        ["loan_difficulty"],
    ),
    "health_card": (
        ["2", "2", "1", "2", "1", "Sai năm sinh của vợ", "1"],
        ["health_insurance", "health_insurance"],
    ),
    "feedback": (
        ["2", "Thiếu 5 kg gạo", "2", "2", "Phát đúng giờ", "1"],
        ["support_problem", "feedback", "feedback"],
    ),
}


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize("form_id", sorted(PLAYS))
async def test_built_in_survey_plays_through(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, form_id: str
) -> None:
    form = await load_built_in(sessions, form_id, clock)
    replies, kinds = PLAYS[form_id]
    household = phone(sessions, clock, PHONE_B)
    said = await household.start(form_id)
    assert said[0] == form.questions[0].label  # the greeting note comes first
    for text in replies:
        said = await household.say(text)
        assert said, text
    assert said[-1] == form.questions[-1].label  # the closing note comes last
    async with sessions() as session:
        status = await session.scalar(select(Conversation.status))
        found = (await session.scalars(select(FollowUp.kind).order_by(FollowUp.id))).all()
        answered = (await session.scalars(select(Answer.question))).all()
    assert status == COMPLETED
    assert sorted(found) == sorted(kinds)
    assert len(answered) >= len(replies) - 1
