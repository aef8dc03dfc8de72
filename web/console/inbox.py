"""Console pages: the inbox of what households wrote outside any survey.

An assistant reads a message with the household's recent conversation, answers it (the reply
goes through the outbox, back on the channel and address the household wrote from when it can
still be reached there, else on the household's best channel), turns it into a follow-up, or
marks it handled. Each is one transaction, audited.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.inbox import order
from bot.outreach import best_contact
from messages.render import _, day
from storage import inbox as box
from storage import messages
from storage.audit import Actor
from storage.messages import Outbound, Party
from storage.models.messages import NOTICE, URGENT
from storage.vocab import FOLLOWUP_KINDS
from web.console.auth import PostingWork, Reader, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()

PER_PAGE = 50
MAX_REPLY = 1000  # characters in one reply
INBOX_KIND = "feedback"  # the follow-up a message becomes unless the assistant picks another
SOURCE_MESSAGE = "message"  # outbox rows answering an inbound message: source_id is its id


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def _actor(staff: Staff) -> Actor:
    return Actor(name=staff.username, source="console")


def how_label(how: str) -> str:
    """How a message was handled, in words."""
    return {
        box.REPLIED: _("answered"),
        box.TURNED: _("turned into a follow-up"),
        box.MARKED: _("marked handled"),
    }.get(how, how)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request,
    session: SessionDep,
    staff: Reader,
    state: Annotated[str, Query(max_length=8)] = box.WAITING,
    commune: Annotated[str, Query(max_length=10)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """What households wrote, newest first; by default those nobody has handled yet."""
    if commune and not staff.scope.allows(commune):
        raise not_found()
    state = state if state in box.STATES else box.WAITING
    lines, more = await box.inbox_page(
        session,
        scope=staff.scope,
        state=state,
        commune=commune or None,
        offset=(page_no - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    query = {k: v for k, v in (("state", state), ("commune", commune)) if v}
    context = {
        "lines": lines,
        "more": more,
        "state": state,
        "page": page_no,
        "query": query,
        "how_label": how_label,
    }
    return page(request, "inbox/list.html", staff, context)


async def _render(
    request: Request,
    session: SessionDep,
    staff: Staff,
    message_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await box.inbound(session, scope=staff.scope, message_id=message_id)
    if found is None:
        raise not_found()
    turned = None
    if found.line.handled and found.line.handled.get("followup"):
        turned = found.line.handled["followup"]
    context = {
        "m": found,
        "recent": await box.recent(session, household_id=found.household_id),
        "kinds": {code: _(label) for code, label in FOLLOWUP_KINDS.items()},
        "default_kind": INBOX_KIND,
        "errors": errors or {},
        "values": values or {},
        "done": request.query_params.get("done", "") if not errors else "",
        "how_label": how_label,
        "followup": turned,
        "max_reply": MAX_REPLY,
    }
    return page(request, "inbox/message.html", staff, context, status_code=status_code)


@router.get("/inbox/{message_id:int}", response_class=HTMLResponse)
async def message(
    request: Request, session: SessionDep, staff: Reader, message_id: int
) -> HTMLResponse:
    """One message, its household and their recent conversation, with the forms to handle it."""
    return await _render(request, session, staff, message_id)


async def _route(request: Request, session: SessionDep, found: box.InboxMessage) -> Party | None:
    """Where the reply goes: back where the household wrote from, else its best channel."""
    channels = request.app.state.channels
    line = found.line
    if line.channel in channels and await box.can_answer_on(
        session, contact_id=found.contact_id, channel=line.channel
    ):
        return Party(line.channel, found.address, found.household_id, found.contact_id)
    best = await best_contact(
        session,
        household_id=found.household_id,
        channels=channels,
        order=order(request.app.state.settings),
    )
    if best is None:
        return None
    name, contact = best
    return Party(name, contact.address, found.household_id, contact.contact_id)


@router.post("/inbox/{message_id:int}/reply", response_model=None)
async def reply(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    message_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Answer the household through the outbox."""
    found = await box.inbound(session, scope=staff.scope, message_id=message_id)
    if found is None:
        raise not_found()
    clean = box.clean_text(text)
    error = None
    if not clean:
        error = _("Write the reply first.")
    elif len(clean) > MAX_REPLY:
        error = _("A reply can have at most {n} characters.").format(n=MAX_REPLY)
    party = None if error else await _route(request, session, found)
    if party is None and error is None:
        error = _("No channel reaches this household now. Turn the message into a follow-up.")
    if error or party is None:
        errors = {"text": error or ""}
        values = {"text": text}
        return await _render(
            request, session, staff, message_id, errors=errors, values=values, status_code=400
        )
    now = _now(request)
    digest = hashlib.sha256(clean.encode()).hexdigest()[:16]
    note = Outbound(
        clean,
        NOTICE,
        priority=URGENT,
        dedup_key=f"inbox{message_id}:{digest}",  # the same reply posted twice goes once
        source_kind=SOURCE_MESSAGE,
        source_id=message_id,
    )
    await messages.queue(session, [(party, note)], now=now)
    extra = {"text": clean, "channel": party.channel}
    await box.mark_handled(
        session, message_id=message_id, how=box.REPLIED, actor=_actor(staff), now=now, extra=extra
    )
    await session.commit()
    return RedirectResponse(f"/inbox/{message_id}?done=reply", status_code=303)


@router.post("/inbox/{message_id:int}/followup", response_model=None)
async def to_followup(
    request: Request,
    session: SessionDep,
    staff: PostingWork,
    message_id: int,
    kind: Annotated[str, Form(max_length=32)] = INBOX_KIND,
) -> Response:
    """Turn the message into a follow-up of the household, its text as the note."""
    found = await box.inbound(session, scope=staff.scope, message_id=message_id)
    if found is None:
        raise not_found()
    if kind not in FOLLOWUP_KINDS:
        errors = {"kind": _("Choose a kind from the list.")}
        return await _render(request, session, staff, message_id, errors=errors, status_code=400)
    written = _("Message of {when}: {text}").format(
        when=day(found.line.created_at.astimezone(request.app.state.settings.zone).date()),
        text=found.line.text,
    )
    followup_id = await box.to_followup(
        session, found=found, kind=kind, note=written, actor=_actor(staff), now=_now(request)
    )
    await session.commit()
    return RedirectResponse(f"/followups/{followup_id}", status_code=303)


@router.post("/inbox/{message_id:int}/handled", response_model=None)
async def handled(
    request: Request, session: SessionDep, staff: PostingWork, message_id: int
) -> Response:
    """Mark the message handled: read, nothing more to do."""
    found = await box.inbound(session, scope=staff.scope, message_id=message_id)
    if found is None:
        raise not_found()
    await box.mark_handled(
        session, message_id=message_id, how=box.MARKED, actor=_actor(staff), now=_now(request)
    )
    await session.commit()
    return RedirectResponse(f"/inbox/{message_id}?done=handled", status_code=303)
