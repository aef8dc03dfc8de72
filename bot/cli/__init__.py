"""The `loa` command: one Typer app, a module per group of sub-commands."""

from __future__ import annotations

from bot.cli import (  # noqa: F401  (they register commands)
    broadcasts,
    channels,
    chat,
    codes,
    event_lists,
    events,
    followups,
    imports,
    messages,
    registrations,
    registry,
    relays,
    scheduler,
    service,
    staff,
    surveys,
)
from bot.cli.common import app, run_app


def main() -> None:
    """Entry point of the console script."""
    run_app(app)


__all__ = ["app", "main"]
