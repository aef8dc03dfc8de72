"""`make demo`'s staff: an admin, an assistant of the first commune and an officer of its
province, each with a fresh password every run (so re-running the demo is how to get them)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from messages.render import _
from storage import registry
from storage import staff as store
from storage.audit import Actor

ADMIN, ASSISTANT, OFFICER = "quantri", "canbo.xa", "canbo.tinh"
_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed on a phone


@dataclass(frozen=True)
class DemoLogin:
    """One demo account, to print."""

    username: str
    role: str
    area: str  # the area's name, empty for the admin
    password: str


def demo_password() -> str:
    """Twelve easy-to-type letters and digits in three groups, e.g. kq7m-2hxa-p9td."""
    return "-".join("".join(secrets.choice(_LETTERS) for _ in range(4)) for _ in range(3))


async def _put(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    areas: list[str],
    password: str,
    actor: Actor,
    clock: Clock,
) -> None:
    """Create the account, or give an existing one this role, areas and password again."""
    now = clock.now()
    staff_id = await store.any_staff_id(session, username=username)
    if staff_id is None:
        await store.add_staff(
            session,
            username=username,
            role=role,
            areas=areas,
            password=password,
            actor=actor,
            now=now,
        )
        return
    await store.set_active(session, staff_id=staff_id, active=True, actor=actor, now=now)
    await store.change_staff(
        session, staff_id=staff_id, role=role, areas=areas, actor=actor, now=now
    )
    await store.set_password(session, staff_id=staff_id, password=password, actor=actor, now=now)


async def seed_staff(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    actor: Actor,
    *,
    password: Callable[[], str] = demo_password,
) -> list[DemoLogin]:
    """The three demo accounts on the register's first commune and its province."""
    async with sessions() as session:
        communes = await registry.list_communes(session)
    if not communes:
        raise store.StaffError(
            _("The register is empty: import the areas and the households first.")
        )
    commune = communes[0]
    logins = [
        DemoLogin(ADMIN, "admin", "", password()),
        DemoLogin(ASSISTANT, "assistant", commune.name, password()),
        DemoLogin(OFFICER, "officer", commune.province_name, password()),
    ]
    areas = {ADMIN: [], ASSISTANT: [commune.code], OFFICER: [commune.province_code]}
    async with sessions() as session, session.begin():
        for login in logins:
            await _put(
                session,
                username=login.username,
                role=login.role,
                areas=areas[login.username],
                password=login.password,
                actor=actor,
                clock=clock,
            )
    return logins


def _role(role: str) -> str:
    return {"admin": _("admin"), "officer": _("officer"), "assistant": _("assistant")}[role]


def _rows(logins: list[DemoLogin]) -> list[tuple[str, str, str]]:
    return [
        (
            login.username,
            login.password,
            f"{_role(login.role)}: {login.area}" if login.area else _role(login.role),
        )
        for login in logins
    ]


def sign_in_box(logins: list[DemoLogin], url: str) -> Panel:
    """The accounts in a box for the terminal: where to sign in, and with what."""
    table = Table(_("Username"), _("Password"), _("Role"), box=None, pad_edge=False)
    for row in _rows(logins):
        table.add_row(*row)
    body = Group(
        Text(_("Open {url} and sign in with one of these accounts:").format(url=f"{url}/login")),
        Text(""),
        table,
        Text(""),
        Text(_("The passwords change each time the demo starts.")),
    )
    return Panel(body, title=_("Loa demo: sign in"), expand=False, border_style="red")


def plain_box(logins: list[DemoLogin], url: str) -> str:
    """The same as plain text, for a file."""
    lines = [_("Loa demo: sign in at {url}").format(url=f"{url}/login"), ""]
    lines += [f"{user:<12} {password:<16} {role}" for user, password, role in _rows(logins)]
    return "\n".join(lines) + "\n"
