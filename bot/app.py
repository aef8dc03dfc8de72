"""Composition root: the web app, its store, the channels, the inbox and (for `loa run`) the
sender, all in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.channels.registry import Transports, by_webhook, opened
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.inbox import Inbox, order
from bot.workers import start_lanes, start_polling
from scheduler.delivery import Routing
from scheduler.jobs import SchedulerService
from storage.db import create_engine, session_factory
from web import errors
from web.api import OPENAPI_URL
from web.console import STATIC_DIR
from web.logs import hide_queries
from web.recent import Recent
from web.routes import routers


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transports: Transports | None = None,
    sender: bool = False,
    polling: bool = False,
    scheduler: bool = False,
) -> FastAPI:
    """Build the web app; the store and channels open when it starts and close when it stops.

    With `sender`, the outbox is worked in the same process (`loa run`); with `scheduler`,
    broadcasts, reminders and rounds are queued when due; with `polling`, channels that can
    fetch their own updates (Telegram) do, instead of waiting for webhooks.
    """
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hide_queries()
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        stop = asyncio.Event()
        try:
            async with opened(settings, sessions, clock, transports=transports) as channels:
                app.state.sessions = sessions
                app.state.channels = channels
                app.state.webhooks = by_webhook(channels)
                app.state.inbox = Inbox(sessions, clock, settings, channels)
                lanes = (
                    start_lanes(settings, engine, sessions, clock, channels, stop) if sender else []
                )
                pollers = start_polling(app.state.inbox, channels, stop) if polling else []
                routing = Routing(channels, order(settings))
                jobs = SchedulerService(engine, sessions, routing, settings, clock)
                if scheduler:
                    jobs.start()
                try:
                    yield
                finally:
                    await jobs.stop()
                    await _stop(stop, lanes, pollers)
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Loa API",
        version="1",
        description="Households, follow-ups, surveys, broadcasts, events and messages of the "
        "areas a staff user covers. Send `Authorization: Bearer <token>`; "
        "`loa staff token USERNAME` prints a token.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.recent = Recent()  # a province's figures, counted at most once a minute
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router, options in routers():
        app.include_router(router, **options)  # type: ignore[arg-type]
    errors.install(app)
    return app


async def _stop(
    stop: asyncio.Event, lanes: list[asyncio.Task[None]], pollers: list[asyncio.Task[None]]
) -> None:
    """Let the lanes finish their batch; a long poll would hold shutdown for its timeout."""
    stop.set()
    for task in pollers:
        task.cancel()
    for task in [*lanes, *pollers]:
        with contextlib.suppress(asyncio.CancelledError):
            await task
