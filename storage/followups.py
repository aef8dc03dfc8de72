"""Follow-up items: opening them from survey outcomes, listing them for the commune."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FollowUp, Household, Village
from storage.models.followups import OPEN

_FOLLOWUPS = cast(Table, FollowUp.__table__)


@dataclass(frozen=True)
class NewFollowUp:
    """A follow-up to open for a household, and the survey answers it came from."""

    household_id: int
    kind: str
    priority: str
    note: str
    survey_id: int | None = None
    conversation_id: int | None = None
    question: str | None = None
    dedup_key: str | None = None  # a second item with the same key is not opened


@dataclass(frozen=True)
class FollowUpLine:
    """A line of the follow-up list, as `loa followups list` shows and exports it."""

    id: int
    household_code: str
    head_name: str
    commune_code: str
    village: str
    kind: str
    priority: str
    status: str
    note: str
    created_at: datetime


async def open_followups(
    session: AsyncSession, items: Sequence[NewFollowUp], *, now: datetime
) -> None:
    """Open follow-up items, status `open`; one whose de-duplication key exists is left out."""
    if items:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            upsert(_FOLLOWUPS).on_conflict_do_nothing(index_elements=["dedup_key"]),
            [
                {
                    "household_id": item.household_id,
                    "kind": item.kind,
                    "priority": item.priority,
                    "status": OPEN,
                    "note": item.note,
                    "survey_id": item.survey_id,
                    "conversation_id": item.conversation_id,
                    "question": item.question,
                    "dedup_key": item.dedup_key,
                    "created_at": now,
                    "updated_at": now,
                }
                for item in items
            ],
        )


async def list_followups(
    session: AsyncSession,
    *,
    commune_code: str | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> list[FollowUpLine]:
    """Follow-ups, newest first within each commune and village, filtered as asked."""
    query = (
        select(
            FollowUp.id,
            Household.code,
            Household.head_name,
            Household.commune_code,
            Village.name,
            FollowUp.kind,
            FollowUp.priority,
            FollowUp.status,
            FollowUp.note,
            FollowUp.created_at,
        )
        .join(Household, Household.id == FollowUp.household_id)
        .outerjoin(Village, Village.id == Household.village_id)
        .order_by(Household.commune_code, Village.name, FollowUp.id)
    )
    if commune_code:
        query = query.where(Household.commune_code == commune_code)
    if kind:
        query = query.where(FollowUp.kind == kind)
    if status:
        query = query.where(FollowUp.status == status)
    rows = await session.execute(query)
    return [
        FollowUpLine(i, code, head, commune, village or "", kind, priority, status, note, at)
        for i, code, head, commune, village, kind, priority, status, note, at in rows
    ]
