"""`GET /api/v1/me`: whose token this is, their role and the communes they cover."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from web.api.auth import ApiStaff

router = APIRouter(tags=["staff"])


class MeOut(BaseModel):
    username: str
    role: str
    communes: list[str] | None  # None: every commune (an admin)


@router.get("/me", response_model=MeOut)
async def me(staff: ApiStaff) -> MeOut:
    """The token's user."""
    communes = None if staff.scope.communes is None else sorted(staff.scope.communes)
    return MeOut(username=staff.username, role=staff.role, communes=communes)
