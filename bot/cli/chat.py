"""`loa chat`: play a household's phone on the console; `loa followups list`."""

from __future__ import annotations

import asyncio
import csv
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import app, fail, out, with_store
from bot.cli.surveys import CONSOLE, turn
from bot.config import get_settings
from handlers.router import Incoming, Policy, handle, start_survey
from messages.phones import normalize_phone
from messages.render import _, day
from storage import messages
from storage.conversations import contacts_at
from storage.exports.tables import local, write_table
from storage.followups import FollowUpLine, list_followups
from storage.models.followups import FOLLOWUP_STATUSES
from storage.vocab import PRIORITY_LABELS, followup_label

followups = typer.Typer(help=_("The commune's follow-up list."), no_args_is_help=True)
app.add_typer(followups, name="followups")


@app.command("chat")
def chat_command(
    phone: Annotated[str, typer.Option(help=_("The household's phone number"))],
    start: Annotated[str | None, typer.Option(help=_("Begin this survey (form id)"))] = None,
) -> None:
    """Play a household's phone: each line typed is a message from it; replies are printed."""
    address = normalize_phone(phone)
    if address is None:
        fail(_("{phone} is not a Vietnamese phone number.").format(phone=phone))
    settings = get_settings()
    policy = Policy(
        expiry=timedelta(hours=settings.survey_expiry_hours), help_contact=settings.help_contact
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _deliver(sessions, address)
        if start:
            async with sessions() as session, session.begin():
                contacts = await contacts_at(session, address=address)
                if contacts:
                    await start_survey(
                        session, form_id=start, contact=contacts[0], channel=CONSOLE, turn=turn()
                    )
                else:
                    await handle(
                        session, Incoming(CONSOLE, address, ""), turn=turn(), policy=policy
                    )
            await _deliver(sessions, address)
        while (line := await asyncio.to_thread(sys.stdin.readline)) != "":
            async with sessions() as session, session.begin():
                incoming = Incoming(CONSOLE, address, line.rstrip("\r\n"))
                await handle(session, incoming, turn=turn(), policy=policy)
            await _deliver(sessions, address)

    with_store(work)


async def _deliver(sessions: async_sessionmaker[AsyncSession], address: str) -> None:
    """Print what is waiting for this phone, and mark it delivered."""
    async with sessions() as session, session.begin():
        waiting = await messages.take_queued(
            session, channel=CONSOLE, address=address, now=turn().now
        )
    for message in waiting:
        sys.stdout.write(message.text + "\n")
    sys.stdout.flush()


HEAD = [
    "id",
    "household_code",
    "head_name",
    "commune_code",
    "village",
    "kind",
    "priority",
    "status",
    "note",
    "created_at",
]


@followups.command("list")
def followups_list(
    commune: Annotated[str | None, typer.Option(help=_("Commune code"))] = None,
    kind: Annotated[str | None, typer.Option(help=_("Kind, e.g. loan"))] = None,
    status: Annotated[str | None, typer.Option(help=_("open, assigned, done or dismissed"))] = None,
    fmt: Annotated[str, typer.Option("--format", help=_("table, csv or xlsx"))] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help=_("File to write"))] = None,
) -> None:
    """List follow-ups, filtered by commune, kind and status."""
    if status and status not in FOLLOWUP_STATUSES:
        fail(_("The status must be one of: {known}.").format(known=", ".join(FOLLOWUP_STATUSES)))
    if fmt not in ("table", "csv", "xlsx"):
        fail(_("The format must be table, csv or xlsx."))
    if fmt == "xlsx" and out_file is None:
        fail(_("An .xlsx list needs --out FILE."))

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[FollowUpLine]:
        async with sessions() as session:
            return await list_followups(session, commune_code=commune, kind=kind, status=status)

    lines = with_store(work)
    zone = get_settings().zone
    rows = [_line(x, zone) for x in lines]
    if fmt == "table":
        table = Table(_("Household"), _("Head of household"), _("Village"), _("Follow-up"))
        table.add_column(_("Priority"))
        table.add_column(_("Note"))
        table.add_column(_("Opened"))
        for x in lines:
            table.add_row(
                x.household_code,
                x.head_name,
                x.village,
                followup_label(x.kind),
                _(PRIORITY_LABELS[x.priority]) if x.priority in PRIORITY_LABELS else x.priority,
                x.note,
                day(x.created_at.astimezone(zone).date()),
            )
        out.print(table)
    elif out_file is not None:
        count = write_table(out_file, HEAD, rows, fmt=fmt)
        out.print(_("{n} rows written to {path}.").format(n=count, path=out_file))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(HEAD)
        writer.writerows(rows)


def _line(x: FollowUpLine, zone: ZoneInfo) -> list[str | int]:
    return [
        x.id,
        x.household_code,
        x.head_name,
        x.commune_code,
        x.village,
        x.kind,
        x.priority,
        x.status,
        x.note,
        local(x.created_at, zone),
    ]
