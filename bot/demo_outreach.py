"""`make demo`'s outreach: a broadcast scheduled for tomorrow morning, a training class whose
notice went out and that households registered for by replying "1", and today's loan
reminders. Everything goes through the same code as real use (broadcasts, the router, the
scheduler pass), on the console channel, so `loa chat --phone N` shows what each phone got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.inbox import Inbox
from handlers.incoming import Incoming
from messages.render import _
from scheduler import broadcasts
from scheduler.delivery import Routing
from scheduler.event_drafts import EventDraft
from scheduler.events import Created, create
from scheduler.tick import Context, Line, tick
from storage import events, reach, registry
from storage.conversations import active_conversations, contacts_for
from storage.models.events import CONFIRMED, INVITED, TRAINING
from storage.models.households import CONTACT_PHONE

REGISTRANTS = 6  # households that reply "1" to the class's notice
DEMO_STAFF = "demo-assistant"


@dataclass(frozen=True)
class DemoOutreach:
    """What the demo set up, for the command to print."""

    broadcast_id: int
    event_id: int
    registered: int
    lines: list[Line]
    commune: str  # the commune it all happens in: the demo assistant's


def _local(settings: Settings, now: datetime, days: int, hour: int) -> datetime:
    day = now.astimezone(settings.zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), settings.zone)


async def seed_outreach(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    routing: Routing,
    inbox: Inbox,
) -> DemoOutreach:
    """Set up the demo's outreach in the first commune of the register."""
    now = clock.now()
    async with sessions() as session:
        commune = (await registry.list_communes(session))[0]
    audience = f"commune={commune.code} category=poor"
    async with sessions() as session, session.begin():
        broadcast_id = await _broadcast(session, audience, settings, routing, now)
        event_id = (await _event(session, commune.code, audience, settings, routing, now)).event_id
    lines = await tick(Context(sessions, routing, settings, now))  # the class's notice goes out
    registered = await _replies(sessions, inbox, event_id)
    return DemoOutreach(broadcast_id, event_id, registered, lines, commune.code)


async def _broadcast(
    session: AsyncSession, audience: str, settings: Settings, routing: Routing, now: datetime
) -> int:
    draft = broadcasts.Draft(
        _(
            "Dear {ho_ten}: the commune checks health-insurance cards at the {thon} cultural "
            "house from 08:00 to 11:00 the day after tomorrow. Please bring your household book."
        ),
        audience,
        send_at=_local(settings, now, 1, 8),
        title=_("Health-insurance card check"),
    )
    sent, _preview = await broadcasts.submit(
        session, draft, routing=routing, settings=settings, now=now, by=DEMO_STAFF
    )
    return sent


async def _event(
    session: AsyncSession,
    commune: str,
    audience: str,
    settings: Settings,
    routing: Routing,
    now: datetime,
) -> Created:
    draft = EventDraft(
        TRAINING,
        _("Straw mushroom growing"),
        _local(settings, now, 10, 8),
        _("Commune cultural house"),
        audience,
        commune_code=commune,
        status=CONFIRMED,
        register_by=(now + timedelta(days=7)).astimezone(settings.zone).date(),
        min_size=5,
        details={"trade": _("Straw mushroom growing"), "level": "sơ cấp", "fee_waiver": True},
    )
    return await create(
        session, draft, routing=routing, settings=settings, now=now, by=DEMO_STAFF, submit=True
    )


async def _replies(sessions: async_sessionmaker[AsyncSession], inbox: Inbox, event_id: int) -> int:
    """The first invited households with a phone answer "1" from it, as on a real phone."""
    async with sessions() as session:
        invited = await events.household_ids(session, event_id=event_id, statuses=[INVITED])
        routes = await reach.household_routes(session, household_ids=invited[:50])
        phones = [
            next(r.address for r in found if r.kind == CONTACT_PHONE and not r.opted_out)
            for found in routes.values()
            if any(r.kind == CONTACT_PHONE and not r.opted_out for r in found)
        ]
        # A phone in the middle of a survey would answer it with "1" (`make demo` run again)
        refs = await contacts_for(session, addresses=phones)
        busy = await active_conversations(
            session, contact_ids=[ref.contact_id for found in refs.values() for ref in found]
        )
        busy_contacts = {row.contact_id for row in busy.values()}
        phones = [
            p for p in phones if not any(ref.contact_id in busy_contacts for ref in refs.get(p, []))
        ][:REGISTRANTS]
    console = inbox.channels["console"]
    for phone in phones:
        await inbox.handle(console, [Incoming("console", phone, "1")])
    async with sessions() as session:
        return await events.registered_count(session, event_id=event_id)
