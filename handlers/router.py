"""What happens to inbound messages: who sent each, which conversation it continues, replies.

Every channel hands its messages here, one or a batch at a time; the replies come back as
outbound rows queued for the same channel. A message never crashes the service: a fault in
one reply is logged and answered, and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import events, registration
from handlers.dialogue import conversations
from handlers.dialogue.answers import clean
from handlers.dialogue.conversations import Batch, StartRefused, Turn
from handlers.incoming import FOLLOW, PHONE, START, TAP, TEXT, UNFOLLOW, Incoming
from handlers.keywords import HELP, STOP, YES, answer, keyword
from handlers.keywords import START as START_WORD
from messages.render import _
from storage import conversations as store
from storage import messages, reach, registrations
from storage.messages import Outbound, Party
from storage.models.channels import UNFOLLOWED
from storage.models.households import CONTACT_PHONE
from storage.models.messages import CONFIRM, REPLY
from storage.models.surveys import ACTIVE

log = logging.getLogger(__name__)
__all__ = ["Incoming", "Policy", "handle", "handle_batch", "start_survey"]

ANSWER = "answer"  # an inbound message taken as a survey answer
FREE_TEXT = "free_text"  # an inbound message outside any survey: the commune's inbox
UNKNOWN = "unknown"  # from a number the register does not hold
KEYWORD = "keyword"  # stop, start, help, a consent answer
EVENT = "event"  # follow, unfollow, a shared phone number


@dataclass(frozen=True)
class Policy:
    """The settings the router needs."""

    expiry: timedelta = timedelta(hours=72)
    help_contact: str = ""
    buttons: frozenset[str] = frozenset()  # channels that show choices as buttons


async def handle(
    session: AsyncSession, incoming: Incoming, *, turn: Turn, policy: Policy
) -> list[Outbound]:
    """Handle one inbound message; its replies are queued and returned."""
    return (await handle_batch(session, [incoming], turn=turn, policy=policy))[0]


async def handle_batch(
    session: AsyncSession, batch: Sequence[Incoming], *, turn: Turn, policy: Policy
) -> list[list[Outbound]]:
    """Handle inbound messages in arrival order; the replies to each, queued.

    A message whose provider id was seen before is dropped (providers deliver twice).
    """
    batch = await _fresh(session, batch)
    contacts: dict[tuple[str, str], list[store.ContactRef]] = {}
    for kind in {m.kind for m in batch}:
        addresses = list({m.address for m in batch if m.kind == kind})
        found = await store.contacts_for(session, addresses=addresses, kind=kind)
        contacts |= {(kind, a): refs for a, refs in found.items()}
    ids = [c.contact_id for refs in contacts.values() for c in refs]
    active = await store.active_conversations(session, contact_ids=ids)
    await registrations.seen_now(session, contact_ids=ids, now=turn.now)
    await _reachable_again(session, batch, contacts)
    work = Batch()
    replies = []
    for incoming in batch:
        refs = contacts.get((incoming.kind, incoming.address), [])
        replies.append(await _one(session, incoming, refs, active, work, turn, policy))
    await work.flush(session, now=turn.now)
    return replies


async def _reachable_again(
    session: AsyncSession,
    batch: Sequence[Incoming],
    contacts: dict[tuple[str, str], list[store.ContactRef]],
) -> None:
    """A contact that writes on a channel can be reached there again."""
    by_channel: dict[str, set[int]] = {}
    for m in batch:
        if m.event != UNFOLLOW:
            refs = contacts.get((m.kind, m.address), [])
            by_channel.setdefault(m.channel, set()).update(c.contact_id for c in refs)
    for channel, ids in by_channel.items():
        await reach.clear_unreachable(session, contact_ids=list(ids), channel=channel)


async def _fresh(session: AsyncSession, batch: Sequence[Incoming]) -> list[Incoming]:
    """The messages not received before, each once."""
    fresh: list[Incoming] = []
    keys: set[tuple[str, str]] = set()
    for channel in {m.channel for m in batch}:
        ids = [m.provider_id for m in batch if m.channel == channel and m.provider_id]
        keys |= {
            (channel, p) for p in await messages.seen(session, channel=channel, provider_ids=ids)
        }
    for m in batch:
        if m.provider_id:
            if (m.channel, m.provider_id) in keys:
                continue
            keys.add((m.channel, m.provider_id))
        fresh.append(m)
    return fresh


async def _one(
    session: AsyncSession,
    incoming: Incoming,
    refs: list[store.ContactRef],
    active: dict[int, store.ConversationRow],
    work: Batch,
    turn: Turn,
    policy: Policy,
) -> list[Outbound]:
    text = clean(incoming.text)
    if not refs:
        party = Party(incoming.channel, incoming.address)
        told = await registration.unknown(session, incoming, turn.now)
        if not told and incoming.kind == CONTACT_PHONE and incoming.event == TEXT:
            told = [_not_registered(policy)]
        return _exchange(work, party, incoming, UNKNOWN, told)
    row = next((active[c.contact_id] for c in refs if c.contact_id in active), None)
    contact = next((c for c in refs if row and c.contact_id == row.contact_id), refs[0])
    party = Party(incoming.channel, incoming.address, contact.household_id, contact.contact_id)
    if row is None and incoming.event in (TEXT, TAP):
        answered = await _event_reply(session, incoming, refs, work, turn, policy)
        if answered is not None:
            return answered
    special = await _special(session, incoming, refs, contact, row, turn, policy)
    if special is not None:
        if row is not None and special.stopped:
            del active[row.contact_id]
        return _exchange(work, party, incoming, special.kind, special.replies)
    sent: list[Outbound] = []
    if row is not None and conversations.expire(row, work, now=turn.now, after=policy.expiry):
        sent.append(Outbound(_("Your last survey has closed because it went unanswered."), REPLY))
        row = None
    if row is None:
        sent.append(Outbound(_("Thank you, the commune officer will read your message."), REPLY))
        return _exchange(work, party, incoming, FREE_TEXT, sent)
    turn = replace(turn, buttons=incoming.channel in policy.buttons)
    sent += await conversations.reply(session, row, text, turn, work)
    if row.status != ACTIVE:
        del active[row.contact_id]
    return _exchange(work, party, incoming, ANSWER, sent)


async def _event_reply(
    session: AsyncSession,
    incoming: Incoming,
    refs: list[store.ContactRef],
    work: Batch,
    turn: Turn,
    policy: Policy,
) -> list[Outbound] | None:
    """A reply to an event's notice ("1" registers); None, and on as before, if it is not."""
    found = await events.reply(
        session,
        text=clean(incoming.text),
        refs=refs,
        channel=incoming.channel,
        turn=turn,
        help_contact=policy.help_contact,
    )
    if found is None:
        return None
    party = Party(incoming.channel, incoming.address, found.household_id, found.contact_id)
    return _exchange(work, party, incoming, events.EVENT_REPLY, found.replies)


@dataclass
class _Special:
    kind: str
    replies: list[Outbound]
    stopped: bool = False


async def _special(
    session: AsyncSession,
    incoming: Incoming,
    refs: list[store.ContactRef],
    contact: store.ContactRef,
    row: store.ConversationRow | None,
    turn: Turn,
    policy: Policy,
) -> _Special | None:
    """Events and keywords that come before any survey: stop, start, help, consent, follow."""
    ids = [c.contact_id for c in refs]
    if incoming.event == UNFOLLOW:
        await reach.set_unreachable(
            session, [(i, incoming.channel, UNFOLLOWED, "") for i in ids], now=turn.now
        )
        return _Special(EVENT, [])
    if incoming.event == PHONE and incoming.phone:
        await registrations.set_phone(session, contact_id=contact.contact_id, phone=incoming.phone)
        return _Special(EVENT, [Outbound(_("Thank you, your phone number is saved."), REPLY)])
    if incoming.event in (FOLLOW, START):
        return _Special(EVENT, [Outbound(_("Welcome back to Loa."), REPLY)])
    found = keyword(incoming.text)
    word = found[0] if found else None
    if word == STOP:
        await registrations.opt_out(session, contact_ids=ids, now=turn.now)
        text = _("You will get no more messages from Loa. Text DK to start again.")
        return _Special(KEYWORD, [Outbound(text, CONFIRM)], stopped=row is not None)
    if word == START_WORD or (contact.basis is None and answer(incoming.text) is not None):
        return await _agree(
            session,
            incoming,
            contact,
            ids,
            turn,
            yes=word == START_WORD or answer(incoming.text) == YES,
        )
    if word == HELP and row is None:
        return _Special(KEYWORD, [Outbound(_help(policy), REPLY)])
    return None


async def _agree(
    session: AsyncSession,
    incoming: Incoming,
    contact: store.ContactRef,
    ids: list[int],
    turn: Turn,
    *,
    yes: bool,
) -> _Special:
    """Consent given (or refused), or a return after opting out."""
    if not yes:
        await registrations.opt_out(session, contact_ids=ids, now=turn.now)
        text = _("You will get no messages from Loa. Text DK if you change your mind.")
        return _Special(KEYWORD, [Outbound(text, CONFIRM)])
    await registrations.opt_in(session, contact_ids=ids)
    if contact.basis is None:
        owner = await registrations.household_by_id(session, household_id=contact.household_id)
        words = registration.consent_text(owner.commune_name)
        await registrations.consent(
            session,
            contact_id=contact.contact_id,
            channel=incoming.channel,
            version=registration.consent_version(words),
            now=turn.now,
        )
    return _Special(
        KEYWORD, [Outbound(_("Thank you. Loa will send you news from the commune."), REPLY)]
    )


def _help(policy: Policy) -> str:
    contact = policy.help_contact or _("the commune's social policy officer")
    return _(
        "Loa sends news and questions from your commune. Reply with the number of your answer. "
        "Text HUY to stop, DK to start again. For help, contact {contact}."
    ).format(contact=contact)


async def start_survey(
    session: AsyncSession, *, form_id: str, contact: store.ContactRef, channel: str, turn: Turn
) -> list[Outbound]:
    """Begin a survey on a contact; a refusal is told to the household instead."""
    party = Party(channel, contact.address, contact.household_id, contact.contact_id)
    work = Batch()
    try:
        sent = await conversations.start(
            session, form_id=form_id, contact=contact, channel=channel, turn=turn, batch=work
        )
    except StartRefused as refused:
        sent = [Outbound(str(refused), REPLY)]
    work.outbound += [(party, m) for m in sent]
    await work.flush(session, now=turn.now)
    return sent


def _exchange(
    work: Batch, party: Party, incoming: Incoming, kind: str, sent: list[Outbound]
) -> list[Outbound]:
    text = incoming.text or (incoming.phone or incoming.event)
    work.inbound.append((party, text, kind, incoming.provider_id))
    work.outbound += [(party, m) for m in sent]
    return sent


def _not_registered(policy: Policy) -> Outbound:
    if policy.help_contact:
        text = _(
            "Hello. This number is not on the commune's list. Please contact {contact} to be added."
        ).format(contact=policy.help_contact)
    else:
        text = _(
            "Hello. This number is not on the commune's list. "
            "Please contact the commune's social policy officer to be added."
        )
    return Outbound(text, REPLY)
