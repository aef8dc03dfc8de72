"""What staff do to a broadcast from the console or the API: save a draft, submit, approve,
cancel; each audited. The checks are the scheduler's (`scheduler.broadcasts`), so the web
refuses exactly what `loa broadcast ...` refuses. The caller commits (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.inbox import order
from messages.render import _
from scheduler import broadcasts as flow
from scheduler.broadcast_drafts import BroadcastError, Draft, Preview, preview, title_of
from scheduler.delivery import Routing
from storage import audiences, audit
from storage import broadcasts as store
from storage import console_broadcasts as visible
from storage.audit import Actor
from storage.broadcasts import BroadcastRow, NewBroadcast, Progress
from storage.models.broadcasts import (
    CANCELLED,
    DONE,
    DRAFT,
    PENDING_APPROVAL,
    SCHEDULED,
    SENDING,
)
from storage.models.messages import QUEUED
from storage.models.messages import SENDING as MESSAGE_SENDING
from web.console.auth import Staff, not_found

ENTITY = "broadcasts"
RUNNING = (SCHEDULED, SENDING)  # the progress moves (or is about to)
BroadcastId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The broadcast's number")]


@dataclass(frozen=True)
class Saved:
    """A broadcast stored: its id, its status and (when submitted) the preview it passed."""

    id: int
    status: str
    preview: Preview | None


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def find(session: AsyncSession, staff: Staff, broadcast_id: int) -> BroadcastRow:
    """The broadcast if the user may see it; else the 404 of a record that does not exist."""
    found = await visible.find(session, scope=staff.scope, broadcast_id=broadcast_id)
    if found is None:
        raise not_found()
    return found


def routing_of(request: Request) -> Routing:
    """The app's channels in the settings' order, as the scheduler uses them."""
    settings: Settings = request.app.state.settings
    return Routing(request.app.state.channels, order(settings))


async def _audit(
    session: AsyncSession,
    *,
    staff: Staff,
    source: str,
    now: datetime,
    action: str,
    broadcast_id: int,
    changes: dict[str, list[object]],
) -> None:
    await audit.add(
        session,
        actor=Actor(name=staff.username, source=source),
        at=now,
        action=action,
        entity=ENTITY,
        key=str(broadcast_id),
        changes={name: [audit.jsonable(v) for v in pair] for name, pair in changes.items()},
    )


async def _as_draft(
    session: AsyncSession, draft: Draft, *, by: str, settings: Settings, now: datetime
) -> NewBroadcast:
    """A draft to store: only the text and the audience must be readable."""
    if not draft.text.strip():
        raise BroadcastError(_("The broadcast has no text."))
    audience = await audiences.resolve(session, draft.audience)
    today = now.astimezone(settings.zone).date()
    communes = await audiences.communes(session, audience, today=today)
    return NewBroadcast(
        title=title_of(draft),
        text=draft.text,
        sms_text=draft.sms_text,
        audience=str(audience),
        channel_order=draft.channel_order,
        send_at=draft.send_at or now,
        urgent=draft.urgent,
        status=DRAFT,
        event_id=draft.event_id,
        households=await audiences.count(session, audience, today=today),
        communes=communes or list(audience.communes),
        needs_approval=False,
        created_by=by,
    )


def _submitted(draft: Draft, seen: Preview, *, by: str, now: datetime) -> NewBroadcast:
    """A checked draft as `scheduler.broadcasts.submit` stores it."""
    return NewBroadcast(
        title=title_of(draft),
        text=draft.text,
        sms_text=draft.sms_text,
        audience=str(audiences.parse(draft.audience)),
        channel_order=draft.channel_order,
        send_at=draft.send_at or now,
        urgent=draft.urgent,
        status=PENDING_APPROVAL if seen.needs_approval else SCHEDULED,
        event_id=draft.event_id,
        households=seen.households,
        communes=seen.communes,
        needs_approval=seen.needs_approval,
        created_by=by,
    )


async def save(
    session: AsyncSession,
    draft: Draft,
    *,
    staff: Staff,
    source: str,
    routing: Routing,
    settings: Settings,
    now: datetime,
    submit: bool,
    broadcast_id: int | None = None,
) -> Saved:
    """Store a new broadcast (or rewrite the draft `broadcast_id`): as a draft, or submitted
    (checked and previewed first: waiting for approval when it needs one, else scheduled)."""
    by, seen, created = staff.username, None, broadcast_id is None
    if submit and broadcast_id is None:
        broadcast_id, seen = await flow.submit(
            session, draft, routing=routing, settings=settings, now=now, by=by
        )
    else:
        if submit:
            seen = await preview(session, draft, routing=routing, settings=settings, now=now)
            new = _submitted(draft, seen, by=by, now=now)
        else:
            new = await _as_draft(session, draft, by=by, settings=settings, now=now)
        if broadcast_id is None:
            broadcast_id = await store.create(session, new=new, now=now)
        elif not await visible.rewrite_draft(session, broadcast_id=broadcast_id, new=new, now=now):
            message = _("The broadcast {id} changed meanwhile; look again.")
            raise BroadcastError(message.format(id=broadcast_id))
    row = await store.get(session, broadcast_id=broadcast_id)
    assert row is not None
    await _audit(
        session,
        staff=staff,
        source=source,
        now=now,
        action="create" if created else ("submit" if submit else "update"),
        broadcast_id=broadcast_id,
        changes={
            "status": [None if created else DRAFT, row.status],
            "title": [None, row.title],
            "audience": [None, row.audience],
            "send_at": [None, row.send_at],
            "households": [None, row.households],
        },
    )
    return Saved(broadcast_id, row.status, seen)


# --- who may do what ----------------------------------------------------------------------


def may_edit(staff: Staff, row: BroadcastRow) -> bool:
    """A draft is changed (or submitted) by its writer, or an admin."""
    return (
        row.status == DRAFT
        and staff.can("compose")
        and (staff.role == "admin" or row.created_by == staff.username)
    )


def _cancels(staff: Staff, row: BroadcastRow) -> bool:
    """Composers and approvers cancel: an assistant only their own broadcasts."""
    if not (staff.can("compose") or staff.can("approve")):
        return False
    return staff.role in ("admin", "officer") or row.created_by == staff.username


def may_cancel(staff: Staff, row: BroadcastRow) -> bool:
    """Whether to offer the cancel button."""
    return row.status in store.CANCELLABLE and _cancels(staff, row)


def may_approve(staff: Staff, row: BroadcastRow) -> bool:
    """Whether to offer the approve button (the scheduler checks the rest)."""
    return row.status == PENDING_APPROVAL and staff.can("approve")


async def approve(
    session: AsyncSession, row: BroadcastRow, *, staff: Staff, source: str, now: datetime
) -> None:
    """Approve as `staff` (never the writer; their areas must cover every commune)."""
    await flow.approve(session, row.id, by=staff.username, now=now)
    changes: dict[str, list[object]] = {
        "status": [PENDING_APPROVAL, SCHEDULED],
        "approved_by": [None, staff.username],
    }
    await _audit(
        session,
        staff=staff,
        source=source,
        now=now,
        action="approve",
        broadcast_id=row.id,
        changes=changes,
    )


async def cancel(
    session: AsyncSession, row: BroadcastRow, *, staff: Staff, source: str, now: datetime
) -> int:
    """Cancel; the messages not yet sent are withdrawn (how many)."""
    if not _cancels(staff, row):
        # A sentence beside the button (400), like the scheduler's own refusals.
        raise BroadcastError(
            _("Only the sender, an officer or an admin can cancel this broadcast.")
        )
    withdrawn = await flow.cancel(session, row.id, by=staff.username, now=now)
    changes: dict[str, list[object]] = {
        "status": [row.status, CANCELLED],
        "withdrawn": [None, withdrawn],
    }
    await _audit(
        session,
        staff=staff,
        source=source,
        now=now,
        action="cancel",
        broadcast_id=row.id,
        changes=changes,
    )
    return withdrawn


# --- progress -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A broadcast's progress as the bar shows it."""

    status: str
    running: bool
    value: int  # households done: messages no longer waiting, and relays
    max: int
    waiting: int  # messages queued or being sent
    statuses: dict[str, int] = field(default_factory=dict)
    relayed: int = 0
    relays_delivered: int = 0

    @property
    def percent(self) -> int:
        return 100 if self.max == 0 else round(100 * self.value / self.max)


def bar(row: BroadcastRow, progress: Progress) -> Bar:
    """Messages past the queue (and relays) out of the messages and relays there will be:
    before queueing has ended that is at least the households at submission."""
    waiting = progress.count(QUEUED) + progress.count(MESSAGE_SENDING)
    total = sum(progress.statuses.values()) + progress.relayed
    most = total if row.queued_at is not None or row.status == DONE else max(total, row.households)
    value = most if row.status == DONE else total - waiting
    return Bar(
        status=row.status,
        running=row.status in RUNNING,
        value=value,
        max=most,
        waiting=waiting,
        statuses=dict(progress.statuses),
        relayed=progress.relayed,
        relays_delivered=progress.relays_delivered,
    )
