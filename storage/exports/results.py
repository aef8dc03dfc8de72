"""Survey results: one row per conversation, one column per question, as ODK exports them."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.exports.tables import Cell, local
from storage.models import Answer, Conversation, Household, Survey, SurveyVersion, Village

FIXED = [
    "household_code",
    "commune_code",
    "village",
    "channel",
    "started_at",
    "completed_at",
    "status",
]


async def result_rows(
    session: AsyncSession,
    *,
    form_id: str,
    questions: Sequence[str],
    zone: ZoneInfo,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[list[Cell]]:
    """Every conversation of the survey (complete or not), oldest first; WHERE adds
    conditions on the conversation and its household (the console's scope, round, commune)."""
    conversations = (
        await session.execute(
            select(
                Conversation.id,
                Household.code,
                Household.commune_code,
                Village.name,
                Conversation.channel,
                Conversation.started_at,
                Conversation.completed_at,
                Conversation.status,
            )
            .join(SurveyVersion, SurveyVersion.id == Conversation.version_id)
            .join(Survey, Survey.id == SurveyVersion.survey_id)
            .join(Household, Household.id == Conversation.household_id)
            .outerjoin(Village, Village.id == Household.village_id)
            .where(Survey.form_id == form_id, *where)
            .order_by(Conversation.id)
        )
    ).all()
    ids = [row[0] for row in conversations]
    values: dict[int, dict[str, str | None]] = {i: {} for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        answers = await session.execute(
            select(Answer.conversation_id, Answer.question, Answer.value).where(
                Answer.conversation_id.in_(chunk)
            )
        )
        for conversation_id, question, value in answers:
            values[conversation_id][question] = value
    return [
        [
            code,
            commune,
            village or "",
            channel,
            local(started, zone),
            local(completed, zone),
            status,
            *(values[cid].get(q) for q in questions),
        ]
        for cid, code, commune, village, channel, started, completed, status in conversations
    ]
