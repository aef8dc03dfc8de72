"""`GET /healthz`: the service is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from web.deps import SessionDep

router = APIRouter()


@router.get("/healthz")
async def healthz(session: SessionDep) -> dict[str, str]:
    """Ok when the store answers a query."""
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}
