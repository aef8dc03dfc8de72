"""Handing a message over: a contact unreachable on one channel gets it on the next one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from storage import messages, reach
from storage.messages import Outbound, Party
from storage.outbox import Claimed
from storage.reach import Route

TEXTS = "texts"  # data key: {"chat": ..., "sms": ...} when the SMS text is written apart


def next_route(
    routes: Sequence[Route],
    *,
    tried: Sequence[str],
    order: Sequence[str],
    channels: Mapping[str, Channel],
    unreachable: Mapping[int, set[str]],
) -> tuple[str, Route] | None:
    """The household's most preferred channel not yet tried, with a contact it can reach."""
    for name in order:
        channel = channels.get(name)
        if name in tried or channel is None or channel.capabilities.pull:
            continue
        kind = channel.capabilities.contact_kind
        for route in routes:
            blocked = name in unreachable.get(route.contact_id, set())
            if route.kind == kind and not route.opted_out and not blocked:
                return name, route
    return None


def first_route(
    routes: Sequence[Route],
    *,
    order: Sequence[str],
    channels: Mapping[str, Channel],
    unreachable: Mapping[int, set[str]],
) -> tuple[str, Route] | None:
    """Where a new message to the household goes: its most preferred channel, or else a pull
    channel (the console) for a contact of its kind, so a demo without providers still works."""
    found = next_route(routes, tried=(), order=order, channels=channels, unreachable=unreachable)
    if found is not None:
        return found
    for name, channel in channels.items():
        kind = channel.capabilities.contact_kind
        if channel.capabilities.pull:
            for route in routes:
                if route.kind == kind and not route.opted_out:
                    return name, route
    return None


def text_for(channel: Channel, text: str, data: Mapping[str, Any] | None) -> str:
    """The text for this channel: a message written twice (chat and SMS) has both in its data."""
    texts = (data or {}).get(TEXTS)
    if not texts:
        return text
    return str(texts["sms"] if channel.capabilities.sms else texts["chat"])


async def handover(
    session: AsyncSession,
    lost: Sequence[tuple[Claimed, str]],
    *,
    channel: str,
    order: Sequence[str],
    channels: Mapping[str, Channel],
    now: datetime,
) -> int:
    """Mark each contact unreachable here and queue its message on the next channel."""
    if not lost:
        return 0
    await reach.set_unreachable(
        session,
        [(row.contact_id, channel, reason, "") for row, reason in lost if row.contact_id],
        now=now,
    )
    households = [row.household_id for row, _ in lost if row.household_id]
    routes = await reach.household_routes(session, household_ids=households)
    contact_ids = [r.contact_id for rs in routes.values() for r in rs]
    unreachable = await reach.unreachable_channels(session, contact_ids=contact_ids)
    queued: list[tuple[Party, Outbound]] = []
    for row, _reason in lost:
        if row.household_id is None:
            continue
        tried = [*(row.data or {}).get("tried", []), channel]
        found = next_route(
            routes.get(row.household_id, []),
            tried=tried,
            order=order,
            channels=channels,
            unreachable=unreachable,
        )
        if found is None:
            continue
        name, route = found
        party = Party(name, route.address, row.household_id, route.contact_id)
        key = f"{row.dedup_key or row.id}>{name}"[-120:]
        data = {**(row.data or {}), "tried": tried, "from_message": row.id}
        message = Outbound(
            text_for(channels[name], row.text, row.data),
            row.kind,
            buttons=row.buttons,
            priority=row.priority,
            dedup_key=key,
            data=data,
            source_kind=row.source_kind,
            source_id=row.source_id,
        )
        queued.append((party, message))
    await messages.queue(session, queued, now=now)
    return len(queued)
