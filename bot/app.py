"""Composition root: the FastAPI app with its store; channels and scheduler join later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.config import Settings
from storage.db import create_engine, session_factory
from web.console import STATIC_DIR
from web.console.pages import router as pages_router
from web.health import router as health_router


def create_app(settings: Settings) -> FastAPI:
    """Build the web app; the store opens when the app starts and closes when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.sessions = session_factory(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="Loa", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health_router)
    app.include_router(pages_router)
    return app
