"""Console pages: surveys. The list, uploading an XLSForm (the same checks and report as
`loa survey import`), a survey's page, its results in the user's areas and their export.

Starting a round is in `web.console.survey_rounds`, included here.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dialogue.form import ASKED, Form
from handlers.dialogue.xlsform import FormError, load_form, save_form
from messages.render import N_, _, number
from storage import console_result_tables, console_results, console_surveys
from storage import surveys as forms
from storage.audit import Actor
from storage.console_result_tables import QuestionResult
from storage.console_results import View
from storage.exports.results import FIXED, result_rows
from storage.exports.tables import write_table
from storage.models import Conversation, Household
from storage.scope import communes_in
from storage.vocab import CATEGORIES
from web.console import survey_rounds
from web.console.auth import PostingCompose, Reader, Staff, allowed, not_found
from web.console.charts import bars
from web.console.templating import page
from web.console.uploads import UploadError, saved
from web.deps import SessionDep
from web.recent import counted

router = APIRouter()
log = logging.getLogger(__name__)
SurveyId = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
RoundParam = Annotated[str, Query(alias="round", max_length=12)]
CommuneParam = Annotated[str, Query(max_length=40)]
CODE = re.compile(r"[0-9A-Za-z_-]+")  # an official unit code
ROUND = re.compile(r"[1-9][0-9]{0,8}")  # a round id (fits a 32-bit integer)
Exporter = Annotated[Staff, Depends(allowed("export"))]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/surveys", response_class=HTMLResponse)
async def survey_list(request: Request, session: SessionDep, staff: Reader) -> HTMLResponse:
    """Every survey with its versions and rounds; the upload form for those who compose."""
    return await _list_page(request, session, staff)


async def _list_page(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    *,
    errors: dict[str, str] | None = None,
    problems: list[Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lines = await console_surveys.list_surveys(session, scope=staff.scope)
    context = {"surveys": lines, "errors": errors or {}, "problems": problems or []}
    return page(request, "surveys/list.html", staff, context, status_code=status)


@router.post("/surveys/upload", response_class=HTMLResponse, response_model=None)
async def upload(
    request: Request,
    session: SessionDep,
    staff: PostingCompose,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Load an XLSForm: every problem listed by sheet, row and column, or a new version."""
    try:
        with saved(file) as path:
            form, name = await run_in_threadpool(load_form, path), path.name
    except UploadError as error:
        return await _list_page(request, session, staff, errors={"file": str(error)}, status=400)
    except FormError as error:
        return await _list_page(request, session, staff, problems=error.problems, status=400)
    except Exception:  # a workbook that breaks the readers themselves: a sentence, not a 500
        log.exception("survey upload could not be read")
        refused = {"file": _("The file could not be read as a form. Check it opens in Excel.")}
        return await _list_page(request, session, staff, errors=refused, status=400)
    actor = Actor(name=staff.username, source="console")
    now = request.app.state.clock.now()
    try:
        outcome = await save_form(session, form, source_name=name, actor=actor, now=now)
    except forms.SurveyError as error:
        await session.rollback()
        return await _list_page(request, session, staff, errors={"file": str(error)}, status=400)
    await session.commit()
    survey_id = await console_surveys.survey_id_of(session, form_id=form.form_id)
    return RedirectResponse(f"/surveys/{survey_id}?done={outcome}", status_code=303)


DONE = {
    forms.CREATED: N_("Loaded the survey {form_id}, version {version} ({n} questions)."),
    forms.ADDED: N_("Added version {version} of the survey {form_id} ({n} questions)."),
    forms.UNCHANGED: N_("The survey {form_id}, version {version}, is already loaded."),
}


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
async def survey_page(
    request: Request,
    session: SessionDep,
    staff: Reader,
    survey_id: SurveyId,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """A survey: its questions, versions and rounds."""
    survey = await console_surveys.get_survey(session, survey_id=survey_id, scope=staff.scope)
    definition = await console_surveys.latest_definition(session, survey_id=survey_id)
    if survey is None or definition is None:
        raise not_found()
    form = Form.from_json(definition)
    asked = sum(1 for q in form.questions if q.type in ASKED)
    flash = ""
    if done in DONE:
        flash = _(DONE[done]).format(form_id=form.form_id, version=form.version, n=asked)
    elif done == "round":
        flash = _("The round is open; the first questions are on their way.")
    versions = await console_surveys.list_versions(session, survey_id=survey_id)
    context = {"survey": survey, "form": form, "versions": versions, "flash": flash}
    return page(request, "surveys/survey.html", staff, context)


async def _view(
    session: AsyncSession, staff: Staff, survey_id: int, round_text: str, commune: str
) -> View:
    """The results' filters, checked: a round of another survey or a commune outside the
    user's areas answers 404."""
    round_id = int(round_text) if ROUND.fullmatch(round_text) else None
    if (round_text and not round_id) or (commune and not CODE.fullmatch(commune)):
        raise not_found()
    view = await console_surveys.results_view(
        session, survey_id=survey_id, scope=staff.scope, round_id=round_id, commune=commune or None
    )
    if view is None:
        raise not_found()
    return view


@router.get("/surveys/{survey_id}/results", response_class=HTMLResponse)
async def results_page(
    request: Request,
    session: SessionDep,
    staff: Reader,
    survey_id: SurveyId,
    round_text: RoundParam = "",
    commune: CommuneParam = "",
) -> HTMLResponse:
    """Counts and percentages per question and choice, by village (or commune) and category."""
    survey = await console_surveys.get_survey(
        session, survey_id=survey_id, scope=staff.scope, counts=False
    )
    definition = await console_surveys.latest_definition(session, survey_id=survey_id)
    if survey is None or definition is None:
        raise not_found()
    view = await _view(session, staff, survey_id, round_text, commune)
    choice_names, open_names = console_result_tables.questions_of(definition)
    communes = await communes_in(session, scope=staff.scope)
    figures = await counted(
        request,
        ("results", survey_id, view, True),
        lambda: console_results.tally(
            session,
            survey_id=survey_id,
            view=view,
            choice_questions=choice_names,
            open_questions=open_names,
        ),
        scope=staff.scope,
        communes=1 if view.commune else len(communes),
    )
    found = figures.value
    questions = console_result_tables.results(definition, found, categories=CATEGORIES)
    context = {
        "survey": survey,
        "view": view,
        "found": found,
        "counted_at": figures.at,
        "questions": [(q, _chart(q)) for q in questions],
        "communes": communes,
        "query": _query(view),
    }
    return page(request, "surveys/results.html", staff, context)


def _chart(question: QuestionResult) -> Any:
    """Bars of a choice question: households per choice, with the share of those answering."""
    if not question.is_choice or not question.answered:
        return ""
    total = question.answered

    def fmt(value: float) -> str:
        return f"{number(round(value))} ({round(100 * value / total)}%)"

    rows = [(c.label, float(c.count)) for c in question.choices]
    return bars(rows, title=question.label, scale=total, fmt=fmt)


def _query(view: View) -> str:
    """The filters as a query string, for the export links."""
    parts = [f"round={view.round_id}"] if view.round_id else []
    parts += [f"commune={view.commune}"] if view.commune else []
    return "?" + "&".join(parts) if parts else ""


@router.get("/surveys/{survey_id}/results.{fmt}", response_class=Response)
async def export(
    request: Request,
    session: SessionDep,
    staff: Exporter,
    survey_id: SurveyId,
    fmt: str,
    round_text: RoundParam = "",
    commune: CommuneParam = "",
) -> Response:
    """The answers in the user's areas: one row per conversation, one column per question."""
    if fmt not in MEDIA:
        raise not_found()
    survey = await console_surveys.get_survey(
        session, survey_id=survey_id, scope=staff.scope, counts=False
    )
    definition = await console_surveys.latest_definition(session, survey_id=survey_id)
    if survey is None or definition is None:
        raise not_found()
    view = await _view(session, staff, survey_id, round_text, commune)
    questions = [q.name for q in Form.from_json(definition).answerable]
    where = [staff.scope.households()]
    if view.round_id is not None:
        where.append(Conversation.round_id == view.round_id)
    if view.commune is not None:
        where.append(Household.commune_code == view.commune)
    rows = await result_rows(
        session,
        form_id=survey.form_id,
        questions=questions,
        zone=request.app.state.settings.zone,
        where=where,
    )
    name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', survey.form_id)}-results.{fmt}"
    with tempfile.TemporaryDirectory(prefix="loa-export-") as folder:
        path = Path(folder) / name
        await run_in_threadpool(write_table, path, [*FIXED, *questions], rows, fmt=fmt)
        body = path.read_bytes()
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=MEDIA[fmt], headers=headers)


router.include_router(survey_rounds.router)
