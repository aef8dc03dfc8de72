"""Which channels this deployment has: built from the settings, one instance each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel
from bot.channels.console import ConsoleChannel
from bot.channels.kannel import KannelChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_tokens import TokenKeeper
from bot.clock import Clock
from bot.config import Settings

Transports = Mapping[str, httpx.AsyncBaseTransport]


def configured(settings: Settings) -> list[str]:
    """The names of the channels the settings configure, the console always among them."""
    names = ["console"]
    if settings.telegram_token:
        names.append("telegram")
    if settings.zalo_app_id and settings.zalo_oa_secret_key:
        names.append("zalo")
    if settings.kannel_sendsms_url:
        names.append("sms")
    return names


def build_channels(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    transports: Transports | None = None,
) -> dict[str, Channel]:
    """Every configured channel by name; `transports` route a channel's HTTP in tests."""
    transports = transports or {}
    found: dict[str, Channel] = {"console": ConsoleChannel()}
    names = configured(settings)
    if "telegram" in names:
        found["telegram"] = TelegramChannel(settings, transport=transports.get("telegram"))
    if "zalo" in names:
        keeper = TokenKeeper(settings, sessions, clock, transport=transports.get("zalo"))
        found["zalo"] = ZaloChannel(settings, keeper, clock, transport=transports.get("zalo"))
    if "sms" in names:
        found["sms"] = KannelChannel(settings, transport=transports.get("sms"))
    return found


@asynccontextmanager
async def opened(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    transports: Transports | None = None,
) -> AsyncIterator[dict[str, Channel]]:
    """The configured channels, their connections closed when the block ends."""
    channels = build_channels(settings, sessions, clock, transports=transports)
    try:
        yield channels
    finally:
        for channel in channels.values():
            await channel.close()


def by_webhook(channels: Mapping[str, Channel]) -> dict[str, Channel]:
    """Channels by the path their provider posts to under /webhooks/."""
    return {channel.webhook: channel for channel in channels.values()}
