"""`loa event register|registrants|feedback`: the households that came forward for an event:
registering one by hand, the registrant list to print, the survey after the event."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import fail, household_or_fail, out, with_store
from bot.cli.events import event_app
from bot.config import get_settings
from bot.inbox import order
from bot.outreach import start_for
from handlers import events as replies
from handlers.dialogue.conversations import Turn
from messages.render import _
from scheduler import events as logic
from scheduler.delivery import Routing
from storage import events as store
from storage import surveys
from storage.exports import registrants
from storage.exports.tables import Cell
from storage.models import Event
from storage.models.events import REGISTERED
from storage.models.messages import REPLY

STAFF = registrants.STAFF


@event_app.command("register")
def register_command(
    event_id: Annotated[int, typer.Argument(help=_("Event number"))],
    household: Annotated[str, typer.Option(help=_("Household code"))],
) -> None:
    """Register a household that came in person or called."""
    now = common.clock.now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[Event, str | None, int]:
        async with sessions() as session, session.begin():
            event = await _event(session, event_id)
            owner = await household_or_fail(session, household)
            if event.status not in logic.RUNNING or event.starts_at <= now:
                fail(_("The event {id} is not open for registration.").format(id=event_id))
            before = await replies.enrol(
                session, event, household_id=owner.id, contact_id=None, channel=STAFF, now=now
            )
            return event, before, await store.registered_count(session, event_id=event_id)

    event, before, count = with_store(work)
    if before == REGISTERED:
        message = _("The household {code} was already registered for {title}.")
    else:
        message = _("The household {code} is registered for {title}.")
    out.print(message.format(code=household, title=event.title))
    out.print(_("Registered households: {n}").format(n=count))
    if event.min_size and count >= event.min_size:
        out.print(_("The minimum size of {n} is reached.").format(n=event.min_size))


async def _event(session: AsyncSession, event_id: int) -> Event:
    try:
        return await logic.stored(session, event_id)
    except logic.EventError as error:
        fail(str(error))


@event_app.command("registrants")
def registrants_command(
    event_id: Annotated[int, typer.Argument(help=_("Event number"))],
    fmt: Annotated[str, typer.Option("--format", help=_("csv or xlsx"))] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help=_("File to write"))] = None,
) -> None:
    """The registrant list: title rows, numbered households, the count and the minimum size."""
    if fmt not in ("csv", "xlsx"):
        fail(_("The format must be csv or xlsx."))
    if fmt == "xlsx" and out_file is None:
        fail(_("An .xlsx list needs --out FILE."))
    zone = get_settings().zone

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[list[Cell]]:
        async with sessions() as session:
            event = await _event(session, event_id)
            lines = await store.registrants(session, event_id=event_id)
            return registrants.rows(event, lines, zone=zone)

    table = with_store(work)
    if out_file is None:
        registrants.write_csv(sys.stdout, table)
        return
    registrants.write(out_file, table, fmt=fmt)
    out.print(_("The list was written to {path}.").format(path=out_file))


@event_app.command("feedback")
def feedback_command(
    event_id: Annotated[int, typer.Argument(help=_("Event number"))],
    form: Annotated[str | None, typer.Option(help=_("Survey (default: the event's)"))] = None,
) -> None:
    """Start the event's feedback survey with every registered household, on its best channel."""
    settings = get_settings()
    turn = Turn.at(common.clock.now(), settings.zone)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
        async with (
            opened(settings, sessions, common.clock) as channels,
            sessions() as session,
            session.begin(),
        ):
            form_id = await _feedback_form(session, event_id, form, turn)
            ids = await store.household_ids(session, event_id=event_id, statuses=(REGISTERED,))
            routing = Routing(channels, order(settings))
            return await _start_all(session, ids, form_id, routing, turn)

    counts = with_store(work)
    message = _("Feedback survey started: {started}; not started: {refused}; unreachable: {none}.")
    out.print(
        message.format(
            started=counts["started"], refused=counts["refused"], none=counts["unreachable"]
        )
    )


async def _start_all(
    session: AsyncSession, ids: list[int], form_id: str, routing: Routing, turn: Turn
) -> Counter[str]:
    """Start the survey with each household: started, refused (told why) or unreachable."""
    counts: Counter[str] = Counter()
    for household_id in ids:
        found = await start_for(
            session,
            household_id=household_id,
            form_id=form_id,
            channels=routing.channels,
            order=routing.order,
            turn=turn,
        )
        if found is None:
            counts["unreachable"] += 1
        elif found[2] and found[2][0].kind == REPLY:
            counts["refused"] += 1  # already answered, or in another survey: told so
        else:
            counts["started"] += 1
    return counts


async def _feedback_form(session: AsyncSession, event_id: int, form: str | None, turn: Turn) -> str:
    """The survey to start: the one given, or the event's; the event must have begun."""
    event = await _event(session, event_id)
    form_id = form or event.feedback_form
    if not form_id:
        fail(_("The event {id} has no feedback survey; give --form.").format(id=event_id))
    if event.starts_at > turn.now:
        fail(_("The event {id} has not taken place yet.").format(id=event_id))
    if await surveys.latest_version(session, form_id=form_id) is None:
        fail(_("There is no survey {form_id}.").format(form_id=form_id))
    return form_id
