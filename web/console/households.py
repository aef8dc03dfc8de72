"""Console pages: finding households (search and filters) and one household's whole record."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from messages.render import VN_ZONE, _
from storage import console_household_card as card
from storage import console_households as households
from storage import console_messages
from storage.vocab import CATEGORY_LABELS, followup_label, priority_label, programme_label
from web.console import households_words as words
from web.console.auth import Reader, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()

PER_PAGE = 50
MESSAGES_PER_PAGE = 100
MAX_QUERY = 100
_VILLAGE_ID = re.compile(r"[0-9]{1,12}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _page_number(text: str | None) -> int:
    """A page number from the address; anything unusable is the first page."""
    try:
        return max(1, min(int(text or 1), 1_000_000))
    except ValueError:
        return 1


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


async def _filters(
    session: SessionDep, staff: Staff, params: dict[str, str]
) -> tuple[households.Filters, dict[str, str]]:
    """The filters the address asks for and the errors to show beside the fields.

    A commune or village outside the user's areas (or unknown) is a 404, like a household.
    """
    errors: dict[str, str] = {}
    q = _CONTROL.sub(" ", params.get("q", "")).strip()
    if len(q) > MAX_QUERY:
        errors["q"] = _("Type at most {n} characters.").format(n=MAX_QUERY)
    commune = params.get("commune", "").strip() or None
    if commune and _CONTROL.search(commune):
        raise not_found()
    if commune and await households.commune_name(session, scope=staff.scope, code=commune) is None:
        raise not_found()
    village_id = None
    if village := params.get("village", "").strip():
        if not _VILLAGE_ID.fullmatch(village):
            errors["village"] = _("Choose a village from the list.")
        else:
            village_id = int(village)
            found = await households.village_commune(
                session, scope=staff.scope, village_id=village_id
            )
            if found is None:
                raise not_found()
            if commune and found != commune:
                errors["village"] = _("This village is not in the chosen commune.")
            commune = commune or found
    category = params.get("category", "").strip() or None
    if category and category not in CATEGORY_LABELS:
        errors["category"] = _("Choose a category from the list.")
    filters = households.Filters(
        q=q,
        commune=commune,
        village_id=village_id,
        category=category,
        unreachable=params.get("unreachable") == "1",
        opted_out=params.get("opted_out") == "1",
    )
    return filters, errors


def _address(filters: households.Filters, page_no: int) -> str:
    """The list's address for another page with the same filters."""
    values = {
        "q": filters.q,
        "commune": filters.commune or "",
        "village": "" if filters.village_id is None else str(filters.village_id),
        "category": filters.category or "",
        "unreachable": "1" if filters.unreachable else "",
        "opted_out": "1" if filters.opted_out else "",
        "page": str(page_no),
    }
    return "/households?" + urlencode({k: v for k, v in values.items() if v})


@router.get("/households", response_class=HTMLResponse)
async def household_list(request: Request, session: SessionDep, staff: Reader) -> HTMLResponse:
    """Search and filter the households of the user's areas, 50 a page."""
    params = dict(request.query_params)
    filters, errors = await _filters(session, staff, params)
    communes = await households.communes(session, scope=staff.scope)
    commune = filters.commune or (communes[0].key if len(communes) == 1 else None)
    villages = (
        await households.villages(session, scope=staff.scope, commune=commune) if commune else []
    )
    page_no = _page_number(params.get("page"))
    rows: list[households.Row] = []
    total = 0
    if not errors:
        rows, total = await households.search(
            session,
            scope=staff.scope,
            filters=filters,
            limit=PER_PAGE,
            offset=(page_no - 1) * PER_PAGE,
        )
    pages = _pages(total, PER_PAGE)
    context: dict[str, Any] = {
        "filters": filters,
        "errors": errors,
        "rows": rows,
        "total": total,
        "page": page_no,
        "pages": pages,
        "offset": (page_no - 1) * PER_PAGE,
        "previous": _address(filters, page_no - 1) if page_no > 1 else None,
        "next": _address(filters, page_no + 1) if page_no < pages else None,
        "communes": communes,
        "commune_name": next((c.name for c in communes if c.key == filters.commune), None),
        "villages": villages,
        "categories": CATEGORY_LABELS,
        "label": words.label,
    }
    status = 400 if errors else 200
    return page(request, "households/list.html", staff, context, status_code=status)


@router.get("/households/{code}", response_class=HTMLResponse)
async def household_page(
    request: Request, session: SessionDep, staff: Reader, code: Code
) -> HTMLResponse:
    """Everything about one household: register, contacts, messages, answers, work, loans."""
    household_id = await households.household_id(session, scope=staff.scope, code=code)
    if household_id is None:
        raise not_found()
    page_no = _page_number(request.query_params.get("page"))
    messages, total = await console_messages.timeline(
        session,
        household_id=household_id,
        limit=MESSAGES_PER_PAGE,
        offset=(page_no - 1) * MESSAGES_PER_PAGE,
    )
    pages = _pages(total, MESSAGES_PER_PAGE)
    conversations = await card.conversations(session, household_id=household_id)
    context: dict[str, Any] = {
        "register": await card.register(session, household_id=household_id),
        "contacts": await card.contacts(session, household_id=household_id),
        "followups": await card.followups(session, household_id=household_id),
        "loans": await card.loans(session, household_id=household_id),
        "events": await card.events(session, household_id=household_id),
        "conversations": [(c, words.readable(c)) for c in conversations],
        "messages": messages,
        "message_total": total,
        "page": page_no,
        "pages": pages,
        "today": request.app.state.clock.now().astimezone(VN_ZONE).date(),
        "label": words.label,
        "address": words.address,
        "message_address": words.message_address,
        "followup_label": followup_label,
        "priority_label": priority_label,
        "programme_label": programme_label,
    }
    return page(request, "households/show.html", staff, context)


@router.get("/communes/{code}", response_class=RedirectResponse)
async def commune_redirect(session: SessionDep, staff: Reader, code: Code) -> RedirectResponse:
    """The old commune page: now the household list filtered to the commune."""
    if await households.commune_name(session, scope=staff.scope, code=code) is None:
        raise not_found()
    return RedirectResponse("/households?" + urlencode({"commune": code}), status_code=301)
