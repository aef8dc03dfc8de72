"""Console pages: VBSP loans: instalments due soon (the reminders ahead), overdue instalments,
and importing loan and repayment lists as `loa import loans|repayments` does.

An import is always checked first (a dry run with the CLI's report), then confirmed; a file
naming households outside the user's communes is refused before anything is written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from bot.config import Settings
from storage import console_loans as queries
from storage.console_loans import Place
from storage.scope import communes_in
from storage.vocab import programme_label
from web.console.auth import Composer, PostingCompose, Reader, Staff, not_found
from web.console.import_runs import KINDS
from web.console.imports import upload
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
PER_PAGE = 50
AHEAD_DAYS = 30  # the upcoming list: instalments due within this many days
VIEWS = ("upcoming", "overdue")


@router.get("/loans", response_class=HTMLResponse)
async def loans_page(
    request: Request,
    session: SessionDep,
    staff: Reader,
    view: Annotated[str, Query(max_length=10)] = "upcoming",
    commune: Annotated[str, Query(max_length=40)] = "",
    village: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Instalments due in the next 30 days, or overdue, in the user's communes."""
    view = view if view in VIEWS else "upcoming"
    communes = await communes_in(session, scope=staff.scope)
    villages = await queries.villages(session, scope=staff.scope)
    if commune and commune not in dict(communes):
        raise not_found()
    if village is not None and village not in {v[0] for v in villages}:
        raise not_found()
    settings: Settings = request.app.state.settings
    today = request.app.state.clock.now().astimezone(settings.zone).date()
    place = Place(staff.scope, commune or None, village)
    offset = (page_no - 1) * PER_PAGE
    upcoming, upcoming_total = await queries.upcoming(
        session,
        place,
        today=today,
        until=today + timedelta(days=AHEAD_DAYS),
        offset=offset if view == "upcoming" else 0,
        limit=PER_PAGE if view == "upcoming" else 0,
    )
    overdue, overdue_total = await queries.overdue(
        session,
        place,
        today=today,
        offset=offset if view == "overdue" else 0,
        limit=PER_PAGE if view == "overdue" else 0,
    )
    lines, total = (upcoming, upcoming_total) if view == "upcoming" else (overdue, overdue_total)
    context = {
        "view": view,
        "lines": lines,
        "total": total,
        "upcoming_total": upcoming_total,
        "overdue_total": overdue_total,
        "commune": commune,
        "village": village,
        "communes": communes,
        "villages": [v for v in villages if not commune or v[2] == commune],
        "page": page_no,
        "pages": max(1, -(-total // PER_PAGE)),
        "offset": offset,
        "today": today,
        "ahead": AHEAD_DAYS,
        "programme": programme_label,
    }
    return page(request, "loans/list.html", staff, context)


async def _import_page(
    request: Request, staff: Staff, errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {"kinds": KINDS, "errors": errors}
    return page(request, "loans/import.html", staff, context, status_code=status_code)


@router.get("/loans/import", response_class=HTMLResponse)
async def import_page(request: Request, staff: Composer) -> HTMLResponse:
    """The upload forms for VBSP's loan and repayment lists."""
    return await _import_page(request, staff, {})


async def _upload(
    request: Request, session: SessionDep, staff: Staff, kind: str, file: UploadFile | None
) -> HTMLResponse:
    async def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return await _import_page(request, staff, errors, status)

    action = "/loans/import" if kind == "loans" else "/loans/repayments"
    return await upload(
        request,
        session,
        staff,
        KINDS[kind],
        file,
        action=action,
        back="/loans/import",
        again=again,
        always_check=True,
    )


@router.post("/loans/import", response_class=HTMLResponse)
async def import_loans(
    request: Request,
    session: SessionDep,
    staff: PostingCompose,
    file: UploadFile | None = File(None),
) -> HTMLResponse:
    """Check a loan list (or import the checked one), as `loa import loans`."""
    return await _upload(request, session, staff, "loans", file)


@router.post("/loans/repayments", response_class=HTMLResponse)
async def import_repayments(
    request: Request,
    session: SessionDep,
    staff: PostingCompose,
    file: UploadFile | None = File(None),
) -> HTMLResponse:
    """Check a repayment list (or import the checked one), as `loa import repayments`."""
    return await _upload(request, session, staff, "repayments", file)
