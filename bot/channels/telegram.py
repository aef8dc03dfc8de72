"""Telegram through python-telegram-bot 22: webhook or long polling in, Bot API calls out."""

from __future__ import annotations

import hmac
import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

# Opt in to PTB 22's coming RetryAfter.retry_after as a timedelta (no deprecation warning).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot.channels.base import (
    ASK_PHONE,
    BLOCKED,
    INVALID_ADDRESS,
    Capabilities,
    ChannelProblem,
    Outgoing,
    PermanentError,
    RateLimited,
    Sent,
    TemporaryError,
    Unreachable,
    WebhookRequest,
    WebhookResult,
    json_object,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.config import Settings
from handlers.incoming import PHONE, START, TAP, TEXT, Incoming
from messages.phones import InvalidPhone, normalize_phone
from messages.render import _
from storage.models.households import CONTACT_TELEGRAM

log = logging.getLogger(__name__)
# sendMessage goes through do_api_request on purpose (see TelegramChannel.send).
warnings.filterwarnings("ignore", "Please use 'Bot.sendMessage'", PTBUserWarning)

TELEGRAM = "telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
IN_FLIGHT = 64  # connections to the Bot API
ROW = 2  # inline buttons per row: labels stay readable on a small screen


class TelegramChannel:
    """One bot account."""

    name = TELEGRAM
    webhook = TELEGRAM

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        request: BaseRequest
        polling: BaseRequest
        if transport is None:  # a real socket: aiohttp, a seventh of httpx's CPU per request
            request = AiohttpRequest(connections=IN_FLIGHT)
            polling = AiohttpRequest(connections=1, read_timeout=40)
        else:  # tests: PTB's httpx request through an in-process transport
            extra: dict[str, Any] = {"transport": transport}
            request = HTTPXRequest(connection_pool_size=IN_FLIGHT, httpx_kwargs=extra)
            polling = HTTPXRequest(read_timeout=40, httpx_kwargs=extra)
        self.requests = (request, polling)
        base = settings.telegram_api_base.rstrip("/")
        self.bot = Bot(
            settings.telegram_token,
            base_url=f"{base}/bot",
            request=request,
            get_updates_request=polling,
        )
        self.secret = settings.telegram_webhook_secret
        self.capabilities = Capabilities(
            contact_kind=CONTACT_TELEGRAM,
            buttons=True,
            max_length=4096,
            per_second=settings.telegram_per_second,
            per_chat_per_second=settings.telegram_per_chat_per_second,
        )

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        """Check the secret token header, then parse one update."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return WebhookResult(status=401, body={"ok": False, "error": "bad secret token"})
        update = json_object(request)
        if isinstance(update, WebhookResult):
            return update
        if not isinstance(update.get("update_id"), int):
            return WebhookResult(status=400, body={"ok": False, "error": "not an update"})
        return WebhookResult(inbound=parse_update(update))

    async def send(self, message: Outgoing) -> Sent:
        """sendMessage, with the choices as an inline keyboard or a phone-sharing keyboard."""
        try:
            # The raw result: PTB's Message object would cost more CPU than the request.
            result = await self.bot.do_api_request(
                "sendMessage",
                api_kwargs={
                    "chat_id": int(message.address),
                    "text": message.text,
                    "reply_markup": _markup(message.buttons),
                },
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RateLimited(exc.message, seconds) from exc
        except Forbidden as exc:
            raise Unreachable(exc.message, BLOCKED) from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(exc.message, INVALID_ADDRESS) from exc
            raise PermanentError(exc.message) from exc
        except InvalidToken as exc:
            raise TemporaryError(f"token refused: {exc.message}") from exc
        except (TimedOut, NetworkError) as exc:
            raise TemporaryError(exc.message) from exc
        except ValueError as exc:  # a chat id that is not a number
            raise Unreachable(str(exc), INVALID_ADDRESS) from exc
        return Sent(str(result["message_id"]) if isinstance(result, dict) else None)

    async def acknowledge(self, inbound: Incoming) -> None:
        """Stop the tapped button's spinner."""
        if inbound.ack:
            try:
                await self.bot.answer_callback_query(inbound.ack)
            except TelegramError as exc:
                log.warning("answerCallbackQuery failed: %s", exc)

    async def check(self) -> str:
        """getMe: the token works and names the bot."""
        try:
            me = await self.bot.get_me()
        except InvalidToken as exc:
            raise ChannelProblem(_("Telegram refused the token (LOA_TELEGRAM_TOKEN).")) from exc
        except TelegramError as exc:
            raise ChannelProblem(
                _("Telegram cannot be reached: {error}").format(error=exc.message)
            ) from exc
        return f"@{me.username}"

    async def set_webhook(self, url: str) -> None:
        """setWebhook with the secret token Telegram must send back."""
        try:
            await self.bot.set_webhook(
                url, secret_token=self.secret, allowed_updates=["message", "callback_query"]
            )
        except TelegramError as exc:
            raise ChannelProblem(
                _("Telegram refused the webhook {url}: {error}").format(url=url, error=exc.message)
            ) from exc

    async def poll(
        self,
        handle: Callable[[list[Incoming]], Awaitable[None]],
        *,
        stopped: Callable[[], bool],
        wait: int = 25,
    ) -> None:
        """Long polling (`loa run --telegram-polling`), for a deployment without public HTTPS."""
        await self.bot.delete_webhook()
        offset = 0
        while not stopped():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=wait)
            except TelegramError as exc:
                log.warning("getUpdates failed: %s", exc)
                continue
            for update in updates:
                offset = update.update_id + 1
                await handle(parse_update(update.to_dict()))

    async def close(self) -> None:
        """Close the HTTP connections (PTB closes them only if it was initialised)."""
        await self.bot.shutdown()
        for request in self.requests:
            await request.shutdown()


def _markup(buttons: list[dict[str, Any]] | None) -> Any:
    if not buttons:
        return None
    ask = next((b for b in buttons if b.get("request") == ASK_PHONE), None)
    if ask is not None:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(ask["label"], request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    keys = [InlineKeyboardButton(b["label"], callback_data=str(b["value"])) for b in buttons]
    return InlineKeyboardMarkup([keys[i : i + ROW] for i in range(0, len(keys), ROW)])


def parse_update(update: dict[str, Any]) -> list[Incoming]:
    """A Bot API update as Loa's events; kinds Loa does not use give none."""
    update_id = str(update.get("update_id"))
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        return _tap(callback, update_id)
    message = update.get("message")
    if not isinstance(message, dict):
        return []  # edited messages, channel posts, polls...: nothing to do
    chat = message.get("chat") or {}
    if chat.get("type", "private") != "private" or "id" not in chat:
        return []
    address = str(chat["id"])
    sender = message.get("from") or {}
    name = sender.get("first_name")
    common: dict[str, Any] = {"channel": TELEGRAM, "address": address, "kind": CONTACT_TELEGRAM}
    common |= {"provider_id": update_id, "name": name}
    contact = message.get("contact")
    if isinstance(contact, dict):
        return [_shared_phone(contact, sender, common)]
    text = message.get("text")
    if not isinstance(text, str):
        return []  # stickers, photos: nothing Loa can read
    if text == "/start" or text.startswith("/start "):
        return [Incoming(**common, event=START, text=text[len("/start") :].strip())]
    return [Incoming(**common, event=TEXT, text=text)]


def _tap(callback: dict[str, Any], update_id: str) -> list[Incoming]:
    sender = callback.get("from") or {}
    if "id" not in sender:
        return []
    return [
        Incoming(
            channel=TELEGRAM,
            address=str(sender["id"]),
            kind=CONTACT_TELEGRAM,
            event=TAP,
            text=str(callback.get("data") or ""),
            provider_id=update_id,
            name=sender.get("first_name"),
            ack=str(callback.get("id")),
        )
    ]


def _shared_phone(
    contact: dict[str, Any], sender: dict[str, Any], common: dict[str, Any]
) -> Incoming:
    """A shared contact proves a phone only when it is the sender's own."""
    own = contact.get("user_id") is not None and contact.get("user_id") == sender.get("id")
    raw = str(contact.get("phone_number") or "")
    try:
        phone = normalize_phone(raw) if own else None
    except InvalidPhone:
        phone = None
    if phone is None:
        return Incoming(**common, event=TEXT, text=raw if own else "")
    return Incoming(**common, event=PHONE, phone=phone)
