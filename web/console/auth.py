"""Who is signed in, what their role lets them do, and the forms' CSRF check.

Every console route takes one of the `Staff` dependencies below; every API route takes
`web.api.auth.ApiStaff` or `api_allowed(...)`. What a user may see is `staff.scope`
(storage.scope.Scope): pass it to every query, and answer 404 for a record outside it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from messages.render import _
from storage.scope import Scope, scope_of
from storage.signin import SignedIn, session_user
from web.deps import SessionDep

SESSION_COOKIE = "loa_session"

# What each role may do; "read" and "export" are every role's.
CAPABILITIES: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "export", "work", "compose", "approve", "admin"}),
    "officer": frozenset({"read", "export", "approve"}),
    "assistant": frozenset({"read", "export", "work", "compose"}),
}


class SignInRequired(Exception):
    """No valid session: the console sends the browser to /login."""


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in user, with the communes they may see."""

    id: int
    username: str
    role: str
    scope: Scope
    csrf: str  # the token every form of this session posts back as `csrf`

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES.get(self.role, frozenset())


async def staff_of(session: SessionDep, who: SignedIn) -> Staff:
    """The Staff value for a signed-in session or token."""
    scope = await scope_of(session, staff_id=who.staff_id, role=who.role)
    return Staff(who.staff_id, who.username, who.role, scope, who.csrf)


async def current_staff(request: Request, session: SessionDep) -> Staff:
    """The user signed in on this browser, or a redirect to the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    who = None
    if token:
        who = await session_user(session, token=token, now=request.app.state.clock.now())
    if who is None:
        raise SignInRequired
    staff = await staff_of(session, who)
    request.state.staff = staff  # an error page of this request still shows the menu
    return staff


def forbidden() -> HTTPException:
    return HTTPException(403, _("Your role does not allow this."))


def allowed(capability: str) -> Callable[..., Awaitable[Staff]]:
    """A dependency: the signed-in user, who must have the capability (403 otherwise)."""

    async def dependency(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.can(capability):
            raise forbidden()
        return staff

    return dependency


def acting(capability: str) -> Callable[..., Awaitable[Staff]]:
    """A dependency for a form post: the capability, and the session's CSRF token in `csrf`."""

    async def dependency(
        request: Request, staff: Annotated[Staff, Depends(current_staff)]
    ) -> Staff:
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not secrets.compare_digest(sent, staff.csrf):
            raise HTTPException(403, _("This form has expired. Open the page again and retry."))
        if not staff.can(capability):
            raise forbidden()
        return staff

    return dependency


# GET pages
Reader = Annotated[Staff, Depends(current_staff)]
Composer = Annotated[Staff, Depends(allowed("compose"))]
Worker = Annotated[Staff, Depends(allowed("work"))]
Admin = Annotated[Staff, Depends(allowed("admin"))]
# Form posts (CSRF checked)
Posting = Annotated[Staff, Depends(acting("read"))]
PostingWork = Annotated[Staff, Depends(acting("work"))]
PostingCompose = Annotated[Staff, Depends(acting("compose"))]
PostingApprove = Annotated[Staff, Depends(acting("approve"))]
PostingAdmin = Annotated[Staff, Depends(acting("admin"))]


def not_found(what: str | None = None) -> HTTPException:
    """The 404 for a record that does not exist or lies outside the user's areas (the same)."""
    return HTTPException(404, what or _("Not found, or outside your areas."))
