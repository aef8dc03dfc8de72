"""API: broadcasts of the token's communes: list, read with progress, preview, create (draft
or submitted), approve, cancel. The checks are the console's and the CLI's; a refusal is
400 with the sentence and the field it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.broadcast_drafts import BroadcastError, Draft, Preview, preview
from scheduler.broadcasts import status_label
from storage import broadcasts as store
from storage import console_broadcasts as visible
from storage.broadcasts import BroadcastRow
from web.api.auth import ApiApprover, ApiComposer, ApiStaff
from web.api.pages import Page, PagingDep
from web.console import broadcast_actions as actions
from web.console.broadcast_actions import BroadcastId
from web.console.broadcast_forms import REFUSALS, Compose, draft_of, field_of
from web.deps import SessionDep

router = APIRouter(tags=["broadcasts"])
SOURCE = "api"
Status = Literal["draft", "pending_approval", "scheduled", "sending", "done", "cancelled"]
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\s,\x00]+$")]
Codes = Annotated[list[Code], Field(max_length=200)]


class RefusalOut(BaseModel):
    """A broadcast refused: the sentence, and the field it is about ("form": the whole; none
    when the body itself could not be read as JSON)."""

    detail: str
    field: str | None = None


REFUSED: dict[int | str, dict[str, object]] = {
    400: {"model": RefusalOut, "description": "Refused; nothing was changed"}
}


class BroadcastIn(BaseModel):
    """A broadcast as the compose form takes it. `audience` (the audience language) wins over
    the builder lists; with neither, nobody is chosen. Outside admins, the audience is
    limited to the token's communes."""

    title: Annotated[str, Field(max_length=120, pattern=r"^[^\x00]*$")] = ""
    text: Text
    sms_text: Text | None = None
    channel_order: Annotated[list[Code], Field(max_length=10)] | None = None
    send_at: datetime | None = Field(None, description="Without a zone: Vietnam time; none: now")
    urgent: bool = False
    audience: Text = ""
    communes: Codes = []
    villages: Codes = []
    categories: Codes = []
    flags: Codes = []
    submit: bool = Field(True, description="false: keep it as a draft")

    def compose(self) -> Compose:
        """The same value the console's form fills."""
        return Compose(
            title=self.title.strip(),
            text=self.text.strip(),
            sms_text=(self.sms_text or "").strip(),
            channel_order=",".join(self.channel_order or []),
            send_at=self.send_at.isoformat() if self.send_at else "",
            urgent=self.urgent,
            communes=self.communes,
            villages=self.villages,
            categories=self.categories,
            flags=self.flags,
            advanced=self.audience,
        )


class ProgressOut(BaseModel):
    running: bool
    value: int  # households done: messages past the queue, and relays
    max: int
    percent: int
    waiting: int
    statuses: dict[str, int]  # messages by status
    relayed: int
    relays_delivered: int


class BroadcastOut(BaseModel):
    id: int
    title: str
    text: str
    sms_text: str | None
    audience: str
    channel_order: list[str] | None
    send_at: datetime
    urgent: bool
    status: Status
    status_label: str
    event_id: int | None
    households: int
    communes: list[str]
    needs_approval: bool
    created_by: str
    approved_by: str | None
    approved_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    queued_at: datetime | None
    done_at: datetime | None
    created_at: datetime


class BroadcastDetailOut(BroadcastOut):
    progress: ProgressOut


class PreviewOut(BaseModel):
    audience: str  # as it will be stored, limited to the token's communes
    households: int
    channels: dict[str, int]
    relayed: int
    opted_out: int
    segments: int
    longest: int
    cost: dict[str, float]  # VND
    total_cost: float
    communes: list[str]
    needs_approval: bool
    reason: str
    sample: str
    sms_sample: str | None


class SavedOut(BaseModel):
    broadcast: BroadcastDetailOut
    preview: PreviewOut | None


class CancelledOut(BaseModel):
    broadcast: BroadcastDetailOut
    withdrawn: int  # messages not yet sent, now cancelled


def _out(row: BroadcastRow) -> BroadcastOut:
    return BroadcastOut(**vars(row), status_label=status_label(row.status))


async def _detail(session: AsyncSession, row: BroadcastRow) -> BroadcastDetailOut:
    found = actions.bar(row, await store.progress(session, broadcast_id=row.id))
    progress = ProgressOut(
        running=found.running,
        value=found.value,
        max=found.max,
        percent=found.percent,
        waiting=found.waiting,
        statuses=found.statuses,
        relayed=found.relayed,
        relays_delivered=found.relays_delivered,
    )
    return BroadcastDetailOut(**_out(row).model_dump(), progress=progress)


def _preview_out(audience: str, seen: Preview) -> PreviewOut:
    return PreviewOut(audience=audience, **vars(seen))


def _refused(exc: Exception, draft: Draft | None) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "field": field_of(exc, draft)}, status_code=400)


@router.get("/broadcasts", response_model=Page[BroadcastOut])
async def list_broadcasts(
    session: SessionDep,
    staff: ApiStaff,
    paging: PagingDep,
    status: Annotated[Status | None, Query(description="Only this status")] = None,
) -> Page[BroadcastOut]:
    """Broadcasts of the token's communes, newest first."""
    rows, total = await visible.page(
        session, scope=staff.scope, status=status, offset=paging.offset, limit=paging.per_page
    )
    return Page(
        items=[_out(r) for r in rows], page=paging.page, per_page=paging.per_page, total=total
    )


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastDetailOut)
async def get_broadcast(
    session: SessionDep, staff: ApiStaff, broadcast_id: BroadcastId
) -> BroadcastDetailOut:
    """One broadcast with its progress (messages by status, relays)."""
    return await _detail(session, await actions.find(session, staff, broadcast_id))


@router.post("/broadcasts/preview", response_model=PreviewOut, responses=REFUSED)
async def preview_broadcast(
    request: Request, session: SessionDep, staff: ApiComposer, body: BroadcastIn
) -> PreviewOut | JSONResponse:
    """What the broadcast would do (households per channel, relays, SMS parts, cost);
    nothing is stored."""
    settings, draft = actions.settings_of(request), None
    try:
        draft = await draft_of(session, body.compose(), scope=staff.scope, zone=settings.zone)
        seen = await preview(
            session,
            draft,
            routing=actions.routing_of(request),
            settings=settings,
            now=request.app.state.clock.now(),
        )
    except REFUSALS as exc:
        return _refused(exc, draft)
    finally:
        await session.rollback()
    return _preview_out(draft.audience, seen)


@router.post("/broadcasts", response_model=SavedOut, status_code=201, responses=REFUSED)
async def create_broadcast(
    request: Request, session: SessionDep, staff: ApiComposer, body: BroadcastIn
) -> SavedOut | JSONResponse:
    """Store a broadcast: a draft (`submit: false`), or submitted: waiting for an officer
    when it spans several communes or many households, else scheduled."""
    settings, draft = actions.settings_of(request), None
    try:
        draft = await draft_of(session, body.compose(), scope=staff.scope, zone=settings.zone)
        saved = await actions.save(
            session,
            draft,
            staff=staff,
            source=SOURCE,
            routing=actions.routing_of(request),
            settings=settings,
            now=request.app.state.clock.now(),
            submit=body.submit,
        )
        await session.commit()
    except REFUSALS as exc:
        await session.rollback()
        return _refused(exc, draft)
    row = await actions.find(session, staff, saved.id)
    seen = _preview_out(draft.audience, saved.preview) if saved.preview else None
    return SavedOut(broadcast=await _detail(session, row), preview=seen)


@router.post(
    "/broadcasts/{broadcast_id}/approve", response_model=BroadcastDetailOut, responses=REFUSED
)
async def approve_broadcast(
    request: Request, session: SessionDep, staff: ApiApprover, broadcast_id: BroadcastId
) -> BroadcastDetailOut | JSONResponse:
    """Approve a broadcast waiting for an officer: never its writer, and the token's areas
    must cover every commune it reaches."""
    row = await actions.find(session, staff, broadcast_id)
    try:
        now = request.app.state.clock.now()
        await actions.approve(session, row, staff=staff, source=SOURCE, now=now)
        await session.commit()
    except BroadcastError as exc:
        await session.rollback()
        return _refused(exc, None)
    return await _detail(session, await actions.find(session, staff, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=CancelledOut, responses=REFUSED)
async def cancel_broadcast(
    request: Request, session: SessionDep, staff: ApiStaff, broadcast_id: BroadcastId
) -> CancelledOut | JSONResponse:
    """Cancel: the writer, an officer or an admin; messages not yet sent stay unsent."""
    row = await actions.find(session, staff, broadcast_id)
    try:
        now = request.app.state.clock.now()
        withdrawn = await actions.cancel(session, row, staff=staff, source=SOURCE, now=now)
        await session.commit()
    except BroadcastError as exc:
        await session.rollback()
        return _refused(exc, None)
    row = await actions.find(session, staff, broadcast_id)
    return CancelledOut(broadcast=await _detail(session, row), withdrawn=withdrawn)
