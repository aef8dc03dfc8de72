"""Loa's Telegram client on a real socket (aiohttp under python-telegram-bot) and its errors."""

from __future__ import annotations

import pytest

from bot.channels.base import (
    BLOCKED,
    Outgoing,
    PermanentError,
    RateLimited,
    TemporaryError,
    Unreachable,
)
from bot.channels.telegram import TelegramChannel
from bot.config import get_settings
from tests.bot.channels.conftest import TOKEN
from tests.fakes.server import aserve
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("channel_env")


def message(
    chat: int, text: str = "Xin chào", buttons: list[dict[str, str]] | None = None
) -> Outgoing:
    return Outgoing(id=1, address=str(chat), text=text, kind="reply", buttons=buttons)


async def test_messages_go_out_with_buttons_and_errors_map_to_outcomes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTelegram(TOKEN, per_chat_per_second=1)
    async with aserve(fake.app) as url:
        monkeypatch.setenv("LOA_TELEGRAM_API_BASE", url)
        get_settings.cache_clear()
        channel = TelegramChannel(get_settings())
        try:
            buttons = [{"label": "Có", "value": "1"}, {"label": "Không", "value": "2"}]
            sent = await channel.send(message(42, "Gia đình có cần vay vốn?", buttons))
            assert sent.provider_id == "1"
            markup = fake.sent(42)[0]["reply_markup"]["inline_keyboard"]
            assert [b["callback_data"] for b in markup[0]] == ["1", "2"]
            with pytest.raises(RateLimited) as limited:
                await channel.send(message(42))  # a second message to one chat within 1 s
            assert limited.value.retry_after >= 1
            fake.fail(7, 403)
            with pytest.raises(Unreachable) as blocked:
                await channel.send(message(7))
            assert blocked.value.reason == BLOCKED
            fake.fail(8, 502)
            with pytest.raises(TemporaryError):
                await channel.send(message(8))
            with pytest.raises(PermanentError):
                await channel.send(message(9, "x" * 5000))
        finally:
            await channel.close()


async def test_a_gateway_that_is_down_is_a_temporary_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOA_TELEGRAM_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    channel = TelegramChannel(get_settings())
    try:
        with pytest.raises(TemporaryError):
            await channel.send(message(42))
    finally:
        await channel.close()
