"""Broadcasts in the store: creating, reading, status changes and progress by message status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Broadcast, Commune, Event, Message, Relay, StaffUser
from storage.models.broadcasts import (
    CANCELLED,
    DONE,
    DRAFT,
    PENDING_APPROVAL,
    SCHEDULED,
    SENDING,
    SOURCE_BROADCAST,
)
from storage.models.messages import CANCELLED as MESSAGE_CANCELLED
from storage.models.messages import QUEUED
from storage.models.messages import SENDING as MESSAGE_SENDING

_BROADCASTS = cast(Table, Broadcast.__table__)
_MESSAGES = cast(Table, Message.__table__)
CANCELLABLE = (DRAFT, PENDING_APPROVAL, SCHEDULED, SENDING)


@dataclass(frozen=True)
class NewBroadcast:
    """A broadcast to store, as the submission checked it."""

    title: str
    text: str
    sms_text: str | None
    audience: str
    channel_order: list[str] | None
    send_at: datetime
    urgent: bool
    status: str
    event_id: int | None
    households: int
    communes: list[str]
    needs_approval: bool
    created_by: str


@dataclass(frozen=True)
class BroadcastRow:
    """A stored broadcast, detached from the session (safe across commits)."""

    id: int
    title: str
    text: str
    sms_text: str | None
    audience: str
    channel_order: list[str] | None
    send_at: datetime
    urgent: bool
    status: str
    event_id: int | None
    households: int
    communes: list[str]
    needs_approval: bool
    created_by: str
    approved_by: str | None
    approved_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    queued_at: datetime | None
    done_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Progress:
    """A broadcast's messages by status, and its relay list."""

    statuses: dict[str, int] = field(default_factory=dict)
    relayed: int = 0
    relays_delivered: int = 0

    def count(self, status: str) -> int:
        """Messages in a status (0 when none)."""
        return self.statuses.get(status, 0)


@dataclass(frozen=True)
class Approver:
    """A staff user as approval sees them: role, whether active, the communes they cover."""

    username: str
    role: str
    active: bool
    covered: frozenset[str]


_COLUMNS = [getattr(Broadcast, name) for name in BroadcastRow.__dataclass_fields__]


def _row(values: Sequence[Any]) -> BroadcastRow:
    return BroadcastRow(*values)


async def create(session: AsyncSession, *, new: NewBroadcast, now: datetime) -> int:
    """Store a broadcast; its id."""
    values = {**asdict(new), "created_at": now, "updated_at": now}
    result = await session.execute(insert(_BROADCASTS).values(values).returning(_BROADCASTS.c.id))
    return int(result.scalar_one())


async def get(session: AsyncSession, *, broadcast_id: int) -> BroadcastRow | None:
    """One broadcast, or None."""
    found = (await session.execute(select(*_COLUMNS).where(Broadcast.id == broadcast_id))).first()
    return _row(found) if found else None


async def list_broadcasts(
    session: AsyncSession, *, status: str | None = None, limit: int = 200
) -> list[BroadcastRow]:
    """Broadcasts, the newest first, optionally in one status."""
    query = select(*_COLUMNS).order_by(Broadcast.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Broadcast.status == status)
    return [_row(r) for r in await session.execute(query)]


async def for_event(session: AsyncSession, *, event_id: int) -> list[int]:
    """The ids of the broadcasts about an event."""
    query = select(Broadcast.id).where(Broadcast.event_id == event_id).order_by(Broadcast.id)
    return list(await session.scalars(query))


async def due(session: AsyncSession, *, now: datetime) -> list[BroadcastRow]:
    """Broadcasts to queue: scheduled and due, or left half-queued by an interrupted pass."""
    query = (
        select(*_COLUMNS)
        .where(
            or_(
                (Broadcast.status == SCHEDULED) & (Broadcast.send_at <= now),
                (Broadcast.status == SENDING) & Broadcast.queued_at.is_(None),
            )
        )
        .order_by(Broadcast.send_at, Broadcast.id)
    )
    return [_row(r) for r in await session.execute(query)]


async def _set(
    session: AsyncSession, broadcast_id: int, statuses: Sequence[str], **values: Any
) -> bool:
    """Change a broadcast only if it is in one of `statuses`; whether it changed."""
    result = await session.execute(
        update(_BROADCASTS)
        .where(_BROADCASTS.c.id == broadcast_id, _BROADCASTS.c.status.in_(statuses))
        .values(**values)
    )
    return cast(int, getattr(result, "rowcount", 0) or 0) == 1


async def start_sending(session: AsyncSession, *, broadcast_id: int, now: datetime) -> bool:
    """scheduled -> sending; False if another pass (or a cancel) got there first."""
    return await _set(session, broadcast_id, (SCHEDULED,), status=SENDING, updated_at=now)


async def status_for_update(session: AsyncSession, *, broadcast_id: int) -> str | None:
    """The broadcast's status, its row locked until the transaction ends (PostgreSQL), so a
    cancel waits for the batch being queued and then cancels it too."""
    query = select(Broadcast.status).where(Broadcast.id == broadcast_id).with_for_update()
    return cast(str | None, await session.scalar(query))


async def mark_queued(session: AsyncSession, *, broadcast_id: int, now: datetime) -> bool:
    """Every message of a sending broadcast is queued."""
    return await _set(session, broadcast_id, (SENDING,), queued_at=now, updated_at=now)


async def finish_done(session: AsyncSession, *, now: datetime) -> int:
    """Sending broadcasts fully queued with nothing left queued or sending -> done; how many."""
    left = exists().where(
        _MESSAGES.c.source_kind == SOURCE_BROADCAST,
        _MESSAGES.c.source_id == _BROADCASTS.c.id,
        _MESSAGES.c.status.in_((QUEUED, MESSAGE_SENDING)),
    )
    result = await session.execute(
        update(_BROADCASTS)
        .where(_BROADCASTS.c.status == SENDING, _BROADCASTS.c.queued_at.is_not(None), ~left)
        .values(status=DONE, done_at=now, updated_at=now)
    )
    return cast(int, getattr(result, "rowcount", 0) or 0)


async def approve(session: AsyncSession, *, broadcast_id: int, by: str, now: datetime) -> bool:
    """pending_approval -> scheduled, recording who approved; False if it was not pending."""
    return await _set(
        session,
        broadcast_id,
        (PENDING_APPROVAL,),
        status=SCHEDULED,
        approved_by=by,
        approved_at=now,
        updated_at=now,
    )


async def cancel(session: AsyncSession, *, broadcast_id: int, by: str, now: datetime) -> int | None:
    """Cancel the broadcast and its still-queued messages; how many messages (None: it could
    not be cancelled any more)."""
    changed = await _set(
        session,
        broadcast_id,
        CANCELLABLE,
        status=CANCELLED,
        cancelled_by=by,
        cancelled_at=now,
        updated_at=now,
    )
    if not changed:
        return None
    result = await session.execute(
        update(_MESSAGES)
        .where(
            _MESSAGES.c.source_kind == SOURCE_BROADCAST,
            _MESSAGES.c.source_id == broadcast_id,
            _MESSAGES.c.status == QUEUED,
        )
        .values(status=MESSAGE_CANCELLED, updated_at=now)
    )
    return cast(int, getattr(result, "rowcount", 0) or 0)


async def progress(session: AsyncSession, *, broadcast_id: int) -> Progress:
    """The broadcast's messages counted by status, and its relays (all and delivered)."""
    rows = await session.execute(
        select(Message.status, func.count())
        .where(Message.source_kind == SOURCE_BROADCAST, Message.source_id == broadcast_id)
        .group_by(Message.status)
    )
    relays = (
        await session.execute(
            select(func.count(), func.count(Relay.delivered_at)).where(
                Relay.source_kind == SOURCE_BROADCAST, Relay.source_id == broadcast_id
            )
        )
    ).one()
    return Progress({s: int(n) for s, n in rows}, int(relays[0]), int(relays[1]))


async def approver(
    session: AsyncSession, *, username: str, communes: Sequence[str]
) -> Approver | None:
    """The staff user and which of these communes their areas cover (admins: all); None if
    there is no such user."""
    user = await session.scalar(
        select(StaffUser)
        .where(StaffUser.username == username)
        .options(selectinload(StaffUser.areas))
    )
    if user is None:
        return None
    if user.role == "admin":
        return Approver(user.username, user.role, user.active, frozenset(communes))
    by_level: dict[str, list[str]] = {"province": [], "district": [], "commune": []}
    for area in user.areas:
        by_level.setdefault(area.level, []).append(area.code)
    covered = await session.scalars(
        select(Commune.code).where(
            Commune.code.in_(list(communes)),
            or_(
                Commune.code.in_(by_level["commune"]),
                Commune.district_code.in_(by_level["district"]),
                Commune.province_code.in_(by_level["province"]),
            ),
        )
    )
    return Approver(user.username, user.role, user.active, frozenset(covered))


@dataclass(frozen=True)
class EventFacts:
    """What a broadcast about an event fills its placeholders with."""

    id: int
    title: str
    starts_at: datetime
    place: str
    register_by: date | None
    status: str


async def event_facts(session: AsyncSession, *, event_id: int) -> EventFacts | None:
    """The event a broadcast is about, or None."""
    found = (
        await session.execute(
            select(
                Event.id, Event.title, Event.starts_at, Event.place, Event.register_by, Event.status
            ).where(Event.id == event_id)
        )
    ).first()
    return EventFacts(*found) if found else None
