"""API: surveys, their rounds and their results, counted in the token user's areas.

A survey (a form) belongs to no area, so every user may list it; the households asked and
answered, and the results, only count households of the user's communes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from storage import console_result_tables, console_results, console_surveys
from storage.console_result_tables import QuestionResult
from storage.console_surveys import RoundLine, SurveyLine
from storage.scope import communes_in
from storage.vocab import CATEGORIES
from web.api.auth import ApiStaff
from web.api.pages import Page, PagingDep
from web.console.auth import not_found
from web.deps import SessionDep
from web.recent import counted

router = APIRouter(tags=["surveys"])
CODE = r"^[0-9A-Za-z_-]+$"  # an official unit code
SurveyId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The survey's id")]


class RoundOut(BaseModel):
    """A round of a survey; `asked` and `answered` count households of the user's areas."""

    id: int
    title: str
    audience: str | None = Field(description="The audience; null: households asked one by one")
    status: str = Field(description="open, closed or one_by_one")
    opened_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    asked: int
    answered: int = Field(description="Households that finished the survey")


class SurveyOut(BaseModel):
    """A survey with its newest version and its rounds, newest first."""

    id: int
    form_id: str
    title: str
    version: str = Field(description="The newest version")
    versions: int
    rounds: list[RoundOut]


class ChoiceOut(BaseModel):
    name: str
    label: str


class QuestionOut(BaseModel):
    name: str
    label: str
    type: str
    choices: list[ChoiceOut] = Field(description="For select_one and select_multiple")


class SurveyDetailOut(SurveyOut):
    """A survey and the questions of its newest version."""

    questions: list[QuestionOut]


class ChoiceCountOut(BaseModel):
    name: str
    label: str
    count: int
    percent: float = Field(description="Of the households that answered the question")


class QuestionResultOut(BaseModel):
    name: str
    label: str
    type: str
    answered: int = Field(description="Households that answered the question")
    choices: list[ChoiceCountOut] = Field(description="Empty for free answers")


class ResultsOut(BaseModel):
    """Counts per question and choice, for households of the user's areas."""

    survey_id: int
    form_id: str
    round_id: int | None
    commune: str | None
    asked: int = Field(description="Households asked")
    completed: int = Field(description="Households that finished the survey")
    counted_at: datetime | None = Field(
        None,
        description="When the figures were counted, for a view of more than 20 communes "
        "(counted at most once a minute); none: counted for this request",
    )
    questions: list[QuestionResultOut]


def _round(line: RoundLine) -> RoundOut:
    return RoundOut(
        id=line.id,
        title=line.title,
        audience=line.audience,
        status=line.status,
        opened_at=line.opened_at,
        deadline=line.deadline,
        closed_at=line.closed_at,
        asked=line.asked,
        answered=line.answered,
    )


def _survey(line: SurveyLine) -> SurveyOut:
    return SurveyOut(
        id=line.id,
        form_id=line.form_id,
        title=line.title,
        version=line.latest,
        versions=line.versions,
        rounds=[_round(r) for r in line.rounds],
    )


@router.get("/surveys", response_model=Page[SurveyOut])
async def list_surveys(session: SessionDep, staff: ApiStaff, paging: PagingDep) -> Page[SurveyOut]:
    """Every survey, by form id, with its rounds and the households asked in the user's areas."""
    total = await console_surveys.count_surveys(session)
    lines = await console_surveys.list_surveys(
        session, scope=staff.scope, offset=paging.offset, limit=paging.per_page
    )
    return Page[SurveyOut](
        items=[_survey(line) for line in lines],
        page=paging.page,
        per_page=paging.per_page,
        total=total,
    )


@router.get("/surveys/{survey_id}", response_model=SurveyDetailOut)
async def get_survey(session: SessionDep, staff: ApiStaff, survey_id: SurveyId) -> SurveyDetailOut:
    """A survey, its rounds and the questions of its newest version."""
    line = await console_surveys.get_survey(session, survey_id=survey_id, scope=staff.scope)
    form = await console_surveys.latest_definition(session, survey_id=survey_id)
    if line is None or form is None:
        raise not_found()
    questions = [
        QuestionOut(
            name=q["name"],
            label=q["label"],
            type=q["type"],
            choices=[
                ChoiceOut(name=c["name"], label=c["label"])
                for c in form["choices"].get(q["choice_list"], [])
            ]
            if q["choice_list"]
            else [],
        )
        for q in form["questions"]
    ]
    return SurveyDetailOut(**_survey(line).model_dump(), questions=questions)


@router.get("/surveys/{survey_id}/results", response_model=ResultsOut)
async def get_results(
    request: Request,
    session: SessionDep,
    staff: ApiStaff,
    survey_id: SurveyId,
    round_id: Annotated[
        int | None, Query(alias="round", ge=1, le=2_147_483_647, description="One round only")
    ] = None,
    commune: Annotated[
        str | None,
        Query(pattern=CODE, max_length=40, description="One commune of the user's areas"),
    ] = None,
) -> ResultsOut:
    """Households per question and choice, counted over the user's areas."""
    line = await console_surveys.get_survey(
        session, survey_id=survey_id, scope=staff.scope, counts=False
    )
    form = await console_surveys.latest_definition(session, survey_id=survey_id)
    if line is None or form is None:
        raise not_found()
    view = await console_surveys.results_view(
        session, survey_id=survey_id, scope=staff.scope, round_id=round_id, commune=commune or None
    )
    if view is None:
        raise not_found()
    choice_names, open_names = console_result_tables.questions_of(form)
    figures = await counted(
        request,
        ("results", survey_id, view, False),
        lambda: console_results.tally(
            session,
            survey_id=survey_id,
            view=view,
            choice_questions=choice_names,
            open_questions=open_names,
            details=False,
        ),
        scope=staff.scope,
        communes=1 if view.commune else len(await communes_in(session, scope=staff.scope)),
    )
    found = figures.value
    questions = console_result_tables.results(form, found, categories=CATEGORIES)
    return ResultsOut(
        survey_id=line.id,
        form_id=line.form_id,
        round_id=view.round_id,
        commune=view.commune,
        asked=found.asked,
        completed=found.completed,
        counted_at=figures.at,
        questions=[_question(q) for q in questions],
    )


def _question(q: QuestionResult) -> QuestionResultOut:
    return QuestionResultOut(
        name=q.name,
        label=q.label,
        type=q.type,
        answered=q.answered,
        choices=[
            ChoiceCountOut(name=c.name, label=c.label, count=c.count, percent=round(c.percent, 1))
            for c in q.choices
        ],
    )
