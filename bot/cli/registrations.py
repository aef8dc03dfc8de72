"""`loa registrations list|approve|reject`: the claims that wait for a commune officer."""

from __future__ import annotations

import csv
import sys
from dataclasses import astuple, fields
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from bot.cli.registry import Format, FormatOption
from bot.config import get_settings
from handlers.registration import welcome
from messages.render import _, moment
from storage import audit
from storage.conversations import ContactRef
from storage.messages import Outbound, Party, queue
from storage.models import Registration
from storage.models.channels import PENDING, REGISTRATION_STATUSES
from storage.models.messages import REPLY
from storage.registrations import (
    PendingRow,
    RegistrationError,
    decide,
    household_by_id,
    list_registrations,
)

registrations = typer.Typer(
    help=_("Contacts that registered themselves and wait for the commune's decision."),
    no_args_is_help=True,
)
app.add_typer(registrations, name="registrations")

HEAD = [f.name for f in fields(PendingRow)]  # the csv columns, in the order of the row


@registrations.command("list")
def list_command(
    status: Annotated[str, typer.Option(help=_("pending, approved or rejected"))] = PENDING,
    fmt: FormatOption = Format.table,
) -> None:
    """List registrations in a status (waiting ones by default), oldest first."""
    if status not in REGISTRATION_STATUSES:
        known = ", ".join(REGISTRATION_STATUSES)
        fail(_("The status must be one of: {known}.").format(known=known))

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[PendingRow]:
        async with sessions() as session:
            return await list_registrations(session, status=status)

    lines = with_store(work)
    zone = get_settings().zone
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(HEAD)
        for x in lines:
            writer.writerow(
                ["" if v is None else v for v in astuple(x)[:-1]]
                + [x.created_at.astimezone(zone).isoformat()]
            )
        return
    table = Table("#", _("Channel"), _("Address"), _("Household code"), _("Head of household"))
    for title in (_("Commune"), _("Phone shown"), _("Name"), _("Since")):
        table.add_column(title)
    for x in lines:
        table.add_row(
            str(x.id),
            x.channel,
            x.address,
            x.household_code,
            x.head_name,
            x.commune_code,
            "" if x.phone in (None, x.address) else x.phone,  # a phone's own number: once
            x.name or "",
            moment(x.created_at, zone),
        )
    out.print(table)


@registrations.command("approve")
def approve_command(registration_id: int) -> None:
    """Approve a registration: the contact joins its household and is asked for consent."""
    now = common.clock.now()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
        async with sessions() as session, session.begin():
            registration, contact = await _decide(session, registration_id, True, now)
            assert contact is not None  # an approval always adds (or finds) the contact
            owner = await household_by_id(session, household_id=registration.household_id)
            party = Party(
                registration.channel, registration.address, contact.household_id, contact.contact_id
            )
            await queue(session, [(party, m) for m in welcome(owner)], now=now)
            return owner.code, registration.address

    code, address = with_store(work)
    out.print(
        _(
            "Registration {id} approved: {address} now belongs to household {code}. "
            "The consent question is queued."
        ).format(id=registration_id, address=address, code=code)
    )


@registrations.command("reject")
def reject_command(registration_id: int) -> None:
    """Reject a registration: the contact is told whom to ask."""
    now = common.clock.now()
    helper = get_settings().help_contact or _("the commune's social policy officer")
    text = _("The commune could not confirm your registration. Please contact {contact}.").format(
        contact=helper
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            registration, _contact = await _decide(session, registration_id, False, now)
            # the claim was not proven: the message is not the household's
            party = Party(registration.channel, registration.address)
            await queue(session, [(party, Outbound(text, REPLY))], now=now)
            return registration.address

    address = with_store(work)
    out.print(
        _("Registration {id} rejected; {address} will be told whom to contact.").format(
            id=registration_id, address=address
        )
    )


async def _decide(
    session: AsyncSession, registration_id: int, approve: bool, now: datetime
) -> tuple[Registration, ContactRef | None]:
    """Decide, and keep the decision in the audit log."""
    actor = cli_actor()
    try:
        registration, contact = await decide(
            session, registration_id=registration_id, approve=approve, by=actor.name, now=now
        )
    except RegistrationError:
        fail(_("There is no registration {id} waiting for a decision.").format(id=registration_id))
    changes: dict[str, list[Any]] = {"status": [PENDING, registration.status]}
    if contact is not None:
        changes["contact_id"] = [None, contact.contact_id]
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="registrations",
        key=str(registration_id),
        changes=changes,
    )
    return registration, contact
