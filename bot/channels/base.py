"""The one channel protocol: what every channel parses in, sends out and can show.

Nothing outside `bot/channels` knows which channel it talks to: the webhook hands a channel
its raw request and gets back neutral `Incoming` events and `Receipt`s; the sender hands a
channel an `Outgoing` message and gets back `Sent` or a `SendError` saying what to do next.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from handlers.dialogue.prompts import options_line
from handlers.incoming import Incoming
from messages.render import _
from messages.sms import prepare
from storage.models.channels import (
    BLOCKED,
    INVALID_ADDRESS,
    OUTSIDE_WINDOW,
    UNDELIVERABLE,
    UNFOLLOWED,
)

# Receipt statuses (the message log's own words)
DELIVERED = "delivered"
READ = "read"
NOT_DELIVERED = "not_delivered"

# Why a contact cannot be reached on a channel: BLOCKED, UNFOLLOWED, OUTSIDE_WINDOW,
# INVALID_ADDRESS, UNDELIVERABLE (kept in the store's `unreachable` table).

__all__ = ["BLOCKED", "INVALID_ADDRESS", "OUTSIDE_WINDOW", "UNDELIVERABLE", "UNFOLLOWED"]

# What a button asks for, beside a plain choice
ASK_PHONE = "phone"  # Telegram's request_contact keyboard, Zalo's request_user_info card


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show and how fast it may send."""

    contact_kind: str  # the kind of contact address this channel writes to
    buttons: bool = False  # choices as buttons
    max_length: int = 4096  # characters in one message
    per_second: float = 10.0  # pace of the whole account
    per_chat_per_second: float | None = None  # pace to one recipient, if the provider limits it
    sms: bool = False  # plain SMS text: accents stripped, segments counted
    strip_accents: bool = True
    pull: bool = False  # the recipient fetches its messages (console): the sender leaves it


@dataclass(frozen=True)
class Receipt:
    """A delivery report: by the provider's id, or by Loa's own message id."""

    status: str
    provider_id: str | None = None
    message_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class WebhookRequest:
    """An HTTP request to /webhooks/<channel>[/<hook>], as received."""

    hook: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    raw_query: str = ""  # as received, for a provider whose query is not UTF-8 (Kannel)


@dataclass
class WebhookResult:
    """What a webhook request brought, and how to answer it."""

    status: int = 200
    inbound: list[Incoming] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    body: Any = field(default_factory=lambda: {"ok": True})


@dataclass(frozen=True)
class Outgoing:
    """An outbox row, as the sender hands it to a channel."""

    id: int
    address: str
    text: str
    kind: str
    buttons: list[dict[str, Any]] | None = None
    data: Mapping[str, Any] | None = None
    phone: str | None = None  # the household's phone, for a channel that can fall back to it
    last_seen_at: datetime | None = None  # the contact's last message to Loa


@dataclass(frozen=True)
class Sent:
    """The provider took the message."""

    provider_id: str | None
    segments: int | None = None
    via: str | None = None  # another route of the same channel (Zalo's ZNS)


class SendError(Exception):
    """A message did not go out; the subclass says what the sender does next."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RateLimited(SendError):
    """The provider asks to slow down: wait `retry_after` seconds, then try again."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TemporaryError(SendError):
    """A 5xx, a timeout, a refused connection: try again later."""


class Unreachable(SendError):
    """This contact cannot be reached on this channel: mark it, hand over to the next channel."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class PermanentError(SendError):
    """The provider refused this message for good (bad request, template not approved)."""


class ChannelProblem(Exception):
    """A channel's settings or provider do not work; the message says so in Vietnamese."""


class Channel(Protocol):
    """A way to reach households: parse what arrives, send what leaves."""

    name: str
    webhook: str  # its path under /webhooks/
    capabilities: Capabilities

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        """Check and parse one webhook request; nothing is stored here."""
        ...

    async def send(self, message: Outgoing) -> Sent:
        """Send one message, or raise a SendError."""
        ...

    async def acknowledge(self, inbound: Incoming) -> None:
        """Tell the provider an inbound event was handled (a tapped button stops spinning)."""
        ...

    async def check(self) -> str:
        """Ask the provider whether the settings work; a short description, or ChannelProblem."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class Polling(Protocol):
    """A channel that can fetch its updates itself (Telegram's getUpdates)."""

    async def poll(
        self, handle: Callable[[list[Incoming]], Awaitable[None]], *, stopped: Callable[[], bool]
    ) -> None:
        """Fetch updates until `stopped()`, handing each batch to `handle`."""
        ...


@runtime_checkable
class WebhookSetup(Protocol):
    """A channel whose provider is told the webhook's address by an API call (Telegram)."""

    async def set_webhook(self, url: str) -> None:
        """Tell the provider to post updates to `url`."""
        ...


@dataclass(frozen=True)
class Rendered:
    """A message as one channel will show it."""

    text: str
    buttons: list[dict[str, Any]] | None
    segments: int | None = None
    encoding: str | None = None


def json_object(request: WebhookRequest) -> dict[str, Any] | WebhookResult:
    """The body as a JSON object, or the 4xx answer that says what is wrong with it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return WebhookResult(status=415, body={"ok": False, "error": "expected application/json"})
    try:
        value = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return WebhookResult(status=400, body={"ok": False, "error": "malformed JSON"})
    if not isinstance(value, dict):
        return WebhookResult(status=400, body={"ok": False, "error": "not a JSON object"})
    return value


class TooLong(ValueError):
    """A message is longer than its channel allows; the message gives the count."""


def numbered(text: str, buttons: list[dict[str, Any]] | None) -> str:
    """Text with its choice buttons written out as numbered options, for a channel without."""
    choices = [b for b in buttons or () if "value" in b]
    if not choices:
        return text
    return f"{text}\n{options_line((b['value'], b['label']) for b in choices)}"


def render(
    caps: Capabilities, text: str, buttons: list[dict[str, Any]] | None, *, max_segments: int = 0
) -> Rendered:
    """The text and buttons as this channel shows them; TooLong past `max_segments` SMS parts."""
    if not caps.buttons:  # choices become numbered text; a request for the phone stays
        asks = [b for b in buttons or () if "request" in b and not caps.sms]
        text, buttons = numbered(text, buttons), asks or None
    if caps.sms:
        sms = prepare(text, strip=caps.strip_accents)
        if max_segments and sms.segments > max_segments:
            raise TooLong(
                _("This SMS would take {n} parts; at most {max} are allowed.").format(
                    n=sms.segments, max=max_segments
                )
            )
        return Rendered(sms.text, None, sms.segments, sms.encoding)
    if len(text) > caps.max_length:
        raise TooLong(
            _("This message has {n} characters; this channel takes at most {max}.").format(
                n=len(text), max=caps.max_length
            )
        )
    return Rendered(text, buttons)
