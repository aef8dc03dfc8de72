"""Registration: a contact proves its household by a phone the register holds or by a printed
one-time code; a bare household code proves nothing and waits for an assistant.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.incoming import FOLLOW, PHONE, START, UNFOLLOW, Incoming
from handlers.keywords import START as START_WORD
from handlers.keywords import keyword
from messages.render import _
from messages.text import lower_first
from storage import registrations
from storage.conversations import ContactRef, contacts_for
from storage.messages import Outbound
from storage.models.households import CONTACT_PHONE
from storage.models.messages import REPLY

ASK_PHONE = "phone"  # a button asking for the sender's own phone number


def consent_text(commune: str) -> str:
    """What Loa will send and why, and how to agree: one short message."""
    return _(
        "Loa of the People's Committee of {commune} will send you news of loans, training, "
        "jobs and support, and short surveys. Reply CO to agree, HUY to refuse."
    ).format(commune=lower_first(commune))


def consent_version(text: str) -> str:
    """The version of the words agreed to: a short hash of them."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ask_phone(text: str) -> Outbound:
    """A reply with a button that shares the sender's own phone number."""
    button = {"label": _("Share my phone number"), "request": ASK_PHONE}
    return Outbound(text, REPLY, buttons=[button])


async def unknown(session: AsyncSession, incoming: Incoming, now: datetime) -> list[Outbound]:
    """Someone the register does not know: register it, keep its claim, or tell it how."""
    if incoming.event == UNFOLLOW:
        return []
    if incoming.event == PHONE and incoming.phone:
        return await _by_phone(session, incoming, incoming.phone, now)
    argument = incoming.text.strip() if incoming.event == START else _argument(incoming)
    if argument:
        return await _by_code(session, incoming, argument, now)
    waiting = await registrations.pending(session, kind=incoming.kind, address=incoming.address)
    if waiting is not None:
        return [Outbound(_("Your registration is waiting for the commune officer."), REPLY)]
    if incoming.kind == CONTACT_PHONE:
        return []  # the router answers an unknown number
    if incoming.event in (START, FOLLOW):
        return [ask_phone(_("Welcome to Loa. Please share your phone number to register."))]
    return [
        ask_phone(
            _(
                "Loa does not know you yet. Share your phone number, or send the registration "
                "code the commune gave you."
            )
        )
    ]


def _argument(incoming: Incoming) -> str:
    """The code after DK; on a chat, a lone word may be the code itself."""
    found = keyword(incoming.text)
    if found and found[0] == START_WORD:
        return found[1]
    word = incoming.text.strip()
    if incoming.kind != CONTACT_PHONE and word and " " not in word and len(word) <= 40:
        return word
    return ""


async def _by_code(
    session: AsyncSession, incoming: Incoming, code: str, now: datetime
) -> list[Outbound]:
    owner = await registrations.code_household(session, code=code)
    if owner is not None:
        contact = await _add(session, incoming, owner, now)
        await registrations.use_code(session, code=code, contact_id=contact.contact_id, now=now)
        return welcome(owner)
    claimed = await registrations.household(session, code=code)
    if claimed is None:
        return [
            Outbound(
                _("The code {code} is not on the commune's list. Please check it.").format(
                    code=code
                ),
                REPLY,
            )
        ]
    phone = incoming.address if incoming.kind == CONTACT_PHONE else None
    await registrations.add_pending(
        session,
        channel=incoming.channel,
        kind=incoming.kind,
        address=incoming.address,
        household_id=claimed.id,
        now=now,
        phone=phone,
        name=incoming.name,
    )
    text = _("Thank you. The commune officer will confirm your registration.")
    if incoming.kind != CONTACT_PHONE:
        return [ask_phone(text + " " + _("Sharing your phone number makes it quicker."))]
    return [Outbound(text, REPLY)]


async def _by_phone(
    session: AsyncSession, incoming: Incoming, phone: str, now: datetime
) -> list[Outbound]:
    owners = {
        c.household_id: c for c in (await contacts_for(session, addresses=[phone])).get(phone, [])
    }
    if len(owners) == 1:
        owner = await registrations.household_by_id(session, household_id=next(iter(owners)))
        await _add(session, incoming, owner, now)
        return welcome(owner)
    if await registrations.show_phone(
        session, kind=incoming.kind, address=incoming.address, phone=phone
    ):
        return [
            Outbound(_("Thank you. The commune officer will confirm your registration."), REPLY)
        ]
    if owners:  # a phone two households share cannot say which one this is
        return [Outbound(_("Please send the registration code the commune gave you."), REPLY)]
    return [
        Outbound(
            _(
                "The number {phone} is not on the commune's list. Send the registration code "
                "the commune gave you, or your household code."
            ).format(phone=phone),
            REPLY,
        )
    ]


async def _add(
    session: AsyncSession, incoming: Incoming, owner: registrations.HouseholdRef, now: datetime
) -> ContactRef:
    # Proof arrived: a claim this address made is settled.
    await registrations.settle(session, kind=incoming.kind, address=incoming.address, now=now)
    return await registrations.add_contact(
        session,
        household=owner,
        kind=incoming.kind,
        address=incoming.address,
        now=now,
        phone=incoming.phone or (incoming.address if incoming.kind == CONTACT_PHONE else None),
        name=incoming.name,
    )


def welcome(owner: registrations.HouseholdRef) -> list[Outbound]:
    """The greeting of a newly registered contact, with the consent question."""
    greeting = _("Registered: household {code}, {name}.").format(
        code=owner.code, name=owner.head_name
    )
    return [Outbound(greeting + "\n" + consent_text(owner.commune_name), REPLY)]
