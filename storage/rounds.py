"""Survey rounds sent to an audience: opening one, who is still to be asked, reminded, chased.

Every reading here is one keyset page (`after` an id, `limit` rows) so the scheduler can work
through a round of 100,000 households in short transactions, writing between pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.audiences import Audience, conditions
from storage.conversations import STATE_COLUMNS, ConversationRow
from storage.models import (
    Contact,
    Conversation,
    Household,
    Message,
    Relay,
    Survey,
    SurveyRound,
    SurveyVersion,
)
from storage.models.broadcasts import SOURCE_ROUND
from storage.models.messages import CANCELLED, QUEUED, SURVEY_REMINDER
from storage.models.surveys import ACTIVE, COMPLETED, STOPPED


@dataclass(frozen=True)
class RoundRow:
    """A survey round as the scheduler works with it."""

    id: int
    survey_id: int
    form_id: str
    title: str
    audience: str | None  # None: households asked one by one (`loa survey start --household`)
    deadline: datetime | None
    max_reminders: int
    opened_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Silent:
    """A round conversation waiting for its household, and the reminders it already had."""

    conversation: ConversationRow
    address: str
    reminders: int


def _round_query() -> Any:
    return select(
        SurveyRound.id,
        SurveyRound.survey_id,
        Survey.form_id,
        SurveyRound.title,
        SurveyRound.audience,
        SurveyRound.deadline,
        SurveyRound.max_reminders,
        SurveyRound.opened_at,
        SurveyRound.closed_at,
    ).join(Survey, Survey.id == SurveyRound.survey_id)


async def create_round(
    session: AsyncSession,
    *,
    survey_id: int,
    title: str,
    audience: str,
    deadline: datetime,
    max_reminders: int,
    actor: audit.Actor,
    now: datetime,
) -> RoundRow:
    """Open a round of a survey for an audience, until a deadline (audited)."""
    new = SurveyRound(
        survey_id=survey_id,
        title=title,
        opened_at=now,
        audience=audience,
        deadline=deadline,
        max_reminders=max_reminders,
        created_by=actor.name,
    )
    session.add(new)
    await session.flush()
    changes = {"audience": [None, audience], "deadline": [None, deadline.isoformat()]}
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="survey_rounds",
        key=str(new.id),
        changes=changes,
    )
    found = await get_round(session, round_id=new.id)
    assert found is not None
    return found


async def get_round(session: AsyncSession, *, round_id: int) -> RoundRow | None:
    """A round by its id."""
    row = (await session.execute(_round_query().where(SurveyRound.id == round_id))).first()
    return None if row is None else RoundRow(*row)


async def running(session: AsyncSession) -> list[RoundRow]:
    """The rounds sent to an audience that are not closed yet, oldest first."""
    rows = await session.execute(
        _round_query()
        .where(SurveyRound.audience.is_not(None), SurveyRound.closed_at.is_(None))
        .order_by(SurveyRound.id)
    )
    return [RoundRow(*row) for row in rows]


async def running_for(session: AsyncSession, *, survey_id: int) -> RoundRow | None:
    """The survey's audience round still open, if there is one."""
    rows = [r for r in await running(session) if r.survey_id == survey_id]
    return rows[0] if rows else None


def _has_conversation(round_id: int) -> ColumnElement[bool]:
    return exists().where(
        Conversation.round_id == round_id, Conversation.household_id == Household.id
    )


def _on_relay_list(round_id: int) -> ColumnElement[bool]:
    return exists().where(
        Relay.source_kind == SOURCE_ROUND,
        Relay.source_id == round_id,
        Relay.household_id == Household.id,
    )


def _in_audience(audience: Audience, today: date) -> ColumnElement[bool]:
    found = conditions(audience, today=today)
    return and_(*found) if found else true()


async def not_started(
    session: AsyncSession,
    *,
    round_id: int,
    audience: Audience,
    today: date,
    after: int,
    limit: int,
) -> list[int]:
    """Households of the audience not asked yet in the round: no conversation, no relay line."""
    query = (
        select(Household.id)
        .where(
            _in_audience(audience, today),
            Household.id > after,
            ~_has_conversation(round_id),
            ~_on_relay_list(round_id),
        )
        .order_by(Household.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def never_completed(
    session: AsyncSession,
    *,
    round_id: int,
    audience: Audience,
    today: date,
    after: int,
    limit: int,
) -> list[int]:
    """Households of the round (its audience, or asked in it) that did not complete it."""
    completed = exists().where(
        Conversation.round_id == round_id,
        Conversation.household_id == Household.id,
        Conversation.status == COMPLETED,
    )
    belongs = or_(
        _in_audience(audience, today), _has_conversation(round_id), _on_relay_list(round_id)
    )
    query = (
        select(Household.id)
        .where(belongs, ~completed, Household.id > after)
        .order_by(Household.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def silent(
    session: AsyncSession,
    *,
    round_id: int,
    idle_since: datetime,
    max_reminders: int,
    after: int,
    limit: int,
) -> list[Silent]:
    """Active round conversations with no message since IDLE_SINCE and reminders left."""
    sent = (
        select(func.count())
        .where(
            Message.household_id == Conversation.household_id,
            Message.source_kind == SOURCE_ROUND,
            Message.source_id == round_id,
            Message.kind == SURVEY_REMINDER,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(*STATE_COLUMNS, Contact.address, sent)
        .join(SurveyVersion, SurveyVersion.id == Conversation.version_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(
            Conversation.round_id == round_id,
            Conversation.status == ACTIVE,
            Conversation.updated_at <= idle_since,
            Conversation.id > after,
            sent < max_reminders,
        )
        .order_by(Conversation.id)
        .limit(limit)
    )
    return [Silent(ConversationRow(*row[:-2]), row[-2], int(row[-1])) for row in rows]


async def touch(session: AsyncSession, *, conversation_ids: Sequence[int], now: datetime) -> None:
    """A reminder asked the question again: the conversations' silence starts over."""
    if conversation_ids:
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(conversation_ids), Conversation.status == ACTIVE)
            .values(updated_at=now)
        )


async def stop_active(session: AsyncSession, *, round_id: int, now: datetime) -> int:
    """Stop the round's conversations still running (its deadline passed); how many."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.round_id == round_id, Conversation.status == ACTIVE)
        .values(status=STOPPED, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_queued(session: AsyncSession, *, round_id: int, now: datetime) -> int:
    """Withdraw the round's questions and reminders not sent yet; how many."""
    result = await session.execute(
        update(Message)
        .where(
            Message.source_kind == SOURCE_ROUND,
            Message.source_id == round_id,
            Message.status == QUEUED,
        )
        .values(status=CANCELLED, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def close(session: AsyncSession, *, round_id: int, now: datetime) -> None:
    """Mark the round closed (a closed round is never reopened)."""
    await session.execute(
        update(SurveyRound)
        .where(SurveyRound.id == round_id, SurveyRound.closed_at.is_(None))
        .values(closed_at=now)
    )
