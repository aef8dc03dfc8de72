"""`loa staff ...`: staff users with a role and their areas, passwords, tokens, lockouts."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from messages.render import _, moment
from storage import staff as store
from storage.models import ROLES
from storage.staff import add_staff

staff = typer.Typer(help=_("Staff users."), no_args_is_help=True)
app.add_typer(staff, name="staff")
Role = Enum("Role", {r: r for r in ROLES}, type=str)  # type: ignore[misc]
T = TypeVar("T")
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help=_("Read the password from standard input."))
]


def _password(password_stdin: bool) -> str:
    if not password_stdin:
        fail(_("Give the password on standard input with --password-stdin."))
    return sys.stdin.readline().rstrip("\r\n")


def _on_user(username: str, work: Callable[[AsyncSession, int], Awaitable[T]]) -> T:
    """Run WORK on the staff user with this name (active or not) in one transaction."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session:
            staff_id = await store.any_staff_id(session, username=username)
            if staff_id is None:
                fail(_("No staff user is called {name}.").format(name=username))
            done = await work(session, staff_id)
            await session.commit()
            return done

    return with_store(run)


@staff.command("add")
def staff_add(
    username: str,
    role: Annotated[Role, typer.Option(help=_("admin, officer or assistant"))],
    area: Annotated[list[str] | None, typer.Option(help=_("Area code (repeat for more)"))] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a staff user; the password is read from standard input."""
    password = _password(password_stdin)

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


@staff.command("list")
def staff_list() -> None:
    """Every staff user: role, areas, whether active or locked."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[store.StaffLine]:
        async with sessions() as session:
            return await store.list_staff(session, now=common.clock.now())

    lines = with_store(work)
    if not lines:
        out.print(_("No staff user yet. Add one with loa staff add."))
        return
    table = Table(_("Username"), _("Role"), _("Areas"), _("State"), _("Added"))
    for line in lines:
        state = _("active") if line.active else _("deactivated")
        if line.active and line.locked:
            state = _("locked")
        table.add_row(
            line.username, line.role, " ".join(line.areas), state, moment(line.created_at)
        )
    out.print(table)


@staff.command("password")
def staff_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a new password (from standard input); the user is signed out everywhere."""
    password = _password(password_stdin)

    async def work(session: AsyncSession, staff_id: int) -> None:
        await store.set_password(
            session, staff_id=staff_id, password=password, actor=cli_actor(), now=common.clock.now()
        )

    _on_user(username, work)
    out.print(_("The password of {name} is changed; they are signed out.").format(name=username))


def _set_active(username: str, *, active: bool) -> bool:
    async def work(session: AsyncSession, staff_id: int) -> bool:
        return await store.set_active(
            session, staff_id=staff_id, active=active, actor=cli_actor(), now=common.clock.now()
        )

    return _on_user(username, work)


@staff.command("deactivate")
def staff_deactivate(username: str) -> None:
    """The user can no longer sign in or use a token; their sessions end."""
    if _set_active(username, active=False):
        out.print(_("{name} is deactivated and signed out.").format(name=username))
    else:
        out.print(_("{name} was already deactivated.").format(name=username))


@staff.command("activate")
def staff_activate(username: str) -> None:
    """A deactivated user can sign in again."""
    if _set_active(username, active=True):
        out.print(_("{name} can sign in again.").format(name=username))
    else:
        out.print(_("{name} was already active.").format(name=username))


@staff.command("areas")
def staff_areas(
    username: str,
    area: Annotated[list[str] | None, typer.Option(help=_("Area code (repeat for more)"))] = None,
    role: Annotated[Role | None, typer.Option(help=_("A new role, too"))] = None,
) -> None:
    """Replace a user's areas (and, with --role, their role)."""

    async def work(session: AsyncSession, staff_id: int) -> bool:
        line = await store.get_staff(session, staff_id=staff_id, now=common.clock.now())
        assert line is not None
        return await store.change_staff(
            session,
            staff_id=staff_id,
            role=role.value if role else line.role,
            areas=area or [],
            actor=cli_actor(),
            now=common.clock.now(),
        )

    if _on_user(username, work):
        out.print(
            _("The areas of {name} are now: {areas}.").format(
                name=username, areas=", ".join(area or []) or "—"
            )
        )
    else:
        out.print(_("Nothing changed."))


@staff.command("unlock")
def staff_unlock(username: str) -> None:
    """Lift the lockout that wrong passwords set."""

    async def work(session: AsyncSession, staff_id: int) -> bool:
        return await store.unlock(
            session, staff_id=staff_id, actor=cli_actor(), now=common.clock.now()
        )

    if _on_user(username, work):
        out.print(_("{name} is unlocked.").format(name=username))
    else:
        out.print(_("{name} was not locked.").format(name=username))


@staff.command("token")
def staff_token(username: str) -> None:
    """Print a new API token for a user; their earlier token stops working."""

    async def work(session: AsyncSession, staff_id: int) -> str:
        return await store.issue_token(
            session, staff_id=staff_id, actor=cli_actor(), now=common.clock.now()
        )

    token = _on_user(username, work)
    out.print(_("A new API token for {name} (shown once; keep it secret):").format(name=username))
    print(token)  # noqa: T201 - plain, so scripts can read the last line
