"""Console pages: broadcasts. The list, compose (audience builder, live preview, draft or
submit), a broadcast's page with its progress bar, approve and cancel.

Every record goes through `storage.console_broadcasts.find` with the user's scope: a
broadcast whose communes are not all theirs answers 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import N_, _
from scheduler.broadcast_drafts import BroadcastError, Draft, preview
from scheduler.broadcasts import status_label
from storage import broadcasts as store
from storage import console_broadcasts as visible
from storage.broadcasts import BroadcastRow
from storage.models.broadcasts import BROADCAST_STATUSES
from web.console import broadcast_actions as actions
from web.console import broadcast_compose
from web.console.auth import Posting, PostingApprove, Reader, Staff
from web.console.broadcast_actions import BroadcastId
from web.console.broadcast_forms import REFUSALS
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
router.include_router(broadcast_compose.router)  # first: /broadcasts/new before /{id}
PER_PAGE = 30
DONE_MESSAGES = {
    "draft": N_("The draft is saved."),
    "pending_approval": N_("Submitted. It waits for an officer's approval."),
    "scheduled": N_("Submitted and scheduled."),
    "approved": N_("Approved. It goes at the time set."),
    "cancelled": N_("Cancelled. Messages not yet sent were withdrawn."),
    "locked": N_(
        "Only its writer or an admin can change a draft; a submitted broadcast no longer changes."
    ),
}


@router.get("/broadcasts", response_class=HTMLResponse)
async def broadcast_list(
    request: Request,
    session: SessionDep,
    staff: Reader,
    status: Annotated[str, Query(max_length=20)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The broadcasts of the user's communes, newest first, by status."""
    status = status if status in BROADCAST_STATUSES else ""
    rows, total = await visible.page(
        session,
        scope=staff.scope,
        status=status or None,
        offset=(page_no - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    counts = await visible.status_counts(session, scope=staff.scope)
    messages = await visible.message_counts(session, broadcast_ids=[r.id for r in rows])
    context = {
        "rows": rows,
        "total": total,
        "status": status,
        "statuses": BROADCAST_STATUSES,
        "counts": counts,
        "messages": messages,
        "page": page_no,
        "pages": max(1, -(-total // PER_PAGE)),
        "status_label": status_label,
        "zone": actions.settings_of(request).zone,
    }
    return page(request, "broadcasts/list.html", staff, context)


# --- one broadcast ------------------------------------------------------------------------


async def _detail(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    row: BroadcastRow,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    progress = await store.progress(session, broadcast_id=row.id)
    seen, seen_error = None, None
    if row.status in ("draft", "pending_approval", "scheduled"):
        draft = Draft(
            text=row.text,
            audience=row.audience,
            sms_text=row.sms_text,
            channel_order=row.channel_order,
            urgent=row.urgent,
            event_id=row.event_id,
            title=row.title,
        )
        settings, now = actions.settings_of(request), request.app.state.clock.now()
        try:
            seen = await preview(
                session, draft, routing=actions.routing_of(request), settings=settings, now=now
            )
        except REFUSALS as exc:
            seen_error = str(exc)
        await session.rollback()
    done = request.query_params.get("done", "")
    context: dict[str, Any] = {
        "row": row,
        "bar": actions.bar(row, progress),
        "preview": seen,
        "preview_error": seen_error,
        "error": error,
        "flash": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
        "may_edit": actions.may_edit(staff, row),
        "may_cancel": actions.may_cancel(staff, row),
        "may_approve": actions.may_approve(staff, row),
        "status_label": status_label,
        "zone": actions.settings_of(request).zone,
    }
    return page(request, "broadcasts/detail.html", staff, context, status_code=status_code)


@router.get("/broadcasts/{broadcast_id}", response_class=HTMLResponse)
async def detail(
    request: Request, session: SessionDep, staff: Reader, broadcast_id: BroadcastId
) -> HTMLResponse:
    """A broadcast: what it says, to whom, its approval and its progress."""
    row = await actions.find(session, staff, broadcast_id)
    return await _detail(request, session, staff, row)


@router.get("/broadcasts/{broadcast_id}/progress", response_model=None)
async def progress(
    request: Request,
    session: SessionDep,
    staff: Reader,
    broadcast_id: BroadcastId,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The progress bar as an HTML fragment (polled by broadcasts.js), or JSON."""
    row = await actions.find(session, staff, broadcast_id)
    found = actions.bar(row, await store.progress(session, broadcast_id=row.id))
    wants_json = format == "json" or "application/json" in request.headers.get("accept", "")
    if wants_json:
        return JSONResponse(
            {
                "id": row.id,
                "status": found.status,
                "status_label": status_label(found.status),
                "running": found.running,
                "value": found.value,
                "max": found.max,
                "percent": found.percent,
                "waiting": found.waiting,
                "statuses": found.statuses,
                "relayed": found.relayed,
                "relays_delivered": found.relays_delivered,
            }
        )
    context = {"row": row, "bar": found, "status_label": status_label}
    return page(request, "broadcasts/_progress.html", staff, context)


async def _act(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    broadcast_id: int,
    act: Callable[..., Awaitable[Any]],
    done: str,
) -> Response:
    """Approve or cancel from the broadcast's page: back to it, the refusal beside the button."""
    row = await actions.find(session, staff, broadcast_id)
    now = request.app.state.clock.now()
    try:
        await act(session, row, staff=staff, source="console", now=now)
        await session.commit()
    except BroadcastError as exc:
        await session.rollback()
        return await _detail(request, session, staff, row, error=str(exc), status_code=400)
    return RedirectResponse(f"/broadcasts/{row.id}?done={done}", status_code=303)


@router.post("/broadcasts/{broadcast_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, session: SessionDep, staff: PostingApprove, broadcast_id: BroadcastId
) -> Response:
    """An officer approves (never the writer; their areas cover every commune)."""
    return await _act(request, session, staff, broadcast_id, actions.approve, "approved")


@router.post("/broadcasts/{broadcast_id}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request, session: SessionDep, staff: Posting, broadcast_id: BroadcastId
) -> Response:
    """Cancel: its writer, an officer or an admin; what was sent stays sent."""
    return await _act(request, session, staff, broadcast_id, actions.cancel, "cancelled")
