"""Console: one follow-up and its forms: assign, change the status, set a due date, add a note.

Each form posts with its CSRF token and needs the "work" capability; a change is one
transaction with its audit row. Bad input re-renders the page with the error beside the field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from messages.render import _, day
from storage import console_followups as queue
from storage import followup_changes as work
from storage.audit import Actor
from storage.followup_changes import FollowUpError
from storage.vocab import FOLLOWUP_KINDS, followup_label, priority_label
from web.console.auth import PostingWork, Reader, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
ME = "me"  # the assign form's value for the signed-in user


def status_labels() -> dict[str, str]:
    """Each status as people read it."""
    return {
        "open": _("Not handled yet"),
        "assigned": _("Assigned"),
        "done": _("Done"),
        "dismissed": _("Not needed"),
    }


def today(request: Request) -> date:
    """The local date now (the injected clock)."""
    now: datetime = request.app.state.clock.now()
    return now.astimezone(request.app.state.settings.zone).date()


def common(request: Request) -> dict[str, Any]:
    """What every follow-up template uses: labels and today."""
    return {
        "kinds": {code: _(label) for code, label in FOLLOWUP_KINDS.items()},
        "kind_label": followup_label,
        "priority_label": priority_label,
        "statuses": status_labels(),
        "today": today(request),
    }


def describe(change: queue.Change) -> str:
    """A change from the audit log in words: "Status: Open → Done"."""
    labels = status_labels()
    parts = []
    for field, name in (
        ("status", _("Status")),
        ("assignee", _("Assigned to")),
        ("due_on", _("Due")),
    ):
        if field in change.changes:
            old, new = (_value(field, v, labels) for v in change.changes[field])
            parts.append(f"{name}: {old} → {new}")
    if "note" in change.changes:
        parts.append(_("note added"))
    return "; ".join(parts) or change.action


def _value(field: str, value: Any, labels: dict[str, str]) -> str:
    if not value:
        return "–"
    if field == "due_on":
        return day(date.fromisoformat(str(value)))
    return labels.get(str(value), str(value))


def actor(staff: Staff) -> Actor:
    """Who the audit log names for a console change."""
    return Actor(name=staff.username, source="console")


async def render(
    request: Request,
    session: SessionDep,
    staff: Staff,
    followup_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The follow-up's page (404 outside the user's areas)."""
    found = await queue.detail(session, scope=staff.scope, followup_id=followup_id)
    if found is None:
        raise not_found()
    staff_list = await queue.assignable(session, commune_code=found.item.commune_code)
    context = {
        **common(request),
        "f": found,
        "staff_list": staff_list,
        "history": [
            {"at": c.at, "actor": c.actor, "what": describe(c)}
            for c in await queue.history(session, followup_id=followup_id)
        ],
        "errors": errors or {},
        "values": values or {},
        "saved": request.query_params.get("saved") == "1" and not errors,
    }
    return page(request, "followups/detail.html", staff, context, status_code=status_code)


@router.get("/followups/{followup_id:int}", response_class=HTMLResponse)
async def followup(
    request: Request, session: SessionDep, staff: Reader, followup_id: int
) -> HTMLResponse:
    """One follow-up: the household, what to do, notes, and the forms to work it."""
    return await render(request, session, staff, followup_id)


async def _act(
    request: Request,
    session: SessionDep,
    staff: Staff,
    followup_id: int,
    change: Callable[[], Awaitable[dict[str, list[Any]] | None]],
    values: dict[str, str],
) -> Response:
    """Run a change in one transaction; 404 outside the areas, 400 with the error if refused."""
    try:
        done = await change()
    except FollowUpError as refused:
        await session.rollback()
        errors = {refused.field: str(refused)}
        return await render(
            request, session, staff, followup_id, errors=errors, values=values, status_code=400
        )
    if done is None:
        await session.rollback()
        raise not_found()
    await session.commit()
    return RedirectResponse(f"/followups/{followup_id}?saved=1", status_code=303)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


@router.post("/followups/{followup_id:int}/assign", response_model=None)
async def assign(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    followup_id: int,
    assignee: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Give the item to the user, to a colleague of the commune, or to nobody."""
    if assignee == ME:
        who: int | None = staff.id
    elif assignee.isdigit():
        who = int(assignee)
    elif not assignee:
        who = None
    else:
        who = -1  # refused below as not one of the commune's staff

    async def change() -> dict[str, list[Any]] | None:
        return await work.assign(
            session,
            scope=staff.scope,
            followup_id=followup_id,
            assignee_id=who,
            actor=actor(staff),
            now=_now(request),
        )

    return await _act(request, session, staff, followup_id, change, {"assignee": assignee})


@router.post("/followups/{followup_id:int}/status", response_model=None)
async def status(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    followup_id: int,
    status: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Change the status: open, assigned, done or dismissed."""

    async def change() -> dict[str, list[Any]] | None:
        return await work.set_status(
            session,
            scope=staff.scope,
            followup_id=followup_id,
            status=status,
            me=staff.id,
            actor=actor(staff),
            now=_now(request),
        )

    return await _act(request, session, staff, followup_id, change, {"status": status})


@router.post("/followups/{followup_id:int}/due", response_model=None)
async def due(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    followup_id: int,
    due_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set the due date (a real date, not in the past) or clear it."""

    async def change() -> dict[str, list[Any]] | None:
        return await work.set_due(
            session,
            scope=staff.scope,
            followup_id=followup_id,
            due_on=work.parse_due(due_on, today=today(request)),
            actor=actor(staff),
            now=_now(request),
        )

    return await _act(request, session, staff, followup_id, change, {"due_on": due_on})


@router.post("/followups/{followup_id:int}/note", response_model=None)
async def note(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    followup_id: int,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Add a note, dated and signed; the old notes stay."""

    async def change() -> dict[str, list[Any]] | None:
        return await work.add_note(
            session,
            scope=staff.scope,
            followup_id=followup_id,
            text=note,
            on=today(request),
            actor=actor(staff),
            now=_now(request),
        )

    return await _act(request, session, staff, followup_id, change, {"note": note})
