"""Reading the message log: what came in and went out, newest first, for `loa messages list`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, Message


@dataclass(frozen=True)
class LogLine:
    """One message as the log shows it; the household code is empty for a stranger."""

    id: int
    household_code: str | None
    channel: str
    direction: str
    kind: str
    status: str
    not_before: datetime | None
    text: str
    created_at: datetime


async def list_messages(
    session: AsyncSession,
    *,
    household_id: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
) -> list[LogLine]:
    """The newest LIMIT messages matching the filters, newest first."""
    query = (
        select(
            Message.id,
            Household.code,
            Message.channel,
            Message.direction,
            Message.kind,
            Message.status,
            Message.not_before,
            Message.text,
            Message.created_at,
        )
        .outerjoin(Household, Household.id == Message.household_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if household_id is not None:
        query = query.where(Message.household_id == household_id)
    if status:
        query = query.where(Message.status == status)
    if channel:
        query = query.where(Message.channel == channel)
    return [LogLine(*row) for row in await session.execute(query)]
