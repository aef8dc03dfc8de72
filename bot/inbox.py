"""What arrives from the channels goes to the router; delivery reports onto the outbox.

A valid message is never lost: if handling it fails, it is still written to the message log,
marked `unhandled`, for an assistant to read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import NOT_DELIVERED, UNDELIVERABLE, Channel, Receipt, WebhookResult
from bot.clock import Clock
from bot.config import Settings
from bot.fallback import handover
from handlers.dialogue.conversations import Turn
from handlers.incoming import Incoming
from handlers.router import Policy, handle_batch
from storage import messages, outbox
from storage.messages import Party
from storage.models.messages import FAILED

log = logging.getLogger(__name__)

UNHANDLED = "unhandled"  # an inbound message whose handling failed: kept for a person


def policy(settings: Settings, channels: Mapping[str, Channel]) -> Policy:
    """The router's settings for these channels."""
    return Policy(
        expiry=timedelta(hours=settings.survey_expiry_hours),
        help_contact=settings.help_contact,
        buttons=frozenset(n for n, c in channels.items() if c.capabilities.buttons),
    )


def order(settings: Settings) -> list[str]:
    """A household's channels, most preferred first."""
    return [name.strip() for name in settings.channel_order.split(",") if name.strip()]


@dataclass
class Inbox:
    """Takes what the channels parsed and hands it on."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: Settings
    channels: Mapping[str, Channel]

    def turn(self) -> Turn:
        """This moment: UTC now and the local day."""
        return Turn.at(self.clock.now(), self.settings.zone)

    async def accept(self, channel: Channel, result: WebhookResult) -> None:
        """Handle a webhook's events and receipts."""
        if result.inbound:
            await self.handle(channel, result.inbound)
        if result.receipts:
            await self.receipts(channel, result.receipts)

    async def handle(self, channel: Channel, items: Sequence[Incoming]) -> None:
        """Route inbound events, then acknowledge them to the provider."""
        try:
            async with self.sessions() as session, session.begin():
                await handle_batch(
                    session, items, turn=self.turn(), policy=policy(self.settings, self.channels)
                )
        except IntegrityError:  # the same update delivered twice at the same moment
            log.info("%s: a message arrived twice at once; handled once", channel.name)
        except Exception:
            log.exception("%s: handling %d inbound messages failed", channel.name, len(items))
            await self._keep(items)
        for item in items:
            if item.ack:
                await channel.acknowledge(item)

    async def _keep(self, items: Sequence[Incoming]) -> None:
        """Keep messages whose handling failed, so nobody's words are lost."""
        kept = [
            (Party(i.channel, i.address), i.text or i.event, UNHANDLED, i.provider_id)
            for i in items
        ]
        try:
            async with self.sessions() as session, session.begin():
                fresh = await messages.seen(
                    session,
                    channel=items[0].channel,
                    provider_ids=[i.provider_id for i in items if i.provider_id],
                )
                await messages.log_inbound(
                    session, [k for k in kept if k[3] not in fresh], now=self.clock.now()
                )
        except Exception:
            log.exception("could not keep unhandled messages: %r", kept)

    async def receipts(self, channel: Channel, receipts: Sequence[Receipt]) -> None:
        """Delivery reports: statuses onto the outbox; "not delivered" hands the message on."""
        now = self.clock.now()
        failed = [r for r in receipts if r.status == NOT_DELIVERED]
        other = [r for r in receipts if r.status != NOT_DELIVERED]
        async with self.sessions() as session, session.begin():
            await outbox.receipts(
                session,
                channel=channel.name,
                updates=[(r.message_id, r.provider_id, r.status, r.detail) for r in other],
                now=now,
            )
            lost = await outbox.receipts(
                session,
                channel=channel.name,
                updates=[(r.message_id, r.provider_id, FAILED, r.detail) for r in failed],
                now=now,
            )
            await handover(
                session,
                [(row, UNDELIVERABLE) for row in lost],
                channel=channel.name,
                order=order(self.settings),
                channels=self.channels,
                now=now,
            )
