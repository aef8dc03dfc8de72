"""`loa messages list`: the message log, newest first, as a table or .csv."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import app, fail, out, with_store
from bot.cli.registry import Format, FormatOption
from bot.config import get_settings
from messages.render import _, moment, number
from storage.exports.tables import Cell, write_table
from storage.message_log import LogLine, list_messages
from storage.models.messages import INBOUND, STATUSES
from storage.registrations import household

log_app = typer.Typer(help=_("The message log."), no_args_is_help=True)
app.add_typer(log_app, name="messages")

HEAD = [
    "id",
    "household_code",
    "channel",
    "direction",
    "kind",
    "status",
    "not_before",
    "text",
    "created_at",
]


@log_app.command("list")
def list_command(
    household_code: Annotated[
        str | None, typer.Option("--household", help=_("Household code"))
    ] = None,
    status: Annotated[str | None, typer.Option(help=_("Status, e.g. queued or failed"))] = None,
    channel: Annotated[str | None, typer.Option(help=_("Channel, e.g. sms or zalo"))] = None,
    limit: Annotated[int, typer.Option(min=1, help=_("How many messages, newest first"))] = 50,
    fmt: FormatOption = Format.table,
    out_file: Annotated[Path | None, typer.Option("--out", help=_(".csv file to write"))] = None,
) -> None:
    """List messages in and out, newest first, filtered by household, status and channel."""
    if status and status not in STATUSES:
        fail(_("The status must be one of: {known}.").format(known=", ".join(STATUSES)))

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[LogLine]:
        async with sessions() as session:
            household_id = None
            if household_code:
                owner = await household(session, code=household_code)
                if owner is None:
                    fail(_("No household has the code {code}.").format(code=household_code))
                household_id = owner.id
            return await list_messages(
                session, household_id=household_id, status=status, channel=channel, limit=limit
            )

    lines = with_store(work)
    zone = get_settings().zone
    if out_file is not None:
        count = write_table(out_file, HEAD, [_row(x, zone) for x in lines], fmt="csv")
        out.print(_("{n} rows written to {path}.").format(n=number(count), path=out_file))
    elif fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(HEAD)
        writer.writerows(_row(x, zone) for x in lines)
    else:
        _table(lines, zone)


def _iso(moment_: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment_ is None else moment_.astimezone(zone).isoformat(timespec="seconds")


def _row(x: LogLine, zone: ZoneInfo) -> list[Cell]:
    return [
        x.id,
        x.household_code or "",
        x.channel,
        x.direction,
        x.kind,
        x.status,
        _iso(x.not_before, zone),
        x.text,
        _iso(x.created_at, zone),
    ]


def _table(lines: list[LogLine], zone: ZoneInfo) -> None:
    waits = any(x.not_before for x in lines)  # the column only when some message waits
    table = Table("#", _("Time"), _("Household"), _("Channel"), "", _("Kind"), _("Status"))
    if waits:
        table.add_column(_("Not before"))
    table.add_column(_("Text"), ratio=1, overflow="fold")
    for x in lines:
        cells = [
            str(x.id),
            moment(x.created_at, zone),
            x.household_code or "",
            x.channel,
            "←" if x.direction == INBOUND else "→",  # in from the household, out to it
            x.kind,
            x.status,
        ]
        if waits:
            cells.append(moment(x.not_before, zone) if x.not_before else "")
        table.add_row(*cells, x.text)
    out.print(table)
