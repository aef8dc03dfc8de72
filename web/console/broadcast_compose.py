"""Console pages: composing a broadcast. The form with its audience builder, the preview
(a button without JavaScript, a fragment `broadcasts.js` fetches as the user types), saving
a draft or submitting, and changing a draft. Nothing is written by a preview."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.broadcast_drafts import Draft, Preview, preview
from storage import console_broadcasts as visible
from storage.broadcasts import BroadcastRow
from storage.vocab import CATEGORY_LABELS
from web.console import broadcast_actions as actions
from web.console.auth import Composer, PostingCompose, Staff
from web.console.broadcast_actions import BroadcastId, settings_of
from web.console.broadcast_forms import (
    FLAG_LABELS,
    REFUSALS,
    Compose,
    draft_of,
    field_of,
    read_form,
)
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
MAX_BUILDER_COMMUNES = 20  # more communes in the scope: villages only through "advanced"


async def _compose_page(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    compose: Compose,
    *,
    target: str,
    errors: dict[str, str] | None = None,
    seen: Preview | None = None,
    audience: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    communes = await visible.communes(session, scope=staff.scope)
    villages = []
    if len(communes) <= MAX_BUILDER_COMMUNES:
        villages = await visible.villages(session, scope=staff.scope)
    context = {
        "compose": compose,
        "errors": errors or {},
        "preview": seen,
        "audience": audience,
        "target": target,
        "communes": communes,
        "villages": villages,
        "categories": CATEGORY_LABELS,
        "flags": FLAG_LABELS,
        "channels": list(request.app.state.channels),
        "default_order": settings_of(request).channel_order,
        "zone": settings_of(request).zone,
    }
    return page(request, "broadcasts/compose.html", staff, context, status_code=status_code)


@router.get("/broadcasts/new", response_class=HTMLResponse)
async def compose_form(request: Request, session: SessionDep, staff: Composer) -> HTMLResponse:
    """An empty compose form."""
    return await _compose_page(request, session, staff, Compose(), target="/broadcasts/new")


async def _checked(
    request: Request, session: AsyncSession, staff: Staff, compose: Compose
) -> tuple[Draft | None, Preview | None, dict[str, str]]:
    """The draft and its preview, or the refusal beside its field; nothing is written."""
    settings, draft = settings_of(request), None
    try:
        draft = await draft_of(session, compose, scope=staff.scope, zone=settings.zone)
        now = request.app.state.clock.now()
        routing = actions.routing_of(request)
        seen = await preview(session, draft, routing=routing, settings=settings, now=now)
    except REFUSALS as exc:
        return draft, None, {field_of(exc, draft): str(exc)}
    finally:
        await session.rollback()
    return draft, seen, {}


async def _compose_post(
    request: Request, session: AsyncSession, staff: Staff, broadcast_id: int | None
) -> Response:
    form = await request.form()
    compose = read_form(form)
    action = form.get("action")
    target = "/broadcasts/new" if broadcast_id is None else f"/broadcasts/{broadcast_id}/edit"
    if action not in ("draft", "submit"):
        draft, seen, errors = await _checked(request, session, staff, compose)
        return await _compose_page(
            request,
            session,
            staff,
            compose,
            target=target,
            errors=errors,
            seen=seen,
            audience=draft.audience if draft else None,
            status_code=400 if errors else 200,
        )
    settings, draft = settings_of(request), None
    try:
        draft = await draft_of(session, compose, scope=staff.scope, zone=settings.zone)
        saved = await actions.save(
            session,
            draft,
            staff=staff,
            source="console",
            routing=actions.routing_of(request),
            settings=settings,
            now=request.app.state.clock.now(),
            submit=action == "submit",
            broadcast_id=broadcast_id,
        )
        await session.commit()
    except REFUSALS as exc:
        await session.rollback()
        errors = {field_of(exc, draft): str(exc)}
        return await _compose_page(
            request, session, staff, compose, target=target, errors=errors, status_code=400
        )
    return RedirectResponse(f"/broadcasts/{saved.id}?done={saved.status}", status_code=303)


@router.post("/broadcasts/new", response_class=HTMLResponse)
async def compose(request: Request, session: SessionDep, staff: PostingCompose) -> Response:
    """Preview (the "Preview" button, without JavaScript), save a draft, or submit."""
    return await _compose_post(request, session, staff, None)


@router.post("/broadcasts/preview", response_class=HTMLResponse)
async def preview_fragment(
    request: Request, session: SessionDep, staff: PostingCompose
) -> HTMLResponse:
    """The live preview: an HTML fragment the compose page puts under the form."""
    compose = read_form(await request.form())
    draft, seen, errors = await _checked(request, session, staff, compose)
    context = {
        "preview": seen,
        "preview_errors": errors,
        "audience": draft.audience if draft else None,
    }
    code = 400 if errors else 200
    return page(request, "broadcasts/_preview.html", staff, context, status_code=code)


def _compose_of(row: BroadcastRow, request: Request) -> Compose:
    """A stored draft back on the form (a send time already past: empty, i.e. now)."""
    now = request.app.state.clock.now()
    zone = settings_of(request).zone
    at = row.send_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if row.send_at > now else ""
    return Compose(
        title=row.title,
        text=row.text,
        sms_text=row.sms_text or "",
        channel_order=",".join(row.channel_order or []),
        send_at=at,
        urgent=row.urgent,
        advanced=row.audience,
    )


@router.get("/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, session: SessionDep, staff: Composer, broadcast_id: BroadcastId
) -> Response:
    """A draft on the compose form (its writer or an admin)."""
    row = await actions.find(session, staff, broadcast_id)
    if not actions.may_edit(staff, row):
        return RedirectResponse(f"/broadcasts/{row.id}?done=locked", status_code=303)
    target = f"/broadcasts/{row.id}/edit"
    return await _compose_page(request, session, staff, _compose_of(row, request), target=target)


@router.post("/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def edit(
    request: Request, session: SessionDep, staff: PostingCompose, broadcast_id: BroadcastId
) -> Response:
    """Preview, save or submit a draft."""
    row = await actions.find(session, staff, broadcast_id)
    if not actions.may_edit(staff, row):
        return RedirectResponse(f"/broadcasts/{row.id}?done=locked", status_code=303)
    return await _compose_post(request, session, staff, row.id)
