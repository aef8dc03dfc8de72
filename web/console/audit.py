"""Console page: the audit log (admins only): who changed what, when, newest first."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from messages.render import N_, _, day, moment
from storage import audit_log
from storage.audit_log import AuditFilter
from web.console.auth import Admin
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
Key = Annotated[int | None, Query(ge=1, le=2**62)]
ACTIONS = {  # how an action reads in the log
    "create": N_("created"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    "password": N_("new password"),
    "token": N_("new API token"),
}


def _day(text: str, errors: dict[str, str], field: str) -> date | None:
    """A day typed as YYYY-MM-DD (the date picker) or DD/MM/YYYY."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a day, no time
        except ValueError:
            continue
    errors[field] = _("Write the day as DD/MM/YYYY.")
    return None


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*[+-]\d{2}:\d{2}")


def _when(text: str) -> str:
    """An ISO day or moment (how the log keeps them) as people write it; other text as is."""
    try:
        if _ISO_DAY.fullmatch(text):
            return day(date.fromisoformat(text))
        if _ISO_MOMENT.fullmatch(text):
            return moment(datetime.fromisoformat(text))
    except ValueError:
        pass
    return text


def shown(value: Any) -> str:
    """A value of the log as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        return _when(value)
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return str(value)


def changes_of(changes: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """Each field as (field, old, new); old is None for a value that was not there before
    (a creation) or that is not kept as [old, new]."""
    found: list[tuple[str, str | None, str]] = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            old = None if value[0] is None else shown(value[0])
            found.append((field, old, shown(value[1])))
        else:
            found.append((field, None, shown(value)))
    return found


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: SessionDep,
    staff: Admin,
    actor: Annotated[str, Query(max_length=64)] = "",
    entity: Annotated[str, Query(max_length=32)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    before: Key = None,
    after: Key = None,
) -> HTMLResponse:
    """The log, filtered by who, what kind of record and a range of days; 50 rows a page."""
    zone = request.app.state.settings.zone
    errors: dict[str, str] = {}
    first, last = _day(since, errors, "since"), _day(until, errors, "until")
    if first and last and last < first:
        errors["until"] = _("The last day comes before the first.")
    wanted = AuditFilter(
        actor=actor.strip() or None,
        entity=entity or None,
        since=datetime.combine(first, time(), zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
    )
    result = audit_log.AuditPage([], None, None)
    if not errors:
        result = await audit_log.read(session, wanted, before=before, after=after)
    filters = {"actor": actor, "entity": entity, "since": since, "until": until}
    kept = {k: v for k, v in filters.items() if v}
    context = {
        "lines": [(line, changes_of(line.changes)) for line in result.lines],
        "entities": audit_log.entities(),
        "filters": filters,
        "errors": errors,
        "actions": {k: _(v) for k, v in ACTIONS.items()},
        "older": f"?{urlencode({**kept, 'before': result.older})}" if result.older else None,
        "newer": f"?{urlencode({**kept, 'after': result.newer})}" if result.newer else None,
        "newest": f"?{urlencode(kept)}" if before or after else None,
    }
    return page(request, "audit/list.html", staff, context, status_code=400 if errors else 200)
