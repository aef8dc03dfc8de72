"""Console pages: the overview (being built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from storage.registry import list_communes
from web.console.auth import Reader
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep, staff: Reader) -> HTMLResponse:
    """The communes the user covers with their household counts."""
    communes = [c for c in await list_communes(session) if staff.scope.allows(c.code)]
    total = sum(c.households for c in communes)
    return page(request, "communes.html", staff, {"communes": communes, "total": total})
