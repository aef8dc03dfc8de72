"""Broadcasts: submitted, approved or cancelled, and the scheduler pass that queues due ones
in batches and marks finished ones done (checking and previewing: `broadcast_drafts`).

The pass never holds the whole audience: it streams household ids in keyset pages and
commits each page's outbox rows, so memory stays flat and a crash mid-way is resumed by
the next pass (dedup keys `b{id}:{household_id}` make the rows already queued a no-op).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from messages import events as event_words
from messages import placeholders
from messages.render import N_, _
from scheduler.broadcast_drafts import (
    BATCH,
    BroadcastError,
    Draft,
    Preview,
    Texts,
    preview,
    routing_for,
    title_of,
)
from scheduler.delivery import Planned, Routing, Tally, plan, put
from scheduler.tick import Context, Line
from storage import audiences, events
from storage import broadcasts as store
from storage.broadcasts import BroadcastRow, NewBroadcast
from storage.models.broadcasts import (
    CANCELLED,
    DONE,
    DRAFT,
    PENDING_APPROVAL,
    SCHEDULED,
    SENDING,
)
from storage.models.events import CANCELLED as EVENT_CANCELLED
from storage.models.messages import BULK, NORMAL
from storage.recipients import recipients

__all__ = [
    "BATCH",
    "BroadcastError",
    "Draft",
    "Preview",
    "approve",
    "cancel",
    "preview",
    "run",
    "status_label",
    "submit",
]
log = logging.getLogger(__name__)
APPROVERS = ("admin", "officer")
SYSTEM = "loa"  # who cancels a broadcast whose event is gone


async def submit(
    session: AsyncSession,
    draft: Draft,
    *,
    routing: Routing,
    settings: Settings,
    now: datetime,
    by: str,
) -> tuple[int, Preview]:
    """Check and store the broadcast: waiting for approval if it needs one, else scheduled;
    the caller commits."""
    seen = await preview(session, draft, routing=routing, settings=settings, now=now)
    new = NewBroadcast(
        title=title_of(draft),
        text=draft.text,
        sms_text=draft.sms_text,
        audience=str(audiences.parse(draft.audience)),
        channel_order=list(draft.channel_order) if draft.channel_order is not None else None,
        send_at=draft.send_at or now,
        urgent=draft.urgent,
        status=PENDING_APPROVAL if seen.needs_approval else SCHEDULED,
        event_id=draft.event_id,
        households=seen.households,
        communes=seen.communes,
        needs_approval=seen.needs_approval,
        created_by=by,
    )
    return await store.create(session, new=new, now=now), seen


# --- approval and cancelling ------------------------------------------------------------

STATUS_LABELS = {
    DRAFT: N_("draft"),
    PENDING_APPROVAL: N_("waiting for approval"),
    SCHEDULED: N_("scheduled"),
    SENDING: N_("being sent"),
    DONE: N_("sent in full"),
    CANCELLED: N_("cancelled"),
}


def status_label(status: str) -> str:
    """A broadcast status as staff read it."""
    return _(STATUS_LABELS.get(status, status))


async def _stored(session: AsyncSession, broadcast_id: int) -> BroadcastRow:
    found = await store.get(session, broadcast_id=broadcast_id)
    if found is None:
        raise BroadcastError(_("No broadcast has the number {id}.").format(id=broadcast_id))
    return found


async def approve(session: AsyncSession, broadcast_id: int, *, by: str, now: datetime) -> None:
    """An officer (or admin) whose areas cover every commune approves; never the sender."""
    found = await _stored(session, broadcast_id)
    if found.status != PENDING_APPROVAL:
        message = _("The broadcast {id} is not waiting for approval; it is {status}.")
        raise BroadcastError(message.format(id=broadcast_id, status=status_label(found.status)))
    who = await store.approver(session, username=by, communes=found.communes)
    if who is None or not who.active:
        raise BroadcastError(_("No active staff user is called {name}.").format(name=by))
    if who.role not in APPROVERS:
        raise BroadcastError(
            _("Only an officer or an admin can approve a broadcast; {name} is not one.").format(
                name=by
            )
        )
    if by == found.created_by:
        raise BroadcastError(_("The sender of a broadcast cannot approve it; ask another officer."))
    if missing := [c for c in found.communes if c not in who.covered]:
        message = _("{name} cannot approve for these communes, outside their areas: {codes}.")
        raise BroadcastError(message.format(name=by, codes=", ".join(missing)))
    if not await store.approve(session, broadcast_id=broadcast_id, by=by, now=now):
        raise BroadcastError(
            _("The broadcast {id} changed meanwhile; look again.").format(id=broadcast_id)
        )


async def cancel(session: AsyncSession, broadcast_id: int, *, by: str, now: datetime) -> int:
    """Cancel a broadcast not yet done; its messages not yet sent stay unsent (how many)."""
    found = await _stored(session, broadcast_id)
    cancelled = await store.cancel(session, broadcast_id=broadcast_id, by=by, now=now)
    if cancelled is None:
        message = _("The broadcast {id} is {status}; it can no longer be cancelled.")
        raise BroadcastError(message.format(id=broadcast_id, status=status_label(found.status)))
    return cancelled


# --- the scheduler pass -----------------------------------------------------------------


async def run(ctx: Context) -> list[Line]:
    """Queue the due broadcasts (and resume interrupted ones); mark finished ones done."""
    async with ctx.sessions() as session:
        found = await store.due(session, now=ctx.now)
    started, failed, total = 0, 0, Tally()
    for one in found:
        try:
            queued = await _queue(ctx, one)
        except Exception:
            log.exception("broadcast %s could not be queued at %s", one.id, ctx.now.isoformat())
            failed += 1
            continue
        if queued is not None:
            started += 1
            total.add(queued)
    async with ctx.sessions() as session, session.begin():
        done = await store.finish_done(session, now=ctx.now)
    lines = [
        Line(N_("Broadcasts queued"), started),
        Line(N_("Broadcast messages queued"), sum(total.channels.values())),
        Line(N_("Broadcast households to reach by hand"), total.relayed),
        Line(N_("Broadcasts done"), done),
    ]
    if failed:
        lines.append(Line(N_("Broadcasts not queued; see the log"), failed))
    return lines


async def _queue(ctx: Context, one: BroadcastRow) -> Tally | None:
    """Queue one broadcast page by page; None if it was not (or no longer) to be sent."""
    if one.status == SCHEDULED:
        async with ctx.sessions() as session, session.begin():
            if not await store.start_sending(session, broadcast_id=one.id, now=ctx.now):
                return None  # another pass took it, or it was cancelled meanwhile
    async with ctx.sessions() as session:
        texts = await _texts(session, one, ctx.now, ctx.settings.zone)
        if texts is None:
            await session.commit()
            return None
        audience = await audiences.resolve(session, one.audience)
        tally = await _pages(session, one, audience, texts, ctx)
    if tally is not None:
        async with ctx.sessions() as session, session.begin():
            await store.mark_queued(session, broadcast_id=one.id, now=ctx.now)
    return tally


async def _pages(
    reader: AsyncSession,
    one: BroadcastRow,
    audience: audiences.Audience,
    texts: Texts,
    ctx: Context,
) -> Tally | None:
    """Deliver the audience (re-read now) a page at a time, one commit each. The next page
    is read and planned on READER while the last one is written on another connection: the
    database works on one while Python works on the other."""
    routing = routing_for(ctx.routing, one.channel_order)
    tally = Tally()
    writing: asyncio.Task[bool] | None = None
    async with ctx.sessions() as writer:
        try:
            async for ids in audiences.stream_ids(reader, audience, today=ctx.today, batch=BATCH):
                notes = [texts.note(p) for p in await recipients(reader, household_ids=ids)]
                planned = await plan(reader, notes, routing=routing)
                if writing is not None and not await writing:
                    return None
                writing = asyncio.create_task(_write(writer, one, planned, ids, ctx.now))
                tally.add(planned.tally)
            if writing is not None and not await writing:
                return None
        finally:
            if writing is not None and not writing.done():
                await asyncio.wait([writing])  # never close the session under a write
    return tally


async def _write(
    writer: AsyncSession, one: BroadcastRow, planned: Planned, ids: list[int], now: datetime
) -> bool:
    """Write one page and commit it; False, and nothing kept, if the broadcast was cancelled."""
    await put(writer, planned, now=now)
    if one.event_id is not None:
        await events.invite(writer, event_id=one.event_id, household_ids=ids, now=now)
    # Looked at after writing, row locked: a cancel either came first (undo this page) or
    # waits for this commit and then cancels these rows too.
    if await store.status_for_update(writer, broadcast_id=one.id) != SENDING:
        await writer.rollback()
        return False
    await writer.commit()
    return True


async def _texts(
    session: AsyncSession, one: BroadcastRow, now: datetime, zone: ZoneInfo
) -> Texts | None:
    """The broadcast's templates with its event's values as they are now; None (and the
    broadcast cancelled) when the event it announces is gone or cancelled."""
    priority = NORMAL if one.urgent else BULK
    used = {*placeholders.names(one.text), *placeholders.names(one.sms_text or "")}
    if one.event_id is None and not used & set(placeholders.EVENT):
        return Texts(one.id, one.text, one.sms_text, {}, priority)
    event = None
    if one.event_id is not None:
        event = await store.event_facts(session, event_id=one.event_id)
    if event is None or event.status == EVENT_CANCELLED:
        await store.cancel(session, broadcast_id=one.id, by=SYSTEM, now=now)
        log.warning("broadcast %s cancelled: its event is gone or cancelled", one.id)
        return None
    return Texts(one.id, one.text, one.sms_text, event_words.values(event, zone), priority)
