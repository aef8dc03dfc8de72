"""Broadcasts as the console and the API see them: limited to a user's communes, paged,
counted; the places an audience builder offers; a draft rewritten or submitted.

A broadcast is visible when every commune its audience spans is in the user's scope (admins:
all). The communes are a JSON list on the row, read with the backend's JSON table function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, exists, func, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.broadcasts import BroadcastRow, NewBroadcast
from storage.models import Broadcast, Message, Village
from storage.models.broadcasts import DRAFT, SOURCE_BROADCAST
from storage.scope import Scope, communes_in

_BROADCASTS = cast(Table, Broadcast.__table__)
_COLUMNS = [getattr(Broadcast, name) for name in BroadcastRow.__dataclass_fields__]


@dataclass(frozen=True, slots=True)
class Place:
    """A commune or a village the audience builder offers."""

    code: str
    name: str
    commune_code: str


def _row(values: Sequence[Any]) -> BroadcastRow:
    return BroadcastRow(*values)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def visible(session: AsyncSession, scope: Scope) -> ColumnElement[bool]:
    """A condition keeping broadcasts whose communes all lie in the scope."""
    if scope.communes is None:
        return true()
    codes = sorted(scope.communes)
    if _dialect(session) == "postgresql":
        items = func.json_array_elements_text(Broadcast.communes).table_valued("value")
    else:
        items = func.json_each(Broadcast.communes).table_valued("value")
    outside = exists(select(literal(1)).select_from(items).where(items.c.value.not_in(codes)))
    spans = func.json_array_length(Broadcast.communes) > 0
    return spans & ~outside


async def page(
    session: AsyncSession,
    *,
    scope: Scope,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[BroadcastRow], int]:
    """One page of the visible broadcasts, newest first, and how many there are in all."""
    where = [visible(session, scope)]
    if status is not None:
        where.append(Broadcast.status == status)
    total = await session.scalar(select(func.count()).select_from(Broadcast).where(*where))
    query = select(*_COLUMNS).where(*where).order_by(Broadcast.id.desc())
    rows = await session.execute(query.offset(offset).limit(limit))
    return [_row(r) for r in rows], int(total or 0)


async def status_counts(session: AsyncSession, *, scope: Scope) -> dict[str, int]:
    """The visible broadcasts counted by status."""
    query = (
        select(Broadcast.status, func.count())
        .where(visible(session, scope))
        .group_by(Broadcast.status)
    )
    return {status: int(n) for status, n in await session.execute(query)}


async def find(session: AsyncSession, *, scope: Scope, broadcast_id: int) -> BroadcastRow | None:
    """One broadcast if it exists and is visible, else None."""
    query = select(*_COLUMNS).where(Broadcast.id == broadcast_id, visible(session, scope))
    found = (await session.execute(query)).first()
    return _row(found) if found else None


async def message_counts(
    session: AsyncSession, *, broadcast_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Each broadcast's messages by status (broadcasts without messages are left out)."""
    if not broadcast_ids:
        return {}
    query = (
        select(Message.source_id, Message.status, func.count())
        .where(Message.source_kind == SOURCE_BROADCAST, Message.source_id.in_(broadcast_ids))
        .group_by(Message.source_id, Message.status)
    )
    found: dict[int, dict[str, int]] = {}
    for source_id, status, n in await session.execute(query):
        found.setdefault(int(source_id or 0), {})[status] = int(n)
    return found


async def communes(session: AsyncSession, *, scope: Scope) -> list[Place]:
    """The communes in the scope, by code."""
    found = await communes_in(session, scope=scope, by_code=True)
    return [Place(code, name, code) for code, name in found]


async def villages(session: AsyncSession, *, scope: Scope, limit: int = 500) -> list[Place]:
    """The villages in the scope, by commune and code (at most `limit`)."""
    query = (
        select(Village.code, Village.name, Village.commune_code)
        .where(scope.where(Village.commune_code))
        .order_by(Village.commune_code, Village.code)
        .limit(limit)
    )
    return [Place(*r) for r in await session.execute(query)]


async def villages_outside(
    session: AsyncSession, *, scope: Scope, codes: Sequence[str]
) -> list[str]:
    """The codes among these whose village lies outside the scope (unknown codes: not
    reported here; the audience check names them)."""
    if scope.communes is None or not codes:
        return []
    query = select(Village.code).where(
        Village.code.in_(list(codes)), ~scope.where(Village.commune_code)
    )
    return sorted(await session.scalars(query))


async def rewrite_draft(
    session: AsyncSession, *, broadcast_id: int, new: NewBroadcast, now: datetime
) -> bool:
    """Replace a draft's fields (and status: a submitted draft leaves `draft`); False when
    the broadcast is no longer a draft."""
    values: dict[str, Any] = {**asdict(new), "updated_at": now}
    values.pop("created_by")
    result = await session.execute(
        update(_BROADCASTS)
        .where(_BROADCASTS.c.id == broadcast_id, _BROADCASTS.c.status == DRAFT)
        .values(values)
    )
    return cast(int, getattr(result, "rowcount", 0) or 0) == 1
