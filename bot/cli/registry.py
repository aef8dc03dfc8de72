"""`loa areas list`, `loa households list|show`: reading the register."""

from __future__ import annotations

import csv
import sys
from enum import Enum, StrEnum
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import app, fail, out, with_store
from messages.phones import national_format
from messages.render import _, day
from storage.registry import (
    CommuneLine,
    HouseholdCard,
    HouseholdLine,
    get_household,
    list_communes,
    list_households,
)
from storage.vocab import CATEGORY_LABELS, DEPRIVATIONS, benefits_until

areas = typer.Typer(help=_("Provinces and communes."), no_args_is_help=True)
households = typer.Typer(help=_("The household register."), no_args_is_help=True)
app.add_typer(areas, name="areas")
app.add_typer(households, name="households")


class Format(StrEnum):
    """How a list is printed."""

    table = "table"
    csv = "csv"


Category = Enum("Category", {c: c for c in CATEGORY_LABELS}, type=str)  # type: ignore[misc]
FormatOption = Annotated[Format, typer.Option("--format", help=_("table or csv"))]


@areas.command("list")
def areas_list(fmt: FormatOption = Format.table) -> None:
    """List the communes with their province and old communes."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[CommuneLine]:
        async with sessions() as session:
            return await list_communes(session)

    lines = with_store(work)
    head = [
        "province_code",
        "province_name",
        "district_code",
        "district_name",
        "commune_code",
        "commune_name",
        "old_codes",
        "old_names",
        "households",
    ]
    rows = [
        [
            x.province_code,
            x.province_name,
            x.district_code or "",
            x.district_name or "",
            x.code,
            x.name,
            ";".join(x.old_codes),
            ";".join(x.old_names),
            str(x.households),
        ]
        for x in lines
    ]
    _print(
        fmt,
        head,
        rows,
        [_("Province"), _("Commune code"), _("Commune"), _("Old communes"), _("Households")],
        [[r[1], r[4], r[5], r[7], r[8]] for r in rows],
    )


@households.command("list")
def households_list(
    commune: Annotated[str | None, typer.Option(help=_("Commune code"))] = None,
    village: Annotated[str | None, typer.Option(help=_("Village name"))] = None,
    category: Annotated[Category | None, typer.Option(help=_("Category"))] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List households, filtered by commune, village and category."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[HouseholdLine]:
        async with sessions() as session:
            return await list_households(
                session,
                commune=commune,
                village=village,
                category=category.value if category else None,
            )

    lines = with_store(work)
    head = ["code", "head_name", "commune_code", "village", "category", "phones"]
    rows = [
        [x.code, x.head_name, x.commune_code, x.village or "", x.category, " ".join(x.phones)]
        for x in lines
    ]
    pretty = [
        [
            x.code,
            x.head_name,
            x.commune_name,
            x.village or "",
            _(CATEGORY_LABELS[x.category]),
            ", ".join(national_format(p) for p in x.phones),
        ]
        for x in lines
    ]
    _print(
        fmt,
        head,
        rows,
        [
            _("Household code"),
            _("Head of household"),
            _("Commune"),
            _("Village"),
            _("Category"),
            _("Phones"),
        ],
        pretty,
    )


def _print(
    fmt: Format, head: list[str], rows: list[list[str]], titles: list[str], pretty: list[list[str]]
) -> None:
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(head)
        writer.writerows(rows)
        return
    table = Table(*titles)
    for row in pretty:
        table.add_row(*row)
    out.print(table)


@households.command("show")
def households_show(code: str) -> None:
    """Show everything the register holds about one household."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> HouseholdCard | None:
        async with sessions() as session:
            return await get_household(session, code=code)

    card = with_store(work)
    if card is None:
        fail(_("No household has the code {code}.").format(code=code))
    h = card.household
    table = Table(show_header=False, box=None)
    for label, value in [
        (_("Household code"), h.code),
        (_("Head of household"), h.head_name),
        (_("Commune"), f"{card.commune.name} ({card.commune.code})"),
        (_("Village"), card.village.name if card.village else ""),
        (_("Category"), _(CATEGORY_LABELS[h.category])),
        (_("Recognised on"), day(h.recognized_on) if h.recognized_on else ""),
        (
            _("Benefits until"),
            day(until) if (until := benefits_until(h.category, h.recognized_on)) else "",
        ),
        (_("Ethnicity"), h.ethnicity or ""),
        (_("Woman head"), _("yes") if h.woman_head else ""),
        (_("Group"), str(h.group_no or "")),
        (_("Members"), str(h.members or "")),
        (_("Deprivations"), ", ".join(_(DEPRIVATIONS[d][1]) for d in card.deprivations)),
        (
            _("Phones"),
            ", ".join(
                national_format(c.address) + (_(" (shared)") if c.shared else "")
                for c in card.contacts
            ),
        ),
        (_("Note"), h.note or ""),
    ]:
        table.add_row(label, value)
    out.print(table)
