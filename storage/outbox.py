"""The outbox: claiming due rows under a lease, writing what became of them, reachability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    CONTACT_PHONE,
    Commune,
    Contact,
    Conversation,
    Event,
    Household,
    Instalment,
    Message,
    Unreachable,
)
from storage.models.broadcasts import SOURCE_EVENT, SOURCE_INSTALMENT, SOURCE_ROUND
from storage.models.events import CANCELLED as EVENT_CANCELLED
from storage.models.messages import (
    EVENT_REMINDER,
    FAILED,
    INBOUND,
    OUTBOUND,
    QUEUED,
    SENDING,
    SENT,
    STATUSES,
    SURVEY_REMINDER,
)
from storage.models.surveys import COMPLETED

_MESSAGES = cast(Table, Message.__table__)
_UNREACHABLE = cast(Table, Unreachable.__table__)
LOST_TWICE = "lease expired twice: not sent again"
PAID = "no longer needed: the instalment has been paid"
ANSWERED = "no longer needed: the household has answered"
CALLED_OFF = "no longer needed: the event is cancelled"


@dataclass
class Claimed:
    """A claimed outbox row with what the sender needs to know of its contact."""

    id: int
    channel: str
    address: str
    household_id: int | None
    contact_id: int | None
    kind: str
    text: str
    buttons: list[dict[str, Any]] | None
    data: dict[str, Any] | None
    priority: int
    dedup_key: str | None
    possible_duplicate: bool
    errors: int
    opted_out: bool
    basis: str | None
    introduced: bool
    last_seen_at: datetime | None
    phone: str | None
    commune_name: str | None
    blocked: str | None = None  # the contact is marked unreachable on this channel: why
    source_kind: str | None = None
    source_id: int | None = None
    stale: str | None = None  # no longer needed (the instalment was paid...): why


@dataclass
class Outcome:
    """What became of one claimed row; every field is written back."""

    id: int
    status: str
    text: str
    not_before: datetime | None = None
    errors: int = 0
    last_error: str | None = None
    provider_id: str | None = None
    segments: int | None = None
    sent_at: datetime | None = None
    data: dict[str, Any] | None = None
    unreachable: str | None = None  # why the contact cannot be reached here (not a column)


def outcome(row: Claimed, status: str, **changes: Any) -> Outcome:
    """An outcome for a claimed row that keeps what it does not change."""
    kept: dict[str, Any] = {"text": row.text, "errors": row.errors, "data": row.data}
    return Outcome(id=row.id, status=status, **{**kept, **changes})


def _claim_query(channel: str, now: datetime, limit: int) -> Any:
    due = or_(Message.not_before.is_(None), Message.not_before <= now)
    return (
        select(Message.id)
        .where(Message.status == QUEUED, Message.channel == channel, due)
        .order_by(Message.priority, Message.id)
        .limit(limit)
    )


async def claim(
    session: AsyncSession, *, channel: str, now: datetime, limit: int, lease_until: datetime
) -> list[Claimed]:
    """Take up to `limit` due rows of a channel, most urgent first, marking them `sending`."""
    query = _claim_query(channel, now, limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list((await session.scalars(query)).all())
    if not ids:
        return []
    await session.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id.in_(ids))
        .values(status=SENDING, lease_until=lease_until, attempts=_MESSAGES.c.attempts + 1)
    )
    return await _rows(session, ids)


def _phone_of(contact: Any) -> Any:
    return case((contact.kind == CONTACT_PHONE, contact.address), else_=None)


async def finish(session: AsyncSession, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """Write back what became of claimed rows, in one statement."""
    if not outcomes:
        return
    columns = (
        *("status", "text", "not_before", "errors", "last_error", "provider_id"),
        *("segments", "sent_at", "data"),
    )
    values: dict[str, Any] = {
        name: bindparam(f"b_{name}", type_=_MESSAGES.c[name].type) for name in columns
    }
    # A delivery report can arrive before the sender writes "sent": it is newer news.
    values["status"] = case(
        (_MESSAGES.c.status == SENDING, values["status"]), else_=_MESSAGES.c.status
    )
    await session.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id == bindparam("b_id"))
        .values(**values, lease_until=None, updated_at=now),
        [{"b_id": o.id, **{f"b_{name}": getattr(o, name) for name in columns}} for o in outcomes],
    )


async def recover(session: AsyncSession, *, channel: str, now: datetime) -> tuple[int, int]:
    """Rows left `sending` past their lease: send once more, flagged; a second time, fail."""
    expired = and_(
        _MESSAGES.c.channel == channel,
        _MESSAGES.c.status == SENDING,
        _MESSAGES.c.lease_until < now,
    )
    failed = await session.execute(
        update(_MESSAGES)
        .where(expired, _MESSAGES.c.possible_duplicate.is_(True))
        .values(status=FAILED, last_error=LOST_TWICE, lease_until=None, updated_at=now)
    )
    again = await session.execute(
        update(_MESSAGES)
        .where(expired)
        .values(status=QUEUED, possible_duplicate=True, lease_until=None, updated_at=now)
    )
    return cast(Any, again).rowcount or 0, cast(Any, failed).rowcount or 0


async def release(session: AsyncSession, *, ids: Sequence[int], now: datetime) -> None:
    """Give claimed rows back to the queue untouched (a sender stopping)."""
    if ids:
        await session.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id.in_(ids), _MESSAGES.c.status == SENDING)
            .values(status=QUEUED, lease_until=None, updated_at=now)
        )


async def sent_today(
    session: AsyncSession,
    *,
    household_ids: Iterable[int],
    since: datetime,
    max_priority: int,
    besides: Sequence[int] = (),
) -> dict[int, int]:
    """Non-urgent messages each household has been sent since the start of its day, or that
    are being sent now (other than the rows `besides`, which the caller counts itself)."""
    ids = list(set(household_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Message.household_id, func.count())
        .where(
            Message.household_id.in_(ids),
            Message.direction == OUTBOUND,
            _sent_or_sending(since, besides),
            Message.priority > max_priority,
        )
        .group_by(Message.household_id)
    )
    return {int(h): int(n) for h, n in rows.all() if h is not None}


async def repeats(
    session: AsyncSession,
    *,
    addresses: Iterable[str],
    since: datetime,
    besides: Sequence[int] = (),
) -> dict[tuple[str, str], int]:
    """How often each text went (or is going) to each address since a moment (loop breaker)."""
    wanted = list(set(addresses))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Message.address, Message.text, func.count())
        .where(
            Message.address.in_(wanted),
            Message.direction == OUTBOUND,
            _sent_or_sending(since, besides),
        )
        .group_by(Message.address, Message.text)
    )
    return {(a, t): int(n) for a, t, n in rows.all()}


def _sent_or_sending(since: datetime, besides: Sequence[int]) -> Any:
    """Sent since a moment, or claimed by a batch still going out (not the rows `besides`)."""
    sending = and_(Message.status == SENDING, Message.id.not_in(besides))
    return or_(Message.sent_at >= since, sending)


async def mark_introduced(
    session: AsyncSession, *, contact_ids: Sequence[int], now: datetime
) -> None:
    """The register basis's first message has said who is writing."""
    if contact_ids:
        await session.execute(
            update(Contact).where(Contact.id.in_(contact_ids)).values(introduced_at=now)
        )


async def receipts(
    session: AsyncSession,
    *,
    channel: str,
    updates: Sequence[tuple[int | None, str | None, str, str]],
    now: datetime,
) -> list[Claimed]:
    """Apply delivery reports (message id, provider id, status, detail); the rows they name."""
    touched: list[int] = []
    for message_id, provider_id, status, detail in updates:
        if status not in STATUSES:
            continue
        where = [_MESSAGES.c.channel == channel, _MESSAGES.c.direction == OUTBOUND]
        if message_id is not None:
            where.append(_MESSAGES.c.id == message_id)
        elif provider_id:
            where.append(_MESSAGES.c.provider_id == provider_id)
        else:
            continue
        # A late "delivered" never undoes "read"; a report never revives a cancelled row.
        where.append(_MESSAGES.c.status.in_([SENT, SENDING, "delivered"]))
        result = await session.execute(
            update(_MESSAGES)
            .where(*where)
            .values(status=status, last_error=detail or _MESSAGES.c.last_error, updated_at=now)
            .returning(_MESSAGES.c.id)
        )
        touched += [row[0] for row in result.all()]
    if not touched:
        return []
    return await _rows(session, touched)


def _last_inbound() -> Any:
    """When the address last wrote on the channel (a sender the register does not know yet)."""
    earlier = aliased(Message)
    return (
        select(func.max(earlier.created_at))
        .where(
            earlier.channel == Message.channel,
            earlier.address == Message.address,
            earlier.direction == INBOUND,
        )
        .scalar_subquery()
    )


def _blocked() -> Any:
    """Why the contact cannot be reached on the message's channel, if it cannot."""
    return (
        select(Unreachable.reason)
        .where(Unreachable.contact_id == Message.contact_id, Unreachable.channel == Message.channel)
        .scalar_subquery()
    )


def _stale() -> Any:
    """Why a reminder is no longer needed: paid, answered, or its event cancelled."""
    paid = exists().where(Instalment.id == Message.source_id, Instalment.paid_on.is_not(None))
    answered = exists().where(
        Conversation.round_id == Message.source_id,
        Conversation.household_id == Message.household_id,
        Conversation.status == COMPLETED,
    )
    called_off = exists().where(Event.id == Message.source_id, Event.status == EVENT_CANCELLED)
    about = Message.source_kind
    return case(
        (and_(about == SOURCE_INSTALMENT, paid), PAID),
        (and_(about == SOURCE_ROUND, Message.kind == SURVEY_REMINDER, answered), ANSWERED),
        (and_(about == SOURCE_EVENT, Message.kind == EVENT_REMINDER, called_off), CALLED_OFF),
        else_=None,
    )


async def _rows(session: AsyncSession, ids: Sequence[int]) -> list[Claimed]:
    rows = await session.execute(
        select(
            Message.id,
            Message.channel,
            Message.address,
            Message.household_id,
            Message.contact_id,
            Message.kind,
            Message.text,
            Message.buttons,
            Message.data,
            Message.priority,
            Message.dedup_key,
            Message.possible_duplicate,
            Message.errors,
            Contact.opted_out_at.is_not(None),
            Contact.basis,
            Contact.introduced_at.is_not(None),
            func.coalesce(Contact.last_seen_at, _last_inbound()),
            func.coalesce(Contact.phone, _phone_of(Contact)),
            Commune.name,
            _blocked(),
            Message.source_kind,
            Message.source_id,
            _stale(),
        )
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Household, Household.id == Message.household_id)
        .outerjoin(Commune, Commune.code == Household.commune_code)
        .where(Message.id.in_(ids))
        .order_by(Message.priority, Message.id)
    )
    return [Claimed(*row) for row in rows]
