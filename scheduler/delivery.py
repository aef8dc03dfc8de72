"""Turning notes to households into outbox rows: each on its best channel, or a relay by hand.

Broadcasts, event notices, loan reminders and survey reminders all come through here, so they
pick channels the same way the sender hands messages over (`bot.fallback`), write the SMS
text apart when staff gave one, and put households no channel reaches on the relay list.
With `write=False` nothing is written: the same pass is the broadcast's preview.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from bot.fallback import TEXTS, first_route
from messages.sms import prepare
from storage import messages, reach, relays
from storage.messages import Outbound, Party
from storage.models.messages import NORMAL
from storage.relays import NewRelay


# slots, not frozen: one per household of a broadcast
@dataclass(slots=True)
class Note:
    """One message to one household, before its channel is chosen."""

    household_id: int
    key: str  # de-duplication key: the same note is never queued twice
    text: str
    kind: str
    source_kind: str
    source_id: int
    sms_text: str | None = None  # None: the text itself (accents stripped as the channel does)
    priority: int = NORMAL
    buttons: list[dict[str, Any]] | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class Routing:
    """The channels a deployment has and the order to try them in."""

    channels: Mapping[str, Channel]
    order: Sequence[str]


@dataclass
class Tally:
    """What a delivery did (or, as a preview, would do)."""

    households: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    relayed: int = 0  # no channel reaches them: a village relay carries the text
    opted_out: int = 0  # asked Loa to stop: neither sent nor relayed
    segments: int = 0  # SMS parts in all
    longest: int = 0  # SMS parts of the longest one

    def add(self, other: Tally) -> None:
        """Add another batch's figures."""
        self.households += other.households
        self.channels.update(other.channels)
        self.relayed += other.relayed
        self.opted_out += other.opted_out
        self.segments += other.segments
        self.longest = max(self.longest, other.longest)


@dataclass
class Planned:
    """A page of notes decided: outbox rows, relays, and the figures."""

    queued: list[tuple[Party, Outbound]] = field(default_factory=list)
    by_hand: list[NewRelay] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


async def deliver(
    session: AsyncSession,
    notes: Sequence[Note],
    *,
    routing: Routing,
    now: datetime,
    write: bool = True,
) -> Tally:
    """Queue each note on its household's best channel, or put the household on the relay
    list; `write=False` counts the same without writing (a preview)."""
    planned = await plan(session, notes, routing=routing)
    if write:
        await put(session, planned, now=now)
    return planned.tally


async def put(session: AsyncSession, planned: Planned, *, now: datetime) -> None:
    """Write a planned page: its outbox rows and its relays."""
    await messages.queue(session, planned.queued, now=now)
    await relays.add(session, planned.by_hand, now=now)


async def plan(session: AsyncSession, notes: Sequence[Note], *, routing: Routing) -> Planned:
    """Decide each note's channel and contact (reads only): a broadcast plans its next page
    on one connection while the last one is written on another."""
    routes = await reach.household_routes(session, household_ids=[n.household_id for n in notes])
    contact_ids = [r.contact_id for found in routes.values() for r in found]
    blocked = await reach.unreachable_channels(session, contact_ids=contact_ids)
    planned = Planned()
    tally, queued, by_hand = planned.tally, planned.queued, planned.by_hand
    for note in notes:
        tally.households += 1
        mine = routes.get(note.household_id, [])
        found = first_route(
            mine, order=routing.order, channels=routing.channels, unreachable=blocked
        )
        if found is None:
            if any(r.opted_out for r in mine):
                tally.opted_out += 1
            else:
                tally.relayed += 1
                by_hand.append(
                    NewRelay(note.source_kind, note.source_id, note.household_id, note.text)
                )
            continue
        name, route = found
        tally.channels[name] += 1
        party = Party(name, route.address, note.household_id, route.contact_id)
        queued.append((party, _outbound(note, routing.channels[name], tally)))
    return planned


def _outbound(note: Note, channel: Channel, tally: Tally) -> Outbound:
    """The outbox row of a note on a channel; SMS parts counted into the tally."""
    caps = channel.capabilities
    text = note.text
    if caps.sms:
        text = note.sms_text or note.text
        parts = prepare(text, strip=caps.strip_accents).segments
        tally.segments += parts
        tally.longest = max(tally.longest, parts)
    written_apart = note.sms_text is not None and note.sms_text != note.text
    return Outbound(
        text,
        note.kind,
        buttons=note.buttons,
        priority=note.priority,
        dedup_key=note.key,
        data={TEXTS: {"chat": note.text, "sms": note.sms_text}} if written_apart else None,
        not_before=note.not_before,
        source_kind=note.source_kind,
        source_id=note.source_id,
    )
