"""What happens to inbound messages: who sent each, which conversation it continues, replies.

Every channel hands its messages here, one or a batch at a time; the replies come back as
outbound rows queued for the same channel. A message never crashes the service: a fault in
one reply is logged and answered, and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dialogue import conversations
from handlers.dialogue.answers import clean
from handlers.dialogue.conversations import Batch, StartRefused, Turn
from messages.render import _
from storage import conversations as store
from storage.messages import Outbound, Party
from storage.models.messages import REPLY
from storage.models.surveys import ACTIVE

log = logging.getLogger(__name__)

ANSWER = "answer"  # an inbound message taken as a survey answer
FREE_TEXT = "free_text"  # an inbound message outside any survey: the commune's inbox
UNKNOWN = "unknown"  # from a number the register does not hold


@dataclass(frozen=True)
class Incoming:
    """A message from a household's phone or chat, as a channel parsed it."""

    channel: str
    address: str  # E.164 phone number or the channel's chat id
    text: str


@dataclass(frozen=True)
class Policy:
    """The settings the router needs."""

    expiry: timedelta = timedelta(hours=72)
    help_contact: str = ""


async def handle(
    session: AsyncSession, incoming: Incoming, *, turn: Turn, policy: Policy
) -> list[Outbound]:
    """Handle one inbound message; its replies are queued and returned."""
    return (await handle_batch(session, [incoming], turn=turn, policy=policy))[0]


async def handle_batch(
    session: AsyncSession, batch: Sequence[Incoming], *, turn: Turn, policy: Policy
) -> list[list[Outbound]]:
    """Handle inbound messages in arrival order; the replies to each, queued."""
    contacts = await store.contacts_for(session, addresses=list({m.address for m in batch}))
    ids = [c.contact_id for refs in contacts.values() for c in refs]
    active = await store.active_conversations(session, contact_ids=ids)
    work = Batch()
    replies = []
    for incoming in batch:
        refs = contacts.get(incoming.address, [])
        replies.append(await _one(session, incoming, refs, active, work, turn, policy))
    await work.flush(session, now=turn.now)
    return replies


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
        return _exchange(work, party, text, UNKNOWN, [_not_registered(policy)])
    row = next((active[c.contact_id] for c in refs if c.contact_id in active), None)
    contact = next((c for c in refs if row and c.contact_id == row.contact_id), refs[0])
    party = Party(incoming.channel, incoming.address, contact.household_id, contact.contact_id)
    sent: list[Outbound] = []
    if row is not None and conversations.expire(row, work, now=turn.now, after=policy.expiry):
        sent.append(Outbound(_("Your last survey has closed because it went unanswered."), REPLY))
        row = None
    if row is None:
        sent.append(Outbound(_("Thank you, the commune officer will read your message."), REPLY))
        return _exchange(work, party, text, FREE_TEXT, sent)
    sent += await conversations.reply(session, row, text, turn, work)
    if row.status != ACTIVE:
        del active[row.contact_id]
    return _exchange(work, party, text, ANSWER, sent)


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
    work: Batch, party: Party, text: str, kind: str, sent: list[Outbound]
) -> list[Outbound]:
    work.inbound.append((party, text, kind))
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
