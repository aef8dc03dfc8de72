"""What a channel hands the router: one thing a household did, in neutral terms."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models.households import CONTACT_PHONE

# Events
TEXT = "text"  # a typed message
START = "start"  # a chat opened (Telegram /start, with its payload as text)
PHONE = "phone"  # the sender proved its own phone number (shared contact, submitted info)
TAP = "tap"  # a button tapped; text carries the button's value
FOLLOW = "follow"  # followed the Official Account
UNFOLLOW = "unfollow"  # stopped following: unreachable there


@dataclass(frozen=True)
class Incoming:
    """A message or event from a household's phone or chat, as a channel parsed it."""

    channel: str
    address: str  # E.164 phone number or the channel's chat id
    text: str = ""
    kind: str = CONTACT_PHONE  # the contact kind the address is
    event: str = TEXT
    provider_id: str | None = None  # for de-duplication: update_id, msg_id, Kannel id
    phone: str | None = None  # E.164, proven by the channel (event PHONE)
    name: str | None = None
    ack: str | None = None  # what the channel must acknowledge (a Telegram callback query)
