"""Console pages: events (classes, job sessions, meetings, support) and their registrants.

Creating and changing an event goes through `scheduler.events`, as `loa event create --yes`
and `loa event update` do: the same checks, the same notice broadcast, the same change
messages to the households on the list. Every event is seen inside the user's communes only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.config import Settings
from bot.inbox import order
from messages import events as words
from messages.placeholders import PlaceholderError
from messages.render import _
from scheduler import broadcasts
from scheduler import events as logic
from scheduler.delivery import Routing
from storage import audit
from storage import broadcasts as notices
from storage import console_events as queries
from storage.audience_query import AudienceError
from storage.exports import registrants as export
from storage.models.events import EVENT_KINDS, TRAINING
from storage.scope import communes_in
from web.console.auth import Composer, PostingCompose, Reader, Staff, allowed, not_found
from web.console.event_changes import CHANGES, ChangeRefused, wanted_change
from web.console.event_forms import EventForm, audit_fields, checked, clean, detail_fields
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
PER_PAGE = 50
REGISTRANTS_PER_PAGE = 100
MAX_ID = 2_147_483_647
EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
Exporter = Annotated[Staff, Depends(allowed("export"))]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _routing(request: Request) -> Routing:
    return Routing(request.app.state.channels, order(_settings(request)))


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor(name=staff.username, source="console")


@router.get("/events", response_class=HTMLResponse)
async def event_list(
    request: Request,
    session: SessionDep,
    staff: Reader,
    show: Annotated[str, Query(max_length=10)] = "upcoming",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The events of the user's communes, the upcoming ones unless all are asked for."""
    show = "all" if show == "all" else "upcoming"
    since = request.app.state.clock.now() if show == "upcoming" else None
    rows, total = await queries.list_events(
        session,
        scope=staff.scope,
        starts_from=since,
        offset=(page_no - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    context = {
        "rows": rows,
        "total": total,
        "show": show,
        "page": page_no,
        "pages": max(1, -(-total // PER_PAGE)),
        "kinds": words.KIND_LABELS,
        "statuses": words.STATUS_LABELS,
        "zone": _settings(request).zone,
    }
    return page(request, "events/list.html", staff, context)


async def _form_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    form: EventForm,
    *,
    errors: dict[str, str] | None = None,
    preview: logic.Created | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    communes = await communes_in(session, scope=staff.scope)
    context = {
        "form": form,
        "errors": errors or {},
        "kinds": [(k, words.KIND_LABELS[k]) for k in EVENT_KINDS],
        "communes": communes,
        "details": detail_fields(form.kind),
        "preview": preview,
        "statuses": words.STATUS_LABELS,
    }
    return page(request, "events/new.html", staff, context, status_code=status_code)


@router.get("/events/new", response_class=HTMLResponse)
async def new_event(
    request: Request,
    session: SessionDep,
    staff: Composer,
    kind: Annotated[str, Query(max_length=20)] = TRAINING,
) -> HTMLResponse:
    """The form for a new event; the kind chosen first decides the detail fields."""
    form = EventForm(kind=kind if kind in EVENT_KINDS else TRAINING)
    communes = await communes_in(session, scope=staff.scope)
    if len(communes) == 1:
        form.commune = communes[0][0]
    return await _form_page(request, session, staff, form)


@router.post("/events/new", response_class=HTMLResponse)
async def create_event(request: Request, session: SessionDep, staff: PostingCompose) -> Response:
    """Preview the event's notice, or store the event and submit its notice."""
    data = await request.form()
    form = EventForm.read(data)
    submit = data.get("action") == "create"
    now = request.app.state.clock.now()
    settings = _settings(request)
    communes = dict(await communes_in(session, scope=staff.scope))
    draft, errors = await checked(
        session, form, scope=staff.scope, communes=communes, now=now, zone=settings.zone
    )
    if draft is None:
        return await _form_page(request, session, staff, form, errors=errors, status_code=400)
    problems = (logic.EventError, AudienceError, broadcasts.BroadcastError, PlaceholderError)
    try:
        created = await logic.create(
            session,
            draft,
            routing=_routing(request),
            settings=settings,
            now=now,
            by=staff.username,
            submit=submit,
        )
        outside = [c for c in created.preview.communes if not staff.scope.allows(c)]
        if outside:
            message = _("The audience reaches outside your areas: {codes}.")
            raise AudienceError(message.format(codes=", ".join(outside)))
    except problems as error:
        await session.rollback()
        field = "audience" if isinstance(error, AudienceError) else "form"
        return await _form_page(
            request, session, staff, form, errors={field: str(error)}, status_code=400
        )
    if not submit:
        await session.rollback()
        return await _form_page(request, session, staff, form, preview=created)
    changes = audit.diff({}, {**audit_fields(draft), "notice": created.broadcast_id})
    await audit.add(
        session,
        actor=_actor(staff),
        at=now,
        action="create",
        entity="events",
        key=str(created.event_id),
        changes=changes,
    )
    await session.commit()
    return RedirectResponse(f"/events/{created.event_id}?created=1", status_code=303)


async def _detail_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    event_id: int,
    *,
    page_no: int = 1,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    row = await queries.get_event(session, scope=staff.scope, event_id=event_id)
    if row is None:
        raise not_found()
    people, total = await queries.registrants(
        session,
        scope=staff.scope,
        event_id=event_id,
        offset=(page_no - 1) * REGISTRANTS_PER_PAGE,
        limit=REGISTRANTS_PER_PAGE,
    )
    args = request.query_params
    context = {
        "row": row,
        "event": row.event,
        "registrants": people,
        "total": total,
        "page": page_no,
        "pages": max(1, -(-total // REGISTRANTS_PER_PAGE)),
        "offset": (page_no - 1) * REGISTRANTS_PER_PAGE,
        "kinds": words.KIND_LABELS,
        "statuses": words.STATUS_LABELS,
        "changes": CHANGES,
        "labels": {k: label for k, label, _yn in detail_fields(row.event.kind)},
        "notices": await notices.for_event(session, event_id=event_id),
        "zone": _settings(request).zone,
        "errors": errors or {},
        "values": values or {},
        "created": args.get("created") == "1",
        "told": int(told) if (told := args.get("told", "")).isdigit() else None,
    }
    return page(request, "events/detail.html", staff, context, status_code=status_code)


@router.get("/events/{event_id}", response_class=HTMLResponse)
async def event_page(
    request: Request,
    session: SessionDep,
    staff: Reader,
    event_id: EventId,
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """An event: its details, status, registrants against the minimum size."""
    return await _detail_page(request, session, staff, event_id, page_no=page_no)


@router.post("/events/{event_id}/status", response_class=HTMLResponse)
async def change_event(
    request: Request, session: SessionDep, staff: PostingCompose, event_id: EventId
) -> Response:
    """Confirm, postpone (to a new date), move or cancel an event; its list is told."""
    row = await queries.get_event(session, scope=staff.scope, event_id=event_id)
    if row is None:
        raise not_found()
    data = await request.form()
    values = {k: clean(data.get(k)) for k in ("status", "starts_at", "place")}
    settings, now = _settings(request), request.app.state.clock.now()
    before = {k: getattr(row.event, k) for k in ("status", "starts_at", "place", "register_by")}
    try:
        wanted = wanted_change(values, settings.zone)
        done = await logic.update(
            session, event_id, **wanted, routing=_routing(request), settings=settings, now=now
        )
    except (ChangeRefused, logic.EventError) as error:
        await session.rollback()
        past = _("The event's time is already past; give a time from now on.")
        field = getattr(error, "field", "starts_at" if str(error) == past else "status")
        return await _detail_page(
            request,
            session,
            staff,
            event_id,
            errors={field: str(error)},
            values=values,
            status_code=400,
        )
    after = {k: getattr(done.event, k) for k in before}
    await audit.add(
        session,
        actor=_actor(staff),
        at=now,
        action="update",
        entity="events",
        key=str(event_id),
        changes=audit.diff(before, after),
    )
    await session.commit()
    told = sum(done.tally.channels.values()) + done.tally.relayed
    return RedirectResponse(f"/events/{event_id}?told={told}", status_code=303)


@router.get("/events/{event_id}/registrants.xlsx")
async def registrants_xlsx(
    request: Request, session: SessionDep, staff: Exporter, event_id: EventId
) -> Response:
    """The registrant list as .xlsx, laid out as `loa event registrants --format xlsx`."""
    row = await queries.get_event(session, scope=staff.scope, event_id=event_id)
    if row is None:
        raise not_found()
    people, _total = await queries.registrants(session, scope=staff.scope, event_id=event_id)
    table = export.rows(row.event, [p.line for p in people], zone=_settings(request).zone)
    with tempfile.TemporaryDirectory(prefix="loa-export-") as folder:
        path = FilePath(folder) / "registrants.xlsx"
        export.write(path, table, fmt="xlsx")
        content = path.read_bytes()
    name = f"dang-ky-su-kien-{event_id}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
