"""A fake Telegram Bot API (ASGI) with rate limits, failure injection and update builders.

Speaks the wire contract in /work/shared/channels.md: `POST {base}/bot<token>/<method>`, form,
multipart or JSON bodies, `{"ok":true,"result":...}` or `{"ok":false,"error_code":N,...}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JSONDict = dict[str, Any]
ChatId = int | str

WINDOW = 1.0  # seconds: Telegram's limits are per second, measured as a sliding window
MAX_TEXT = 4096
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Parameters that clients send as JSON strings inside form bodies.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "link_preview_options",
        "reply_parameters",
        "caption_entities",
    }
)
_INT_PARAMS = frozenset({"message_id", "offset", "limit", "max_connections", "cache_time"})
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
    }
)
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_INT = re.compile(r"^-?\d+$")


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class Call:
    """One request the fake received, refused or not."""

    method: str
    params: JSONDict
    at: float
    status: int = 200


@dataclass
class _Failure:
    status: int
    description: str
    times: int | None  # None: until cleared
    retry_after: int | None = None

    def error(self) -> ApiError:
        params = {"retry_after": self.retry_after} if self.retry_after else None
        return ApiError(self.status, self.description, params)


@dataclass
class _Delay:
    seconds: float
    method: str | None  # None: every method
    times: int | None


def _default_description(status: int) -> str:
    if status == 403:
        return BLOCKED
    if status == 400:
        return "Bad Request"
    if status == 429:
        return "Too Many Requests: retry after 1"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def chat_key(value: object) -> ChatId:
    """Normalise a chat id as Telegram does: integers stay integers, `@username` stays text."""
    if isinstance(value, bool):
        raise bad_request("chat not found")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if _INT.match(text) else text


def _parse_json_param(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        raise bad_request(f"can't parse {name} JSON object") from None


def _parse_scalar(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None
    if name in _BOOL_PARAMS:
        return value.strip().lower() in {"true", "1"}
    return value


def normalise(params: JSONDict) -> JSONDict:
    """Turn form strings into the types a JSON body would carry."""
    out: JSONDict = {}
    for name, value in params.items():
        if name in _JSON_PARAMS:
            out[name] = _parse_json_param(name, value)
        elif name in {"chat_id", "user_id"}:
            out[name] = chat_key(value)
        else:
            out[name] = _parse_scalar(name, value)
    return out


async def read_params(request: Request) -> JSONDict:
    """Read query, form, multipart or JSON parameters into one dict."""
    params: JSONDict = dict(request.query_params)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(data, dict):
                raise bad_request("can't parse JSON object")
            params.update(data)
    elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.form()
        for name, value in form.multi_items():
            # Uploaded files are kept by name only: no test needs their bytes.
            params[name] = value.filename if isinstance(value, UploadFile) else value
    return params


def _inline_markup(markup: object) -> JSONDict | None:
    # Only inline keyboards stay attached to a message; reply keyboards do not.
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _utf16_len(text: str) -> int:
    # Telegram counts message length in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _check_inline_keyboard(markup: object) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            _check_button(button)


def _check_button(button: object) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request('can\'t find field "text"')
    data = button.get("callback_data")
    if data is None:
        return
    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")


Handler = Callable[[JSONDict, float], Awaitable[object]]


class FakeTelegram:
    """A Telegram Bot API server for one bot token; `.app` is the ASGI app."""

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        overall_per_second: int = 30,
        per_chat_per_second: int = 1,
        clock: Callable[[], float] = time.monotonic,
        username: str = "loa_test_bot",
        max_poll_wait: float = 1.0,
    ) -> None:
        self.token = token
        self.overall_per_second = overall_per_second
        self.per_chat_per_second = per_chat_per_second
        self.clock = clock
        self.username = username
        self.max_poll_wait = max_poll_wait
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123
        self.calls: list[Call] = []
        self.webhook: JSONDict | None = None
        self._overall: deque[float] = deque()
        self._per_chat: dict[ChatId, deque[float]] = {}
        self._failures: dict[ChatId, _Failure] = {}
        self._fail_all: _Failure | None = None
        self._unknown: set[ChatId] = set()
        self._delay: _Delay | None = None
        self._message_ids: dict[ChatId, itertools.count[int]] = {}
        self._messages: dict[tuple[ChatId, int], JSONDict] = {}
        self._update_ids = itertools.count(10_000)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        # Tests push updates from their own thread while the server polls from its own.
        self._lock = threading.Lock()
        self._updates: list[JSONDict] = []
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "answercallbackquery": self._answer_callback_query,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "editmessagereplymarkup": self._edit_reply_markup,
            "editmessagetext": self._edit_text,
        }
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )

    # -- test controls --------------------------------------------------------------------

    def fail(
        self,
        chat_id: ChatId,
        status: int = 403,
        description: str | None = None,
        times: int | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        """Make calls to `chat_id` fail with `status` (`times` times, or until cleared)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or _default_description(status)
        self._failures[chat_key(chat_id)] = _Failure(status, text, times, retry_after)

    def fail_all(
        self,
        status: int = 500,
        description: str | None = None,
        times: int | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        """Make every sendMessage fail with `status` (`times` times, or until cleared)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or _default_description(status)
        self._fail_all = _Failure(status, text, times, retry_after)

    def clear_failures(self) -> None:
        """Forget injected failures, unknown chats and delays."""
        self._failures.clear()
        self._fail_all = None
        self._unknown.clear()
        self._delay = None

    def unknown_chat(self, chat_id: ChatId) -> None:
        """Answer 400 "chat not found" for calls to `chat_id`."""
        self._unknown.add(chat_key(chat_id))

    def delay(
        self, seconds: float, *, method: str | None = "sendMessage", times: int | None = None
    ) -> None:
        """Hold answers to `method` (None: all) for `seconds` after the call took effect."""
        name = method.lower() if method else None
        self._delay = _Delay(seconds, name, times) if seconds else None

    def push_update(self, update: JSONDict) -> None:
        """Queue an update for getUpdates."""
        with self._lock:
            self._updates.append(update)

    # -- records ------------------------------------------------------------------------

    def sent(self, chat_id: ChatId | None = None) -> list[JSONDict]:
        """Parameters of accepted sendMessage calls, optionally to one chat."""
        key = None if chat_id is None else chat_key(chat_id)
        return [
            call.params
            for call in self.calls
            if call.method.lower() == "sendmessage"
            and call.status == 200
            and (key is None or call.params.get("chat_id") == key)
        ]

    @property
    def count_429(self) -> int:
        """How many calls were refused with 429."""
        return sum(1 for call in self.calls if call.status == 429)

    def message(self, chat_id: ChatId, message_id: int) -> JSONDict | None:
        """The Message the bot sent (or that an update carried) with this id, if any."""
        return self._messages.get((chat_key(chat_id), message_id))

    # -- update builders ----------------------------------------------------------------

    def text_update(self, chat_id: int, text: str, *, first_name: str = "Lan") -> JSONDict:
        """A private-chat text message from user `chat_id`."""
        return self._message_update(chat_id, first_name, {"text": text})

    def start_update(
        self, chat_id: int, payload: str | None = None, *, first_name: str = "Lan"
    ) -> JSONDict:
        """`/start` or a deep link's `/start <payload>`, with its bot_command entity."""
        text = "/start" if payload is None else f"/start {payload}"
        entity = {"offset": 0, "length": len("/start"), "type": "bot_command"}
        return self._message_update(chat_id, first_name, {"text": text, "entities": [entity]})

    def contact_update(
        self,
        chat_id: int,
        phone: str,
        *,
        user_id: int | None = None,
        first_name: str = "Lan",
        with_user_id: bool = True,
    ) -> JSONDict:
        """A shared contact; `user_id` differs from the sender for a forwarded card."""
        contact: JSONDict = {"phone_number": phone, "first_name": first_name}
        if with_user_id:
            contact["user_id"] = chat_id if user_id is None else user_id
        return self._message_update(chat_id, first_name, {"contact": contact})

    def callback_update(
        self, chat_id: int, data: str, *, message_id: int = 1, first_name: str = "Lan"
    ) -> JSONDict:
        """A tap on an inline button of the bot's message `message_id`."""
        message = self.message(chat_id, message_id) or {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id, first_name),
            "date": int(time.time()),
            "text": "…",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(chat_id, first_name),
            "message": message,
            "chat_instance": str(-(abs(chat_id) * 1_000_003 + 17)),
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def _message_update(self, chat_id: int, first_name: str, content: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._user(chat_id, first_name),
            "chat": self._chat(chat_id, first_name),
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat_id, message["message_id"])] = message
        return {"update_id": next(self._update_ids), "message": message}

    def _user(self, user_id: int, first_name: str) -> JSONDict:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def _chat(self, chat_id: ChatId, first_name: str = "Lan") -> JSONDict:
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "first_name": first_name, "type": "private"}
        return {"id": chat_id, "title": "Group", "type": "group"}

    def _bot_user(self) -> JSONDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Loa", "username": self.username}

    def _next_message_id(self, chat_id: ChatId) -> int:
        # Private chats share one message id sequence for both directions.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # -- HTTP ---------------------------------------------------------------------------

    async def _not_found(self, request: Request) -> JSONResponse:
        error = ApiError(404, "Not Found")
        return JSONResponse(error.body(), status_code=404)

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        at = self.clock()
        params: JSONDict = {}
        try:
            params = normalise(await read_params(request))
            result = await self._dispatch(request.path_params["token"], method, params, at)
        except ApiError as error:
            self.calls.append(Call(method, params, at, error.status))
            return JSONResponse(error.body(), status_code=error.status)
        self.calls.append(Call(method, params, at, 200))
        await self._maybe_delay(method)
        return JSONResponse({"ok": True, "result": result})

    async def _dispatch(self, token: str, method: str, params: JSONDict, at: float) -> object:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        handler = self._handlers.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params, at)

    async def _maybe_delay(self, method: str) -> None:
        delay = self._delay
        if delay is None or delay.method not in {None, method.lower()}:
            return
        if delay.times is not None:
            delay.times -= 1
            if delay.times <= 0:
                self._delay = None
        await asyncio.sleep(delay.seconds)

    # -- methods ------------------------------------------------------------------------

    async def _get_me(self, params: JSONDict, at: float) -> object:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _send_message(self, params: JSONDict, at: float) -> object:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        if _utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = params.get("reply_markup")
        _check_inline_keyboard(markup)
        self._check_chat(chat_id, everywhere=True)
        self._check_rate(chat_id, at)
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        inline = _inline_markup(markup)
        if inline is not None:
            message["reply_markup"] = inline
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _require_chat(self, params: JSONDict) -> ChatId:
        if params.get("chat_id") in {None, ""}:
            raise bad_request("chat_id is empty")
        return chat_key(params["chat_id"])

    def _check_chat(self, chat_id: ChatId, *, everywhere: bool) -> None:
        if chat_id in self._unknown:
            raise bad_request("chat not found")
        failure = self._failures.get(chat_id)
        if failure is not None:
            self._consume(failure, lambda: self._failures.pop(chat_id, None))
            raise failure.error()
        if everywhere and self._fail_all is not None:
            failure = self._fail_all
            self._consume(failure, self._clear_fail_all)
            raise failure.error()

    def _clear_fail_all(self) -> None:
        self._fail_all = None

    @staticmethod
    def _consume(failure: _Failure, drop: Callable[[], object]) -> None:
        if failure.times is None:
            return
        failure.times -= 1
        if failure.times <= 0:
            drop()

    def _check_rate(self, chat_id: ChatId, at: float) -> None:
        per_chat = self._per_chat.setdefault(chat_id, deque())
        waits = [
            _wait(self._overall, self.overall_per_second, at),
            _wait(per_chat, self.per_chat_per_second, at),
        ]
        longest = max(waits)
        if longest > 0:
            retry_after = max(1, math.ceil(longest))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        self._overall.append(at)
        per_chat.append(at)

    async def _answer_callback_query(self, params: JSONDict, at: float) -> object:
        if not params.get("callback_query_id"):
            raise bad_request('parameter "callback_query_id" is required')
        return True

    async def _set_webhook(self, params: JSONDict, at: float) -> object:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if not url:
            # Telegram treats an empty url as "remove the webhook".
            return await self._delete_webhook(params, at)
        if not str(url).startswith("https://") and not str(url).startswith("http://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
        }
        self._maybe_drop_pending(params)
        return True

    async def _delete_webhook(self, params: JSONDict, at: float) -> object:
        self.webhook = None
        self._maybe_drop_pending(params)
        return True

    def _maybe_drop_pending(self, params: JSONDict) -> None:
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()

    async def _get_webhook_info(self, params: JSONDict, at: float) -> object:
        with self._lock:
            pending = len(self._updates)
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: JSONDict, at: float) -> object:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        # Real time, not `clock`: tests freeze `clock` but still expect the poll to end.
        deadline = time.monotonic() + wait
        while True:
            batch = self._take_updates(offset, limit, params.get("allowed_updates"))
            if batch or time.monotonic() >= deadline:
                return batch
            await asyncio.sleep(0.01)

    def _take_updates(self, offset: object, limit: int, allowed: object) -> list[JSONDict]:
        with self._lock:
            if isinstance(offset, int) and offset > 0:
                # Telegram forgets updates once a later offset confirms them.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            updates = list(self._updates)
        if isinstance(allowed, list) and allowed:
            updates = [u for u in updates if any(kind in u for kind in allowed)]
        return updates[:limit]

    async def _edit_reply_markup(self, params: JSONDict, at: float) -> object:
        message = self._message_to_edit(params)
        if message is None:
            return True
        markup = params.get("reply_markup")
        _check_inline_keyboard(markup)
        new = _inline_markup(markup)
        if new == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        if new is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new
        return message

    async def _edit_text(self, params: JSONDict, at: float) -> object:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        message = self._message_to_edit(params)
        if message is None:
            return True
        markup = params.get("reply_markup")
        _check_inline_keyboard(markup)
        message["text"] = text
        new = _inline_markup(markup)
        if new is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new
        return message

    def _message_to_edit(self, params: JSONDict) -> JSONDict | None:
        if params.get("inline_message_id"):
            return None
        chat_id = self._require_chat(params)
        self._check_chat(chat_id, everywhere=False)
        message = self._messages.get((chat_id, params.get("message_id") or 0))
        if message is None:
            raise bad_request("message to edit not found")
        return message


def _wait(window: deque[float], limit: int, at: float) -> float:
    """Seconds until `window` (sorted call times) has room for one more call at `at`."""
    while window and window[0] <= at - WINDOW:
        window.popleft()
    if limit <= 0:
        return WINDOW
    if len(window) < limit:
        return 0.0
    # The limit may have been lowered at runtime, so more than `limit` calls can be in it.
    blocking = window[len(window) - limit]
    return max(blocking + WINDOW - at, 1e-9)
