"""API authentication: `Authorization: Bearer <token>` from `loa staff token USERNAME`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from messages.render import _
from storage.signin import token_user
from web.console.auth import Staff, forbidden, staff_of
from web.deps import SessionDep

_bearer = HTTPBearer(auto_error=False, description="`loa staff token USERNAME` prints one.")


async def api_staff(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """The staff user whose token came with the request (401 otherwise)."""
    who = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        who = await token_user(
            session, token=credentials.credentials, now=request.app.state.clock.now()
        )
    if who is None:
        raise HTTPException(
            401,
            _("A valid API token is needed: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await staff_of(session, who)


def api_allowed(capability: str) -> Callable[..., Awaitable[Staff]]:
    """A dependency: the token's user, who must have the capability (403 otherwise)."""

    async def dependency(staff: Annotated[Staff, Depends(api_staff)]) -> Staff:
        if not staff.can(capability):
            raise forbidden()
        return staff

    return dependency


ApiStaff = Annotated[Staff, Depends(api_staff)]
ApiWorker = Annotated[Staff, Depends(api_allowed("work"))]
ApiComposer = Annotated[Staff, Depends(api_allowed("compose"))]
ApiApprover = Annotated[Staff, Depends(api_allowed("approve"))]
