"""One household as its console page and the API show it: register, contacts, work, loans, events.

Every function takes a household id the caller found inside the user's scope
(`storage.console_households.household_id`); nothing here widens what a user may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    Commune,
    Contact,
    Conversation,
    Event,
    EventRegistration,
    FollowUp,
    Household,
    HouseholdDeprivation,
    Instalment,
    Loan,
    StaffUser,
    Survey,
    SurveyRound,
    SurveyVersion,
    Unreachable,
    Village,
)


@dataclass(frozen=True, slots=True)
class Register:
    """What the register holds about the household."""

    household: Household
    commune_name: str
    village_name: str | None
    deprivations: list[str]  # indicator codes


@dataclass(frozen=True, slots=True)
class ContactLine:
    """A contact with its consent and the channels that cannot reach it."""

    contact: Contact
    unreachable: dict[str, str]  # channel -> reason


@dataclass(frozen=True, slots=True)
class FollowUpLine:
    id: int
    kind: str
    priority: str
    status: str
    assignee: str | None
    due_on: date | None
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoanLine:
    """A loan with its instalments, by due date."""

    loan: Loan
    instalments: list[Instalment] = field(default_factory=list)

    def outstanding(self) -> int:
        """Principal and interest of the instalments not paid yet (VND)."""
        return sum(i.principal + i.interest for i in self.instalments if i.paid_on is None)

    def overdue(self, today: date) -> int:
        """How many instalments are past due and unpaid."""
        return sum(1 for i in self.instalments if i.paid_on is None and i.due_on < today)

    def next_due(self) -> date | None:
        """The first unpaid instalment's due date."""
        return min((i.due_on for i in self.instalments if i.paid_on is None), default=None)


@dataclass(frozen=True, slots=True)
class EventLine:
    event_id: int
    title: str
    kind: str
    event_status: str
    starts_at: datetime
    place: str
    status: str  # the household's: invited, registered, withdrawn
    registered_at: datetime | None
    channel: str | None


@dataclass(frozen=True, slots=True)
class AnswerLine:
    question: str
    value: str | None
    raw: str | None
    status: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationLine:
    """A survey conversation with its answers, and the form version to read them by."""

    id: int
    form_id: str
    title: str  # the version's title
    round_title: str
    channel: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    definition: dict[str, Any]
    answers: list[AnswerLine] = field(default_factory=list)


async def register(session: AsyncSession, *, household_id: int) -> Register:
    """The household, its commune, village and deprivation indicators."""
    household, commune, village = (
        await session.execute(
            select(Household, Commune.name, Village.name)
            .join(Commune, Commune.code == Household.commune_code)
            .outerjoin(Village, Village.id == Household.village_id)
            .where(Household.id == household_id)
        )
    ).one()
    indicators = await session.scalars(
        select(HouseholdDeprivation.indicator)
        .where(HouseholdDeprivation.household_id == household_id)
        .order_by(HouseholdDeprivation.indicator)
    )
    return Register(household, commune, village, list(indicators))


async def contacts(session: AsyncSession, *, household_id: int) -> list[ContactLine]:
    """The household's contacts, phones first in their order, with unreachable channels."""
    found = list(
        await session.scalars(
            select(Contact)
            .where(Contact.household_id == household_id)
            .order_by(Contact.position, Contact.id)
        )
    )
    blocked: dict[int, dict[str, str]] = {}
    if found:
        rows = await session.execute(
            select(Unreachable.contact_id, Unreachable.channel, Unreachable.reason).where(
                Unreachable.contact_id.in_([c.id for c in found])
            )
        )
        for contact_id, channel, reason in rows:
            blocked.setdefault(contact_id, {})[channel] = reason
    return [ContactLine(c, blocked.get(c.id, {})) for c in found]


async def followups(session: AsyncSession, *, household_id: int) -> list[FollowUpLine]:
    """The household's follow-ups, newest first."""
    rows = await session.execute(
        select(
            FollowUp.id,
            FollowUp.kind,
            FollowUp.priority,
            FollowUp.status,
            StaffUser.username,
            FollowUp.due_on,
            FollowUp.note,
            FollowUp.created_at,
        )
        .outerjoin(StaffUser, StaffUser.id == FollowUp.assignee_id)
        .where(FollowUp.household_id == household_id)
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
    )
    return [FollowUpLine(*row) for row in rows]


async def loans(session: AsyncSession, *, household_id: int) -> list[LoanLine]:
    """The household's loans, newest first, each with its instalments by due date."""
    found = list(
        await session.scalars(
            select(Loan)
            .where(Loan.household_id == household_id)
            .order_by(Loan.disbursed_on.desc(), Loan.id.desc())
        )
    )
    lines = {loan.id: LoanLine(loan) for loan in found}
    if lines:
        for instalment in await session.scalars(
            select(Instalment)
            .where(Instalment.loan_id.in_(list(lines)))
            .order_by(Instalment.due_on, Instalment.id)
        ):
            lines[instalment.loan_id].instalments.append(instalment)
    return list(lines.values())


async def events(session: AsyncSession, *, household_id: int) -> list[EventLine]:
    """The events the household was invited to or registered for, latest first."""
    rows = await session.execute(
        select(
            Event.id,
            Event.title,
            Event.kind,
            Event.status,
            Event.starts_at,
            Event.place,
            EventRegistration.status,
            EventRegistration.registered_at,
            EventRegistration.channel,
        )
        .join(Event, Event.id == EventRegistration.event_id)
        .where(EventRegistration.household_id == household_id)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    return [EventLine(*row) for row in rows]


async def conversations(session: AsyncSession, *, household_id: int) -> list[ConversationLine]:
    """The household's survey conversations, newest first, with their answers."""
    rows = await session.execute(
        select(
            Conversation.id,
            Survey.form_id,
            SurveyVersion.title,
            SurveyRound.title,
            Conversation.channel,
            Conversation.status,
            Conversation.started_at,
            Conversation.completed_at,
            SurveyVersion.definition,
        )
        .join(SurveyVersion, SurveyVersion.id == Conversation.version_id)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .join(SurveyRound, SurveyRound.id == Conversation.round_id)
        .where(Conversation.household_id == household_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
    )
    lines = {row[0]: ConversationLine(*row) for row in rows}
    if lines:
        answers = await session.execute(
            select(
                Answer.conversation_id,
                Answer.question,
                Answer.value,
                Answer.raw,
                Answer.status,
                Answer.answered_at,
            )
            .where(Answer.household_id == household_id)
            .order_by(Answer.answered_at, Answer.id)
        )
        for conversation_id, question, value, raw, status, at in answers:
            if conversation_id in lines:
                lines[conversation_id].answers.append(AnswerLine(question, value, raw, status, at))
    return list(lines.values())
