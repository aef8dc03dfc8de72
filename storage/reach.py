"""Reachability: which contacts a channel cannot reach, and every route to a household."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Contact, Unreachable

_UNREACHABLE = cast(Table, Unreachable.__table__)
_CONTACTS = cast(Table, Contact.__table__)


async def set_unreachable(
    session: AsyncSession,
    items: Sequence[tuple[int, str, str, str]],
    *,
    now: datetime,
) -> None:
    """Mark contacts unreachable on channels: (contact id, channel, reason, detail) each."""
    if not items:
        return
    keys = {(c, ch) for c, ch, _r, _d in items}
    await session.execute(
        delete(_UNREACHABLE).where(
            or_(
                *(
                    and_(_UNREACHABLE.c.contact_id == c, _UNREACHABLE.c.channel == ch)
                    for c, ch in keys
                )
            )
        )
    )
    latest = {(c, ch): (r, d) for c, ch, r, d in items}
    await session.execute(
        insert(_UNREACHABLE),
        [
            {"contact_id": c, "channel": ch, "reason": r, "detail": d, "since": now}
            for (c, ch), (r, d) in latest.items()
        ],
    )


async def clear_unreachable(
    session: AsyncSession, *, contact_ids: Sequence[int], channel: str
) -> None:
    """The contacts wrote again on a channel: they are reachable there."""
    if contact_ids:
        await session.execute(
            delete(_UNREACHABLE).where(
                _UNREACHABLE.c.contact_id.in_(contact_ids), _UNREACHABLE.c.channel == channel
            )
        )


async def unreachable_channels(
    session: AsyncSession, *, contact_ids: Iterable[int]
) -> dict[int, set[str]]:
    """The channels each contact cannot be reached on."""
    ids = list(set(contact_ids))
    if not ids:
        return {}
    u = _UNREACHABLE.c
    rows = await session.execute(select(u.contact_id, u.channel).where(u.contact_id.in_(ids)))
    found: dict[int, set[str]] = {}
    for contact_id, channel in rows.all():
        found.setdefault(contact_id, set()).add(channel)
    return found


# slots, not frozen: a broadcast makes one per contact of 100,000 households
@dataclass(slots=True)
class Route:
    """One of a household's contacts that a channel could use."""

    contact_id: int
    kind: str
    address: str
    opted_out: bool
    position: int


async def household_routes(
    session: AsyncSession, *, household_ids: Iterable[int]
) -> dict[int, list[Route]]:
    """Every contact of each household, phones in their order, chats after."""
    ids = list(set(household_ids))
    if not ids:
        return {}
    c = _CONTACTS.c  # the table, not the entity: no ORM row processing for 100,000 rows
    rows = await session.execute(
        select(c.household_id, c.id, c.kind, c.address, c.opted_out_at.is_not(None), c.position)
        .where(c.household_id.in_(ids), c.shared.is_(False))
        .order_by(c.household_id, c.position, c.id)
    )
    found: dict[int, list[Route]] = {}
    for household_id, contact_id, kind, address, opted_out, position in rows.all():
        route = Route(contact_id, kind, address, bool(opted_out), position)
        found.setdefault(household_id, []).append(route)
    return found
