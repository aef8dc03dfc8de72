"""The message log as the console and the API read it: a household's timeline, the scope's log.

Newest first by id: ids grow as rows are written, so the primary key orders the log without
sorting a million rows. A message with no household (a stranger's) is visible to admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, Message
from storage.scope import Scope

# A scope of this many communes or fewer holds a small share of the log: its page is read
# through the households' index and sorted (`id + 0` keeps the planner from walking the whole
# log backwards by primary key, which PostgreSQL prefers and regrets when the scope is small).
FEW_COMMUNES = 30


@dataclass(frozen=True, slots=True)
class MessageLine:
    """One message in or out."""

    id: int
    household_code: str | None
    direction: str
    channel: str
    address: str
    kind: str
    status: str
    text: str
    created_at: datetime
    not_before: datetime | None
    sent_at: datetime | None
    last_error: str | None


_COLUMNS = (
    Message.id,
    Household.code,
    Message.direction,
    Message.channel,
    Message.address,
    Message.kind,
    Message.status,
    Message.text,
    Message.created_at,
    Message.not_before,
    Message.sent_at,
    Message.last_error,
)


async def _page(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    by_households: bool = False,
) -> tuple[list[MessageLine], int]:
    total = await session.scalar(select(func.count()).select_from(Message).where(*where))
    query = (
        select(*_COLUMNS)
        .outerjoin(Household, Household.id == Message.household_id)
        .where(*where)
        .order_by((Message.id + 0).desc() if by_households else Message.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = await session.execute(query)
    return [MessageLine(*tuple(row)) for row in rows], int(total or 0)


async def timeline(
    session: AsyncSession, *, household_id: int, limit: int, offset: int
) -> tuple[list[MessageLine], int]:
    """A page of the household's messages in and out, newest first, and how many in all."""
    return await _page(session, [Message.household_id == household_id], limit=limit, offset=offset)


async def in_scope(
    session: AsyncSession,
    *,
    scope: Scope,
    direction: str | None = None,
    since: datetime | None = None,
    household_id: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[MessageLine], int]:
    """A page of the messages the scope may see, newest first, and how many in all."""
    where: list[ColumnElement[bool]] = []
    few = scope.communes is not None and len(scope.communes) <= FEW_COMMUNES
    if household_id is not None:
        where.append(Message.household_id == household_id)
    elif not scope.everything:
        where.append(Message.household_id.in_(select(Household.id).where(scope.households())))
    if direction:
        where.append(Message.direction == direction)
    if since is not None:
        where.append(Message.created_at >= since)
    by_households = few and household_id is None
    return await _page(session, where, limit=limit, offset=offset, by_households=by_households)
