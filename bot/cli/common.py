"""What every command shares: the app, the store, the clock, and errors as one sentence."""

from __future__ import annotations

import asyncio
import getpass
import logging
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import SettingsError, get_settings
from messages.render import _
from storage import registrations
from storage.audit import Actor
from storage.db import create_engine, session_factory
from storage.importers.cells import CellError
from storage.importers.errors import ImportFileError
from storage.migrate import upgrade
from storage.registrations import HouseholdRef
from storage.staff import StaffError

T = TypeVar("T")
app = typer.Typer(
    help=_("Loa: household outreach and feedback for communes."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(markup=False)  # data and file names may hold [brackets]
err = Console(stderr=True, markup=False)
log = logging.getLogger("loa")
clock: Clock = SystemClock()
ERROR_LOG = Path("var/log/loa-errors.log")
USER_ERRORS = (SettingsError, ImportFileError, StaffError, CellError)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one sentence for a person and stop."""
    err.print(message, style="red", highlight=False)
    raise typer.Exit(code)


def cli_actor(source: str = "cli") -> Actor:
    """Who is acting from the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(name=f"cli:{user}", source=source)


def stop_signal() -> asyncio.Event:
    """An event that Ctrl+C or SIGTERM sets, for a long-running command in the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def with_store(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Open the store (migrated to the newest schema), run WORK, close the store."""

    async def _run() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            await upgrade(engine)
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(_run())
    except USER_ERRORS as exc:
        fail(str(exc))
    except OSError as exc:
        log.debug("store not reachable", exc_info=True)
        fail(_("The store cannot be opened: {detail}").format(detail=exc.strerror or exc))


def run_app(typer_app: typer.Typer) -> None:
    """Run the CLI; an unexpected error is written in full to a log file, shown as one sentence."""
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        typer_app(standalone_mode=True)
    except SettingsError as exc:
        err.print(str(exc), style="red", highlight=False)
        sys.exit(1)
    except SystemExit:
        raise
    except Exception:
        ERROR_LOG.parent.mkdir(parents=True, exist_ok=True)
        with ERROR_LOG.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {clock.now().isoformat()} loa {' '.join(sys.argv[1:])}\n")
            traceback.print_exc(file=handle)
        err.print(
            _(
                "Loa stopped on an unexpected error; the details for the technician are in {path}."
            ).format(path=ERROR_LOG),
            style="red",
            highlight=False,
        )
        sys.exit(2)


async def household_or_fail(session: AsyncSession, code: str) -> HouseholdRef:
    """The household with this code, or a clear error naming the code."""
    owner = await registrations.household(session, code=code)
    if owner is None:
        fail(_("No household has the code {code}.").format(code=code))
    return owner


def unreachable(code: str) -> str:
    """The sentence for a household no channel can reach."""
    return _("The household {code} cannot be reached on any channel.").format(code=code)
