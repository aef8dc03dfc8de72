"""SMS through Kannel: `sendsms` out, smsbox's get-url in, delivery reports on a dlr-url.

Kannel puts Loa's shared secret into both URLs it calls (see docs/channels.md for the
`sms-service` and the dlr-url); a call without it is refused.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import parse_qsl, urlencode

import httpx

from bot.channels.base import (
    DELIVERED,
    NOT_DELIVERED,
    Capabilities,
    ChannelProblem,
    Outgoing,
    PermanentError,
    Receipt,
    Sent,
    TemporaryError,
    WebhookRequest,
    WebhookResult,
)
from bot.config import Settings
from handlers.incoming import TEXT, Incoming
from messages.phones import InvalidPhone, normalize_phone
from messages.render import _
from messages.sms import UCS2, encoding_of
from storage.models.households import CONTACT_PHONE

log = logging.getLogger(__name__)

SMS = "sms"
# 27: delivered / not delivered to the phone, accepted / refused by the SMSC
DLR_MASK = 1 + 2 + 8 + 16
_DLR = {1: DELIVERED, 2: NOT_DELIVERED, 16: NOT_DELIVERED}  # 4 and 8 are steps on the way


class KannelChannel:
    """One Kannel smsbox and its sendsms account."""

    name = SMS
    webhook = "kannel"

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.http = httpx.AsyncClient(transport=transport, timeout=15)
        self.capabilities = Capabilities(
            contact_kind=CONTACT_PHONE,
            max_length=160 * settings.sms_max_segments,
            per_second=settings.kannel_per_second,
            sms=True,
            strip_accents=settings.sms_strip_accents,
        )

    def _secret_ok(self, request: WebhookRequest) -> bool:
        given = request.query.get("secret", "")
        secret = self.settings.kannel_secret
        return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        """An SMS from a phone (`inbound`) or a delivery report (`dlr`)."""
        if not self._secret_ok(request):
            return WebhookResult(status=401, body="")
        if request.hook == "inbound":
            return _inbound(request)
        if request.hook == "dlr":
            return _report(request)
        return WebhookResult(status=404, body="")

    async def send(self, message: Outgoing) -> Sent:
        """sendsms: GSM-7 as is, UCS-2 as UTF-8 with coding=2; a report asked for."""
        ucs2 = encoding_of(message.text) == UCS2
        params = {
            "username": self.settings.kannel_username,
            "password": self.settings.kannel_password,
            "from": self.settings.kannel_from,
            "to": message.address.lstrip("+"),
            "text": message.text,
            "dlr-mask": str(DLR_MASK),
            "dlr-url": self._dlr_url(message.id),
        }
        if ucs2:
            params |= {"coding": "2", "charset": "UTF-8"}
        try:
            response = await self.http.get(self.settings.kannel_sendsms_url, params=params)
        except httpx.HTTPError as exc:
            raise TemporaryError(f"Kannel unreachable: {exc!r}") from exc
        answer = response.text.strip()
        if response.status_code in (200, 202):
            return Sent(None)
        if response.status_code == 503 or response.status_code >= 500:
            raise TemporaryError(f"Kannel {response.status_code}: {answer}")
        if response.status_code in (401, 403):  # wrong account: nothing is lost while it is fixed
            raise TemporaryError(f"Kannel refused the account: {answer}")
        raise PermanentError(f"Kannel {response.status_code}: {answer}")

    def _dlr_url(self, message_id: int) -> str:
        base = f"{self.settings.public_url.rstrip('/')}/webhooks/kannel/dlr"
        query = urlencode({"secret": self.settings.kannel_secret, "id": message_id})
        # Kannel expands %x anywhere in the URL: our own escapes must be doubled.
        return f"{base}?{query}".replace("%", "%%") + "&type=%d&answer=%A"

    async def acknowledge(self, inbound: Incoming) -> None:
        """Kannel needs nothing back."""

    async def check(self) -> str:
        """Kannel's smsbox answers on the sendsms URL."""
        try:
            response = await self.http.get(self.settings.kannel_sendsms_url)
        except httpx.HTTPError as exc:
            raise ChannelProblem(
                _("Kannel cannot be reached at {url}: {error}").format(
                    url=self.settings.kannel_sendsms_url, error=exc
                )
            ) from exc
        return _("smsbox answers (HTTP {status})").format(status=response.status_code)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()


def _inbound(request: WebhookRequest) -> WebhookResult:
    sender = request.query.get("from", "").strip()
    if not sender:
        return WebhookResult(status=400, body="")
    try:
        phone = normalize_phone(sender)
    except InvalidPhone:
        log.warning("SMS from %r ignored: not a Vietnamese phone number", sender)
        return WebhookResult(body="")
    incoming = Incoming(
        channel=SMS,
        address=phone,
        kind=CONTACT_PHONE,
        event=TEXT,
        text=_text(request),
        provider_id=request.query.get("id") or None,
        phone=phone,  # the network vouches for the sender's number
    )
    return WebhookResult(inbound=[incoming], body="")


def _text(request: WebhookRequest) -> str:
    """The SMS text: UTF-8 with smsbox's `mo-recode`, else as the charset Kannel names."""
    # latin-1 maps each byte to one code point, so the text's own bytes come back intact.
    raw = dict(parse_qsl(request.raw_query, keep_blank_values=True, encoding="latin-1"))
    data = raw.get("text", "").encode("latin-1")
    charset = raw.get("charset", "").upper() or "UTF-8"
    if charset in ("UTF-16BE", "UCS-2", "UTF-16"):
        return data.decode("utf-16-be", "replace")
    if charset in ("UTF-8", "UTF8"):
        return data.decode("utf-8", "replace")
    return data.decode("latin-1")  # GSM text Kannel passed on as ISO-8859-1


def _report(request: WebhookRequest) -> WebhookResult:
    try:
        message_id = int(request.query.get("id", ""))
        kind = int(request.query.get("type", ""))
    except ValueError:
        return WebhookResult(status=400, body="")
    status = _DLR.get(kind)
    if status is None:
        return WebhookResult(body="")
    detail = request.query.get("answer", "")
    return WebhookResult(receipts=[Receipt(status, message_id=message_id, detail=detail)], body="")
