"""The message log: inbound messages as received, outbound ones queued for their channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_many
from storage.models import Message
from storage.models.messages import (
    CONFIRM,
    DELIVERED,
    INBOUND,
    NORMAL,
    OUTBOUND,
    QUEUED,
    RECEIVED,
    REPLY,
    URGENT,
)

_MESSAGES = cast(Table, Message.__table__)
_NULLABLE = (
    *("buttons", "conversation_id", "data", "not_before", "contact_id", "household_id"),
    *("source_kind", "source_id"),
)


@dataclass(slots=True)  # not frozen: made once per message, 100,000 for a broadcast
class Party:
    """Who a message is from or to: channel and address, and the household if known."""

    channel: str
    address: str
    household_id: int | None = None
    contact_id: int | None = None


@dataclass(slots=True)  # not frozen: as Party
class Outbound:
    """An outbound message to queue."""

    text: str
    kind: str
    buttons: list[dict[str, Any]] | None = None
    conversation_id: int | None = None
    priority: int | None = None  # None: by kind (replies first, then the rest)
    dedup_key: str | None = None  # a second row with the same key is not queued
    data: dict[str, Any] | None = None
    not_before: datetime | None = None
    source_kind: str | None = None  # what it is about: a broadcast, an event, an instalment...
    source_id: int | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A queued outbound message, as a channel takes it."""

    id: int
    text: str
    buttons: list[dict[str, Any]] | None
    created_at: datetime


def priority_of(message: Outbound) -> int:
    """Replies to a person go first, then reminders and questions; bulk last."""
    if message.priority is not None:
        return message.priority
    return URGENT if message.kind in (REPLY, CONFIRM) else NORMAL


def _row(party: Party, now: datetime) -> dict[str, Any]:
    return {
        "channel": party.channel,
        "address": party.address,
        "household_id": party.household_id,
        "contact_id": party.contact_id,
        "created_at": now,
        "updated_at": now,
    }


def inbound_key(channel: str, provider_id: str) -> str:
    """The de-duplication key of an inbound message: its provider's id on its channel."""
    return f"in:{channel}:{provider_id}"


async def seen(session: AsyncSession, *, channel: str, provider_ids: Sequence[str]) -> set[str]:
    """Which of these provider ids were already received on the channel."""
    if not provider_ids:
        return set()
    keys = {inbound_key(channel, p): p for p in provider_ids}
    found = await session.scalars(
        select(_MESSAGES.c.dedup_key).where(_MESSAGES.c.dedup_key.in_(list(keys)))
    )
    return {keys[k] for k in found.all() if k is not None}


async def log_inbound(
    session: AsyncSession,
    messages: Sequence[tuple[Party, str, str, str | None]],
    *,
    now: datetime,
) -> None:
    """Keep inbound messages: (from whom, text, kind, provider id) each."""
    if messages:
        await session.execute(
            insert(_MESSAGES),
            [
                {
                    **_row(party, now),
                    "direction": INBOUND,
                    "kind": kind,
                    "text": text,
                    "status": RECEIVED,
                    "buttons": None,
                    "conversation_id": None,
                    "provider_id": provider_id,
                    "dedup_key": provider_id and inbound_key(party.channel, provider_id),
                }
                for party, text, kind, provider_id in messages
            ],
        )


async def queue(
    session: AsyncSession, messages: Sequence[tuple[Party, Outbound]], *, now: datetime
) -> None:
    """Queue outbound messages, in order; one whose de-duplication key exists is left out."""
    if messages:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        rows = [
            {
                **_row(party, now),
                "direction": OUTBOUND,
                "status": QUEUED,
                "kind": m.kind,
                "text": m.text,
                "buttons": m.buttons,
                "conversation_id": m.conversation_id,
                "priority": priority_of(m),
                "dedup_key": m.dedup_key,
                "data": m.data,
                "not_before": m.not_before,
                "source_kind": m.source_kind,
                "source_id": m.source_id,
            }
            for party, m in messages
        ]
        await insert_many(
            session,
            upsert(_MESSAGES).on_conflict_do_nothing(index_elements=["dedup_key"]),
            _without_empty(rows),
        )


def _without_empty(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out the columns no row fills (they are NULL anyway): a broadcast of 100,000
    rows then binds and converts a third fewer values."""
    empty = [key for key in _NULLABLE if all(row[key] is None for row in rows)]
    if empty:
        for row in rows:
            for key in empty:
                del row[key]
    return rows


async def take_queued(
    session: AsyncSession, *, channel: str, address: str, now: datetime
) -> list[QueuedMessage]:
    """The queued messages for one address, oldest first, marked delivered as they are taken."""
    rows = (
        await session.execute(
            select(_MESSAGES.c.id, _MESSAGES.c.text, _MESSAGES.c.buttons, _MESSAGES.c.created_at)
            .where(
                _MESSAGES.c.channel == channel,
                _MESSAGES.c.address == address,
                _MESSAGES.c.status == QUEUED,
            )
            .order_by(_MESSAGES.c.id)
        )
    ).all()
    if rows:
        await session.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id.in_([r.id for r in rows]))
            .values(status=DELIVERED, updated_at=now)
        )
    return [QueuedMessage(*row) for row in rows]
