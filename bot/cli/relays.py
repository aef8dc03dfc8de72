"""`loa relay list|done`: households no channel reaches, told by a village relay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.broadcasts import run
from bot.cli.common import app, cli_actor, fail, household_or_fail, out
from bot.config import get_settings
from messages.render import _, day
from scheduler.broadcasts import BroadcastError
from storage import broadcasts as store
from storage import relays
from storage.exports.relays import write_relays
from storage.models.broadcasts import SOURCE_BROADCAST, SOURCE_EVENT
from storage.relays import RelayLine

Sources = list[tuple[str, int]]
relay_app = typer.Typer(
    help=_("Relay lists: households a village relay tells by hand."), no_args_is_help=True
)
app.add_typer(relay_app, name="relay")

BroadcastOption = Annotated[int | None, typer.Option("--broadcast", help=_("Broadcast number"))]
EventOption = Annotated[int | None, typer.Option("--event", help=_("Event number"))]


def _one_of(broadcast: int | None, event: int | None) -> None:
    if (broadcast is None) == (event is None):
        fail(_("Give either --broadcast ID or --event ID."))


async def _sources(
    session: AsyncSession, broadcast: int | None, event: int | None
) -> tuple[Sources, str]:
    """The relay sources asked for, and what they are about (a line for the list's top)."""
    if broadcast is not None:
        found = await store.get(session, broadcast_id=broadcast)
        if found is None:
            raise BroadcastError(_("No broadcast has the number {id}.").format(id=broadcast))
        about = _("Broadcast {id}: {title}").format(id=broadcast, title=found.title)
        return [(SOURCE_BROADCAST, broadcast)], about
    assert event is not None
    facts = await store.event_facts(session, event_id=event)
    if facts is None:
        raise BroadcastError(_("No event has the number {id}.").format(id=event))
    zone = get_settings().zone
    about = _("Event {id}: {title}, {day}").format(
        id=event, title=facts.title, day=day(facts.starts_at.astimezone(zone).date())
    )
    ids = await store.for_event(session, event_id=event)
    return [*((SOURCE_BROADCAST, i) for i in ids), (SOURCE_EVENT, event)], about


@relay_app.command("list")
def relay_list(
    broadcast: BroadcastOption = None,
    event: EventOption = None,
    fmt: Annotated[str, typer.Option("--format", help=_("xlsx or csv"))] = "xlsx",
    out_file: Annotated[Path | None, typer.Option("--out", help=_("File to write"))] = None,
) -> None:
    """Write the relay list, per village, ready to print for village heads."""
    _one_of(broadcast, event)
    if fmt not in ("xlsx", "csv"):
        fail(_("The format must be xlsx or csv."))
    path = out_file or Path(f"relay-{'b' if broadcast else 'e'}{broadcast or event}.{fmt}")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[RelayLine], str]:
        async with sessions() as session:
            sources, about = await _sources(session, broadcast, event)
            return await relays.lines(session, sources=sources), about

    lines, about = run(work)
    count = write_relays(path, lines, about=about, fmt=fmt, zone=get_settings().zone)
    villages = len({(x.commune, x.village) for x in lines})
    message = _("{n} households in {villages} villages written to {path}.")
    out.print(message.format(n=count, villages=villages, path=path))


@relay_app.command("done")
def relay_done(
    household: Annotated[str, typer.Option("--household", help=_("Household code"))],
    broadcast: BroadcastOption = None,
    event: EventOption = None,
    by: Annotated[str | None, typer.Option("--by", help=_("Who told the household"))] = None,
    note: Annotated[str | None, typer.Option("--note", help=_("A note"))] = None,
) -> None:
    """Record that a village relay told a household."""
    _one_of(broadcast, event)
    who = by or cli_actor().name

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int | None:
        async with sessions() as session, session.begin():
            sources, _about = await _sources(session, broadcast, event)
            owner = await household_or_fail(session, household)
            listed = await relays.lines(session, sources=sources)
            if not any(x.household_code == owner.code for x in listed):
                return None
            return await relays.delivered(
                session,
                sources=sources,
                household_id=owner.id,
                by=who,
                note=note,
                now=common.clock.now(),
            )

    closed = run(work)
    if closed is None:
        fail(_("The household {code} is not on this relay list.").format(code=household))
    if closed == 0:
        out.print(_("The household {code} was already recorded as told.").format(code=household))
        return
    out.print(_("Recorded: the household {code} was told.").format(code=household))
