"""Console pages: importing household lists (and, for admins, the areas list).

The same importers and report as `loa import households|areas`: problems by sheet, row and
column; nothing half-imported; a dry run and "skip invalid rows" as the CLI's flags. An
assistant's file may only hold households of their own communes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse

from bot.config import Settings
from web.console.auth import Composer, PostingAdmin, PostingCompose, Staff
from web.console.import_runs import KINDS, Kind, Outcome, Refused, run, stage, staged
from web.console.templating import page
from web.console.uploads import UploadError, saved
from web.deps import SessionDep

router = APIRouter()
Again = Callable[[dict[str, str], int], Awaitable[HTMLResponse]]


def _importable(outcome: Outcome) -> bool:
    """Whether confirming the dry run would import any row."""
    rows = dict(zip((key for key, _label in outcome.kind.labels), outcome.counts, strict=True))
    return not outcome.blocked and rows["rows"][1] > outcome.rejected_rows


async def upload(
    request: Request,
    session: SessionDep,
    staff: Staff,
    kind: Kind,
    file: UploadFile | None,
    *,
    action: str,
    back: str,
    again: Again,
    always_check: bool = False,
) -> HTMLResponse:
    """Check or import an uploaded file (or confirm a checked one) and show the report; the
    upload page again, with the sentence beside the file field, when it is refused."""
    data = await request.form()
    settings: Settings = request.app.state.settings
    now = request.app.state.clock.now()
    token = data.get("staged")
    options = {"staff": staff, "now": now, "zone": settings.zone}
    try:
        if isinstance(token, str) and token:
            with staged(token, staff_id=staff.id, kind=kind.name, now=now) as (path, skip):
                outcome = await run(
                    session, kind, path, dry_run=False, skip_invalid=skip, **options
                )
        else:
            dry_run = always_check or data.get("dry_run") == "1"
            with saved(file) as path:
                outcome = await run(
                    session,
                    kind,
                    path,
                    dry_run=dry_run,
                    skip_invalid=data.get("skip_invalid") == "1",
                    **options,
                )
                if outcome.dry_run and _importable(outcome):
                    outcome.token = stage(
                        path,
                        staff_id=staff.id,
                        kind=kind.name,
                        skip_invalid=outcome.skip_invalid,
                        now=now,
                    )
    except (UploadError, Refused) as error:
        return await again({kind.name: str(error)}, 400)
    context = {"outcome": outcome, "action": action, "back": back}
    status = 400 if outcome.blocked else 200
    return page(request, "imports/report.html", staff, context, status_code=status)


async def _imports_page(
    request: Request, staff: Staff, errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {"kinds": KINDS, "errors": errors}
    return page(request, "imports/index.html", staff, context, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
async def imports_page(request: Request, staff: Composer) -> HTMLResponse:
    """The upload forms: household lists, and the areas list for admins."""
    return await _imports_page(request, staff, {})


async def _upload(
    request: Request, session: SessionDep, staff: Staff, kind: str, file: UploadFile | None
) -> HTMLResponse:
    async def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return await _imports_page(request, staff, errors, status)

    return await upload(
        request,
        session,
        staff,
        KINDS[kind],
        file,
        action=f"/imports/{kind}",
        back="/imports",
        again=again,
    )


@router.post("/imports/households", response_class=HTMLResponse)
async def import_households(
    request: Request,
    session: SessionDep,
    staff: PostingCompose,
    file: UploadFile | None = File(None),
) -> HTMLResponse:
    """Check or import a household list, as `loa import households [--dry-run]`."""
    return await _upload(request, session, staff, "households", file)


@router.post("/imports/areas", response_class=HTMLResponse)
async def import_areas(
    request: Request,
    session: SessionDep,
    staff: PostingAdmin,
    file: UploadFile | None = File(None),
) -> HTMLResponse:
    """Check or import the areas list, as `loa import areas [--dry-run]` (admins)."""
    return await _upload(request, session, staff, "areas", file)
