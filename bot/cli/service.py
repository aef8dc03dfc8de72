"""`loa run`, `loa db upgrade`, `loa demo-data`, and `make demo`'s `loa demo-outreach` and
`loa demo-staff`: the service, its store and its demo."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_app
from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from bot.config import get_settings
from bot.demo_answers import DemoAnswers, seed_answers
from bot.demo_outreach import DemoOutreach, seed_outreach
from bot.demo_staff import DemoLogin, plain_box, seed_staff, sign_in_box
from bot.demodata import write_areas, write_households, write_loans
from bot.inbox import Inbox, order
from messages.render import _, number
from scheduler.delivery import Routing
from storage.migrate import upgrade_url

db = typer.Typer(help=_("The store."), no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the store to the newest schema."""
    revision = asyncio.run(upgrade_url(get_settings().database_url))
    out.print(_("The store is at revision {rev}.").format(rev=revision))


@app.command("run")
def run(
    host: Annotated[str, typer.Option(help=_("Address to listen on"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port to listen on"))] = 8000,
    telegram_polling: Annotated[
        bool, typer.Option(help=_("Fetch Telegram updates instead of a webhook (no public HTTPS)"))
    ] = False,
) -> None:
    """Start the service: web pages, webhooks, the sender and the scheduler."""
    settings = get_settings()
    asyncio.run(upgrade_url(settings.database_url))
    out.print(
        _("Loa is running on http://{host}:{port} (Ctrl+C stops it).").format(host=host, port=port)
    )
    service = create_app(settings, sender=True, scheduler=True, polling=telegram_polling)
    uvicorn.run(service, host=host, port=port, log_level="info")


@app.command("demo-outreach")
def demo_outreach() -> None:
    """Demo only: a scheduled broadcast, a class with registrations, today's loan reminders."""
    settings = get_settings()

    async def work(
        sessions: async_sessionmaker[AsyncSession],
    ) -> tuple[DemoOutreach, DemoAnswers]:
        async with opened(settings, sessions, common.clock) as channels:
            routing = Routing(channels, order(settings))
            inbox = Inbox(sessions, common.clock, settings, channels)
            done = await seed_outreach(sessions, settings, common.clock, routing, inbox)
            answers = await seed_answers(
                sessions,
                settings,
                common.clock,
                routing,
                inbox,
                commune=done.commune,
                actor=cli_actor(),
            )
            return done, answers

    done, answers = with_store(work)
    out.print(
        _("Broadcast {b} is scheduled for tomorrow 08:00; class {e} has {n} registered.").format(
            b=done.broadcast_id, e=done.event_id, n=done.registered
        )
    )
    for line in done.lines:
        if line.count:
            out.print(f"  {line}")
    out.print(
        _(
            "Survey round {r}: {asked} households asked, {n} replies from their phones "
            "(answers, follow-ups and inbox messages for the console)."
        ).format(r=answers.round_id, asked=number(answers.asked), n=number(answers.replies))
    )


@app.command("demo-staff")
def demo_staff(
    save: Annotated[
        Path | None, typer.Option(help=_("Also write the accounts to this file (for the demo)"))
    ] = None,
) -> None:
    """Demo only: accounts quantri (admin), canbo.xa (assistant) and canbo.tinh (officer) with
    new passwords, printed."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[DemoLogin]:
        return await seed_staff(sessions, common.clock, cli_actor())

    logins = with_store(work)
    box = sign_in_box(logins, get_settings().public_url)
    out.print(box)
    if save:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(plain_box(logins, get_settings().public_url), encoding="utf-8")
        save.chmod(0o600)


@app.command("demo-data")
def demo_data(
    households: Annotated[int, typer.Option(min=1, help=_("How many households"))],
    out_file: Annotated[
        Path, typer.Option("--out", help=_("Household list to write (.xlsx or .csv)"))
    ],
    communes: Annotated[int, typer.Option(min=1, help=_("How many communes"))] = 1,
    areas_out: Annotated[
        Path | None,
        typer.Option("--areas-out", help=_("Also write the matching areas file (.xlsx or .csv)")),
    ] = None,
    seed: Annotated[int, typer.Option(help=_("Seed, for the same data every time"))] = 0,
    loans_out: Annotated[
        Path | None,
        typer.Option(
            "--loans-out",
            help=_("Also write a VBSP loan list for some of the households (.xlsx or .csv)"),
        ),
    ] = None,
) -> None:
    """Write a realistic, made-up commune household list for demos, tests and benchmarks."""
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if areas_out:
            areas_out.parent.mkdir(parents=True, exist_ok=True)
            write_areas(areas_out, communes=communes, seed=seed)
        summary = write_households(out_file, households=households, communes=communes, seed=seed)
        if loans_out:
            loans_out.parent.mkdir(parents=True, exist_ok=True)
            today = common.clock.now().astimezone(get_settings().zone).date()
            loans = write_loans(
                loans_out, households=households, communes=communes, seed=seed, today=today
            )
    except ValueError:
        fail(_("Use a file name ending in .xlsx or .csv."))
    out.print(
        _("Wrote {n} households in {c} communes to {path}.").format(
            n=number(summary.rows), c=summary.communes, path=out_file
        )
    )
    if loans_out:
        out.print(
            _("Wrote {n} instalments of {loans} loans to {path}.").format(
                n=number(loans.rows), loans=number(loans.loans), path=loans_out
            )
        )
