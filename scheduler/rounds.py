"""Survey rounds over an audience: ask everyone, remind the silent, chase the rest at the deadline.

Each open round goes through three steps a pass, each safe to re-run (`run`):
- start: households of the audience with no conversation and no relay line in the round get
  the first question on their best channel, or go on the relay list. A household whose
  contact is in the middle of another survey is left for a later pass.
- remind: an active conversation of the round silent for LOA_SURVEY_REMINDER_HOURS gets a
  reminder with its current question again, at most the round's `max_reminders` times. The
  reminder counts as the conversation's last message, so it does not expire right after.
- close, once the deadline has passed: running conversations stop, unsent questions and
  reminders are withdrawn, every household of the round that did not complete it gets a
  `no_answer` follow-up, and the round is closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outreach import Starts, start_many
from handlers.dialogue.conversations import Turn, current_question
from messages.render import N_, _, day, moment
from scheduler.delivery import Note, Routing, Tally, deliver
from scheduler.tick import Context, Line
from storage import audiences, messages, relays, surveys
from storage import rounds as store
from storage.audiences import Audience, parse
from storage.audit import Actor
from storage.followups import NewFollowUp, open_followups
from storage.messages import Outbound, Party
from storage.models.broadcasts import SOURCE_ROUND
from storage.models.messages import NORMAL, SURVEY_REMINDER
from storage.relays import NewRelay
from storage.rounds import RoundRow, Silent

log = logging.getLogger(__name__)
PAGE = 500  # households (or conversations) per transaction
# Households a pass asks per round: a large round is asked over several passes, so the
# other passes (broadcasts, reminders) do not wait for all of it. The CLI asks everyone.
START_PER_PASS = 2000
NO_ANSWER = "no_answer"
MAX_REMINDERS = 2


class RoundError(ValueError):
    """A round that cannot be opened; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class Plan:
    """A round checked and ready to open."""

    survey_id: int
    form_id: str
    title: str
    audience: Audience
    deadline: datetime
    reminders: int
    households: int


@dataclass
class Progress:
    """What a pass did to the rounds."""

    rounds: int = 0  # rounds that asked somebody new
    questions: int = 0  # conversations begun: first questions queued
    relayed: int = 0  # households put on a round's relay list
    busy: int = 0  # left for later: answering another survey
    reminders: int = 0
    followups: int = 0  # no_answer follow-ups opened
    closed: int = 0
    failed: int = 0

    def lines(self) -> list[Line]:
        """The pass's report."""
        found = [
            Line(N_("Survey rounds started"), self.rounds),
            Line(N_("Survey questions queued"), self.questions),
            Line(N_("Survey households on the relay list"), self.relayed),
            Line(N_("Survey reminders queued"), self.reminders),
            Line(N_("No-answer follow-ups"), self.followups),
            Line(N_("Survey rounds closed"), self.closed),
        ]
        if self.failed:
            found.append(Line(N_("A step failed; see the log"), self.failed))
        return found


def _when(deadline: datetime, zone: ZoneInfo) -> dict[str, str]:
    local = deadline.astimezone(zone)
    return {"time": local.strftime("%H:%M"), "day": day(local.date())}


def reminder_text(title: str, deadline: datetime, zone: ZoneInfo) -> str:
    """The words before the question again, in a reminder."""
    return _(
        "A reminder: the commune is asking your opinion about “{title}”. "
        "Please answer the question below before {time} on {day}."
    ).format(title=title, **_when(deadline, zone))


def relay_text(title: str, deadline: datetime, zone: ZoneInfo) -> str:
    """What a village relay tells a household no channel reaches."""
    return _(
        "The commune is asking households about “{title}”. "
        "Please contact the commune officer to answer before {time} on {day}."
    ).format(title=title, **_when(deadline, zone))


def no_answer_note(title: str, deadline: datetime, zone: ZoneInfo) -> str:
    """The note of a `no_answer` follow-up."""
    return _("Did not answer the survey “{title}” by {time} on {day}.").format(
        title=title, **_when(deadline, zone)
    )


async def run(ctx: Context) -> list[Line]:
    """Start, remind and close every open round sent to an audience."""
    async with ctx.sessions() as session:
        rounds = await store.running(session)
    done = Progress()
    for one in rounds:
        try:
            await _one_round(ctx, one, done)
        except Exception:  # one broken round must not hold up the others
            log.exception("survey round %s failed at %s", one.id, ctx.now.isoformat())
            done.failed += 1
    return done.lines()


async def _one_round(ctx: Context, one: RoundRow, done: Progress) -> None:
    zone = ctx.settings.zone
    if one.deadline is None:
        return
    if ctx.now >= one.deadline:
        done.followups += await close_round(ctx.sessions, one, now=ctx.now, zone=zone)
        done.closed += 1
        return
    await start_round(
        ctx.sessions,
        one,
        routing=ctx.routing,
        now=ctx.now,
        zone=zone,
        into=done,
        limit=START_PER_PASS,
    )
    hours = ctx.settings.survey_reminder_hours
    done.reminders += await remind_round(
        ctx.sessions, one, routing=ctx.routing, now=ctx.now, zone=zone, hours=hours
    )


async def start_round(
    sessions: async_sessionmaker[AsyncSession],
    one: RoundRow,
    *,
    routing: Routing,
    now: datetime,
    zone: ZoneInfo,
    into: Progress,
    limit: int | None = None,
) -> None:
    """Ask the households of the audience not asked yet in the round, about LIMIT of them at
    most (None: all); counted INTO."""
    assert one.audience is not None
    audience, turn = parse(one.audience), Turn.at(now, zone)
    async with sessions() as session:
        newest = await surveys.newest_open(session, survey_id=one.survey_id)
    if newest != one.id:  # the engine starts conversations in the newest open round only
        log.warning("survey round %s is not its survey's newest open round", one.id)
        return
    after, asked = 0, 0
    while limit is None or asked < limit:
        async with sessions() as session, session.begin():
            ids = await store.not_started(
                session,
                round_id=one.id,
                audience=audience,
                today=turn.today,
                after=after,
                limit=PAGE,
            )
            starts = await _start_page(session, one, ids, routing=routing, turn=turn, zone=zone)
        asked += len(starts.started) + len(starts.relay)
        into.questions += len(starts.started)
        into.relayed += len(starts.relay)
        into.busy += len(starts.busy)
        if len(ids) < PAGE:
            break
        after = ids[-1]
    into.rounds += 1 if asked else 0


async def _start_page(
    session: AsyncSession,
    one: RoundRow,
    ids: list[int],
    *,
    routing: Routing,
    turn: Turn,
    zone: ZoneInfo,
) -> Starts:
    """Start the survey for a page of households; those no channel reaches go to a relay."""
    assert one.deadline is not None
    starts = await start_many(
        session,
        household_ids=ids,
        form_id=one.form_id,
        channels=routing.channels,
        order=routing.order,
        turn=turn,
        source=(SOURCE_ROUND, one.id),
        key=f"round{one.id}.ask",
    )
    text = relay_text(one.title, one.deadline, zone)
    by_hand = [NewRelay(SOURCE_ROUND, one.id, h, text) for h in starts.relay]
    await relays.add(session, by_hand, now=turn.now)
    return starts


async def remind_round(
    sessions: async_sessionmaker[AsyncSession],
    one: RoundRow,
    *,
    routing: Routing,
    now: datetime,
    zone: ZoneInfo,
    hours: int,
) -> int:
    """Remind the round's silent households of their current question; how many."""
    assert one.deadline is not None
    idle_since = now - timedelta(hours=hours)
    nudge = reminder_text(one.title, one.deadline, zone)
    turn = Turn.at(now, zone)
    after, total = 0, 0
    while True:
        async with sessions() as session, session.begin():
            page = await store.silent(
                session,
                round_id=one.id,
                idle_since=idle_since,
                max_reminders=one.max_reminders,
                after=after,
                limit=PAGE,
            )
            found = [await _reminder(session, s, nudge, routing, turn, one.id) for s in page]
            queued = [q for q in found if q is not None]
            await messages.queue(session, queued, now=now)
            await store.touch(session, conversation_ids=[s.conversation.id for s in page], now=now)
        total += len(queued)
        if len(page) < PAGE:
            return total
        after = page[-1].conversation.id


async def _reminder(
    session: AsyncSession, silent: Silent, nudge: str, routing: Routing, turn: Turn, round_id: int
) -> tuple[Party, Outbound] | None:
    """A reminder on the conversation's own channel: NUDGE, then its current question."""
    row = silent.conversation
    prompt = await current_question(session, row, turn.today)
    if prompt is None:
        return None
    channel = routing.channels.get(row.channel)
    text, buttons = prompt.render(buttons=channel is not None and channel.capabilities.buttons)
    message = Outbound(
        f"{nudge}\n{text}",
        SURVEY_REMINDER,
        buttons,
        row.id,
        priority=NORMAL,
        dedup_key=f"round{round_id}.remind{silent.reminders + 1}:{row.household_id}",
        source_kind=SOURCE_ROUND,
        source_id=round_id,
    )
    return Party(row.channel, silent.address, row.household_id, row.contact_id), message


async def close_round(
    sessions: async_sessionmaker[AsyncSession], one: RoundRow, *, now: datetime, zone: ZoneInfo
) -> int:
    """Close a round whose deadline passed: `no_answer` follow-ups for whoever did not
    complete it; how many households that was."""
    assert one.audience is not None
    assert one.deadline is not None
    audience, today = parse(one.audience), one.deadline.astimezone(zone).date()
    note = no_answer_note(one.title, one.deadline, zone)
    async with sessions() as session, session.begin():
        await store.stop_active(session, round_id=one.id, now=now)
        await store.cancel_queued(session, round_id=one.id, now=now)
    after, total = 0, 0
    while True:
        async with sessions() as session, session.begin():
            ids = await store.never_completed(
                session, round_id=one.id, audience=audience, today=today, after=after, limit=PAGE
            )
            items = [
                NewFollowUp(h, NO_ANSWER, "normal", note, one.survey_id, dedup_key=_key(one, h))
                for h in ids
            ]
            await open_followups(session, items, now=now)
        total += len(ids)
        if len(ids) < PAGE:
            break
        after = ids[-1]
    async with sessions() as session, session.begin():
        await store.close(session, round_id=one.id, now=now)
    return total


def _key(one: RoundRow, household_id: int) -> str:
    return f"no_answer:{one.id}:{household_id}"


async def plan(
    session: AsyncSession,
    *,
    form_id: str,
    audience: str,
    deadline: datetime,
    reminders: int,
    title: str | None,
    now: datetime,
    zone: ZoneInfo,
) -> Plan:
    """Check a round before it opens; RoundError (or AudienceError) says what is wrong."""
    version = await surveys.latest_version(session, form_id=form_id)
    if version is None:
        raise RoundError(_("There is no survey {form_id}.").format(form_id=form_id))
    if not 0 <= reminders <= MAX_REMINDERS:
        raise RoundError(_("A round sends at most two reminders: give 0, 1 or 2."))
    if deadline <= now:
        message = _("The deadline {deadline} has already passed; give a later one.")
        raise RoundError(message.format(deadline=moment(deadline, zone)))
    today = now.astimezone(zone).date()
    found = await audiences.resolve(session, audience)
    households = await audiences.count(session, found, today=today)
    if households == 0:
        message = _("No household matches the audience “{audience}”.")
        raise RoundError(message.format(audience=str(found)))
    other = await store.running_for(session, survey_id=version.survey_id)
    if other is not None and other.deadline is not None:
        message = _(
            "The survey {form_id} already has a round open until {deadline}; "
            "open the next one after it closes."
        )
        raise RoundError(message.format(form_id=form_id, deadline=moment(other.deadline, zone)))
    name = (title or "").strip() or version.title
    return Plan(version.survey_id, form_id, name, found, deadline, reminders, households)


async def preview(
    session: AsyncSession, planned: Plan, *, routing: Routing, now: datetime, zone: ZoneInfo
) -> Tally:
    """Where the first questions would go: households by channel, relayed, opted out."""
    tally = Tally()
    today = now.astimezone(zone).date()
    async for ids in audiences.stream_ids(session, planned.audience, today=today):
        notes = [Note(h, "", "", "", SOURCE_ROUND, 0) for h in ids]
        tally.add(await deliver(session, notes, routing=routing, now=now, write=False))
    return tally


async def open_round(
    session: AsyncSession, planned: Plan, *, actor: Actor, now: datetime
) -> RoundRow:
    """Store the round; `start_round` (or the next pass) asks its households."""
    return await store.create_round(
        session,
        survey_id=planned.survey_id,
        title=planned.title[:255],
        audience=str(planned.audience),
        deadline=planned.deadline,
        max_reminders=planned.reminders,
        actor=actor,
        now=now,
    )
