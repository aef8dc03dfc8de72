"""The console channel: a phone played in a terminal (`loa chat`) or, later, in the browser.

It is a pull channel: its reader takes queued messages from the outbox itself, so the sender
leaves its rows alone.
"""

from __future__ import annotations

from bot.channels.base import (
    Capabilities,
    Outgoing,
    PermanentError,
    Sent,
    WebhookRequest,
    WebhookResult,
)
from handlers.incoming import Incoming
from messages.render import _
from storage.models.households import CONTACT_PHONE

CONSOLE = "console"


class ConsoleChannel:
    """Messages to a phone number, read by whoever plays that phone."""

    name = CONSOLE
    webhook = CONSOLE
    capabilities = Capabilities(contact_kind=CONTACT_PHONE, pull=True, per_second=1000)

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        """The console has no webhook."""
        return WebhookResult(status=404, body={"ok": False})

    async def send(self, message: Outgoing) -> Sent:
        """Never pushed: the reader pulls."""
        raise PermanentError("the console channel is read, not sent")

    async def acknowledge(self, inbound: Incoming) -> None:
        """Nothing to acknowledge."""

    async def check(self) -> str:
        """Always there."""
        return _("ready (messages are read with loa chat)")

    async def close(self) -> None:
        """Nothing to release."""
