"""Errors as the reader needs them: JSON with a sentence for the API, a page for people.

A console page without a session sends the browser to /login and back afterwards.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from messages.render import N_, _
from web.api import PREFIX
from web.console.auth import SignInRequired
from web.console.templating import page

log = logging.getLogger(__name__)

_TITLES = {
    400: N_("The request is not valid."),
    401: N_("Please sign in."),
    403: N_("Your role does not allow this."),
    404: N_("Not found, or outside your areas."),
    405: N_("This address does not take that request."),
    413: N_("The file is too large."),
    429: N_("Too many requests. Wait a moment and retry."),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(PREFIX)


def _error_page(request: Request, status: int, detail: str | None) -> Response:
    title = _(_TITLES.get(status, "Something went wrong."))
    return page(
        request,
        "error.html",
        getattr(request.state, "staff", None),  # signed in on a page that failed: keep the menu
        {"status": status, "title": title, "detail": detail if detail != title else None},
        status_code=status,
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request) or request.url.path.startswith("/webhooks"):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    detail = exc.detail if isinstance(exc.detail, str) else None
    return _error_page(request, exc.status_code, detail)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request) or request.url.path.startswith("/webhooks"):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)
    return _error_page(request, 400, _("An address or a form field is not valid."))


async def _sign_in(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if _is_api(request):
        return JSONResponse({"detail": _("Something went wrong. Try again later.")}, 500)
    return _error_page(request, 500, None)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(Exception, _crash)
