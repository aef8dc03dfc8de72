"""`loa staff add`: staff users with a role and their areas."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from messages.render import _
from storage.models import ROLES
from storage.signin import new_token
from storage.staff import add_staff, staff_id_of

staff = typer.Typer(help=_("Staff users."), no_args_is_help=True)
app.add_typer(staff, name="staff")
Role = Enum("Role", {r: r for r in ROLES}, type=str)  # type: ignore[misc]


@staff.command("add")
def staff_add(
    username: str,
    role: Annotated[Role, typer.Option(help=_("admin, officer or assistant"))],
    area: Annotated[list[str] | None, typer.Option(help=_("Area code (repeat for more)"))] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help=_("Read the password from standard input."))
    ] = False,
) -> None:
    """Add a staff user; the password is read from standard input."""
    if not password_stdin:
        fail(_("Give the password on standard input with --password-stdin."))
    password = sys.stdin.readline().rstrip("\r\n")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            await add_staff(
                session,
                username=username,
                role=role.value,
                areas=area or [],
                password=password,
                actor=cli_actor(),
                now=common.clock.now(),
            )
            await session.commit()

    with_store(work)
    out.print(_("Staff user {name} added.").format(name=username))


@staff.command("token")
def staff_token(username: str) -> None:
    """Print a new API token for a user; their earlier token stops working."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session:
            staff_id = await staff_id_of(session, username=username)
            if staff_id is None:
                fail(_("No active staff user is called {name}.").format(name=username))
            token = await new_token(session, staff_id=staff_id, now=common.clock.now())
            await session.commit()
            return token

    token = with_store(work)
    out.print(_("A new API token for {name} (shown once; keep it secret):").format(name=username))
    print(token)  # noqa: T201 - plain, so scripts can read the last line
