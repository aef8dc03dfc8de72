"""Events in the store: the events themselves, invitations, registrations, reminders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commune,
    Contact,
    Event,
    EventRegistration,
    Household,
    Message,
    Village,
)
from storage.models import Relay as RelayRow
from storage.models.broadcasts import SOURCE_EVENT
from storage.models.events import INVITED, REGISTERED, WITHDRAWN
from storage.models.households import CONTACT_PHONE
from storage.models.messages import CANCELLED, EVENT_REMINDER, QUEUED

_REGISTRATIONS = cast(Table, EventRegistration.__table__)


@dataclass(frozen=True)
class Invitation:
    """A household's place on an event's list, with the event as a reply needs it."""

    event: Event
    household_id: int
    status: str  # invited, registered or withdrawn


@dataclass(frozen=True)
class EventLine:
    """An event in `loa event list`: what, when, where, and how many came forward."""

    event: Event
    invited: int  # on the list at all
    registered: int


@dataclass(frozen=True)
class RegistrantLine:
    """A registered household, as the registrant list prints it."""

    household_code: str
    head_name: str
    village: str
    commune: str
    phone: str | None  # the first phone of the register, E.164
    registered_at: datetime | None
    channel: str | None  # where the registration came from (staff: "staff")


async def invite(
    session: AsyncSession, *, event_id: int, household_ids: Sequence[int], now: datetime
) -> None:
    """Note that these households were told of the event; one already on its list stays."""
    if not household_ids:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        upsert(_REGISTRATIONS).on_conflict_do_nothing(index_elements=["event_id", "household_id"]),
        [
            {"event_id": event_id, "household_id": h, "status": INVITED, "invited_at": now}
            for h in household_ids
        ],
    )


async def add(session: AsyncSession, *, event: Event) -> int:
    """Store a new event; its id."""
    session.add(event)
    await session.flush()
    return event.id


async def get(session: AsyncSession, *, event_id: int) -> Event | None:
    """One event, or None."""
    return await session.get(Event, event_id)


async def commune_exists(session: AsyncSession, *, code: str) -> bool:
    """Whether a commune has this code."""
    return await session.get(Commune, code) is not None


async def change(session: AsyncSession, *, event_id: int, values: dict[str, Any]) -> None:
    """Write changed fields of an event."""
    await session.execute(update(Event).where(Event.id == event_id).values(**values))


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


async def list_events(
    session: AsyncSession, *, starts_from: datetime | None = None, commune_code: str | None = None
) -> list[EventLine]:
    """Events by start, with their list counts; from a moment on and in a commune if asked."""
    counts = _counts()
    query = (
        select(Event, func.coalesce(counts.c.invited, 0), func.coalesce(counts.c.registered, 0))
        .outerjoin(counts, counts.c.event_id == Event.id)
        .order_by(Event.starts_at, Event.id)
    )
    if starts_from is not None:
        query = query.where(Event.starts_at >= starts_from)
    if commune_code is not None:
        query = query.where(Event.commune_code == commune_code)
    rows = await session.execute(query)
    return [EventLine(e, int(i), int(r)) for e, i, r in rows.all()]


async def registered_count(session: AsyncSession, *, event_id: int) -> int:
    """How many households registered for the event."""
    query = select(func.count()).where(
        EventRegistration.event_id == event_id, EventRegistration.status == REGISTERED
    )
    return int(await session.scalar(query) or 0)


async def household_ids(
    session: AsyncSession, *, event_id: int, statuses: Sequence[str]
) -> list[int]:
    """The households on the event's list with one of these statuses, by id."""
    query = select(EventRegistration.household_id).where(
        EventRegistration.event_id == event_id, EventRegistration.status.in_(statuses)
    )
    return sorted(await session.scalars(query))


async def latest_invitation(
    session: AsyncSession, *, household_ids: Sequence[int], after: datetime
) -> Invitation | None:
    """The newest invitation of these households to an event starting after AFTER."""
    row = (
        await session.execute(
            select(Event, EventRegistration.household_id, EventRegistration.status)
            .join(Event, Event.id == EventRegistration.event_id)
            .where(EventRegistration.household_id.in_(household_ids), Event.starts_at > after)
            .order_by(EventRegistration.invited_at.desc(), Event.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Invitation(row[0], row[1], row[2])


async def register(
    session: AsyncSession,
    *,
    event_id: int,
    household_id: int,
    contact_id: int | None,
    channel: str,
    now: datetime,
) -> str | None:
    """Register a household (adding it to the list if need be); its status before, or None."""
    before = await session.scalar(
        select(EventRegistration.status).where(
            EventRegistration.event_id == event_id, EventRegistration.household_id == household_id
        )
    )
    if before == REGISTERED:
        return before
    values = {"status": REGISTERED, "registered_at": now, "contact_id": contact_id}
    if before is None:
        row = {"event_id": event_id, "household_id": household_id, "invited_at": now}
        await session.execute(_REGISTRATIONS.insert().values(**row, **values, channel=channel))
    else:
        await session.execute(
            update(EventRegistration)
            .where(
                EventRegistration.event_id == event_id,
                EventRegistration.household_id == household_id,
            )
            .values(**values, channel=channel)
        )
    return before


async def withdraw(session: AsyncSession, *, event_id: int, household_id: int) -> bool:
    """A registered household says it will not come; whether it was registered."""
    done = await session.execute(
        update(EventRegistration)
        .where(
            EventRegistration.event_id == event_id,
            EventRegistration.household_id == household_id,
            EventRegistration.status == REGISTERED,
        )
        .values(status=WITHDRAWN)
    )
    return bool(getattr(done, "rowcount", 0))


async def mark_quorum(session: AsyncSession, *, event_id: int, now: datetime) -> bool:
    """Note when the event reached its minimum size, once; whether it was noted now."""
    done = await session.execute(
        update(Event).where(Event.id == event_id, Event.quorum_at.is_(None)).values(quorum_at=now)
    )
    return bool(getattr(done, "rowcount", 0))


async def starting_between(
    session: AsyncSession, *, start: datetime, end: datetime, statuses: Sequence[str]
) -> list[Event]:
    """Events with one of these statuses starting in [start, end)."""
    query = select(Event).where(
        Event.starts_at >= start, Event.starts_at < end, Event.status.in_(statuses)
    )
    return list(await session.scalars(query.order_by(Event.starts_at, Event.id)))


async def existing_keys(session: AsyncSession, *, keys: Sequence[str]) -> set[str]:
    """Which of these de-duplication keys an outbox row already carries."""
    found: set[str] = set()
    for start in range(0, len(keys), 1000):  # keep the IN list small
        chunk = list(keys[start : start + 1000])
        query = select(Message.dedup_key).where(Message.dedup_key.in_(chunk))
        found |= {k for k in await session.scalars(query) if k is not None}
    return found


async def relayed(session: AsyncSession, *, event_id: int) -> set[int]:
    """The households already on the event's own relay list."""
    query = select(RelayRow.household_id).where(
        RelayRow.source_kind == SOURCE_EVENT, RelayRow.source_id == event_id
    )
    return set(await session.scalars(query))


async def cancel_reminders(session: AsyncSession, *, event_id: int, now: datetime) -> int:
    """Withdraw the event's reminders still waiting in the outbox; how many."""
    done = await session.execute(
        update(Message)
        .where(
            Message.source_kind == SOURCE_EVENT,
            Message.source_id == event_id,
            Message.kind == EVENT_REMINDER,
            Message.status == QUEUED,
        )
        .values(status=CANCELLED, updated_at=now)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def registrants_query(event_id: int, *where: ColumnElement[bool]) -> Select[Any]:
    """The registered households of an event (RegistrantLine's columns), with WHERE besides
    (the console adds the user's scope); unordered."""
    phone = (
        select(Contact.address)
        .where(Contact.household_id == Household.id, Contact.kind == CONTACT_PHONE)
        .order_by(Contact.position, Contact.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Household.code,
            Household.head_name,
            func.coalesce(Village.name, ""),
            Commune.name,
            phone,
            EventRegistration.registered_at,
            EventRegistration.channel,
        )
        .join(Household, Household.id == EventRegistration.household_id)
        .join(Commune, Commune.code == Household.commune_code)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(EventRegistration.event_id == event_id, EventRegistration.status == REGISTERED)
        .where(*where)
    )


async def registrants(session: AsyncSession, *, event_id: int) -> list[RegistrantLine]:
    """The registered households, by commune, village and code."""
    query = registrants_query(event_id).order_by(Commune.name, Village.name, Household.code)
    return [RegistrantLine(*row) for row in (await session.execute(query)).all()]
