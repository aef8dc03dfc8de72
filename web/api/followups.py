"""API: the follow-up work queue of the token's areas; one item; working it (status, assignee,
due date, note), each change audited as in the console."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from storage import console_followups as queue
from storage import followup_changes as work
from storage.audit import Actor
from storage.console_followups import ACTIVE, MAX_ID, Filters
from storage.followup_changes import FollowUpError
from storage.vocab import followup_label
from web.api.auth import ApiStaff, ApiWorker
from web.api.pages import ErrorOut, Page, PagingDep
from web.console.auth import Staff, not_found
from web.deps import SessionDep

router = APIRouter(tags=["followups"])

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL)
FollowUpId = Annotated[int, Path(ge=1, le=MAX_ID, description="Follow-up id")]
REFUSED: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The change cannot be made (the sentence says why)"}
}


class FollowUpOut(BaseModel):
    """A follow-up as the queue shows it."""

    id: int
    household_code: str
    head_name: str
    commune_code: str
    village: str
    kind: str
    kind_label: str  # in Vietnamese
    priority: str  # high, normal, low
    status: str  # open, assigned, done, dismissed
    assignee: str | None  # username
    due_on: date | None
    note: str
    created_at: datetime
    updated_at: datetime


class FollowUpDetailOut(FollowUpOut):
    """One follow-up with its commune and the household's phones."""

    commune_name: str
    question: str | None  # for needs_help: the survey question
    phones: list[str]  # E.164


class FollowUpChange(BaseModel):
    """What to change; a field left out stays as it is, null clears assignee and due_on."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "assigned", "done", "dismissed"] | None = None
    assignee: str | None = Field(None, max_length=64, description="A username; null: nobody")
    due_on: date | None = Field(None, description="Not in the past; null clears it")
    note: str | None = Field(
        None, min_length=1, max_length=work.MAX_NOTE, description="Appended, dated and signed"
    )


def _out(item: queue.Item) -> FollowUpOut:
    return FollowUpOut(
        id=item.id,
        household_code=item.household_code,
        head_name=item.head_name,
        commune_code=item.commune_code,
        village=item.village,
        kind=item.kind,
        kind_label=followup_label(item.kind),
        priority=item.priority,
        status=item.status,
        assignee=item.assignee,
        due_on=item.due_on,
        note=item.note,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _detail_out(found: queue.Detail) -> FollowUpDetailOut:
    return FollowUpDetailOut(
        **_out(found.item).model_dump(),
        commune_name=found.commune_name,
        question=found.question,
        phones=found.phones,
    )


@router.get("/followups", response_model=Page[FollowUpOut])
async def list_followups(
    session: SessionDep,
    staff: ApiStaff,
    paging: PagingDep,
    kind: Annotated[str | None, Query(max_length=32, pattern=NO_CONTROL)] = None,
    village: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Village id")] = None,
    status: Annotated[
        Literal["open", "assigned", "done", "dismissed", "all"] | None,
        Query(description="Default: open and assigned"),
    ] = None,
    assignee: Annotated[Literal["anyone", "me", "unassigned"], Query()] = "anyone",
    commune: Annotated[str | None, Query(max_length=10, pattern=NO_CONTROL)] = None,
) -> Page[FollowUpOut]:
    """The queue: priority, then due date, then age; a commune or village outside the token's
    areas answers 404."""
    if commune and not staff.scope.allows(commune):
        raise not_found()
    if village is not None:
        found = await queue.village_commune(session, village_id=village)
        if found is None or not staff.scope.allows(found):
            raise not_found()
    statuses = ACTIVE if status is None else () if status == "all" else (status,)
    filters = Filters(kind or None, village, statuses, assignee, commune or None)
    items, total = await queue.queue_page(
        session,
        scope=staff.scope,
        filters=filters,
        me=staff.id,
        offset=paging.offset,
        limit=paging.per_page,
    )
    return Page[FollowUpOut](
        items=[_out(x) for x in items], page=paging.page, per_page=paging.per_page, total=total
    )


@router.get("/followups/{followup_id}", response_model=FollowUpDetailOut)
async def get_followup(
    session: SessionDep, staff: ApiStaff, followup_id: FollowUpId
) -> FollowUpDetailOut:
    """One follow-up (404 outside the token's areas)."""
    found = await queue.detail(session, scope=staff.scope, followup_id=followup_id)
    if found is None:
        raise not_found()
    return _detail_out(found)


async def _change(
    request: Request, session: SessionDep, staff: Staff, followup_id: int, body: FollowUpChange
) -> FollowUpDetailOut:
    """Apply the fields given, in one transaction: assignee, status, due date, note."""
    found = await queue.detail(session, scope=staff.scope, followup_id=followup_id)
    if found is None:
        raise not_found()
    now: datetime = request.app.state.clock.now()
    today = now.astimezone(request.app.state.settings.zone).date()
    who = Actor(name=staff.username, source="api")
    scope, given = staff.scope, body.model_fields_set
    try:
        if "assignee" in given:
            assignee = await _staff_id(found, body.assignee, session)
            await work.assign(
                session,
                scope=scope,
                followup_id=followup_id,
                assignee_id=assignee,
                actor=who,
                now=now,
            )
        if body.status is not None:
            await work.set_status(
                session,
                scope=scope,
                followup_id=followup_id,
                status=body.status,
                me=staff.id,
                actor=who,
                now=now,
            )
        if "due_on" in given:
            due = work.parse_due(body.due_on.isoformat() if body.due_on else "", today=today)
            await work.set_due(
                session, scope=scope, followup_id=followup_id, due_on=due, actor=who, now=now
            )
        if body.note is not None:
            await work.add_note(
                session,
                scope=scope,
                followup_id=followup_id,
                text=body.note,
                on=today,
                actor=who,
                now=now,
            )
    except FollowUpError as refused:
        await session.rollback()
        raise HTTPException(400, str(refused)) from None
    await session.commit()
    changed = await queue.detail(session, scope=staff.scope, followup_id=followup_id)
    assert changed is not None
    return _detail_out(changed)


async def _staff_id(found: queue.Detail, username: str | None, session: SessionDep) -> int | None:
    """The id of the assignee named; -1 (refused as not the commune's) for anyone else."""
    if username is None:
        return None
    staff = await queue.assignable(session, commune_code=found.item.commune_code)
    return next((i for i, name in staff if name == username), -1)


@router.patch("/followups/{followup_id}", response_model=FollowUpDetailOut, responses=REFUSED)
async def patch_followup(
    request: Request,
    session: SessionDep,
    staff: ApiWorker,
    followup_id: FollowUpId,
    body: FollowUpChange,
) -> FollowUpDetailOut:
    """Work a follow-up: status, assignee, due date, note (appended)."""
    return await _change(request, session, staff, followup_id, body)


@router.post("/followups/{followup_id}", response_model=FollowUpDetailOut, responses=REFUSED)
async def post_followup(
    request: Request,
    session: SessionDep,
    staff: ApiWorker,
    followup_id: FollowUpId,
    body: FollowUpChange,
) -> FollowUpDetailOut:
    """The same as PATCH, for clients that only POST."""
    return await _change(request, session, staff, followup_id, body)
