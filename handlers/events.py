"""Registration by reply: "1" to an event's notice registers the household, "2" declines.

Only a household invited to an event still ahead is read this way, and only outside a
survey (the router asks first); any other "1" goes where it went before. Times are shown in
Vietnam time, as every household of Loa lives there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dialogue.answers import compact_key, read_yes_no
from handlers.dialogue.conversations import Turn
from handlers.keywords import keyword
from messages import events as words
from messages.render import VN_ZONE, _
from storage import events as store
from storage.conversations import ContactRef
from storage.messages import Outbound
from storage.models import Event
from storage.models.events import CONFIRMED, PLANNED, REGISTERED
from storage.models.messages import REPLY

EVENT_REPLY = "event_reply"  # an inbound message taken as a reply to an event's notice
_YES = frozenset({"1", "dangky"})  # "đăng ký" is also the opt-in keyword: here it registers
_NO = frozenset({"2", "tuchoi"})


@dataclass(frozen=True)
class EventReply:
    """The household that answered (on a shared phone, the invited one) and the replies."""

    household_id: int
    contact_id: int
    replies: list[Outbound]


def reading(text: str) -> bool | None:
    """True to register, False to decline, None when the text is neither."""
    key = compact_key(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    if keyword(text) is not None:
        return None  # stop, help, DK <code>: the keywords keep their meaning
    return read_yes_no(text)


def open_for_registration(event: Event, *, now: datetime, today: date) -> bool:
    """Still going ahead, not started, and its deadline (a local date) not passed."""
    if event.status not in (PLANNED, CONFIRMED) or event.starts_at <= now:
        return False
    return event.register_by is None or today <= event.register_by


async def enrol(
    session: AsyncSession,
    event: Event,
    *,
    household_id: int,
    contact_id: int | None,
    channel: str,
    now: datetime,
) -> str | None:
    """Register a household; note the moment the event reaches its minimum size (once).
    The household's status before, or None if it was not on the list."""
    before = await store.register(
        session,
        event_id=event.id,
        household_id=household_id,
        contact_id=contact_id,
        channel=channel,
        now=now,
    )
    if before == REGISTERED or not event.min_size or event.quorum_at is not None:
        return before
    if await store.registered_count(session, event_id=event.id) >= event.min_size:
        await store.mark_quorum(session, event_id=event.id, now=now)
    return before


async def reply(
    session: AsyncSession,
    *,
    text: str,
    refs: Sequence[ContactRef],
    channel: str,
    turn: Turn,
    help_contact: str,
) -> EventReply | None:
    """Register (or decline) for the latest event the sender's household was invited to;
    None when the message is not such a reply, and the router goes on as before."""
    said = reading(text)
    if said is None:
        return None
    usable = [r for r in refs if r.basis is not None and not r.opted_out]
    if not usable:
        return None  # consent and opt-in answers stay the router's
    found = await store.latest_invitation(
        session, household_ids=[r.household_id for r in usable], after=turn.now
    )
    if found is None or not words.takes_registrations(found.event):
        return None
    contact = next(r for r in usable if r.household_id == found.household_id)
    if said:
        answer = await _register(session, found, contact, channel, turn, help_contact)
    else:
        withdrawn = await store.withdraw(
            session, event_id=found.event.id, household_id=found.household_id
        )
        answer = words.declined(found.event, withdrawn=withdrawn)
    return EventReply(contact.household_id, contact.contact_id, [Outbound(answer, REPLY)])


async def _register(
    session: AsyncSession,
    found: store.Invitation,
    contact: ContactRef,
    channel: str,
    turn: Turn,
    help_contact: str,
) -> str:
    event = found.event
    if found.status == REGISTERED:
        return words.already_registered(event, VN_ZONE)
    if not open_for_registration(event, now=turn.now, today=turn.today):
        who = help_contact or _("the commune's social policy officer")
        return words.closed(event, contact=who)
    await enrol(
        session,
        event,
        household_id=found.household_id,
        contact_id=contact.contact_id,
        channel=channel,
        now=turn.now,
    )
    return words.registered(event, VN_ZONE)
