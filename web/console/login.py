"""Sign-in and sign-out.

The sign-in form has no session yet, so its CSRF token is a double-submit cookie: a random
value set with the form and posted back beside it. After five wrong passwords in a row the
account is locked for 15 minutes (storage.signin), even for the right password.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from messages.render import _
from storage.signin import LOCKOUT, check_password, close_session, open_session
from web.console.auth import SESSION_COOKIE, Posting
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
log = logging.getLogger(__name__)
LOGIN_CSRF_COOKIE = "loa_login_csrf"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _local(target: str | None) -> str:
    """Only a path on this site: never send a signed-in user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _form(
    request: Request, *, username: str = "", error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    context = {
        "login_csrf": token,
        "username": username,
        "error": error,
        "next": _local(request.query_params.get("next")),
    }
    response = page(request, "login.html", None, context, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _form(request)


@router.post("/login", response_model=None)
async def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the password; on success open a session and go where the user was headed."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf or not cookie or not secrets.compare_digest(csrf, cookie):
        return _form(
            request,
            username=username,
            error=_("This form has expired. Open the page again and retry."),
            status=403,
        )
    username = username.strip()
    if not username or not password:
        return _form(
            request, username=username, error=_("Enter your username and password."), status=400
        )
    now = request.app.state.clock.now()
    user, locked = await check_password(session, username=username, password=password, now=now)
    if user is None:
        await session.commit()  # the failure count
        if locked:
            log.warning("sign-in refused: account locked")
            error = _(
                "Too many wrong passwords. This account is locked for {minutes} minutes."
            ).format(minutes=int(LOCKOUT.total_seconds() // 60))
            return _form(request, username=username, error=error, status=429)
        log.info("sign-in failed")
        return _form(request, username=username, error=_("Wrong username or password."), status=401)
    token = await open_session(session, staff_id=user.id, now=now)
    await session.commit()
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, staff: Posting) -> RedirectResponse:
    """End this browser's session."""
    await close_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    await session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
