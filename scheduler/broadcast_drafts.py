"""A broadcast draft: checked (text, placeholders, time, channels, event, audience, SMS
length) and previewed by delivering the streamed audience without writing anything.

Every check runs before anything is stored or queued, each refusal one Vietnamese sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from messages import events as event_words
from messages import placeholders
from messages.render import _
from messages.sms import prepare
from scheduler.delivery import Note, Routing, Tally, deliver
from storage import audiences
from storage import broadcasts as store
from storage.audience_query import CHANNEL_KINDS
from storage.models.broadcasts import SOURCE_BROADCAST
from storage.models.events import CANCELLED as EVENT_CANCELLED
from storage.models.messages import BROADCAST, BULK
from storage.recipients import Recipient, recipients

BATCH = 2000  # households per page
LATE = timedelta(minutes=1)  # a send time this far back is a mistake, not "now"
TITLE_LENGTH = 60


@dataclass(frozen=True)
class Draft:
    """A broadcast as staff wrote it, before it is checked."""

    text: str
    audience: str
    sms_text: str | None = None
    send_at: datetime | None = None  # None: now
    channel_order: list[str] | None = None  # None: the settings' channel order
    urgent: bool = False  # NORMAL priority instead of BULK: goes on holidays too
    event_id: int | None = None  # allows the event placeholders, filled from the event
    title: str | None = None


class BroadcastError(ValueError):
    """A broadcast that cannot be previewed, submitted, approved or cancelled; one sentence."""


@dataclass(frozen=True)
class Preview:
    """What a broadcast would do, counted without writing anything."""

    households: int
    channels: dict[str, int]
    relayed: int  # no channel reaches them: a village relay carries the text
    opted_out: int
    segments: int  # SMS parts in all
    longest: int  # SMS parts of the longest SMS text any household would get
    cost: dict[str, float]  # VND per channel
    total_cost: float
    communes: list[str]  # commune codes
    needs_approval: bool
    reason: str  # why approval is needed ('' if not)
    sample: str  # the text as the first household gets it
    sms_sample: str | None  # its SMS text, as the SMS channel sends it


@dataclass(frozen=True)
class Texts:
    """A broadcast's templates and fixed values; fills them for each household."""

    broadcast_id: int
    text: str
    sms_text: str | None
    values: dict[str, str]  # event values
    priority: int

    def note(self, person: Recipient) -> Note:
        """The note to one household, its placeholders filled."""
        values = {**self.values, **_household(person)}
        sms = placeholders.fill(self.sms_text, values) if self.sms_text is not None else None
        return Note(
            person.household_id,
            f"b{self.broadcast_id}:{person.household_id}",
            placeholders.fill(self.text, values),
            BROADCAST,
            SOURCE_BROADCAST,
            self.broadcast_id,
            sms_text=sms,
            priority=self.priority,
        )


def _household(person: Recipient) -> dict[str, str]:
    return placeholders.household_values(
        head_name=person.head_name, code=person.code, village=person.village, commune=person.commune
    )


def routing_for(routing: Routing, order: list[str] | None) -> Routing:
    """The routing a broadcast uses: its own channel order replaces the settings' one."""
    return routing if order is None else Routing(routing.channels, list(order))


# --- checking ---------------------------------------------------------------------------


def _check_draft(draft: Draft, routing: Routing, now: datetime) -> None:
    """Text, placeholders, send time and channel order; BroadcastError or PlaceholderError."""
    if not draft.text.strip():
        raise BroadcastError(_("The broadcast has no text."))
    if draft.sms_text is not None and not draft.sms_text.strip():
        raise BroadcastError(_("The SMS text is empty; leave it out to use the main text."))
    allowed = [*placeholders.HOUSEHOLD, *(placeholders.EVENT if draft.event_id else ())]
    for template in (draft.text, draft.sms_text):
        if template is not None:
            placeholders.check(template, allowed)
    if draft.send_at is not None and draft.send_at < now - LATE:
        raise BroadcastError(_("The time to send is already past; give a time from now on."))
    order = draft.channel_order
    if order is not None:
        if not order:
            raise BroadcastError(_("Give at least one channel in the order, e.g. zalo,sms."))
        known = [*CHANNEL_KINDS, *(n for n in routing.channels if n not in CHANNEL_KINDS)]
        if unknown := [n for n in order if n not in known]:
            message = _("Loa has no channel {names}; the channels are: {known}.")
            raise BroadcastError(message.format(names=", ".join(unknown), known=", ".join(known)))


async def _event(
    session: AsyncSession, draft: Draft, *, now: datetime, zone: ZoneInfo
) -> dict[str, str]:
    """The event's placeholder values, once the event is known to be still ahead."""
    if draft.event_id is None:
        return {}
    event = await store.event_facts(session, event_id=draft.event_id)
    if event is None:
        raise BroadcastError(_("No event has the number {id}.").format(id=draft.event_id))
    if event.status == EVENT_CANCELLED:
        raise BroadcastError(_("The event {title} is cancelled.").format(title=event.title))
    if event.starts_at <= now:
        raise BroadcastError(
            _("The event {title} is already past; a notice about it cannot go out.").format(
                title=event.title
            )
        )
    used = {*placeholders.names(draft.text), *placeholders.names(draft.sms_text or "")}
    if event.register_by is None and "han_dang_ky" in used:
        raise BroadcastError(
            _("The event {title} has no registration deadline; remove {{han_dang_ky}}.").format(
                title=event.title
            )
        )
    return event_words.values(event, zone)


def _sms_channel(routing: Routing) -> tuple[bool, bool]:
    """Whether an SMS channel is in the order, and whether it strips accents."""
    for name in routing.order:
        channel = routing.channels.get(name)
        if channel is not None and channel.capabilities.sms:
            return True, channel.capabilities.strip_accents
    return False, True


# --- preview ----------------------------------------------------------------------------


@dataclass
class _Count:
    """A preview's running figures over the streamed audience."""

    tally: Tally = field(default_factory=Tally)
    longest: int = 0  # SMS parts of the longest SMS text, whatever the household's channel
    sample: Note | None = None


async def _count(
    session: AsyncSession,
    audience: audiences.Audience,
    texts: Texts,
    routing: Routing,
    *,
    now: datetime,
    today: date,
    strip: bool,
) -> _Count:
    """Deliver the audience page by page without writing: the preview's figures."""
    found = _Count()
    async for ids in audiences.stream_ids(session, audience, today=today, batch=BATCH):
        notes = [texts.note(p) for p in await recipients(session, household_ids=ids)]
        if notes and found.sample is None:
            found.sample = notes[0]
        parts = (prepare(n.sms_text or n.text, strip=strip).segments for n in notes)
        found.longest = max(found.longest, *parts, 0)
        found.tally.add(await deliver(session, notes, routing=routing, now=now, write=False))
    return found


def _cost(tally: Tally, routing: Routing, prices: dict[str, float]) -> dict[str, float]:
    """VND per channel: messages x price, SMS parts x price for an SMS channel."""

    def sms(name: str) -> bool:
        channel = routing.channels.get(name)
        return channel is not None and channel.capabilities.sms

    texts = sum(n for name, n in tally.channels.items() if sms(name))
    parts = tally.segments / texts if texts else 0.0  # parts per SMS, on average
    return {
        name: n * (parts if sms(name) else 1.0) * prices.get(name, 0.0)
        for name, n in sorted(tally.channels.items())
    }


def _reason(communes: int, households: int, threshold: int) -> str:
    """Why an officer must approve ('' if no approval is needed)."""
    why: list[str] = []
    if communes > 1:
        why.append(_("it reaches {n} communes").format(n=communes))
    if households > threshold:
        message = _("it reaches {n} households, more than {limit}")
        why.append(message.format(n=households, limit=threshold))
    return "; ".join(why)


async def preview(
    session: AsyncSession, draft: Draft, *, routing: Routing, settings: Settings, now: datetime
) -> Preview:
    """Check the draft and count what it would do; nothing is written."""
    _check_draft(draft, routing, now)
    route = routing_for(routing, draft.channel_order)
    today = now.astimezone(settings.zone).date()
    values = await _event(session, draft, now=now, zone=settings.zone)
    audience = await audiences.resolve(session, draft.audience)
    texts = Texts(0, draft.text, draft.sms_text, values, BULK)
    has_sms, strip = _sms_channel(route)
    found = await _count(session, audience, texts, route, now=now, today=today, strip=strip)
    if found.sample is None:
        message = _("The audience “{audience}” matches no household.")
        raise BroadcastError(message.format(audience=str(audience)))
    checked = has_sms or draft.sms_text is not None
    if checked and found.longest > settings.sms_max_segments:
        message = _(
            "The SMS text takes {n} parts for some households, more than the limit of {limit};"
            " shorten it or give a shorter SMS text."
        )
        raise BroadcastError(message.format(n=found.longest, limit=settings.sms_max_segments))
    communes = await audiences.communes(session, audience, today=today)
    return _preview(found, route, settings, communes, checked=checked, strip=strip)


def _preview(
    found: _Count,
    routing: Routing,
    settings: Settings,
    communes: list[str],
    *,
    checked: bool,
    strip: bool,
) -> Preview:
    tally, sample = found.tally, found.sample
    assert sample is not None
    cost = _cost(tally, routing, settings.prices)
    reason = _reason(len(communes), tally.households, settings.approval_threshold)
    sms = prepare(sample.sms_text or sample.text, strip=strip).text if checked else None
    return Preview(
        households=tally.households,
        channels=dict(sorted(tally.channels.items())),
        relayed=tally.relayed,
        opted_out=tally.opted_out,
        segments=tally.segments,
        longest=found.longest if checked else tally.longest,
        cost=cost,
        total_cost=sum(cost.values()),
        communes=communes,
        needs_approval=bool(reason),
        reason=reason,
        sample=sample.text,
        sms_sample=sms,
    )


def title_of(draft: Draft) -> str:
    """The title given, or the start of the text."""
    if draft.title and draft.title.strip():
        return draft.title.strip()[:120]
    first = " ".join(draft.text.split())
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"
