"""A fake of Zalo's OA (consultation messages), ZNS and OAuth APIs, plus signed webhook events.

One ASGI app serves all three bases (openapi.zalo.me, business.openapi.zalo.me,
oauth.zaloapp.com) as described in /work/shared/channels.md: header `access_token`, HTTP 200
with a non-zero `error` on failure, string IDs and epoch-millisecond string timestamps.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

JSONDict = dict[str, Any]

VN = timezone(timedelta(hours=7))  # Vietnam has no DST; ZNS quotas and night hours use it
ZNS_PHONE = re.compile(r"^84\d{9}$")
MAX_CS_TEXT = 2000
MAX_TRACKING_ID = 48

OK = 0
RATE_LIMITED = -32
OA_PARAMS_INVALID = -201
USER_NOT_FOLLOWER = -213
OUTSIDE_WINDOW = -230
ZNS_PARAMS_INVALID = -100
PHONE_INVALID = -108
TOKEN_INVALID = -124
TEMPLATE_NOT_APPROVED = -131
NIGHT_BLOCK = -133
DAILY_LIMIT = -144
REFRESH_INVALID = -216
REFRESH_EXPIRED = -220
APP_INVALID = -14003
GRANT_INVALID = -14001

MESSAGES = {
    RATE_LIMITED: "Exceeded rate limit",
    OA_PARAMS_INVALID: "Parameters are invalid",
    USER_NOT_FOLLOWER: "User has not followed OA",
    OUTSIDE_WINDOW: "User has not interacted with the OA in the last 7 days",
    -232: "User has not interacted with the OA recently",
    ZNS_PARAMS_INVALID: "Parameters are invalid",
    PHONE_INVALID: "Phone number is invalid",
    -114: "User is inactive, or has blocked ZNS messages",
    -115: "Out of quota or balance",
    -118: "Zalo account does not exist or is disabled",
    -119: "Account cannot receive ZNS messages",
    TOKEN_INVALID: "Access token is invalid",
    TEMPLATE_NOT_APPROVED: "Template is not approved",
    NIGHT_BLOCK: "Cannot send ZNS messages at night (22:00-06:00)",
    DAILY_LIMIT: "OA has exceeded the daily quota",
}


def message_for(error: int) -> str:
    """The message text the fake sends with `error`."""
    return MESSAGES.get(error, "Unknown error")


def sign(body: bytes, timestamp: str, *, app_id: str, oa_secret_key: str) -> str:
    """Hex `sha256(app_id + raw_body + timestamp + oa_secret_key)`, the webhook MAC."""
    material = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(material).hexdigest()


def epoch_ms(moment: datetime) -> str:
    """Epoch milliseconds as Zalo writes timestamps: a decimal string."""
    return str(int(moment.timestamp() * 1000))


@dataclass
class ZaloCall:
    """One request the fake received: path, a subset of headers, body, and the answer."""

    method: str
    path: str
    headers: dict[str, str]
    body: JSONDict
    at: datetime
    status: int = 200
    error: int | None = None


@dataclass
class _Failure:
    error: int
    times: int | None  # None: until cleared
    message: str

    def take(self) -> bool:
        """Use the failure once; True when it is used up."""
        if self.times is None:
            return False
        self.times -= 1
        return self.times <= 0


class ZaloError(Exception):
    """An API answer with a non-zero `error`."""

    def __init__(self, error: int, message: str | None = None) -> None:
        super().__init__(message or message_for(error))
        self.error = error
        self.message = message or message_for(error)


_RECORDED_HEADERS = ("access_token", "secret_key", "content-type")

Handler = Callable[[JSONDict, Request], Awaitable[JSONDict]]


class FakeZalo:
    """Zalo OA + ZNS + OAuth for one app and one OA; `.app` is the ASGI app."""

    def __init__(
        self,
        *,
        app_id: str = "1234567890",
        app_secret: str = "app-secret",
        oa_secret_key: str = "oa-secret-key",
        oa_id: str = "579745863508352884",
        access_token: str = "access-0",
        refresh_token: str = "refresh-0",
        approved_templates: Iterable[str] = ("tpl-1",),
        window: timedelta = timedelta(days=7),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        per_second: int = 50,
        daily_quota: int = 500,
        access_ttl: timedelta = timedelta(seconds=90000),
        refresh_ttl: timedelta = timedelta(days=90),
        night_block: bool = False,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_secret_key = oa_secret_key
        self.oa_id = oa_id
        self.approved_templates = set(approved_templates)
        self.window = window
        self.now = now
        self.per_second = per_second
        self.daily_quota = daily_quota
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.night_block = night_block
        self.calls: list[ZaloCall] = []
        self.refresh_calls = 0
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._access: dict[str, datetime] = {access_token: now() + access_ttl}
        self._refresh: dict[str, datetime] = {refresh_token: now() + refresh_ttl}
        self._generation = itertools.count(1)
        self._interactions: dict[str, datetime] = {}
        self._unfollowed: set[str] = set()
        self._failures: dict[str, _Failure] = {}
        self._fail_all: _Failure | None = None
        self._http_errors: list[int] = []
        self._windows: dict[str, deque[float]] = {}
        self._quota_used: dict[str, int] = {}
        self._tracking: dict[str, str] = {}
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        routes: list[tuple[str, str, Handler]] = [
            ("/v3.0/oa/message/cs", "POST", self._send_cs),
            ("/message/template", "POST", self._send_zns),
            ("/v4/oa/access_token", "POST", self._refresh_tokens),
            ("/v2.0/oa/getoa", "GET", self._get_oa),
        ]
        out = [Route(path, self._endpoint(h), methods=[verb]) for path, verb, h in routes]
        out.append(Route("/{path:path}", self._not_found, methods=["GET", "POST"]))
        return out

    # -- test controls --------------------------------------------------------------------

    def interact(self, user_id: str, at: datetime | None = None) -> None:
        """Record that `user_id` interacted with the OA (opens the consultation window)."""
        self._interactions[user_id] = at or self.now()

    def unfollow(self, user_id: str) -> None:
        """Mark `user_id` as no longer following the OA."""
        self._unfollowed.add(user_id)

    def follow(self, user_id: str) -> None:
        """Mark `user_id` as following again; following counts as an interaction."""
        self._unfollowed.discard(user_id)
        self.interact(user_id)

    def fail(
        self,
        recipient: str,
        error: int = OUTSIDE_WINDOW,
        times: int | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Fail sends to a user_id (OA) or a phone "84..." (ZNS) with `error`."""
        self._failures[recipient] = _Failure(error, times, message or message_for(error))

    def fail_all(self, error: int, times: int | None = None, *, message: str | None = None) -> None:
        """Fail every OA and ZNS send with `error` (`times` times, or until cleared)."""
        self._fail_all = _Failure(error, times, message or message_for(error))

    def http_error(self, status: int = 502, times: int = 1) -> None:
        """Answer the next `times` requests (any endpoint) with a plain HTTP `status`."""
        self._http_errors.extend([status] * times)

    def clear_failures(self) -> None:
        """Forget injected failures and HTTP errors (unfollows stay: they are user state)."""
        self._failures.clear()
        self._fail_all = None
        self._http_errors.clear()

    def revoke_access_tokens(self) -> None:
        """Invalidate every access token issued so far (a forced refresh)."""
        self._access.clear()

    def approve(self, template_id: str) -> None:
        """Approve one more ZNS template."""
        self.approved_templates.add(template_id)

    # -- records ------------------------------------------------------------------------

    def sent_cs(self, user_id: str | None = None) -> list[JSONDict]:
        """Bodies of accepted consultation messages, optionally to one user."""
        return [
            call.body
            for call in self._accepted("/v3.0/oa/message/cs")
            if user_id is None or call.body.get("recipient", {}).get("user_id") == user_id
        ]

    def sent_zns(self, phone: str | None = None) -> list[JSONDict]:
        """Bodies of accepted ZNS messages, optionally to one phone."""
        return [
            call.body
            for call in self._accepted("/message/template")
            if phone is None or call.body.get("phone") == phone
        ]

    def _accepted(self, path: str) -> list[ZaloCall]:
        return [c for c in self.calls if c.path == path and c.status == 200 and c.error == OK]

    # -- webhook events -----------------------------------------------------------------

    def event(self, payload: JSONDict) -> tuple[bytes, dict[str, str]]:
        """Serialise and sign any event payload as Zalo would POST it."""
        payload = {"app_id": self.app_id, **payload}
        payload.setdefault("timestamp", epoch_ms(self.now()))
        timestamp = str(payload["timestamp"])
        # Compact and non-ASCII: verifiers must hash the raw bytes, not a re-serialisation.
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        mac = sign(raw, timestamp, app_id=self.app_id, oa_secret_key=self.oa_secret_key)
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": f"mac={mac}",
            # Some sources read the timestamp from this header; it always equals the body's.
            "X-ZEvent-Timestamp": timestamp,
        }
        return raw, headers

    def event_text(self, user_id: str, text: str) -> tuple[bytes, dict[str, str]]:
        """A `user_send_text` event; the user interacts with the OA."""
        self.interact(user_id)
        return self.event(
            {
                "user_id_by_app": _by_app(user_id),
                "event_name": "user_send_text",
                "sender": {"id": user_id},
                "recipient": {"id": self.oa_id},
                "message": {"text": text, "msg_id": uuid.uuid4().hex},
            }
        )

    def event_follow(self, user_id: str) -> tuple[bytes, dict[str, str]]:
        """A `follow` event; the user follows (again) and interacts."""
        self.follow(user_id)
        return self._follow_event("follow", user_id)

    def event_unfollow(self, user_id: str) -> tuple[bytes, dict[str, str]]:
        """An `unfollow` event; later consultation messages get -213."""
        self.unfollow(user_id)
        return self._follow_event("unfollow", user_id)

    def _follow_event(self, name: str, user_id: str) -> tuple[bytes, dict[str, str]]:
        return self.event(
            {
                "oa_id": self.oa_id,
                "follower": {"id": user_id},
                "user_id_by_app": _by_app(user_id),
                "event_name": name,
                "source": "oa_profile",
            }
        )

    def event_submit_info(
        self, user_id: str, phone: str, name: str = "Lan"
    ) -> tuple[bytes, dict[str, str]]:
        """A `user_submit_info` event answering request_user_info; phone as Zalo gives it."""
        self.interact(user_id)
        info = {"address": "", "phone": phone, "city": "", "district": "", "name": name, "ward": ""}
        return self.event(
            {
                "user_id_by_app": _by_app(user_id),
                "event_name": "user_submit_info",
                "sender": {"id": user_id},
                "recipient": {"id": self.oa_id},
                "info": info,
            }
        )

    def event_delivered(
        self, msg_id: str, tracking_id: str | None = None, *, user_id: str = "0"
    ) -> tuple[bytes, dict[str, str]]:
        """A ZNS `user_received_message` receipt; tracking_id defaults to the sent one."""
        message = {"delivery_time": epoch_ms(self.now()), "msg_id": msg_id}
        tracking = tracking_id if tracking_id is not None else self._tracking.get(msg_id)
        if tracking is not None:
            message["tracking_id"] = tracking
        return self.event(
            {
                "event_name": "user_received_message",
                "sender": {"id": self.oa_id},
                "recipient": {"id": user_id},
                "message": message,
            }
        )

    # -- HTTP ---------------------------------------------------------------------------

    async def _not_found(self, request: Request) -> Response:
        return JSONResponse({"error": 404, "message": "Not found"}, status_code=404)

    def _endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await _read_body(request)
            call = ZaloCall(
                method=request.method,
                path=request.url.path,
                headers={k: v for k in _RECORDED_HEADERS if (v := request.headers.get(k))},
                body=body,
                at=self.now(),
            )
            self.calls.append(call)
            if self._http_errors:
                call.status = self._http_errors.pop(0)
                return PlainTextResponse(_phrase(call.status), status_code=call.status)
            answer = await handler(body, request)
            call.error = int(answer.get("error", OK))
            return JSONResponse(answer)

        return endpoint

    # -- OA -----------------------------------------------------------------------------

    async def _send_cs(self, body: JSONDict, request: Request) -> JSONDict:
        try:
            self._check_token(request)
            self._check_rate("cs")
            user_id = _cs_recipient(body)
            _check_cs_message(body.get("message"))
            self._check_failure(user_id)
            self._check_reachable(user_id)
        except ZaloError as err:
            return {"error": err.error, "message": err.message}
        data = {"message_id": uuid.uuid4().hex, "user_id": user_id, "sent_time": self._ms()}
        return {"data": data, "error": OK, "message": "Success"}

    def _check_reachable(self, user_id: str) -> None:
        if user_id in self._unfollowed:
            raise ZaloError(USER_NOT_FOLLOWER)
        last = self._interactions.get(user_id)
        if last is None or self.now() - last > self.window:
            raise ZaloError(OUTSIDE_WINDOW)

    async def _get_oa(self, body: JSONDict, request: Request) -> JSONDict:
        try:
            self._check_token(request)
        except ZaloError as err:
            return {"error": err.error, "message": err.message}
        data = {
            "oa_id": self.oa_id,
            "name": "UBND xã Demo",
            "description": "Kênh thông tin của UBND xã Demo",
            "oa_alias": "",
            "is_verified": True,
            "oa_type": 2,
            "cate_name": "Cơ quan nhà nước",
            "num_follower": len(set(self._interactions) - self._unfollowed),
            "avatar": "",
            "cover": "",
            "package_name": "",
        }
        return {"data": data, "error": OK, "message": "Success"}

    # -- ZNS ----------------------------------------------------------------------------

    async def _send_zns(self, body: JSONDict, request: Request) -> JSONDict:
        try:
            self._check_token(request)
            self._check_rate("zns")
            phone = _check_zns_body(body, self.approved_templates)
            self._check_failure(phone)
            self._check_night()
            remaining = self._use_quota()
        except ZaloError as err:
            return {"error": err.error, "message": err.message}
        msg_id = uuid.uuid4().hex
        if body.get("tracking_id"):
            self._tracking[msg_id] = str(body["tracking_id"])
        quota = {"dailyQuota": str(self.daily_quota), "remainingQuota": str(remaining)}
        data = {"msg_id": msg_id, "sent_time": self._ms(), "quota": quota}
        return {"data": data, "error": OK, "message": "Success"}

    def _check_night(self) -> None:
        if self.night_block and not 6 <= self.now().astimezone(VN).hour < 22:
            raise ZaloError(NIGHT_BLOCK)

    def _use_quota(self) -> int:
        day = self.now().astimezone(VN).date().isoformat()
        used = self._quota_used.get(day, 0)
        if used >= self.daily_quota:
            raise ZaloError(DAILY_LIMIT)
        self._quota_used[day] = used + 1
        return self.daily_quota - used - 1

    # -- OAuth --------------------------------------------------------------------------

    async def _refresh_tokens(self, body: JSONDict, request: Request) -> JSONDict:
        self.refresh_calls += 1
        try:
            self._check_app(body, request)
            token = str(body.get("refresh_token") or "")
            self._use_refresh_token(token)
        except ZaloError as err:
            return {"error": err.error, "error_name": err.message, "error_description": err.message}
        return self._issue_tokens()

    def _check_app(self, body: JSONDict, request: Request) -> None:
        if request.headers.get("secret_key") != self.app_secret:
            raise ZaloError(APP_INVALID, "Invalid app: secret_key does not match")
        if str(body.get("app_id") or "") != self.app_id:
            raise ZaloError(APP_INVALID, "Invalid app: unknown app_id")
        if body.get("grant_type") != "refresh_token":
            raise ZaloError(GRANT_INVALID, "Invalid grant_type")

    def _use_refresh_token(self, token: str) -> None:
        expires = self._refresh.get(token)
        if expires is None:
            raise ZaloError(REFRESH_INVALID, "Refresh token is invalid")
        if self.now() >= expires:
            raise ZaloError(REFRESH_EXPIRED, "Refresh token has expired")
        # Single use: the token is gone whether or not the client stores the new pair.
        del self._refresh[token]

    def _issue_tokens(self) -> JSONDict:
        n = next(self._generation)
        self.access_token, self.refresh_token = f"access-{n}", f"refresh-{n}"
        self._access[self.access_token] = self.now() + self.access_ttl
        self._refresh[self.refresh_token] = self.now() + self.refresh_ttl
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": str(int(self.access_ttl.total_seconds())),
        }

    # -- shared checks ------------------------------------------------------------------

    def _check_token(self, request: Request) -> None:
        expires = self._access.get(request.headers.get("access_token", ""))
        if expires is None or self.now() >= expires:
            raise ZaloError(TOKEN_INVALID)

    def _check_rate(self, lane: str) -> None:
        at = self.now().timestamp()
        window = self._windows.setdefault(lane, deque())
        while window and window[0] <= at - 1.0:
            window.popleft()
        if len(window) >= self.per_second:
            raise ZaloError(RATE_LIMITED)
        window.append(at)

    def _check_failure(self, recipient: str) -> None:
        failure = self._failures.get(recipient)
        if failure is not None:
            if failure.take():
                del self._failures[recipient]
            raise ZaloError(failure.error, failure.message)
        if self._fail_all is not None:
            failure = self._fail_all
            if failure.take():
                self._fail_all = None
            raise ZaloError(failure.error, failure.message)

    def _ms(self) -> str:
        return epoch_ms(self.now())


def _by_app(user_id: str) -> str:
    # Zalo gives each app its own id for a user; derive a stable one.
    return str(int(hashlib.sha256(user_id.encode()).hexdigest()[:15], 16))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _read_body(request: Request) -> JSONDict:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {"_invalid_json": raw.decode("utf-8", "replace")}
    return data if isinstance(data, dict) else {"_invalid_json": data}


def _cs_recipient(body: JSONDict) -> str:
    recipient = body.get("recipient")
    user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise ZaloError(OA_PARAMS_INVALID, "recipient.user_id is missing")
    return user_id


def _check_cs_message(message: object) -> None:
    if not isinstance(message, dict):
        raise ZaloError(OA_PARAMS_INVALID, "message is missing")
    if "attachment" in message:
        _check_request_user_info(message["attachment"])
        return
    text = message.get("text")
    if not isinstance(text, str) or not text:
        raise ZaloError(OA_PARAMS_INVALID, "message.text is empty")
    if len(text) > MAX_CS_TEXT:
        raise ZaloError(OA_PARAMS_INVALID, f"message.text exceeds {MAX_CS_TEXT} characters")


def _check_request_user_info(attachment: object) -> None:
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if (
        not isinstance(attachment, dict)
        or attachment.get("type") != "template"
        or not isinstance(payload, dict)
        or payload.get("template_type") != "request_user_info"
    ):
        raise ZaloError(OA_PARAMS_INVALID, "only the request_user_info template is supported")
    elements = payload.get("elements")
    if not isinstance(elements, list) or not elements:
        raise ZaloError(OA_PARAMS_INVALID, "payload.elements is empty")
    for element in elements:
        if not isinstance(element, dict) or not element.get("title"):
            raise ZaloError(OA_PARAMS_INVALID, "element.title is empty")


def _check_zns_body(body: JSONDict, approved: set[str]) -> str:
    phone = body.get("phone")
    if not isinstance(phone, str) or not ZNS_PHONE.match(phone):
        raise ZaloError(PHONE_INVALID)
    template_id = body.get("template_id")
    if not isinstance(template_id, str) or template_id not in approved:
        raise ZaloError(TEMPLATE_NOT_APPROVED)
    if not isinstance(body.get("template_data"), dict):
        raise ZaloError(ZNS_PARAMS_INVALID, "template_data must be an object")
    tracking = body.get("tracking_id")
    if tracking is not None and len(str(tracking)) > MAX_TRACKING_ID:
        raise ZaloError(ZNS_PARAMS_INVALID, f"tracking_id exceeds {MAX_TRACKING_ID} characters")
    if body.get("mode") not in {None, "development"}:
        raise ZaloError(ZNS_PARAMS_INVALID, "mode must be development")
    return phone
