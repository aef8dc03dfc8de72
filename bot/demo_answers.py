"""`make demo`'s survey round: the first commune's poor households are asked "escape poverty
this year?", and most of them answer from their phones on the console channel, through the inbox,
the router and the dialogue engine, exactly as real replies would arrive. So the overview,
the survey results and the follow-up list have real data: answers by village and category,
follow-ups opened by the form's rules (loan, training, visit, housing, needs_help), some
households half-way through, some silent, and a few free-text messages in the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.inbox import Inbox
from handlers.incoming import Incoming
from messages.render import _
from scheduler import rounds
from scheduler.delivery import Routing
from storage import audiences, reach, surveys
from storage import rounds as store
from storage.audit import Actor
from storage.conversations import active_conversations, contacts_for
from storage.models.households import CONTACT_PHONE

FORM = "escape_poverty"
ANSWERING = 150  # households that take part; the rest of the commune stays silent
# Replies, in order, of one household to messages/vi/surveys/escape_poverty.csv (numbers are
# the choices' order). Each script is a kind of household; they repeat down the list.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("1", "1 2", "1 2", "30 triệu", "1", "1"),  # will register; loan, breed; wants a visit
    ("1", "3", "1", "20 triệu", "2", "2"),  # will register; small trade on a loan
    ("2", "1", "4", "5", "3", "1"),  # unsure, sick; wants a job and a visit
    ("3", "5", "3 4", "1", "2"),  # will not register: no capital; technique, training
    ("1", "6", "4 6", "4", "2"),  # will register; training and housing next year
    ("3", "3", "7", "1"),  # elderly, needs nothing but a visit
    ("1", "2", "2 3"),  # stopped half-way: the conversation waits
    ("abc", "xyz", "9", "2", "1", "7", "2"),  # three replies that do not fit: needs_help
    (),  # silent: the round's reminders and then no_answer are for them
    ("1", "1", "1", "50 triệu", "2", "2"),
)
FREE_TEXT = (  # after their survey, a few households write to the commune
    "Cho hỏi khi nào xã phát gạo hỗ trợ ạ?",
    "Nhà tôi mái bị dột, mong xã xuống xem giúp.",
    "Con tôi muốn học nghề sửa xe máy thì đăng ký ở đâu?",
)


@dataclass(frozen=True)
class DemoAnswers:
    """What the round did, for the command to print."""

    round_id: int
    asked: int
    replies: int


async def seed_answers(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    routing: Routing,
    inbox: Inbox,
    *,
    commune: str,
    actor: Actor,
) -> DemoAnswers:
    """Open the round for the commune's first households and play their answers."""
    now, zone = clock.now(), settings.zone
    audience = f"commune={commune} category=poor"  # enough to show, quick to set up
    async with sessions() as session, session.begin():
        version = await surveys.latest_version(session, form_id=FORM)
        running = version and await store.running_for(session, survey_id=version.survey_id)
        if running:  # `make demo` run again: the round is there, answered already
            return DemoAnswers(running.id, 0, 0)
        planned = await rounds.plan(
            session,
            form_id=FORM,
            audience=audience,
            deadline=now + timedelta(days=14),
            reminders=2,
            title=_("Registering to escape poverty this year"),
            now=now,
            zone=zone,
        )
        one = await rounds.open_round(session, planned, actor=actor, now=now)
    progress = rounds.Progress()
    await rounds.start_round(sessions, one, routing=routing, now=now, zone=zone, into=progress)
    phones = await _answering(sessions, audience, now.astimezone(zone).date())
    replies = await _play(inbox, phones)
    return DemoAnswers(one.id, progress.questions, replies)


async def _answering(
    sessions: async_sessionmaker[AsyncSession], audience: str, today: date
) -> list[str]:
    """The phones of the commune's households that the round's first question went to."""
    async with sessions() as session:
        found = await audiences.resolve(session, audience)
        ids: list[int] = []
        async for page in audiences.stream_ids(session, found, today=today):
            ids += page
        routes = await reach.household_routes(session, household_ids=ids)
        phones = [
            next(r.address for r in found_routes if r.kind == CONTACT_PHONE and not r.opted_out)
            for found_routes in routes.values()
            if any(r.kind == CONTACT_PHONE and not r.opted_out for r in found_routes)
        ]
        refs = await contacts_for(session, addresses=phones)
        by_contact = {
            ref.contact_id: address for address, found_refs in refs.items() for ref in found_refs
        }
        active = await active_conversations(session, contact_ids=list(by_contact))
    return sorted({by_contact[c] for c in active})[:ANSWERING]


async def _play(inbox: Inbox, phones: Sequence[str]) -> int:
    """Each phone replies its script, one reply per phone per batch, as on real phones."""
    console = inbox.channels["console"]
    scripts = [SCRIPTS[i % len(SCRIPTS)] for i in range(len(phones))]
    sent = 0
    for step in range(max((len(s) for s in scripts), default=0)):
        batch = [
            Incoming("console", phone, script[step])
            for phone, script in zip(phones, scripts, strict=True)
            if step < len(script)
        ]
        await inbox.handle(console, batch)
        sent += len(batch)
    finished = [p for p, s in zip(phones, scripts, strict=True) if len(s) >= 4]
    notes = [
        Incoming("console", phone, text) for phone, text in zip(finished, FREE_TEXT, strict=False)
    ]
    if notes:
        await inbox.handle(console, notes)
    return sent + len(notes)
