"""Tests of the Telegram and Zalo fakes, in-process, on loopback, and with the real PTB client."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from tests.fakes.server import aserve, serve
from tests.fakes.telegram import WEBHOOK_CONFLICT, FakeTelegram
from tests.fakes.zalo import FakeZalo, sign

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123:TEST"
JSONDict = dict[str, Any]
NOW_MS = "1795230000000"  # WallClock's default moment, 2026-11-21 03:00 UTC


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class WallClock:
    """A UTC wall clock the test moves by hand."""

    def __init__(self, at: datetime = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake")


@asynccontextmanager
async def ptb_bot(fake: FakeTelegram, token: str | None = None) -> AsyncIterator[Bot]:
    """The real python-telegram-bot client routed to the fake without a socket."""
    transport = httpx.ASGITransport(app=fake.app)
    # PTB appends the token to base_url, then "/<method>": http://fake/bot<token>/<method>.
    bot = Bot(
        token or fake.token,
        base_url="http://fake/bot",
        request=HTTPXRequest(httpx_kwargs={"transport": transport}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"transport": transport}),
    )
    async with bot:
        yield bot


# -- Telegram with python-telegram-bot --------------------------------------------------------


async def test_ptb_get_me_send_message_with_inline_keyboard_and_answer() -> None:
    fake = FakeTelegram(TOKEN)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes:1")]])
    async with ptb_bot(fake) as bot:
        me = await bot.get_me()
        first = await bot.send_message(42, "Xin chào", reply_markup=markup)
        assert await bot.answer_callback_query("cb-1", text="Đã nhận")

    assert (me.username, me.is_bot, me.first_name) == ("loa_test_bot", True, "Loa")
    assert first.message_id == 1
    assert first.chat.id == 42
    assert first.text == "Xin chào"
    assert first.reply_markup == markup
    [params] = fake.sent(42)
    assert params["chat_id"] == 42
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Có", "callback_data": "yes:1"}]]
    }
    # Bot.initialize() calls getMe once before the test's own getMe.
    methods = [c.method for c in fake.calls]
    assert methods == ["getMe", "getMe", "sendMessage", "answerCallbackQuery"]


# PTB itself warns while building RetryAfter (its retry_after type is changing).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_raises_retry_after_on_429_and_forbidden_on_403() -> None:
    clock = Clock()
    fake = FakeTelegram(TOKEN, clock=clock)
    fake.fail(7, 403)
    async with ptb_bot(fake) as bot:
        await bot.send_message(42, "một")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(42, "hai")
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(7, "ba")
    # Loa's Telegram channel opts in to PTB's timedelta form (PTB_TIMEDELTA); either form is 1 s.
    assert str(caught.value).endswith(("Retry in 1 seconds", "Retry in 0:00:01"))
    assert fake.count_429 == 1
    assert [c.status for c in fake.calls if c.method == "sendMessage"] == [200, 429, 403]


async def test_ptb_other_errors_map_to_their_exceptions() -> None:
    fake = FakeTelegram(TOKEN)
    fake.unknown_chat(99)
    fake.fail_all(502, "Bad Gateway", times=1)
    async with ptb_bot(fake) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(99, "x")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(5, "x")
        await bot.send_message(5, "x")  # the injected failure was used up
        await bot.set_webhook("https://loa.example/tg", secret_token="s3cret_-", max_connections=5)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == "https://loa.example/tg"
        assert await bot.delete_webhook(drop_pending_updates=True)
    assert fake.webhook is None


async def test_ptb_rejects_wrong_token() -> None:
    fake = FakeTelegram(TOKEN)
    with pytest.raises(InvalidToken):
        async with ptb_bot(fake, "999:OTHER"):
            pass
    assert fake.calls[0].status == 401


async def test_ptb_parses_every_update_builder() -> None:
    fake = FakeTelegram(TOKEN)
    async with ptb_bot(fake) as bot:
        sent = await bot.send_message(42, "Chọn", reply_markup=_keyboard("ok"))
        for update in (
            fake.text_update(42, "chào"),
            fake.start_update(42, "HH-0042"),
            fake.contact_update(42, "84912345678"),
            fake.contact_update(42, "+84987654321", user_id=77),
            fake.callback_update(42, "ok", message_id=sent.message_id),
        ):
            fake.push_update(update)
        updates = await bot.get_updates(timeout=0)

    text, start, own, other, tap = updates
    assert text.message is not None
    assert text.message.text == "chào"
    assert text.message.from_user is not None
    assert text.message.from_user.id == 42
    assert start.message is not None
    assert start.message.text == "/start HH-0042"
    assert start.message.parse_entities()
    assert start.message.entities[0].type == "bot_command"
    assert own.message is not None
    assert own.message.contact is not None
    assert own.message.contact.user_id == 42
    assert other.message is not None
    assert other.message.contact is not None
    assert other.message.contact.user_id == 77
    assert tap.callback_query is not None
    assert tap.callback_query.data == "ok"
    assert tap.callback_query.message is not None
    assert tap.callback_query.message.message_id == sent.message_id
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    assert isinstance(text, Update)


def _keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data=data)]])


# -- Telegram over raw HTTP ---------------------------------------------------------------


async def test_form_multipart_and_json_bodies_are_normalised() -> None:
    fake = FakeTelegram(TOKEN, per_chat_per_second=10)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    url = f"/bot{TOKEN}/sendMessage"
    async with client_for(fake.app) as client:
        form = await client.post(
            url, data={"chat_id": "42", "text": "f", "reply_markup": json.dumps(markup)}
        )
        multi = await client.post(
            url,
            data={"chat_id": "42", "text": "m", "disable_notification": "true"},
            files={"reply_markup": (None, json.dumps(markup))},
        )
        body = await client.post(url, json={"chat_id": 42, "text": "j", "reply_markup": markup})
        query = await client.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": 42, "text": "q"})
    assert [r.status_code for r in (form, multi, body, query)] == [200, 200, 200, 200]
    sent = fake.sent(42)
    assert [p["text"] for p in sent] == ["f", "m", "j", "q"]
    assert all(p["chat_id"] == 42 for p in sent)
    assert [p.get("reply_markup") for p in sent] == [markup, markup, markup, None]
    assert sent[1]["disable_notification"] is True
    result = body.json()["result"]
    assert result["message_id"] == 3
    assert result["chat"] == {"id": 42, "first_name": "Lan", "type": "private"}
    assert isinstance(result["date"], int)
    assert result["reply_markup"] == markup


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"chat_id": 1}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        (
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "é" * 33}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": ""}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
    ],
)
async def test_send_message_validation(params: JSONDict, description: str) -> None:
    fake = FakeTelegram(TOKEN)
    async with client_for(fake.app) as client:
        response = await client.post(f"/bot{TOKEN}/sendMessage", json=params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert fake.sent() == []
    assert fake.calls[0].status == 400


async def test_text_of_4096_chars_and_64_byte_callback_data_pass() -> None:
    fake = FakeTelegram(TOKEN)
    keyboard = {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 64}]]}
    async with client_for(fake.app) as client:
        response = await client.post(
            f"/bot{TOKEN}/sendMessage",
            json={"chat_id": 1, "text": "ờ" * 4096, "reply_markup": keyboard},
        )
    assert response.status_code == 200


async def test_wrong_token_and_unknown_method() -> None:
    fake = FakeTelegram(TOKEN)
    async with client_for(fake.app) as client:
        bad = await client.post("/bot1:WRONG/getMe")
        unknown = await client.post(f"/bot{TOKEN}/sendTelepathy")
        elsewhere = await client.get("/favicon.ico")
    assert bad.status_code == 401
    assert bad.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert elsewhere.status_code == 404


async def test_answer_callback_query_requires_id() -> None:
    fake = FakeTelegram(TOKEN)
    async with client_for(fake.app) as client:
        missing = await client.post(f"/bot{TOKEN}/answerCallbackQuery", data={"text": "x"})
        ok = await client.post(f"/bot{TOKEN}/answerCallbackQuery", data={"callback_query_id": "9"})
    assert missing.status_code == 400
    assert ok.json() == {"ok": True, "result": True}


async def test_edit_message_reply_markup() -> None:
    fake = FakeTelegram(TOKEN)
    keyboard = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    async with client_for(fake.app) as client:
        await client.post(
            f"/bot{TOKEN}/sendMessage", json={"chat_id": 5, "text": "x", "reply_markup": keyboard}
        )
        edit = f"/bot{TOKEN}/editMessageReplyMarkup"
        removed = await client.post(edit, data={"chat_id": "5", "message_id": "1"})
        again = await client.post(edit, data={"chat_id": "5", "message_id": "1"})
        missing = await client.post(edit, data={"chat_id": "5", "message_id": "9"})
    assert removed.status_code == 200
    assert "reply_markup" not in removed.json()["result"]
    assert again.json()["description"].startswith("Bad Request: message is not modified")
    assert missing.json()["description"] == "Bad Request: message to edit not found"


# -- rate limits and failure injection ----------------------------------------------------


async def _send(client: httpx.AsyncClient, chat_id: int, text: str = "x") -> httpx.Response:
    return await client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": chat_id, "text": text})


async def test_per_chat_limit_is_a_sliding_one_second_window() -> None:
    clock = Clock(100.0)
    fake = FakeTelegram(TOKEN, clock=clock)
    async with client_for(fake.app) as client:
        assert (await _send(client, 1)).status_code == 200
        clock.t = 100.4
        refused = await _send(client, 1)
        other_chat = await _send(client, 2)
        clock.t = 101.0  # exactly one second after the first message: the window is free
        assert (await _send(client, 1)).status_code == 200
    assert refused.status_code == 429
    assert refused.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert other_chat.status_code == 200
    assert len(fake.sent(1)) == 2
    assert fake.count_429 == 1


async def test_overall_limit_refusals_do_not_count_and_limits_change_at_runtime() -> None:
    clock = Clock(0.0)
    fake = FakeTelegram(TOKEN, overall_per_second=3, clock=clock)
    async with client_for(fake.app) as client:
        for chat in (1, 2, 3):
            clock.t += 0.1
            assert (await _send(client, chat)).status_code == 200
        statuses = []
        for chat in (4, 5):  # refused: they must not extend the window
            clock.t += 0.1
            statuses.append((await _send(client, chat)).status_code)
        clock.t = 1.1  # the first message (at 0.1) has left the window
        statuses.append((await _send(client, 6)).status_code)
        statuses.append((await _send(client, 7)).status_code)
        fake.overall_per_second = 1000
        statuses.append((await _send(client, 8)).status_code)
        fake.per_chat_per_second = 3
        statuses += [(await _send(client, 9)).status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 429, 200, 200, 200, 200, 429]


async def test_retry_after_counts_whole_seconds_until_the_window_frees() -> None:
    clock = Clock(0.0)
    fake = FakeTelegram(TOKEN, per_chat_per_second=2, clock=clock)
    async with client_for(fake.app) as client:
        await _send(client, 1)
        await _send(client, 1)
        clock.t = 0.001
        refused = await _send(client, 1)
        fake.per_chat_per_second = 1  # lowered: now the second message must also leave
        clock.t = 0.5
        lowered = await _send(client, 1)
    assert refused.json()["parameters"]["retry_after"] == 1
    assert lowered.json()["parameters"]["retry_after"] == 1
    assert fake.count_429 == 2


async def test_failure_injection_times_and_clearing() -> None:
    fake = FakeTelegram(TOKEN, per_chat_per_second=100)
    fake.fail(1, 500, times=2)
    fake.fail(2, 429, retry_after=7)
    async with client_for(fake.app) as client:
        first = [(await _send(client, 1)).status_code for _ in range(3)]
        limited = await _send(client, 2)
        fake.fail_all(503, "Service Unavailable")
        down = await _send(client, 3)
        fake.clear_failures()
        back = [(await _send(client, chat)).status_code for chat in (2, 3)]
    assert first == [500, 500, 200]
    assert limited.json()["parameters"] == {"retry_after": 7}
    assert down.json() == {"ok": False, "error_code": 503, "description": "Service Unavailable"}
    assert back == [200, 200]


async def test_delay_answers_late_but_the_message_is_sent() -> None:
    fake = FakeTelegram(TOKEN)
    fake.delay(0.15, times=1)
    async with client_for(fake.app) as client:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(_send(client, 1), timeout=0.05)
        assert (await _send(client, 2)).status_code == 200
    # Like a real timeout: the client never saw the answer, yet the message went out.
    assert [p["chat_id"] for p in fake.sent()] == [1, 2]


# -- getUpdates -----------------------------------------------------------------------


async def test_get_updates_offset_limit_and_webhook_conflict() -> None:
    fake = FakeTelegram(TOKEN)
    updates = [fake.text_update(42, str(i)) for i in range(3)]
    for update in updates:
        fake.push_update(update)
    url = f"/bot{TOKEN}/getUpdates"
    async with client_for(fake.app) as client:
        page = (await client.post(url, data={"limit": "2"})).json()["result"]
        rest = await client.post(url, json={"offset": updates[1]["update_id"] + 1})
        await client.post(f"/bot{TOKEN}/setWebhook", data={"url": "https://loa.example/x"})
        conflict = await client.post(url)
    assert page == updates[:2]
    assert rest.json()["result"] == updates[2:]
    assert conflict.status_code == 409
    assert conflict.json()["description"] == WEBHOOK_CONFLICT


async def test_long_poll_waits_for_a_push_or_gives_up() -> None:
    fake = FakeTelegram(TOKEN, max_poll_wait=0.1)
    url = f"/bot{TOKEN}/getUpdates"
    async with client_for(fake.app) as client:
        empty = await client.post(url, data={"timeout": "30"})
        poll = asyncio.create_task(client.post(url, data={"timeout": "30"}))
        await asyncio.sleep(0.02)
        update = fake.start_update(42)
        fake.push_update(update)
        woken = await poll
    assert empty.json() == {"ok": True, "result": []}
    assert woken.json()["result"] == [update]


async def test_set_webhook_drops_pending_updates_and_checks_secret() -> None:
    fake = FakeTelegram(TOKEN)
    fake.push_update(fake.text_update(1, "x"))
    hook = f"/bot{TOKEN}/setWebhook"
    async with client_for(fake.app) as client:
        bad = await client.post(hook, data={"url": "https://a.example", "secret_token": "a b"})
        good = await client.post(
            hook,
            data={
                "url": "https://a.example",
                "secret_token": "abc",
                "allowed_updates": json.dumps(["message", "callback_query"]),
                "drop_pending_updates": "true",
            },
        )
        info = (await client.get(f"/bot{TOKEN}/getWebhookInfo")).json()["result"]
    assert bad.status_code == 400
    assert good.json() == {"ok": True, "result": True}
    assert fake.webhook is not None
    assert fake.webhook["secret_token"] == "abc"
    assert info["pending_update_count"] == 0
    assert info["allowed_updates"] == ["message", "callback_query"]


# -- loopback -------------------------------------------------------------------------


def test_serve_on_a_loopback_port() -> None:
    fake = FakeTelegram(TOKEN)
    with serve(fake.app) as base, httpx.Client(base_url=base) as client:
        assert base.startswith("http://127.0.0.1:")
        response = client.post(f"/bot{TOKEN}/getMe")
    assert response.json()["result"]["username"] == "loa_test_bot"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/bot{TOKEN}/getMe")


async def test_ptb_over_loopback_with_aserve() -> None:
    fake = FakeTelegram(TOKEN)
    async with aserve(fake.app) as base:
        bot = Bot(TOKEN, base_url=f"{base}/bot")
        async with bot:
            message = await bot.send_message(42, "qua mạng")
    assert message.text == "qua mạng"
    assert fake.sent(42)[0]["text"] == "qua mạng"


def test_command_line_serves_telegram_for_benchmarks() -> None:
    command = [sys.executable, "-m", "tests.fakes.server", "telegram", "--token", "5:B"]
    with subprocess.Popen(
        [*command, "--port", "0", "--rate", "1000"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            base = process.stdout.readline().strip()
            response = httpx.post(f"{base}/bot5:B/getMe", timeout=5)
        finally:
            process.terminate()
            process.wait(timeout=5)
    assert response.json()["ok"] is True


# -- Zalo -----------------------------------------------------------------------------


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture
def zalo(clock: WallClock) -> FakeZalo:
    return FakeZalo(now=clock)


@pytest.fixture
async def zclient(zalo: FakeZalo) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(zalo.app) as client:
        yield client


def _cs(user_id: str, text: str = "Xin chào") -> JSONDict:
    return {"recipient": {"user_id": user_id}, "message": {"text": text}}


def _zns(phone: str = "84912345678", **extra: Any) -> JSONDict:
    return {"phone": phone, "template_id": "tpl-1", "template_data": {"ten": "Lan"}, **extra}


async def _post(
    client: httpx.AsyncClient, path: str, body: JSONDict, token: str = "access-0"
) -> JSONDict:
    response = await client.post(path, json=body, headers={"access_token": token})
    assert response.status_code == 200
    result: JSONDict = response.json()
    return result


async def test_cs_needs_token_window_and_follow(
    zalo: FakeZalo, zclient: httpx.AsyncClient, clock: WallClock
) -> None:
    path = "/v3.0/oa/message/cs"
    bad_token = await _post(zclient, path, _cs("u1"), token="nope")
    never = await _post(zclient, path, _cs("u1"))
    zalo.interact("u1")
    ok = await _post(zclient, path, _cs("u1"))
    zalo.interact("u1", at=clock.at - timedelta(days=7, seconds=1))
    stale = await _post(zclient, path, _cs("u1"))
    zalo.interact("u1")
    zalo.unfollow("u1")
    gone = await _post(zclient, path, _cs("u1"))
    assert bad_token == {"error": -124, "message": "Access token is invalid"}
    assert never["error"] == -230
    assert ok["error"] == 0
    assert ok["message"] == "Success"
    assert ok["data"]["user_id"] == "u1"
    assert ok["data"]["sent_time"] == NOW_MS
    int(ok["data"]["message_id"], 16)
    assert stale["error"] == -230
    assert gone["error"] == -213
    assert zalo.sent_cs("u1") == [_cs("u1")]
    assert zalo.calls[0].headers["access_token"] == "nope"


async def test_cs_validates_text_and_request_user_info(
    zalo: FakeZalo, zclient: httpx.AsyncClient
) -> None:
    zalo.interact("u1")
    path = "/v3.0/oa/message/cs"

    def ask(title: str) -> JSONDict:
        element = {"title": title, "subtitle": "Để nhận tin"}
        payload = {"template_type": "request_user_info", "elements": [element]}
        attachment = {"type": "template", "payload": payload}
        return {"recipient": {"user_id": "u1"}, "message": {"attachment": attachment}}

    results = [
        await _post(zclient, path, _cs("u1", "")),
        await _post(zclient, path, _cs("u1", "x" * 2001)),
        await _post(zclient, path, _cs("u1", "x" * 2000)),
        await _post(zclient, path, ask("Cho xã biết số điện thoại")),
        await _post(zclient, path, ask("")),
        await _post(zclient, path, {"message": {"text": "x"}}),
    ]
    assert [r["error"] for r in results] == [-201, -201, 0, 0, -201, -201]


async def test_cs_rate_limit(zalo: FakeZalo, zclient: httpx.AsyncClient, clock: WallClock) -> None:
    zalo.per_second = 2
    zalo.interact("u1")
    path = "/v3.0/oa/message/cs"
    errors = [(await _post(zclient, path, _cs("u1")))["error"] for _ in range(3)]
    clock.advance(seconds=1)
    errors.append((await _post(zclient, path, _cs("u1")))["error"])
    assert errors == [0, 0, -32, 0]
    assert (await _post(zclient, path, _cs("u1")))["message"] == "Success"


async def test_zns_errors_and_quota(
    zalo: FakeZalo, zclient: httpx.AsyncClient, clock: WallClock
) -> None:
    zalo.daily_quota = 2
    path = "/message/template"
    bad_phone = await _post(zclient, path, _zns("0912345678"))
    plus = await _post(zclient, path, _zns("+84912345678"))
    template = await _post(zclient, path, {**_zns(), "template_id": "tpl-unknown"})
    tracking = await _post(zclient, path, _zns(tracking_id="t" * 49))
    first = await _post(zclient, path, _zns(tracking_id="t" * 48, mode="development"))
    second = await _post(zclient, path, _zns())
    over = await _post(zclient, path, _zns())
    clock.advance(days=1)
    next_day = await _post(zclient, path, _zns())
    assert bad_phone == {"error": -108, "message": "Phone number is invalid"}
    assert plus["error"] == -108
    assert template["error"] == -131
    assert tracking["error"] == -100
    assert first["data"]["quota"] == {"dailyQuota": "2", "remainingQuota": "1"}
    assert second["data"]["quota"]["remainingQuota"] == "0"
    assert over["error"] == -144
    assert next_day["error"] == 0
    int(first["data"]["msg_id"], 16)
    assert first["data"]["sent_time"].isdigit()
    assert len(zalo.sent_zns("84912345678")) == 3


async def test_zalo_failure_injection(zalo: FakeZalo, zclient: httpx.AsyncClient) -> None:
    zalo.interact("u1")
    zalo.fail("84912345678", -118, times=1)
    zalo.fail("u1", -232)
    results = [
        (await _post(zclient, "/message/template", _zns()))["error"],
        (await _post(zclient, "/message/template", _zns()))["error"],
        (await _post(zclient, "/v3.0/oa/message/cs", _cs("u1")))["error"],
    ]
    zalo.fail_all(-32, times=2)
    results.append((await _post(zclient, "/message/template", _zns()))["error"])
    zalo.clear_failures()
    results.append((await _post(zclient, "/v3.0/oa/message/cs", _cs("u1")))["error"])
    zalo.http_error(502, times=1)
    broken = await zclient.post("/message/template", json=_zns(), headers={"access_token": "x"})
    assert results == [-118, 0, -232, -32, 0]
    assert broken.status_code == 502
    assert zalo.calls[-1].status == 502


async def test_refresh_token_rotation(
    zalo: FakeZalo, zclient: httpx.AsyncClient, clock: WallClock
) -> None:
    async def refresh(token: str, secret: str = "app-secret") -> JSONDict:
        form = {"refresh_token": token, "app_id": "1234567890", "grant_type": "refresh_token"}
        response = await zclient.post(
            "/v4/oa/access_token", data=form, headers={"secret_key": secret}
        )
        result: JSONDict = response.json()
        return result

    wrong_secret = await refresh("refresh-0", secret="guess")
    first = await refresh("refresh-0")
    reused = await refresh("refresh-0")
    second = await refresh("refresh-1")
    assert wrong_secret["error"] == -14003
    assert first == {
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires_in": "90000",
    }
    assert reused["error"] == -216
    assert second["access_token"] == "access-2"
    assert zalo.refresh_calls == 4
    assert (zalo.access_token, zalo.refresh_token) == ("access-2", "refresh-2")

    oa = "/v2.0/oa/getoa"
    old = (await zclient.get(oa, headers={"access_token": "access-0"})).json()
    clock.advance(seconds=90000)
    expired = (await zclient.get(oa, headers={"access_token": "access-0"})).json()
    clock.advance(days=91)
    stale_refresh = await refresh("refresh-2")
    assert old["error"] == 0
    assert old["data"]["oa_id"] == "579745863508352884"
    assert old["data"]["name"] == "UBND xã Demo"
    assert expired["error"] == -124
    assert stale_refresh["error"] == -220


def test_webhook_events_are_signed_over_raw_bytes(zalo: FakeZalo) -> None:
    raw, headers = zalo.event_text("u9", "Nhà tôi ở thôn Đông")
    body = json.loads(raw)
    expected = hashlib.sha256(
        ("1234567890" + raw.decode() + body["timestamp"] + "oa-secret-key").encode()
    ).hexdigest()
    assert headers["X-ZEvent-Signature"] == f"mac={expected}"
    assert sign(raw, body["timestamp"], app_id="1234567890", oa_secret_key="oa-secret-key") == (
        expected
    )
    assert "Đông".encode() in raw  # sent as UTF-8, not \\u escapes
    tampered = raw.replace("Đông".encode(), "Tây".encode())
    assert sign(
        tampered, body["timestamp"], app_id="1234567890", oa_secret_key="oa-secret-key"
    ) != (expected)
    assert body["event_name"] == "user_send_text"
    assert body["sender"] == {"id": "u9"}
    assert body["recipient"] == {"id": zalo.oa_id}
    assert body["timestamp"] == NOW_MS
    other = json.loads(zalo.event_text("u9", "again")[0])
    assert other["message"]["msg_id"] != body["message"]["msg_id"]


async def test_events_open_the_window_and_carry_zns_tracking(
    zalo: FakeZalo, zclient: httpx.AsyncClient
) -> None:
    follow = json.loads(zalo.event_follow("u2")[0])
    assert follow["follower"] == {"id": "u2"}
    assert follow["event_name"] == "follow"
    assert (await _post(zclient, "/v3.0/oa/message/cs", _cs("u2")))["error"] == 0
    zalo.event_unfollow("u2")
    assert (await _post(zclient, "/v3.0/oa/message/cs", _cs("u2")))["error"] == -213
    info = json.loads(zalo.event_submit_info("u3", "84912345678", name="Lan")[0])
    assert info["info"]["phone"] == "84912345678"
    assert info["info"]["name"] == "Lan"
    assert (await _post(zclient, "/v3.0/oa/message/cs", _cs("u3")))["error"] == 0

    sent = await _post(zclient, "/message/template", _zns(tracking_id="notice-1"))
    receipt = json.loads(zalo.event_delivered(sent["data"]["msg_id"])[0])
    assert receipt["event_name"] == "user_received_message"
    assert receipt["message"]["tracking_id"] == "notice-1"
    assert receipt["message"]["msg_id"] == sent["data"]["msg_id"]


def test_zalo_on_a_loopback_port(zalo: FakeZalo) -> None:
    with serve(zalo.app) as base:
        response = httpx.get(f"{base}/v2.0/oa/getoa", headers={"access_token": "access-0"})
    assert response.json()["error"] == 0


def test_serve_rejects_a_taken_port() -> None:
    fake = FakeTelegram(TOKEN)
    with serve(fake.app) as base:
        port = int(base.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="in use"), serve(fake.app, port=port):
            pass
