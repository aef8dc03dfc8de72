"""The scheduler as a service: APScheduler 3 runs a pass every LOA_SCHEDULER_SECONDS.

On PostgreSQL only the scheduler holding the `scheduler` advisory lock runs passes; the others
wait, and take over when the leader's connection goes. On SQLite there is one process anyway.
De-duplication keys make a second leader harmless; the lock only saves the work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from scheduler.delivery import Routing
from scheduler.tick import Context, Line, tick
from storage import locks

log = logging.getLogger(__name__)
LOCK = "scheduler"


class Leader:
    """Holds the scheduler's advisory lock on a connection of its own (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.connection: AsyncConnection | None = None

    async def held(self) -> bool:
        """Whether this process leads now: the lock is taken, or still held on a live line."""
        if not locks.supports_locks(self.engine):
            return True
        if self.connection is not None:
            if await locks.alive(self.connection):
                return True
            log.warning("scheduler lost its lock connection; trying to lead again")
            await self.release()
        connection = await self.engine.connect()
        if await locks.try_lock(connection, LOCK):
            self.connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        """Give the lock back (closing the connection frees it anyway)."""
        if self.connection is not None:
            try:
                await locks.unlock(self.connection, LOCK)
            except Exception:
                log.debug("unlock failed; the connection is closing", exc_info=True)
            await self.connection.close()
            self.connection = None


class SchedulerService:
    """Runs a pass now and then every `settings.scheduler_seconds`, if this process leads."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        routing: Routing,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.routing = routing
        self.settings = settings
        self.clock = clock
        self.leader = Leader(engine)
        self.apscheduler = AsyncIOScheduler(timezone=settings.zone)

    async def run_once(self) -> list[Line] | None:
        """One pass if this process leads; None if another scheduler does."""
        if not await self.leader.held():
            return None
        ctx = Context(self.sessions, self.routing, self.settings, self.clock.now())
        lines = await tick(ctx)
        done = [str(line) for line in lines if line.count]
        if done:
            log.info("scheduler pass at %s: %s", ctx.now.isoformat(), "; ".join(done))
        return lines

    def start(self) -> None:
        """Start the pass loop in the running event loop."""
        self.apscheduler.add_job(
            self.run_once,
            "interval",
            seconds=self.settings.scheduler_seconds,
            next_run_time=self.clock.now() + timedelta(seconds=1),
            max_instances=1,
            coalesce=True,
            id="loa-pass",
        )
        self.apscheduler.start()

    async def stop(self) -> None:
        """Stop passing and give up the lead."""
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)
        await self.leader.release()
