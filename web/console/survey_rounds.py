"""Console pages: starting a survey round, as `loa survey start --audience ... --yes` does.

The form is posted twice: first to count the households the audience picks (nothing is
stored), then with `confirm` to open the round and ask the first households at once; the
scheduler asks the rest and sends the reminders. A user who covers some communes only asks
households of those communes: their audience is held inside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.inbox import order
from messages.render import _
from scheduler import rounds
from scheduler.delivery import Routing
from storage import audiences, console_surveys
from storage.audience_query import EXAMPLE, key_names
from storage.audiences import Audience, AudienceError
from storage.audit import Actor
from storage.console_surveys import SurveyLine
from web.console.auth import Composer, PostingCompose, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
SurveyId = Annotated[int, Path(ge=1, le=2_147_483_647)]
LOCAL = "%Y-%m-%dT%H:%M"  # an <input type="datetime-local"> value
LONGEST = timedelta(days=366)
TITLE_MAX = 255


@dataclass
class RoundForm:
    """What the form holds, and what is wrong with it."""

    title: str = ""
    audience: str = ""
    deadline: str = ""
    reminders: str = str(rounds.MAX_REMINDERS)
    errors: dict[str, str] = field(default_factory=dict)


@router.get("/surveys/{survey_id}/rounds/new", response_class=HTMLResponse)
async def new_round(
    request: Request, session: SessionDep, staff: Composer, survey_id: SurveyId
) -> HTMLResponse:
    """The round form, filled with a week's deadline and the user's communes."""
    survey = await _survey(session, staff, survey_id)
    now = request.app.state.clock.now()
    local = now.astimezone(request.app.state.settings.zone) + timedelta(days=7)
    mine = staff.scope.communes
    audience = f"commune={','.join(sorted(mine))}" if mine else ""
    filled = RoundForm(
        title=survey.title,
        audience=audience,
        deadline=local.replace(hour=17, minute=0).strftime(LOCAL),
    )
    return _form_page(request, staff, survey, filled, now=now)


@router.post("/surveys/{survey_id}/rounds", response_class=HTMLResponse, response_model=None)
async def start_round(
    request: Request,
    session: SessionDep,
    staff: PostingCompose,
    survey_id: SurveyId,
    title: Annotated[str, Form(max_length=2000)] = "",
    audience: Annotated[str, Form(max_length=4000)] = "",
    deadline: Annotated[str, Form(max_length=40)] = "",
    reminders: Annotated[str, Form(max_length=4)] = "",
    confirm: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Count the audience (a preview), or with `confirm` open the round and start asking."""
    survey = await _survey(session, staff, survey_id)
    now = request.app.state.clock.now()
    zone = request.app.state.settings.zone
    filled = RoundForm(
        _clean(title), " ".join(_clean(audience).split()), deadline.strip(), reminders
    )
    until = _deadline(filled, now=now, zone=zone)
    count = 0
    if len(filled.title) > TITLE_MAX:
        filled.errors["title"] = _("The title is too long (at most 255 characters).")
    if filled.reminders not in ("0", "1", "2"):
        filled.errors["reminders"] = _("A round sends at most two reminders: give 0, 1 or 2.")
    picked = await _audience(session, staff, filled)
    if picked is not None:
        count = await audiences.count(session, picked, today=now.astimezone(zone).date())
        if count == 0:
            message = _("No household matches the audience “{audience}”.")
            filled.errors["audience"] = message.format(audience=str(picked))
    if filled.errors or until is None or picked is None:
        return _form_page(request, staff, survey, filled, now=now, status=400)
    if confirm != "1":
        return _form_page(request, staff, survey, filled, now=now, count=count, picked=picked)
    try:
        planned = await rounds.plan(
            session,
            form_id=survey.form_id,
            audience=str(picked),
            deadline=until,
            reminders=int(filled.reminders),
            title=filled.title or None,
            now=now,
            zone=zone,
        )
        one = await rounds.open_round(
            session, planned, actor=Actor(name=staff.username, source="console"), now=now
        )
    except (rounds.RoundError, AudienceError) as error:
        await session.rollback()
        filled.errors["form"] = str(error)
        return _form_page(request, staff, survey, filled, now=now, status=400)
    await session.commit()
    await _ask_first(request, one, now=now)
    return RedirectResponse(f"/surveys/{survey_id}?done=round", status_code=303)


def _clean(text: str) -> str:
    """Without control characters (a NUL byte cannot be stored), trimmed."""
    return "".join(c if c.isprintable() else " " for c in text).strip()


async def _ask_first(request: Request, one: Any, *, now: datetime) -> None:
    """The first households, as `loa survey start` asks them; the scheduler asks the rest."""
    state, settings = request.app.state, request.app.state.settings
    await rounds.start_round(
        state.sessions,
        one,
        routing=Routing(state.channels, order(settings)),
        now=now,
        zone=settings.zone,
        into=rounds.Progress(),
        limit=rounds.START_PER_PASS,
    )


async def _survey(session: AsyncSession, staff: Staff, survey_id: int) -> SurveyLine:
    survey = await console_surveys.get_survey(
        session, survey_id=survey_id, scope=staff.scope, counts=False
    )
    if survey is None:
        raise not_found()
    return survey


def _deadline(filled: RoundForm, *, now: datetime, zone: Any) -> datetime | None:
    """The deadline as a UTC moment; an error beside the field when it is not one."""
    try:
        local = datetime.fromisoformat(filled.deadline)
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        filled.errors["deadline"] = _("Give the date and time when answers close.")
        return None
    until = local.replace(tzinfo=zone).astimezone(now.tzinfo)
    if until <= now:
        filled.errors["deadline"] = _("The deadline has already passed; give a later one.")
        return None
    if until - now > LONGEST:
        filled.errors["deadline"] = _("Give a deadline within a year.")
        return None
    return until


async def _audience(session: AsyncSession, staff: Staff, filled: RoundForm) -> Audience | None:
    """The audience checked and held inside the user's areas; None with an error."""
    try:
        return await console_surveys.scoped_audience(session, filled.audience, scope=staff.scope)
    except AudienceError as error:
        filled.errors["audience"] = str(error)
        return None


def _form_page(
    request: Request,
    staff: Staff,
    survey: SurveyLine,
    filled: RoundForm,
    *,
    now: datetime,
    count: int | None = None,
    picked: Audience | None = None,
    status: int = 200,
) -> HTMLResponse:
    zone = request.app.state.settings.zone
    context = {
        "survey": survey,
        "form": filled,
        "errors": filled.errors,
        "count": count,
        "picked": str(picked) if picked is not None else "",
        "earliest": now.astimezone(zone).strftime(LOCAL),
        "example": EXAMPLE,
        "keys": key_names(),
        "reminder_hours": request.app.state.settings.survey_reminder_hours,
    }
    return page(request, "surveys/round.html", staff, context, status_code=status)
