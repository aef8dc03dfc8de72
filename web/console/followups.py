"""Console pages: the follow-up work queue, its official .xlsx list and a print view.

The queue shows the items of the user's areas, filtered by kind, village, status, assignee and
commune, in the order they should be done (priority, due date, age). One follow-up's page and
its forms are in `web.console.followup_page`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from messages.render import _
from storage import console_followups as queue
from storage.console_followups import ACTIVE, ANYONE, ASSIGNEE_FILTERS, Filters
from storage.exports import followup_list
from storage.models.followups import FOLLOWUP_STATUSES
from storage.scope import communes_in
from storage.vocab import followup_label
from web.console import followup_page
from web.console.auth import Reader, Staff, allowed, not_found
from web.console.followup_page import common, status_labels, today
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
router.include_router(followup_page.router)

PER_PAGE = 50
ALL = "all"  # status filter: every status
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Exporter = Annotated[Staff, Depends(allowed("export"))]


@dataclass(frozen=True)
class Asked:
    """The filters as the query string gave them, checked against the user's areas."""

    filters: Filters
    kind: str
    village: str
    status: str
    assignee: str
    commune: str
    communes: list[tuple[str, str]]
    villages: list[tuple[int, str]]

    def query(self) -> dict[str, str]:
        """The filters for links (pages, export, print), without the empty ones."""
        values = {
            "kind": self.kind,
            "village": self.village,
            "status": self.status,
            "assignee": "" if self.assignee == ANYONE else self.assignee,
            "commune": self.commune,
        }
        return {key: value for key, value in values.items() if value}


async def asked(
    session: SessionDep,
    staff: Reader,
    kind: Annotated[str, Query(max_length=32)] = "",
    village: Annotated[str, Query(max_length=12)] = "",
    status: Annotated[str, Query(max_length=12)] = "",
    assignee: Annotated[str, Query(max_length=12)] = "",
    commune: Annotated[str, Query(max_length=10)] = "",
) -> Asked:
    """The filters: a commune or village outside the user's areas answers 404."""
    if commune and not staff.scope.allows(commune):
        raise not_found()
    village_id = int(village) if village.isdigit() else None
    if village_id is not None:
        found = await queue.village_commune(session, village_id=village_id)
        if found is None or not staff.scope.allows(found) or (commune and found != commune):
            raise not_found()
    statuses = ACTIVE if not status else () if status == ALL else (status,)
    if status and status != ALL and status not in FOLLOWUP_STATUSES:
        statuses, status = ACTIVE, ""
    assignee = assignee if assignee in ASSIGNEE_FILTERS else ANYONE
    communes = await communes_in(session, scope=staff.scope)
    only = commune or (communes[0][0] if len(communes) == 1 else "")
    villages = await queue.villages(session, commune_code=only) if only else []
    filters = Filters(kind or None, village_id, statuses, assignee, commune or None)
    return Asked(
        filters,
        kind,
        str(village_id or ""),
        status,
        assignee,
        commune,
        communes,
        villages,
    )


AskedDep = Annotated[Asked, Depends(asked)]


@router.get("/followups", response_class=HTMLResponse)
async def followups(
    request: Request,
    session: SessionDep,
    staff: Reader,
    wanted: AskedDep,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The work queue, a page at a time."""
    items, total = await queue.queue_page(
        session,
        scope=staff.scope,
        filters=wanted.filters,
        me=staff.id,
        offset=(page_no - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    pages = max(1, -(-total // PER_PAGE))
    context = {
        **common(request),
        "items": items,
        "total": total,
        "page": page_no,
        "pages": pages,
        "offset": (page_no - 1) * PER_PAGE,
        "asked": wanted,
        "query": wanted.query(),
    }
    return page(request, "followups/list.html", staff, context)


def about(wanted: Asked) -> str:
    """What the list holds, in words, for the line under its title."""
    parts = []
    if wanted.kind:
        parts.append(_("Kind: {kind}").format(kind=followup_label(wanted.kind)))
    names = dict(wanted.villages)
    if wanted.filters.village_id in names:
        parts.append(_("Village: {village}").format(village=names[wanted.filters.village_id]))
    labels = status_labels()
    shown = wanted.filters.statuses or tuple(labels)
    parts.append(_("Status: {status}").format(status=", ".join(labels[s] for s in shown)))
    return "; ".join(parts)


@router.get("/followups/export.xlsx", response_class=Response)
async def export(
    request: Request, session: SessionDep, staff: Exporter, wanted: AskedDep
) -> Response:
    """The official list as .xlsx: a sheet per commune, ready to print."""
    lines = await queue.list_lines(session, scope=staff.scope, filters=wanted.filters, me=staff.id)
    body = followup_list.workbook(lines, about=about(wanted), on=today(request))
    name = f"danh-sach-theo-doi-{today(request).isoformat()}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=XLSX, headers=headers)


@router.get("/followups/print", response_class=HTMLResponse)
async def print_view(
    request: Request, session: SessionDep, staff: Reader, wanted: AskedDep
) -> HTMLResponse:
    """The list for village heads: a table per village with signature lines, to print."""
    lines = await queue.list_lines(session, scope=staff.scope, filters=wanted.filters, me=staff.id)
    communes = [(name, group, _villages(group)) for name, group in followup_list.by_commune(lines)]
    context = {
        **common(request),
        "communes": communes,
        "about": about(wanted),
        "title": followup_list.title(),
        "dated": followup_list.dated,
        "header": followup_list.header(),
        "row": followup_list.row,
        "in_all": followup_list.in_all,
        "query": wanted.query(),
    }
    return page(request, "followups/print.html", staff, context)


def _villages(
    group: list[queue.ListLine],
) -> list[tuple[str, list[queue.ListLine]]]:
    found: dict[str, list[queue.ListLine]] = {}
    for line in group:
        found.setdefault(line.item.village, []).append(line)
    return list(found.items())
