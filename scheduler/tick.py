"""One pass of the scheduler: everything due at a moment becomes outbox rows (or follow-ups).

Each pass is idempotent: what it queues carries a unique de-duplication key, so a restart, a
second scheduler or a re-run of the same moment queues nothing twice. `loa scheduler tick
--now ISO` runs one pass at a chosen moment; the service runs one a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from messages.render import N_, _
from scheduler.delivery import Routing
from storage.conversations import expire_idle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What a pass works with: the store, the channels, the settings and the moment."""

    sessions: async_sessionmaker[AsyncSession]
    routing: Routing
    settings: Settings
    now: datetime

    @property
    def today(self) -> date:
        """The local date of `now`."""
        return self.now.astimezone(self.settings.zone).date()


@dataclass(frozen=True)
class Line:
    """What a pass did: a label (an English msgid, translated when shown) and a count."""

    label: str
    count: int

    def __str__(self) -> str:
        return f"{_(self.label)}: {self.count}"


Pass = Callable[[Context], Awaitable[Sequence[Line]]]


async def expire_conversations(ctx: Context) -> list[Line]:
    """Close conversations silent for longer than LOA_SURVEY_EXPIRY_HOURS."""
    idle_since = ctx.now - timedelta(hours=ctx.settings.survey_expiry_hours)
    async with ctx.sessions() as session, session.begin():
        closed = await expire_idle(session, idle_since=idle_since, now=ctx.now)
    return [Line(N_("Silent conversations closed"), closed)]


def passes() -> list[Pass]:
    """Every pass, in the order a tick runs them."""
    # Imported here: the passes import Context and Line from this module.
    from scheduler import broadcasts, events, loans, rounds

    return [expire_conversations, broadcasts.run, events.run, loans.run, rounds.run]


async def tick(ctx: Context) -> list[Line]:
    """Run every pass at `ctx.now`; a pass that fails is logged and the others still run."""
    lines: list[Line] = []
    for one in passes():
        try:
            lines += await one(ctx)
        except Exception:
            log.exception("scheduler pass %s failed at %s", one.__name__, ctx.now.isoformat())
            lines.append(Line(N_("A step failed; see the log"), 1))
    return lines
