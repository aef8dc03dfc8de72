"""Zalo: Official Account messages inside the interaction window, ZNS templates by phone outside.

Inbound events arrive signed (`X-ZEvent-Signature: mac=sha256(app_id + body + timestamp +
OA secret key)`); the access token is refreshed ahead of expiry by one refresher at a time
(`bot.channels.zalo_tokens`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, time, timedelta
from typing import Any

import httpx

from bot.channels.base import (
    ASK_PHONE,
    DELIVERED,
    INVALID_ADDRESS,
    OUTSIDE_WINDOW,
    READ,
    UNDELIVERABLE,
    UNFOLLOWED,
    Capabilities,
    ChannelProblem,
    Outgoing,
    PermanentError,
    RateLimited,
    Receipt,
    Sent,
    TemporaryError,
    Unreachable,
    WebhookRequest,
    WebhookResult,
    json_object,
)
from bot.channels.zalo_tokens import TokenKeeper
from bot.clock import Clock
from bot.config import Settings
from handlers.incoming import FOLLOW, PHONE, TEXT, UNFOLLOW, Incoming
from messages.phones import InvalidPhone, normalize_phone
from messages.render import _
from storage.models.households import CONTACT_ZALO

log = logging.getLogger(__name__)

ZALO = "zalo"
SIGNATURE = "x-zevent-signature"
TIMESTAMP_HEADER = "x-zevent-timestamp"
_WINDOW_ERRORS = {-230, -232}
_GONE = {-213: UNFOLLOWED, -108: INVALID_ADDRESS}
_CANNOT_RECEIVE = {-114, -118, -119}
_QUOTA = {-115, -144}
_TOKEN = {-124, -216, -220}
QUOTA_PAUSE = 3600.0  # seconds to wait when the quota is spent


class ZaloChannel:
    """One Official Account and its ZNS templates."""

    name = ZALO
    webhook = ZALO

    def __init__(
        self,
        settings: Settings,
        tokens: TokenKeeper,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.clock = clock
        self.http = httpx.AsyncClient(transport=transport, timeout=15)
        self.window = timedelta(days=settings.zalo_window_days)
        self.capabilities = Capabilities(
            contact_kind=CONTACT_ZALO, max_length=2000, per_second=settings.zalo_per_second
        )

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        """Verify the signature over the raw body, then turn the event into Loa's terms."""
        event = json_object(request)
        if isinstance(event, WebhookResult):
            return event
        if str(event.get("app_id", "")) != self.settings.zalo_app_id:
            log.info("Zalo event for another app %r ignored", event.get("app_id"))
            return WebhookResult(body={"ignored": "unknown app"})
        if not self._signed(request, event):
            return WebhookResult(status=401, body={"error": "bad signature"})
        return parse_event(event)

    def _signed(self, request: WebhookRequest, event: dict[str, Any]) -> bool:
        given = request.headers.get(SIGNATURE, "").removeprefix("mac=")
        if self.settings.zalo_signature_timestamp == "header":
            stamp = request.headers.get(TIMESTAMP_HEADER, "")
        else:
            stamp = str(event.get("timestamp", ""))
        material = self.settings.zalo_app_id.encode() + request.body
        material += stamp.encode() + self.settings.zalo_oa_secret_key.encode()
        return bool(given) and hmac.compare_digest(hashlib.sha256(material).hexdigest(), given)

    async def send(self, message: Outgoing) -> Sent:
        """A consultation message inside the window; a ZNS template by phone outside it."""
        template = self.settings.zalo_zns_templates.get(message.kind)
        seen = message.last_seen_at
        inside = seen is not None and self.clock.now() - seen <= self.window
        if inside:
            try:
                return await self._consult(message)
            except Unreachable as exc:
                if exc.reason != OUTSIDE_WINDOW or template is None or not message.phone:
                    raise
        if template is not None and message.phone:
            return await self._zns(message, template.template_id, template.params)
        raise Unreachable("outside the 7-day interaction window, no ZNS template", OUTSIDE_WINDOW)

    async def _consult(self, message: Outgoing) -> Sent:
        body: dict[str, Any] = {"recipient": {"user_id": message.address}}
        if any(b.get("request") == ASK_PHONE for b in message.buttons or ()):
            element = {"title": message.text[:100], "subtitle": _("Loa of your commune")}
            payload = {"template_type": "request_user_info", "elements": [element]}
            body["message"] = {"attachment": {"type": "template", "payload": payload}}
        else:
            body["message"] = {"text": message.text}
        url = f"{self.settings.zalo_api_base.rstrip('/')}/v3.0/oa/message/cs"
        data = await self._call(url, body)
        return Sent(str(data.get("message_id", "")) or None)

    async def _zns(self, message: Outgoing, template_id: str, params: dict[str, str]) -> Sent:
        fields = {**(message.data or {}), "text": message.text}
        body = {
            "phone": (message.phone or "").lstrip("+"),
            "template_id": template_id,
            "template_data": {name: str(fields.get(field, "")) for name, field in params.items()},
            "tracking_id": str(message.id),
        }
        url = f"{self.settings.zalo_zns_api_base.rstrip('/')}/message/template"
        data = await self._call(url, body)
        return Sent(str(data.get("msg_id", "")) or None, via="zns")

    async def _call(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.tokens.access_token()
        try:
            response = await self.http.post(url, json=body, headers={"access_token": token})
        except httpx.HTTPError as exc:
            raise TemporaryError(f"Zalo unreachable: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TemporaryError(f"Zalo answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise TemporaryError(f"Zalo answered HTTP {response.status_code}, not JSON") from exc
        code = int(answer.get("error", 0) or 0)
        if code:
            self._raise(code, str(answer.get("message", "")))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def _raise(self, code: int, text: str) -> None:
        detail = f"Zalo error {code}: {text}"
        if code in _WINDOW_ERRORS:
            raise Unreachable(detail, OUTSIDE_WINDOW)
        if code in _GONE:
            raise Unreachable(detail, _GONE[code])
        if code in _CANNOT_RECEIVE:
            raise Unreachable(detail, UNDELIVERABLE)
        if code in _QUOTA:
            raise RateLimited(detail, QUOTA_PAUSE)
        if code == -133:  # ZNS night block, 22:00-06:00
            raise RateLimited(detail, self._until_morning())
        if code == -32:
            raise RateLimited(detail, 1.0)
        if code in _TOKEN:
            self.tokens.expire()
            raise TemporaryError(detail)
        raise PermanentError(detail)

    def _until_morning(self) -> float:
        now = self.clock.now().astimezone(self.settings.zone)
        morning = datetime.combine(now.date(), time(6, 5), self.settings.zone)
        if morning <= now:
            morning += timedelta(days=1)
        return (morning - now).total_seconds()

    async def acknowledge(self, inbound: Incoming) -> None:
        """Zalo needs no acknowledgement beyond the HTTP 200."""

    async def check(self) -> str:
        """The token works: the Official Account's name."""
        try:
            token = await self.tokens.access_token()
            url = f"{self.settings.zalo_api_base.rstrip('/')}/v2.0/oa/getoa"
            answer = (await self.http.get(url, headers={"access_token": token})).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelProblem(_("Zalo cannot be reached: {error}").format(error=exc)) from exc
        if answer.get("error"):
            raise ChannelProblem(
                _("Zalo refused the access token: {error}").format(error=answer.get("message"))
            )
        return str((answer.get("data") or {}).get("name", ""))

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()
        await self.tokens.close()


def parse_event(event: dict[str, Any]) -> WebhookResult:
    """One webhook event as Loa's inbound events or receipts; other events are ignored."""
    name = event.get("event_name")
    stamp = str(event.get("timestamp", ""))
    sender = str((event.get("sender") or {}).get("id", ""))
    follower = str((event.get("follower") or {}).get("id", "")) or sender
    message = event.get("message") or {}
    common = {"channel": ZALO, "kind": CONTACT_ZALO}
    if name == "user_send_text" and sender:
        msg_id = str(message.get("msg_id", "")) or f"{sender}:{stamp}"
        text = str(message.get("text", ""))
        return WebhookResult(
            inbound=[Incoming(**common, address=sender, event=TEXT, text=text, provider_id=msg_id)]
        )
    if name in ("follow", "unfollow") and follower:
        event_kind = FOLLOW if name == "follow" else UNFOLLOW
        key = f"{name}:{follower}:{stamp}"
        return WebhookResult(
            inbound=[Incoming(**common, address=follower, event=event_kind, provider_id=key)]
        )
    if name == "user_submit_info" and sender:
        return WebhookResult(inbound=_submitted(event, sender, stamp))
    if name == "user_received_message" and message.get("msg_id"):
        return WebhookResult(receipts=[Receipt(DELIVERED, provider_id=str(message["msg_id"]))])
    if name == "user_seen_message":
        ids = message.get("msg_ids") or []
        return WebhookResult(receipts=[Receipt(READ, provider_id=str(i)) for i in ids])
    return WebhookResult(body={"ignored": str(name)})


def _submitted(event: dict[str, Any], sender: str, stamp: str) -> list[Incoming]:
    info = event.get("info") or {}
    try:
        phone = normalize_phone(str(info.get("phone", "")))
    except InvalidPhone:
        return [
            Incoming(
                channel=ZALO,
                kind=CONTACT_ZALO,
                address=sender,
                text=str(info.get("phone", "")),
                provider_id=f"info:{sender}:{stamp}",
            )
        ]
    return [
        Incoming(
            channel=ZALO,
            kind=CONTACT_ZALO,
            address=sender,
            event=PHONE,
            phone=phone,
            name=info.get("name"),
            provider_id=f"info:{sender}:{stamp}",
        )
    ]
