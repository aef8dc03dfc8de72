"""`loa worker`, `loa channels check` and `loa send`: the outbox and the channels by hand."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelProblem, TooLong, WebhookSetup, render
from bot.channels.registry import configured, opened
from bot.cli import common
from bot.cli.common import app, fail, household_or_fail, out, stop_signal, unreachable, with_store
from bot.config import get_settings
from bot.inbox import order
from bot.outreach import best_contact
from bot.workers import run_fast, start_lanes
from messages.render import _
from storage import messages
from storage.db import create_engine, session_factory
from storage.messages import Outbound, Party
from storage.migrate import upgrade_url
from storage.models.messages import NOTICE

channels_app = typer.Typer(help=_("The channels: Telegram, Zalo, SMS."), no_args_is_help=True)
app.add_typer(channels_app, name="channels")


@app.command("worker")
def worker() -> None:
    """Send the outbox (no web pages); run several on PostgreSQL to share the work."""
    settings = get_settings()
    asyncio.run(upgrade_url(settings.database_url))

    async def work() -> None:
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        stop = stop_signal()
        try:
            async with opened(settings, sessions, common.clock) as channels:
                tasks = start_lanes(settings, engine, sessions, common.clock, channels, stop)
                names = ", ".join(t.get_name().removeprefix("sender:") for t in tasks) or "-"
                out.print(
                    _("The sender is working on: {names} (Ctrl+C stops it).").format(names=names)
                )
                await asyncio.gather(*tasks)
        finally:
            await engine.dispose()

    run_fast(work())


@channels_app.command("check")
def check() -> None:
    """Ask each configured channel's provider whether the settings work."""
    settings = get_settings()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, bool, str]]:
        found = []
        async with opened(settings, sessions, common.clock) as channels:
            for name, channel in channels.items():
                try:
                    found.append((name, True, await channel.check()))
                except ChannelProblem as exc:
                    found.append((name, False, str(exc)))
        return found

    results = with_store(work)
    table = Table(_("Channel"), _("State"), _("Detail"))
    for name, good, detail in results:
        table.add_row(name, _("works") if good else _("does not work"), detail)
    out.print(table)
    if len(configured(settings)) == 1:
        out.print(_("No channel besides the console is configured (see README, settings)."))
    if not all(good for _n, good, _d in results):
        raise typer.Exit(1)


@channels_app.command("webhooks")
def webhooks() -> None:
    """Tell the providers that need it (Telegram) where Loa's webhooks are (LOA_PUBLIC_URL)."""
    settings = get_settings()
    base = settings.public_url.rstrip("/")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        done = []
        async with opened(settings, sessions, common.clock) as channels:
            for channel in channels.values():
                if isinstance(channel, WebhookSetup):
                    url = f"{base}/webhooks/{channel.webhook}"
                    try:
                        await channel.set_webhook(url)
                    except ChannelProblem as exc:
                        fail(str(exc))
                    done.append(url)
        return done

    for url in with_store(work):
        out.print(_("Webhook set: {url}").format(url=url))


@app.command("send")
def send(
    household: Annotated[str, typer.Option(help=_("Household code"))],
    text: Annotated[str, typer.Option(help=_("The message"))],
) -> None:
    """Queue a message to one household on its most preferred channel."""
    settings = get_settings()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
        async with (
            opened(settings, sessions, common.clock) as channels,
            sessions() as session,
            session.begin(),
        ):
            owner = await household_or_fail(session, household)
            best = await best_contact(
                session, household_id=owner.id, channels=channels, order=order(settings)
            )
            if best is None:
                fail(unreachable(household))
            name, contact = best
            caps = channels[name].capabilities
            try:
                render(caps, text, None, max_segments=settings.sms_max_segments)
            except TooLong as exc:
                fail(str(exc))
            party = Party(name, contact.address, contact.household_id, contact.contact_id)
            now = common.clock.now()
            await messages.queue(session, [(party, Outbound(text, NOTICE))], now=now)
        return name, contact.address

    name, address = with_store(work)
    out.print(_("Queued for {address} on {channel}.").format(address=address, channel=name))
