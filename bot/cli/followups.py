"""`loa followups list`: the commune's follow-up list as a table, .csv or .xlsx."""

from __future__ import annotations

import csv
import sys
from dataclasses import astuple, fields
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import app, fail, out, with_store
from bot.config import get_settings
from messages.render import _, day
from storage.exports.tables import local, write_table
from storage.followups import FollowUpLine, list_followups
from storage.models.followups import FOLLOWUP_STATUSES
from storage.vocab import followup_label, priority_label

followups = typer.Typer(help=_("The commune's follow-up list."), no_args_is_help=True)
app.add_typer(followups, name="followups")


HEAD = [f.name for f in fields(FollowUpLine)]  # the csv columns, in the order of the line


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
                priority_label(x.priority),
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


def _line(x: FollowUpLine, zone: ZoneInfo) -> list[Any]:
    return [*astuple(x)[:-1], local(x.created_at, zone)]
