"""API: events of the token's areas (classes, job sessions, meetings...) and their registrants.

An event of a commune outside the token's areas answers 404, as one that does not exist;
events without a commune are for admins only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from storage import console_events as queries
from storage.console_events import EventRow
from web.api.auth import ApiStaff
from web.api.pages import Page, PagingDep
from web.console.auth import not_found
from web.deps import SessionDep

router = APIRouter(tags=["events"])
EventId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Event number")]


class EventOut(BaseModel):
    """An event and how many households came forward."""

    id: int
    kind: str  # training, job_session, transaction_day, meeting, distribution
    title: str
    commune_code: str | None
    commune_name: str | None
    starts_at: datetime
    ends_at: datetime | None
    place: str
    audience: str  # the one-line audience (docs/audiences.md)
    status: str  # planned, confirmed, postponed, cancelled
    details: dict[str, str | int | bool]
    register_by: date | None
    min_size: int | None
    quorum_at: datetime | None  # when the registrations reached the minimum size
    revision: int  # bumped by each change of status, date or place
    invited: int  # households on the list
    registered: int


class RegistrantOut(BaseModel):
    """A household registered for an event."""

    household_code: str
    head_name: str
    village: str
    commune: str
    phone: str | None  # E.164
    registered_at: datetime | None
    channel: str | None  # where the registration came from; "staff": in person or by phone


def event_out(row: EventRow) -> EventOut:
    e = row.event
    return EventOut(
        id=e.id,
        kind=e.kind,
        title=e.title,
        commune_code=e.commune_code,
        commune_name=row.commune_name,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        place=e.place,
        audience=e.audience,
        status=e.status,
        details=dict(e.details or {}),
        register_by=e.register_by,
        min_size=e.min_size,
        quorum_at=e.quorum_at,
        revision=e.revision,
        invited=row.invited,
        registered=row.registered,
    )


@router.get("/events", response_model=Page[EventOut])
async def list_events(
    request: Request,
    session: SessionDep,
    staff: ApiStaff,
    paging: PagingDep,
    upcoming: Annotated[bool, Query(description="Only events not yet started")] = False,
) -> Page[EventOut]:
    """The events of the token's communes, by start."""
    since = request.app.state.clock.now() if upcoming else None
    rows, total = await queries.list_events(
        session, scope=staff.scope, starts_from=since, offset=paging.offset, limit=paging.per_page
    )
    return Page[EventOut](
        items=[event_out(r) for r in rows], page=paging.page, per_page=paging.per_page, total=total
    )


@router.get("/events/{event_id}", response_model=EventOut)
async def get_event(session: SessionDep, staff: ApiStaff, event_id: EventId) -> EventOut:
    """One event of the token's communes."""
    row = await queries.get_event(session, scope=staff.scope, event_id=event_id)
    if row is None:
        raise not_found()
    return event_out(row)


@router.get("/events/{event_id}/registrants", response_model=Page[RegistrantOut])
async def event_registrants(
    session: SessionDep, staff: ApiStaff, event_id: EventId, paging: PagingDep
) -> Page[RegistrantOut]:
    """The registered households of an event, by commune, village and code."""
    if await queries.get_event(session, scope=staff.scope, event_id=event_id) is None:
        raise not_found()
    people, total = await queries.registrants(
        session,
        scope=staff.scope,
        event_id=event_id,
        offset=paging.offset,
        limit=paging.per_page,
    )
    items = [
        RegistrantOut(
            household_code=p.line.household_code,
            head_name=p.line.head_name,
            village=p.line.village,
            commune=p.line.commune,
            phone=p.line.phone,
            registered_at=p.line.registered_at,
            channel=p.line.channel,
        )
        for p in people
    ]
    return Page[RegistrantOut](items=items, page=paging.page, per_page=paging.per_page, total=total)
