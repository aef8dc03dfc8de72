"""Events as the console and the API read them: always inside the user's scope.

An event belongs to its commune (`Event.commune_code`); an event without a commune is seen by
admins only, and a registrant list shows only the households the user may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.events import RegistrantLine, registrants_query
from storage.models import Commune, Event, EventRegistration, Household, Village
from storage.models.events import REGISTERED
from storage.scope import Scope


@dataclass(frozen=True)
class EventRow:
    """An event with its commune's name and how many households are on its list."""

    event: Event
    commune_name: str | None
    invited: int  # on the list at all (invited, registered or withdrawn)
    registered: int


@dataclass(frozen=True)
class Registrant:
    """A registered household, with its code for a link to the household's page."""

    line: RegistrantLine
    household_code: str


def _counts() -> Any:
    registered = func.sum(case((EventRegistration.status == REGISTERED, 1), else_=0))
    return (
        select(
            EventRegistration.event_id.label("event_id"),
            func.count().label("invited"),
            func.coalesce(registered, 0).label("registered"),
        )
        .group_by(EventRegistration.event_id)
        .subquery()
    )


def _events(scope: Scope) -> Any:
    counts = _counts()
    return (
        select(
            Event,
            Commune.name,
            func.coalesce(counts.c.invited, 0),
            func.coalesce(counts.c.registered, 0),
        )
        .outerjoin(Commune, Commune.code == Event.commune_code)
        .outerjoin(counts, counts.c.event_id == Event.id)
        .where(scope.where(Event.commune_code))
    )


async def list_events(
    session: AsyncSession,
    *,
    scope: Scope,
    starts_from: datetime | None = None,
    commune_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[EventRow], int]:
    """One page of the events the user may see, by start (from a moment on if asked), and how
    many there are in all."""
    query = _events(scope)
    total_query = select(func.count()).select_from(Event).where(scope.where(Event.commune_code))
    conditions = []
    if starts_from is not None:
        conditions.append(Event.starts_at >= starts_from)
    if commune_code is not None:
        conditions.append(Event.commune_code == commune_code)
    if conditions:
        query, total_query = query.where(*conditions), total_query.where(*conditions)
    rows = await session.execute(
        query.order_by(Event.starts_at, Event.id).offset(offset).limit(limit)
    )
    total = int(await session.scalar(total_query) or 0)
    return [EventRow(e, name, int(i), int(r)) for e, name, i, r in rows.all()], total


async def get_event(session: AsyncSession, *, scope: Scope, event_id: int) -> EventRow | None:
    """One event the user may see, or None (absent and outside the scope are the same)."""
    row = (await session.execute(_events(scope).where(Event.id == event_id))).first()
    if row is None:
        return None
    event, name, invited, registered = row
    return EventRow(event, name, int(invited), int(registered))


def _registrants(scope: Scope, event_id: int) -> Any:
    return registrants_query(event_id, scope.households())


async def registrants(
    session: AsyncSession,
    *,
    scope: Scope,
    event_id: int,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Registrant], int]:
    """The registered households the user may see, by commune, village and code (one page,
    or all without a limit), and how many there are."""
    query = _registrants(scope, event_id).order_by(Commune.name, Village.name, Household.code)
    if limit is not None:
        query = query.offset(offset).limit(limit)
    rows = (await session.execute(query)).all()
    count_query = select(func.count()).select_from(_registrants(scope, event_id).subquery())
    total = len(rows) if limit is None else int(await session.scalar(count_query) or 0)
    return [Registrant(RegistrantLine(*row), row[0]) for row in rows], total


async def village_communes(session: AsyncSession, *, codes: Sequence[str]) -> set[str | None]:
    """The communes of these village codes (None for a code no village has)."""
    if not codes:
        return set()
    query = select(Village.code, Village.commune_code).where(Village.code.in_(list(codes)))
    found = dict((await session.execute(query)).all())
    return {found.get(code) for code in codes}
