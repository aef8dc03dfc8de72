"""The first console pages: the communes of the register and each commune's households."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from messages.render import _
from storage.models import Commune, Village
from storage.registry import count_households, list_communes, list_households
from storage.vocab import CATEGORY_LABELS
from web.console.templating import templates
from web.deps import SessionDep

router = APIRouter()
PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep) -> HTMLResponse:
    """The communes of the register with their household counts."""
    communes = await list_communes(session)
    total = sum(c.households for c in communes)
    return templates.TemplateResponse(
        request, "communes.html", {"communes": communes, "total": total}
    )


@router.get("/communes/{code}", response_class=HTMLResponse)
async def commune_households(
    request: Request,
    session: SessionDep,
    code: str,
    page: Annotated[int, Query(ge=1)] = 1,
    category: Annotated[str | None, Query()] = None,
    village: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """One commune's households, a page at a time, filtered by category and village."""
    commune = await session.get(Commune, code)
    if commune is None:
        raise HTTPException(404, _("No commune has the code {code}.").format(code=code))
    category = category if category in CATEGORY_LABELS else None
    village = village or None
    filters = {"commune": code, "category": category, "village": village}
    total = await count_households(session, **filters)
    lines = await list_households(
        session, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    villages = (
        await session.scalars(
            select(Village.name).where(Village.commune_code == code).order_by(Village.name)
        )
    ).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return templates.TemplateResponse(
        request,
        "households.html",
        {
            "commune": commune,
            "households": lines,
            "total": total,
            "page": page,
            "pages": pages,
            "category": category,
            "village": village,
            "villages": villages,
            "categories": CATEGORY_LABELS,
            "offset": (page - 1) * PAGE_SIZE,
        },
    )
