"""Reaching one household on its best channel: the most preferred one it can be reached on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from bot.fallback import first_route
from handlers.dialogue.conversations import Turn
from handlers.router import start_survey
from storage import reach
from storage.conversations import ContactRef, contacts_for
from storage.messages import Outbound


async def best_contact(
    session: AsyncSession,
    *,
    household_id: int,
    channels: Mapping[str, Channel],
    order: Sequence[str],
) -> tuple[str, ContactRef] | None:
    """The channel and contact a message to this household should take (`first_route`)."""
    routes = (await reach.household_routes(session, household_ids=[household_id])).get(
        household_id, []
    )
    unreachable = await reach.unreachable_channels(
        session, contact_ids=[r.contact_id for r in routes]
    )
    found = first_route(routes, order=order, channels=channels, unreachable=unreachable)
    if found is None:
        return None
    name, route = found
    refs = (await contacts_for(session, addresses=[route.address], kind=route.kind))[route.address]
    return name, next(r for r in refs if r.contact_id == route.contact_id)


async def start_for(
    session: AsyncSession,
    *,
    household_id: int,
    form_id: str,
    channels: Mapping[str, Channel],
    order: Sequence[str],
    turn: Turn,
) -> tuple[str, ContactRef, list[Outbound]] | None:
    """Begin a survey with a household on its best channel; None if it cannot be reached."""
    best = await best_contact(session, household_id=household_id, channels=channels, order=order)
    if best is None:
        return None
    name, contact = best
    turn = replace(turn, buttons=channels[name].capabilities.buttons)
    sent = await start_survey(session, form_id=form_id, contact=contact, channel=name, turn=turn)
    return name, contact, sent
