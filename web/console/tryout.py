"""Console page "Thử như người dân" (try as a household), only in the demo (LOA_DEMO=1).

The page plays a household's phone on the console channel: what Loa queued for the phone is
shown (and marked delivered) like a chat, and what is typed goes through the app's inbox
exactly as a real inbound message would (the router, surveys, keywords, the message log).
`static/tryout.js` polls the screen every 2 seconds, so a broadcast or a survey question
arriving shows up by itself.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.channels.console import CONSOLE
from handlers.dialogue.conversations import Turn
from handlers.incoming import Incoming
from handlers.router import start_survey
from messages.render import _
from storage import audit, tryout
from storage.conversations import contacts_for
from storage.tryout import TryHousehold
from web.console.auth import Posting, Reader, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

MAX_TEXT = 1000  # a long SMS is 10 parts; a person types far less


async def _demo_only(request: Request) -> None:
    """Outside the demo the page does not exist."""
    if not request.app.state.settings.demo:
        raise not_found()


router = APIRouter(dependencies=[Depends(_demo_only)])
Code = Annotated[str, Path(min_length=1, max_length=40)]


async def _household(session: SessionDep, staff: Staff, code: str) -> TryHousehold:
    found = await tryout.household(session, code=code, scope=staff.scope)
    if found is None:
        raise not_found()
    return found


@router.get("/try", response_class=HTMLResponse, response_model=None)
async def pick(
    request: Request,
    session: SessionDep,
    staff: Reader,
    household: Annotated[str, Query(max_length=40)] = "",
    choose: Annotated[bool, Query()] = False,
) -> Response:
    """Choose a household to play, or let the page choose one."""
    suggested = await tryout.suggestions(session, scope=staff.scope)
    code = household.strip() or (suggested[0].code if choose and suggested else "")
    error = None
    if code:
        if await tryout.household(session, code=code, scope=staff.scope) is not None:
            return RedirectResponse(f"/try/{quote(code)}", status_code=303)
        error = _("No household of your areas has the code {code}.").format(code=code)
    context = {"suggested": suggested, "household": household, "errors": {"household": error}}
    # A code outside the areas is "not found" (404, as everywhere), told beside the field.
    return page(request, "tryout/pick.html", staff, context, status_code=404 if error else 200)


async def _screen(request: Request, session: SessionDep, phone: str) -> list[tryout.PhoneMessage]:
    """What the phone shows now; what was waiting for it is delivered first."""
    await tryout.deliver(session, address=phone, now=request.app.state.clock.now())
    await session.commit()
    return await tryout.screen(session, address=phone)


async def _phone_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    found: TryHousehold,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "found": found,
        "messages": await _screen(request, session, found.phone) if found.phone else [],
        "surveys": await tryout.surveys(session),
        "errors": errors or {},
        "max_text": MAX_TEXT,
    }
    return page(request, "tryout/phone.html", staff, context, status_code=status)


@router.get("/try/{household}", response_class=HTMLResponse)
async def phone(request: Request, session: SessionDep, staff: Reader, household: Code) -> Response:
    """The household's phone: its messages like a chat, a box to answer."""
    found = await _household(session, staff, household)
    return await _phone_page(request, session, staff, found)


@router.get("/try/{household}/messages", response_class=HTMLResponse)
async def messages(
    request: Request, session: SessionDep, staff: Reader, household: Code
) -> Response:
    """The phone's screen alone, for the page to poll."""
    found = await _household(session, staff, household)
    shown = await _screen(request, session, found.phone) if found.phone else []
    response = page(request, "tryout/_screen.html", staff, {"messages": shown})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/try/{household}/send", response_model=None)
async def send(
    request: Request,
    session: SessionDep,
    staff: Posting,
    household: Code,
    text: Annotated[str, Form()] = "",
) -> Response:
    """A message typed on the phone: handed to the inbox like one from a real phone."""
    found = await _household(session, staff, household)
    text = text.strip()
    error = None
    if not found.phone:
        error = _("This household has no phone of its own to play.")
    elif not text:
        error = _("Type a message first.")
    elif len(text) > MAX_TEXT:
        error = _("A message can have at most {n} characters.").format(n=MAX_TEXT)
    if error:
        return await _phone_page(request, session, staff, found, errors={"text": error}, status=400)
    assert found.phone is not None
    inbox = request.app.state.inbox
    await inbox.handle(inbox.channels[CONSOLE], [Incoming(CONSOLE, found.phone, text)])
    return RedirectResponse(f"/try/{quote(found.code)}", status_code=303)


@router.post("/try/{household}/survey", response_model=None)
async def survey(
    request: Request,
    session: SessionDep,
    staff: Posting,
    household: Code,
    form_id: Annotated[str, Form()] = "",
) -> Response:
    """Start a survey with this household on the console, to answer it on the page."""
    found = await _household(session, staff, household)
    known = dict(await tryout.surveys(session))
    error = None
    if not found.phone:
        error = _("This household has no phone of its own to play.")
    elif form_id not in known:
        error = _("Choose a survey.")
    contact = None
    if found.phone and not error:
        refs = (await contacts_for(session, addresses=[found.phone])).get(found.phone, [])
        contact = next((r for r in refs if r.household_code == found.code), None)
        if contact is None:
            error = _("This household has no phone of its own to play.")
    if error or contact is None:
        return await _phone_page(
            request, session, staff, found, errors={"form_id": error or ""}, status=400
        )
    now = request.app.state.clock.now()
    turn = Turn.at(now, request.app.state.settings.zone)
    await start_survey(session, form_id=form_id, contact=contact, channel=CONSOLE, turn=turn)
    await audit.add(
        session,
        actor=audit.Actor(name=staff.username, source="console"),
        at=now,
        action="create",
        entity="conversations",
        key=found.code,
        changes={"survey": [None, form_id], "channel": [None, CONSOLE]},
    )
    await session.commit()
    return RedirectResponse(f"/try/{quote(found.code)}", status_code=303)
