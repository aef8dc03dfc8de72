"""The message log: inbound messages as received, outbound ones queued for their channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Message
from storage.models.messages import DELIVERED, INBOUND, OUTBOUND, QUEUED, RECEIVED

_MESSAGES = cast(Table, Message.__table__)


@dataclass(frozen=True)
class Party:
    """Who a message is from or to: channel and address, and the household if known."""

    channel: str
    address: str
    household_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class Outbound:
    """An outbound message to queue."""

    text: str
    kind: str
    buttons: list[dict[str, Any]] | None = None
    conversation_id: int | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A queued outbound message, as a channel takes it."""

    id: int
    text: str
    buttons: list[dict[str, Any]] | None
    created_at: datetime


def _row(party: Party, now: datetime) -> dict[str, Any]:
    return {
        "channel": party.channel,
        "address": party.address,
        "household_id": party.household_id,
        "contact_id": party.contact_id,
        "created_at": now,
        "updated_at": now,
    }


async def log_inbound(
    session: AsyncSession, messages: Sequence[tuple[Party, str, str]], *, now: datetime
) -> None:
    """Keep inbound messages: (from whom, text, kind) each."""
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
                }
                for party, text, kind in messages
            ],
        )


async def queue(
    session: AsyncSession, messages: Sequence[tuple[Party, Outbound]], *, now: datetime
) -> None:
    """Queue outbound messages, in order, each for its party's channel."""
    if messages:
        await session.execute(
            insert(_MESSAGES),
            [
                {
                    **_row(party, now),
                    "direction": OUTBOUND,
                    "status": QUEUED,
                    "kind": m.kind,
                    "text": m.text,
                    "buttons": m.buttons,
                    "conversation_id": m.conversation_id,
                }
                for party, m in messages
            ],
        )


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
