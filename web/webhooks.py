"""POST /webhooks/<channel>[/<hook>]: every provider's calls, handed to its channel.

The route knows no channel: it reads the body (at most 1 MB), lets the channel check and
parse it, and gives what came out to the inbox. A bad request gets a 4xx and nothing stored.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.channels.base import WebhookRequest, WebhookResult

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY = 1024 * 1024


async def _body(request: Request) -> bytes | None:
    """The raw body, or None when it is over the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


@router.api_route("/webhooks/{name}", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/webhooks/{name}/{hook}", methods=["GET", "POST"], include_in_schema=False)
async def webhook(request: Request, name: str, hook: str = "") -> Response:
    """Check, parse and hand on one provider call."""
    channel = request.app.state.webhooks.get(name)
    if channel is None:
        return JSONResponse({"error": "no such channel"}, status_code=404)
    body = await _body(request)
    if body is None:
        return JSONResponse({"error": "body over 1 MB"}, status_code=413)
    call = WebhookRequest(
        hook=hook,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        body=body,
        raw_query=request.url.query,
    )
    try:
        result = await channel.receive(call)
        if result.status == 200:
            await request.app.state.inbox.accept(channel, result)
    except Exception:  # a bug must not make the provider retry for ever: keep the body in the log
        log.exception("%s webhook failed; body kept here: %r", name, body[:4096])
        return JSONResponse({"ok": False, "error": "not processed"}, status_code=200)
    return _answer(result)


def _answer(result: WebhookResult) -> Response:
    if isinstance(result.body, str):
        return PlainTextResponse(result.body, status_code=result.status)
    return JSONResponse(result.body, status_code=result.status)
