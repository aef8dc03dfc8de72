"""Every router of the web app, in one list: the console's pages and the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import ERRORS, PREFIX
from web.api import broadcasts as api_broadcasts
from web.api import events as api_events
from web.api import followups as api_followups
from web.api import households as api_households
from web.api import me as api_me
from web.api import messages as api_messages
from web.api import surveys as api_surveys
from web.console import (
    audit,
    broadcasts,
    events,
    followups,
    households,
    imports,
    inbox,
    loans,
    login,
    overview,
    staff,
    surveys,
    tryout,
)
from web.health import router as health
from web.webhooks import router as webhooks

CONSOLE = [
    login,
    overview,
    households,
    followups,
    inbox,
    surveys,
    broadcasts,
    events,
    loans,
    imports,
    staff,
    audit,
    tryout,
]
API = [api_me, api_households, api_followups, api_surveys, api_broadcasts, api_events, api_messages]


def routers() -> list[tuple[APIRouter, dict[str, object]]]:
    """Each router with the include_router arguments it needs."""
    found: list[tuple[APIRouter, dict[str, object]]] = [(health, {}), (webhooks, {})]
    found += [(module.router, {"include_in_schema": False}) for module in CONSOLE]
    found += [(module.router, {"prefix": PREFIX, "responses": ERRORS}) for module in API]
    return found
