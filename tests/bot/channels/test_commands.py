"""`loa channels check`, `loa send` and Telegram long polling."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import get_settings
from storage.models import Message
from tests.bot.channels.conftest import TOKEN
from tests.conftest import loa
from tests.fakes.server import serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZalo


@pytest.mark.usefixtures("channel_env", "register")
def test_channels_check_says_what_works_and_what_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serve(FakeTelegram(TOKEN).app) as telegram, serve(FakeZalo().app) as zalo:
        monkeypatch.setenv("LOA_TELEGRAM_API_BASE", telegram)
        for name in ("API", "ZNS_API", "OAUTH"):
            monkeypatch.setenv(f"LOA_ZALO_{name}_BASE", zalo)
        monkeypatch.setenv("LOA_KANNEL_SENDSMS_URL", "http://127.0.0.1:9/cgi-bin/sendsms")
        get_settings.cache_clear()
        code, output = loa("channels", "check")
    assert code == 1, output
    assert "@loa_test_bot" in output
    assert "UBND" in output  # the Official Account's name
    assert "Không kết nối được Kannel" in output


@pytest.mark.usefixtures("channel_env", "register")
def test_send_refuses_an_sms_over_the_segment_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOA_KANNEL_SENDSMS_URL", "http://127.0.0.1:9/cgi-bin/sendsms")
    monkeypatch.setenv("LOA_CHANNEL_ORDER", "sms")
    get_settings.cache_clear()
    code, output = loa("send", "--household", "H002", "--text", "Thông báo " * 60)
    assert code != 0
    assert "dài" in output
    assert "tối đa 3" in output
    code, output = loa("send", "--household", "H002", "--text", "Mai họp thôn lúc 8 giờ.")
    assert code == 0, output
    assert "+84911222333" in output


@pytest.mark.usefixtures("channel_env", "register")
async def test_long_polling_takes_updates_without_a_webhook(clock: FixedClock) -> None:
    fake = FakeTelegram(TOKEN, max_poll_wait=0.1)
    fake.push_update(fake.start_update(4242))
    transports = {"telegram": httpx.ASGITransport(app=fake.app)}
    app = create_app(get_settings(), clock=clock, transports=transports, polling=True)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            async with app.state.sessions() as session:
                got = (
                    await session.scalars(select(Message).where(Message.direction == "in"))
                ).all()
            if got:
                break
            await asyncio.sleep(0.05)
    assert [m.address for m in got] == ["4242"]
    assert any(c.method == "deleteWebhook" for c in fake.calls)


@pytest.mark.usefixtures("channel_env", "register")
def test_channels_webhooks_registers_telegrams_with_its_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTelegram(TOKEN)
    with serve(fake.app) as telegram:
        monkeypatch.setenv("LOA_TELEGRAM_API_BASE", telegram)
        monkeypatch.setenv("LOA_PUBLIC_URL", "https://loa.xa-an-hiep.vn")
        get_settings.cache_clear()
        code, output = loa("channels", "webhooks")
    assert code == 0, output
    call = next(c for c in fake.calls if c.method == "setWebhook")
    assert call.params["url"] == "https://loa.xa-an-hiep.vn/webhooks/telegram"
    assert call.params["secret_token"] == "telegram-webhook-secret"
