"""Conversations and answers: the engine's state between two messages, and what it recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Contact, Conversation, Household, SurveyVersion
from storage.models.households import CONTACT_PHONE
from storage.models.surveys import ACTIVE, CLEARED, COMPLETED, EXPIRED

_ANSWERS = cast(Table, Answer.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_NOT_STORED = {"id", "version_hash", "survey_id"}  # ConversationRow fields read by a join


@dataclass(frozen=True)
class ContactRef:
    """A contact and the household it belongs to."""

    contact_id: int
    household_id: int
    household_code: str
    head_name: str
    commune_code: str
    address: str
    kind: str = CONTACT_PHONE
    basis: str | None = None  # None: registered itself and has not agreed yet
    opted_out: bool = False


@dataclass
class ConversationRow:
    """A conversation as stored: which survey version, whose, and where it stands."""

    id: int
    round_id: int
    version_id: int
    household_id: int
    contact_id: int
    channel: str
    status: str
    position: int
    misses: int
    trail: list[int]
    answers: dict[str, Any]
    updated_at: datetime
    version_hash: str  # the form version's content hash: a key for cached engines
    survey_id: int


@dataclass(frozen=True)
class AnswerRow:
    """One answer to write; status `cleared` deletes it."""

    question: str
    value: str | None
    raw: str | None
    status: str


def _contact_query() -> Any:
    return select(
        Contact.id,
        Household.id,
        Household.code,
        Household.head_name,
        Household.commune_code,
        Contact.address,
        Contact.kind,
        Contact.basis,
        Contact.opted_out_at.is_not(None),
    ).join(Household, Household.id == Contact.household_id)


async def contacts_for(
    session: AsyncSession, *, addresses: Sequence[str], kind: str = CONTACT_PHONE
) -> dict[str, list[ContactRef]]:
    """The household contacts of each address of a kind (a shared phone has several)."""
    found: dict[str, list[ContactRef]] = {}
    rows = await session.execute(
        _contact_query()
        .where(Contact.kind == kind, Contact.address.in_(addresses))
        .order_by(Household.code)
    )
    for row in rows:
        ref = ContactRef(*row)
        found.setdefault(ref.address, []).append(ref)
    return found


STATE_COLUMNS = (  # a conversation's state, as the engine resumes it
    Conversation.id,
    Conversation.round_id,
    Conversation.version_id,
    Conversation.household_id,
    Conversation.contact_id,
    Conversation.channel,
    Conversation.status,
    Conversation.position,
    Conversation.misses,
    Conversation.trail,
    Conversation.answers,
    Conversation.updated_at,
    SurveyVersion.content_hash,
    SurveyVersion.survey_id,
)


async def active_conversations(
    session: AsyncSession, *, contact_ids: Sequence[int]
) -> dict[int, ConversationRow]:
    """The active conversation of each of these contacts that has one, by contact id."""
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(*STATE_COLUMNS)
        .join(SurveyVersion, SurveyVersion.id == Conversation.version_id)
        .where(Conversation.contact_id.in_(contact_ids), Conversation.status == ACTIVE)
    )
    return {row.contact_id: ConversationRow(*row) for row in rows}


async def round_conversations(
    session: AsyncSession, *, round_id: int, household_id: int
) -> list[tuple[int, str]]:
    """(contact id, status) of every conversation of a household in a round."""
    rows = await session.execute(
        select(Conversation.contact_id, Conversation.status).where(
            Conversation.round_id == round_id, Conversation.household_id == household_id
        )
    )
    return [(contact_id, status) for contact_id, status in rows]


async def create_conversation(
    session: AsyncSession,
    *,
    round_id: int,
    version_id: int,
    version_hash: str,
    survey_id: int,
    contact: ContactRef,
    channel: str,
    now: datetime,
) -> ConversationRow:
    """A new active conversation, before its first question."""
    row = ConversationRow(
        id=0,
        round_id=round_id,
        version_id=version_id,
        household_id=contact.household_id,
        contact_id=contact.contact_id,
        channel=channel,
        status=ACTIVE,
        position=-1,
        misses=0,
        trail=[],
        answers={},
        updated_at=now,
        version_hash=version_hash,
        survey_id=survey_id,
    )
    values = {k: v for k, v in asdict(row).items() if k not in _NOT_STORED}
    new_id = await session.scalar(
        insert(_CONVERSATIONS).values({**values, "started_at": now}).returning(_CONVERSATIONS.c.id)
    )
    assert new_id is not None
    row.id = new_id
    return row


async def save_conversations(
    session: AsyncSession, rows: Sequence[ConversationRow], *, now: datetime
) -> None:
    """Store where each conversation stands now (one statement for all of them)."""
    if not rows:
        return
    params = [
        {
            "b_id": row.id,
            "b_status": row.status,
            "b_position": row.position,
            "b_misses": row.misses,
            "b_trail": row.trail,
            "b_answers": row.answers,
            "b_updated_at": now,
            "b_completed_at": now if row.status == COMPLETED else None,
        }
        for row in rows
    ]
    columns = _CONVERSATIONS.c
    await session.execute(
        update(_CONVERSATIONS)
        .where(columns.id == bindparam("b_id"))
        .values(
            {
                name: bindparam(f"b_{name}", type_=columns[name].type)
                for name in ("status", "position", "misses", "trail", "answers", "updated_at")
            }
            | {
                "completed_at": func.coalesce(
                    columns.completed_at,
                    bindparam("b_completed_at", type_=columns.completed_at.type),
                )
            }
        ),
        params,
    )
    for row in rows:
        row.updated_at = now


async def write_answers(
    session: AsyncSession,
    answers: Sequence[tuple[ConversationRow, AnswerRow]],
    *,
    now: datetime,
) -> None:
    """Record answers (a second answer to the same question replaces the first)."""
    cleared = [{"b_id": row.id, "b_q": a.question} for row, a in answers if a.status == CLEARED]
    if cleared:
        columns = _ANSWERS.c
        await session.execute(
            delete(_ANSWERS).where(
                columns.conversation_id == bindparam("b_id"), columns.question == bindparam("b_q")
            ),
            cleared,
        )
    params = [
        {
            "conversation_id": row.id,
            "household_id": row.household_id,
            "contact_id": row.contact_id,
            "question": answer.question,
            "value": answer.value,
            "raw": answer.raw,
            "status": answer.status,
            "answered_at": now,
        }
        for row, answer in answers
        if answer.status != CLEARED
    ]
    if not params:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(_ANSWERS)
    statement = statement.on_conflict_do_update(
        index_elements=["conversation_id", "question"],
        set_={k: statement.excluded[k] for k in ("value", "raw", "status", "answered_at")},
    )
    await session.execute(statement, params)


async def expire_idle(session: AsyncSession, *, idle_since: datetime, now: datetime) -> int:
    """Mark active conversations with no message since IDLE_SINCE expired; how many."""
    result = await session.execute(
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.status == ACTIVE, _CONVERSATIONS.c.updated_at < idle_since)
        .values(status=EXPIRED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
