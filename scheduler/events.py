"""Events: creating one with its notice broadcast, changing it, and the day-before reminders.

The notice is an ordinary broadcast about the event (`scheduler.broadcasts`), so approval,
preview, channels and relays work as for any broadcast; when it is queued its households are
invited. A change of status, date or place bumps the event's revision: the households on its
list are told once per revision, and reminders are keyed by revision, so a new date gets a
new reminder and a rerun queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from messages import events as words
from messages import placeholders
from messages.render import N_, _
from scheduler import broadcasts
from scheduler.broadcasts import Draft, Preview
from scheduler.delivery import Note, Routing, Tally, deliver
from scheduler.event_drafts import DETAILS, EventDraft, EventError, check, parse_details
from scheduler.tick import Context, Line
from storage import audiences, surveys
from storage import broadcasts as notices
from storage import events as store
from storage.models import Event
from storage.models.broadcasts import SOURCE_EVENT
from storage.models.events import (
    CANCELLED,
    CONFIRMED,
    EVENT_STATUSES,
    INVITED,
    PLANNED,
    POSTPONED,
    REGISTERED,
)
from storage.models.messages import EVENT_CHANGE, EVENT_REMINDER, NORMAL
from storage.vocab import CATEGORY_LABELS

__all__ = [
    "DETAILS",
    "Changed",
    "Created",
    "EventDraft",
    "EventError",
    "check",
    "create",
    "parse_details",
    "remind",
    "run",
    "update",
]
BATCH = 2000  # households per delivery
SYSTEM = "loa"  # who withdraws the notice of an event called off
RUNNING = (PLANNED, CONFIRMED)  # still going ahead: reminded, open for registration


@dataclass(frozen=True)
class Created:
    """A created (or, as a preview, would-be) event and its notice broadcast."""

    event_id: int
    broadcast_id: int | None  # None for a preview
    preview: Preview
    text: str
    sms_text: str | None


@dataclass(frozen=True)
class Changed:
    """What an update did."""

    event: Event
    changed: list[str]
    reminders_cancelled: int
    notices_cancelled: int  # notice broadcasts not yet (fully) sent, withdrawn
    tally: Tally


async def _check_store(session: AsyncSession, draft: EventDraft, *, today: date) -> str:
    """The audience, commune and feedback survey against the store; who the event is for."""
    audience = await audiences.resolve(session, draft.audience)
    if draft.commune_code and not await store.commune_exists(session, code=draft.commune_code):
        raise EventError(_("No commune has the code {code}.").format(code=draft.commune_code))
    form = draft.feedback_form
    if form and await surveys.latest_version(session, form_id=form) is None:
        raise EventError(_("There is no survey {form_id}.").format(form_id=form))
    if draft.notice is not None:
        placeholders.check(draft.notice, [*placeholders.HOUSEHOLD, *placeholders.EVENT])
    return ", ".join(_(CATEGORY_LABELS[c]).lower() for c in audience.categories)


def _row(draft: EventDraft, *, by: str, now: datetime) -> Event:
    return Event(
        kind=draft.kind,
        title=draft.title.strip(),
        commune_code=draft.commune_code,
        starts_at=draft.starts_at.astimezone(UTC),
        ends_at=draft.ends_at.astimezone(UTC) if draft.ends_at else None,
        place=draft.place.strip(),
        audience=str(audiences.parse(draft.audience)),
        status=draft.status,
        details=dict(draft.details),
        register_by=draft.register_by,
        min_size=draft.min_size,
        revision=0,
        feedback_form=draft.feedback_form,
        created_by=by,
        created_at=now,
        updated_at=now,
    )


def notice_texts(draft: EventDraft, settings: Settings, *, who: str) -> tuple[str, str | None]:
    """The notice and its SMS: staff's own text (with the status added when planned), or
    composed from the kind and details."""
    if draft.notice is None:
        text = words.notice(draft, settings.zone, who=who)
        sms = words.sms(
            draft,
            settings.zone,
            strip=settings.sms_strip_accents,
            max_segments=settings.sms_max_segments,
        )
        return text, sms
    text = draft.notice.strip()
    if draft.status == PLANNED and _(words.STATUS_LABELS[PLANNED]) not in text:
        text += f" ({_(words.STATUS_LABELS[PLANNED])})"  # never promise what is not funded
    return text, None


async def create(
    session: AsyncSession,
    draft: EventDraft,
    *,
    routing: Routing,
    settings: Settings,
    now: datetime,
    by: str,
    submit: bool,
) -> Created:
    """Store the event and submit its notice (or, not submitting, only preview it: the
    caller then rolls back); the caller commits."""
    check(draft, now=now, zone=settings.zone)
    who = await _check_store(session, draft, today=now.astimezone(settings.zone).date())
    event_id = await store.add(session, event=_row(draft, by=by, now=now))
    text, sms = notice_texts(draft, settings, who=who)
    notice = Draft(text, draft.audience, sms_text=sms, event_id=event_id, title=draft.title)
    if not submit:
        seen = await broadcasts.preview(
            session, notice, routing=routing, settings=settings, now=now
        )
        return Created(event_id, None, seen, text, sms)
    broadcast_id, seen = await broadcasts.submit(
        session, notice, routing=routing, settings=settings, now=now, by=by
    )
    return Created(event_id, broadcast_id, seen, text, sms)


async def stored(session: AsyncSession, event_id: int) -> Event:
    """The event with this number, or EventError."""
    event = await store.get(session, event_id=event_id)
    if event is None:
        raise EventError(_("No event has the number {id}.").format(id=event_id))
    return event


def _changes(
    event: Event,
    *,
    status: str | None,
    starts_at: datetime | None,
    place: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The fields that change, checked."""
    values: dict[str, Any] = {}
    if status is not None and status != event.status:
        if status not in EVENT_STATUSES:
            message = _("The status must be one of: {known}.")
            raise EventError(message.format(known=", ".join(EVENT_STATUSES)))
        values["status"] = status
    if starts_at is not None and starts_at != event.starts_at:
        if starts_at <= now:
            raise EventError(_("The event's time is already past; give a time from now on."))
        values["starts_at"] = starts_at.astimezone(UTC)
        if event.ends_at is not None:
            values["ends_at"] = event.ends_at + (starts_at - event.starts_at)
    if place is not None and place.strip() and place.strip() != event.place:
        values["place"] = place.strip()
    return values


async def update(
    session: AsyncSession,
    event_id: int,
    *,
    status: str | None = None,
    starts_at: datetime | None = None,
    place: str | None = None,
    routing: Routing,
    settings: Settings,
    now: datetime,
) -> Changed:
    """Change an event's status, date or place and tell every household on its list;
    the caller commits."""
    event = await stored(session, event_id)
    if event.status == CANCELLED:
        raise EventError(_("The event {id} is cancelled; create a new one.").format(id=event_id))
    values = _changes(event, status=status, starts_at=starts_at, place=place, now=now)
    if not values:
        raise EventError(_("Nothing changes: give a new status, date or place."))
    if "starts_at" in values and event.register_by is not None:
        first_day = values["starts_at"].astimezone(settings.zone).date()
        values["register_by"] = min(event.register_by, first_day)
    changed: list[str] = [k for k in ("status", "starts_at", "place") if k in values]
    revision = event.revision + 1
    await store.change(
        session, event_id=event_id, values={**values, "revision": revision, "updated_at": now}
    )
    await session.refresh(event)
    cancelled = withdrawn = 0
    if event.status in (CANCELLED, POSTPONED) or "starts_at" in values:
        cancelled = await store.cancel_reminders(session, event_id=event_id, now=now)
    if event.status in (CANCELLED, POSTPONED):  # its notice must not promise it any more
        withdrawn = await _withdraw_notices(session, event_id, now=now)
    text = words.change(event, settings.zone, changed=changed)
    ids = await store.household_ids(session, event_id=event_id, statuses=(INVITED, REGISTERED))
    notes = [
        Note(h, f"ev{event_id}.r{revision}:{h}", text, EVENT_CHANGE, SOURCE_EVENT, event_id)
        for h in ids
    ]
    tally = await _deliver(session, notes, routing=routing, now=now)
    return Changed(event, changed, cancelled, withdrawn, tally)


async def _withdraw_notices(session: AsyncSession, event_id: int, *, now: datetime) -> int:
    """Cancel the event's notice broadcasts still waiting or going out; how many."""
    count = 0
    for broadcast_id in await notices.for_event(session, event_id=event_id):
        if await notices.cancel(session, broadcast_id=broadcast_id, by=SYSTEM, now=now) is not None:
            count += 1
    return count


async def _deliver(
    session: AsyncSession, notes: Sequence[Note], *, routing: Routing, now: datetime
) -> Tally:
    tally = Tally()
    for start in range(0, len(notes), BATCH):
        batch = notes[start : start + BATCH]
        tally.add(await deliver(session, batch, routing=routing, now=now))
    return tally


async def remind(
    session: AsyncSession, *, routing: Routing, settings: Settings, now: datetime
) -> int:
    """Queue the reminders for events tomorrow (local date) to their registered households;
    how many households were newly reminded."""
    tomorrow = now.astimezone(settings.zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(), settings.zone).astimezone(UTC)
    found = await store.starting_between(
        session, start=start, end=start + timedelta(days=1), statuses=RUNNING
    )
    count = 0
    for event in found:
        ids = await store.household_ids(session, event_id=event.id, statuses=(REGISTERED,))
        keys = {h: f"ev{event.id}.remind.r{event.revision}:{h}" for h in ids}
        done = await store.existing_keys(session, keys=list(keys.values()))
        by_hand = await store.relayed(session, event_id=event.id)  # a relay list is one per event
        text = words.reminder(event, settings.zone)
        notes = [
            Note(h, key, text, EVENT_REMINDER, SOURCE_EVENT, event.id, priority=NORMAL)
            for h, key in keys.items()
            if key not in done and h not in by_hand
        ]
        tally = await _deliver(session, notes, routing=routing, now=now)
        count += tally.households - tally.opted_out
    return count


async def run(ctx: Context) -> list[Line]:
    """The scheduler pass: the day-before reminders."""
    async with ctx.sessions() as session, session.begin():
        count = await remind(session, routing=ctx.routing, settings=ctx.settings, now=ctx.now)
    return [Line(N_("Event reminders queued"), count)]
