"""Reaching one household on its best channel: the most preferred one it can be reached on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from bot.fallback import first_route
from handlers.dialogue import conversations
from handlers.dialogue.conversations import Batch, StartRefused, Turn
from handlers.router import start_survey
from storage import reach
from storage.conversations import ContactRef, contacts_for
from storage.messages import Outbound, Party
from storage.reach import Route


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


@dataclass
class Starts:
    """What starting a survey with a batch of households did, by household id."""

    started: list[int] = field(default_factory=list)  # first question queued
    relay: list[int] = field(default_factory=list)  # no channel reaches them
    busy: list[int] = field(default_factory=list)  # refused for now: answering another survey
    opted_out: list[int] = field(default_factory=list)  # asked Loa to stop


async def start_many(
    session: AsyncSession,
    *,
    household_ids: Sequence[int],
    form_id: str,
    channels: Mapping[str, Channel],
    order: Sequence[str],
    turn: Turn,
    source: tuple[str, int],
    key: str,
) -> Starts:
    """Begin a survey with each household on its best channel, written in one batch; each
    first message carries the de-duplication key f"{key}.{n}:{household id}"."""
    starts, picks = await _routes(session, household_ids, channels=channels, order=order)
    refs = await _refs(session, [route for _name, route in picks.values()])
    kind, sid = source
    work = Batch()
    for household_id, (name, route) in picks.items():
        contact = refs[route.contact_id]
        own = replace(turn, buttons=channels[name].capabilities.buttons)
        try:
            sent = await conversations.start(
                session, form_id=form_id, contact=contact, channel=name, turn=own, batch=work
            )
        except StartRefused:  # in the middle of another survey on that contact
            starts.busy.append(household_id)
            continue
        party = Party(name, contact.address, household_id, contact.contact_id)
        keyed = [
            replace(m, dedup_key=f"{key}.{n}:{household_id}", source_kind=kind, source_id=sid)
            for n, m in enumerate(sent, 1)
        ]
        work.outbound += [(party, m) for m in keyed]
        starts.started.append(household_id)
    await work.flush(session, now=turn.now)
    return starts


async def _routes(
    session: AsyncSession,
    household_ids: Sequence[int],
    *,
    channels: Mapping[str, Channel],
    order: Sequence[str],
) -> tuple[Starts, dict[int, tuple[str, Route]]]:
    """Each household's best channel and contact; those without one sorted out."""
    routes = await reach.household_routes(session, household_ids=household_ids)
    blocked = await reach.unreachable_channels(
        session, contact_ids=[r.contact_id for found in routes.values() for r in found]
    )
    starts = Starts()
    picks: dict[int, tuple[str, Route]] = {}
    for household_id in household_ids:
        mine = routes.get(household_id, [])
        found = first_route(mine, order=order, channels=channels, unreachable=blocked)
        if found is not None:
            picks[household_id] = found
        elif any(r.opted_out for r in mine):
            starts.opted_out.append(household_id)
        else:
            starts.relay.append(household_id)
    return starts, picks


async def _refs(session: AsyncSession, routes: Sequence[Route]) -> dict[int, ContactRef]:
    """The contact of each route, by contact id."""
    found: dict[int, ContactRef] = {}
    for kind in {r.kind for r in routes}:
        addresses = [r.address for r in routes if r.kind == kind]
        for refs in (await contacts_for(session, addresses=addresses, kind=kind)).values():
            found |= {ref.contact_id: ref for ref in refs}
    return found
