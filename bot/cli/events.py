"""`loa event create|list|update|register|registrants|feedback`: classes, job sessions,
transaction days, meetings and distributions, with their notice, registrations and lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from bot.cli.scheduler import parse_moment
from bot.config import Settings, get_settings
from bot.inbox import order
from messages import events as words
from messages.placeholders import PlaceholderError
from messages.render import _, moment, money, number
from scheduler import broadcasts
from scheduler import events as logic
from scheduler.delivery import Routing
from storage import events as store
from storage import staff
from storage.audience_query import AudienceError
from storage.exports import registrants

event_app = typer.Typer(
    help=_("Events: classes, job sessions, meetings, support."), no_args_is_help=True
)
app.add_typer(event_app, name="event")
PROBLEMS = (logic.EventError, AudienceError, broadcasts.BroadcastError, PlaceholderError)
STAFF = registrants.STAFF


def _date(text: str) -> date:
    """A date as 2026-12-01 or 01/12/2026."""
    value = text.strip()
    day_first = value.split("/")
    if len(day_first) == 3 and all(p.isdigit() for p in day_first):
        value = f"{day_first[2]}-{int(day_first[1]):02d}-{int(day_first[0]):02d}"
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(_("{text} is not a date such as 2026-12-01.").format(text=text))


@dataclass(frozen=True)
class _Options:
    """What `loa event create` was given, as typed."""

    kind: str
    title: str
    at: str
    until: str | None
    place: str
    audience: str
    commune: str | None
    status: str
    register_by: str | None
    min_size: int | None
    detail: list[str]
    notice: str | None
    feedback_form: str | None

    def draft(self, settings: Settings) -> logic.EventDraft:
        """The event; an error stops before the store is opened."""
        try:
            draft = logic.EventDraft(
                kind=self.kind,
                title=self.title,
                starts_at=parse_moment(self.at, settings),
                ends_at=parse_moment(self.until, settings) if self.until else None,
                place=self.place,
                audience=self.audience,
                commune_code=self.commune,
                status=self.status,
                register_by=_date(self.register_by) if self.register_by else None,
                min_size=self.min_size,
                details=logic.parse_details(self.kind, self.detail),
                notice=self.notice,
                feedback_form=self.feedback_form,
            )
            logic.check(draft, now=common.clock.now(), zone=settings.zone)
        except logic.EventError as error:
            fail(str(error))
        return draft


@event_app.command("create")
def create_command(
    kind: Annotated[str, typer.Option(help=_("training, job_session, transaction_day, ..."))],
    title: Annotated[str, typer.Option(help=_("Title"))],
    at: Annotated[str, typer.Option(help=_("Start (ISO), e.g. 2026-12-01T08:00"))],
    place: Annotated[str, typer.Option(help=_("Place"))],
    audience: Annotated[str, typer.Option(help=_("Who is invited, e.g. category=poor"))],
    until: Annotated[str | None, typer.Option(help=_("End (ISO)"))] = None,
    commune: Annotated[str | None, typer.Option(help=_("Commune code"))] = None,
    status: Annotated[str, typer.Option(help=_("planned or confirmed"))] = "planned",
    register_by: Annotated[str | None, typer.Option(help=_("Registration deadline"))] = None,
    min_size: Annotated[int | None, typer.Option(help=_("Minimum class size"))] = None,
    detail: Annotated[list[str] | None, typer.Option(help=_("key=value"))] = None,
    notice: Annotated[str | None, typer.Option(help=_("Notice text"))] = None,
    feedback_form: Annotated[str | None, typer.Option(help=_("Feedback survey"))] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=_("Staff username"))] = None,
    yes: Annotated[bool, typer.Option("--yes", help=_("Store and send"))] = False,
) -> None:
    """Create an event and send its notice; without --yes only show what would happen."""
    settings = get_settings()
    given = _Options(
        *(kind, title, at, until, place, audience, commune, status, register_by, min_size),
        *(detail or [], notice, feedback_form),
    )
    draft = given.draft(settings)
    now = common.clock.now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> logic.Created:
        async with opened(settings, sessions, common.clock) as channels, sessions() as session:
            routing = Routing(channels, order(settings))
            try:
                by = await _actor(session, as_user)
                created = await logic.create(
                    session, draft, routing=routing, settings=settings, now=now, by=by, submit=yes
                )
            except PROBLEMS as error:
                await session.rollback()
                fail(str(error))
            await (session.commit() if yes else session.rollback())
            return created

    _show(draft, with_store(work), settings)


async def _actor(session: AsyncSession, username: str | None) -> str:
    """Who creates it: the staff user named with --as (who must exist), else the OS user."""
    if username is None:
        return cli_actor().name
    if not await staff.is_active(session, username=username):
        raise logic.EventError(_("No active staff user is called {name}.").format(name=username))
    return username


def _show(draft: logic.EventDraft, created: logic.Created, settings: Settings) -> None:
    """The event, what its notice would do, and the notice itself."""
    out.print(
        _("Event: {title} ({kind}), {when}, at {place}; {status}.").format(
            title=draft.title,
            kind=_(words.KIND_LABELS[draft.kind]),
            when=moment(draft.starts_at, settings.zone),
            place=draft.place,
            status=_(words.STATUS_LABELS[draft.status]),
        )
    )
    _show_reach(created.preview)
    if created.broadcast_id is None:
        out.print(_("Nothing was stored. Add --yes to store the event and send its notice."))
        return
    state = _("waiting for approval") if created.preview.needs_approval else _("scheduled")
    out.print(
        _("Stored event {id}; its notice is broadcast {broadcast} ({state}).").format(
            id=created.event_id, broadcast=created.broadcast_id, state=state
        )
    )


def _show_reach(seen: broadcasts.Preview) -> None:
    """Households, channels, relays, cost, approval, and the notice as one household gets it."""
    channels = ", ".join(f"{name} {number(n)}" for name, n in seen.channels.items()) or "-"
    reach = _("Households: {n}; by channel: {channels}; by hand: {relayed}; opted out: {opted}.")
    out.print(
        reach.format(
            n=number(seen.households), channels=channels, relayed=seen.relayed, opted=seen.opted_out
        )
    )
    cost = money(round(seen.total_cost), unit="word")
    out.print(
        _("SMS parts: {n} (longest {longest}); cost: {cost}.").format(
            n=seen.segments, longest=seen.longest, cost=cost
        )
    )
    if seen.needs_approval:
        out.print(_("Needs an officer's approval: {reason}.").format(reason=seen.reason))
    out.print(_("Notice:"))
    out.print(seen.sample)
    if seen.sms_sample:
        out.print(_("SMS:"))
        out.print(seen.sms_sample)


@event_app.command("list")
def list_command(
    upcoming: Annotated[bool, typer.Option("--upcoming", help=_("Only events ahead"))] = False,
    commune: Annotated[str | None, typer.Option(help=_("Commune code"))] = None,
) -> None:
    """List events: when, where, status, invited and registered households."""
    since = common.clock.now() if upcoming else None

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[store.EventLine]:
        async with sessions() as session:
            return await store.list_events(session, starts_from=since, commune_code=commune)

    zone = get_settings().zone
    table = Table("#", _("Kind"), _("Title"), _("When"), _("Place"), _("Status"))
    table.add_column(_("Invited / registered / minimum"))
    for line in with_store(work):
        e = line.event
        size = f"{number(line.invited)} / {number(line.registered)} / {e.min_size or '-'}"
        if e.quorum_at is not None:
            size += " " + _("class is full")
        kind, status = _(words.KIND_LABELS[e.kind]), _(words.STATUS_LABELS[e.status])
        table.add_row(str(e.id), kind, e.title, moment(e.starts_at, zone), e.place, status, size)
    out.print(table)


@event_app.command("update")
def update_command(
    event_id: Annotated[int, typer.Argument(help=_("Event number"))],
    status: Annotated[str | None, typer.Option(help=_("planned, confirmed, ..."))] = None,
    at: Annotated[str | None, typer.Option(help=_("New start (ISO)"))] = None,
    place: Annotated[str | None, typer.Option(help=_("New place"))] = None,
) -> None:
    """Change an event's status, date or place; every household on its list is told."""
    settings = get_settings()
    starts_at = parse_moment(at, settings) if at else None
    now = common.clock.now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> logic.Changed:
        async with opened(settings, sessions, common.clock) as channels, sessions() as session:
            routing = Routing(channels, order(settings))
            try:
                changed = await logic.update(
                    session,
                    event_id,
                    status=status,
                    starts_at=starts_at,
                    place=place,
                    routing=routing,
                    settings=settings,
                    now=now,
                )
            except logic.EventError as error:
                fail(str(error))
            await session.commit()
            return changed

    _report(event_id, with_store(work))


def _report(event_id: int, done: logic.Changed) -> None:
    """Who was told of a change, and what was withdrawn."""
    told = sum(done.tally.channels.values()) + done.tally.relayed
    message = _("Event {id} changed; {n} households told, {relayed} of them by hand.")
    out.print(message.format(id=event_id, n=number(told), relayed=done.tally.relayed))
    if done.reminders_cancelled:
        out.print(_("Reminders withdrawn: {n}.").format(n=done.reminders_cancelled))
    if done.notices_cancelled:
        out.print(_("Notices not yet sent, withdrawn: {n}.").format(n=done.notices_cancelled))
