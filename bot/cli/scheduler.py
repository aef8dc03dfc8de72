"""`loa scheduler` (the pass loop alone) and `loa scheduler tick [--now ISO]` (one pass)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import app, fail, out, stop_signal, with_store
from bot.clock import FixedClock
from bot.config import Settings, get_settings
from bot.inbox import order
from messages.render import _, moment
from scheduler.delivery import Routing
from scheduler.jobs import SchedulerService
from scheduler.tick import Context, Line, tick
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_url

scheduler_app = typer.Typer(
    help=_("The scheduler: broadcasts, reminders and survey rounds on the right day."),
    invoke_without_command=True,
)
app.add_typer(scheduler_app, name="scheduler")


def parse_moment(text: str, settings: Settings) -> datetime:
    """An ISO date and time; without a time zone it is local time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(_("{text} is not a date and time such as 2026-12-01T08:00.").format(text=text))
    return value if value.tzinfo else value.replace(tzinfo=settings.zone)


@scheduler_app.callback()
def service(ctx: typer.Context) -> None:
    """Run the scheduler alone (Ctrl+C stops it); `loa run` runs it too."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    asyncio.run(upgrade_url(settings.database_url))

    async def work() -> None:
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        stop = stop_signal()
        try:
            async with opened(settings, sessions, common.clock) as channels:
                routing = Routing(channels, order(settings))
                jobs = SchedulerService(engine, sessions, routing, settings, common.clock)
                jobs.start()
                out.print(_("The scheduler is running (Ctrl+C stops it)."))
                await stop.wait()
                await jobs.stop()
        finally:
            await engine.dispose()

    asyncio.run(work())


@scheduler_app.command("tick")
def tick_command(
    now: Annotated[
        str | None, typer.Option(help=_("The moment to run at (ISO), e.g. 2026-12-01T08:00"))
    ] = None,
) -> None:
    """Run one pass at a moment (now by default) and print what it queued."""
    settings = get_settings()
    at = parse_moment(now, settings) if now else common.clock.now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[Line]:
        async with opened(settings, sessions, FixedClock(at)) as channels:
            routing = Routing(channels, order(settings))
            return await tick(Context(sessions, routing, settings, at))

    lines = with_store(work)
    out.print(_("Scheduler pass at {at}:").format(at=moment(at, settings.zone)))
    for line in lines:
        out.print(f"  {line}")
