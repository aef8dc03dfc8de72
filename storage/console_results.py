"""A survey's results for the console and the API: households per question and answer, by
village (or commune) and by household category, in the user's scope.

The database counts, with one GROUP BY over the answers of the households in view (question,
place, category, value), whatever the number of households; `storage.console_result_tables`
shapes the counts into tables. A select_multiple answer is stored as its choice names
separated by spaces; its distinct combinations are few, so they are counted as stored and
split afterwards. Free answers count as one value each question, and the latest few are read
through the (question, answered_at) index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from storage.models import Answer, Commune, Conversation, Household, SurveyVersion, Village
from storage.models.surveys import ANSWERED, COMPLETED
from storage.scope import Scope

LATEST = 5  # free-text answers shown per question
NARROW = 20  # communes: up to this many, the latest answers are found through the households
Counts = dict[str, int]  # answer value (as stored) -> households


@dataclass(frozen=True, slots=True)
class View:
    """Whose answers to count: the user's scope, and at will one round and one commune."""

    scope: Scope
    round_id: int | None = None
    commune: str | None = None

    @property
    def narrow(self) -> bool:
        """One commune or a few in view (not a whole province or the nation)."""
        few = self.scope.communes is not None and len(self.scope.communes) <= NARROW
        return self.commune is not None or few

    @property
    def by_village(self) -> bool:
        """Villages when one commune is in view; communes otherwise."""
        one = self.scope.communes is not None and len(self.scope.communes) == 1
        return self.commune is not None or one

    def conditions(self, survey_id: int) -> list[ColumnElement[bool]]:
        """Conditions on answers/conversations joined to households."""
        versions = select(SurveyVersion.id).where(SurveyVersion.survey_id == survey_id)
        found = [Conversation.version_id.in_(versions), self.scope.households()]
        if self.round_id is not None:
            found.append(Conversation.round_id == self.round_id)
        if self.commune is not None:
            found.append(Household.commune_code == self.commune)
        return found


@dataclass(frozen=True, slots=True)
class LatestAnswer:
    """A free-text answer, newest first."""

    household_code: str
    village: str | None
    value: str
    answered_at: datetime


@dataclass
class Tally:
    """What the database counted."""

    asked: int = 0  # households with a conversation in view
    completed: int = 0  # of which finished the survey
    places: dict[str, str] = field(default_factory=dict)  # key -> village or commune name
    by_place: dict[str, dict[str, Counts]] = field(default_factory=dict)  # question -> place
    by_category: dict[str, dict[str, Counts]] = field(default_factory=dict)
    open_counts: dict[str, int] = field(default_factory=dict)  # question -> answers
    latest: dict[str, list[LatestAnswer]] = field(default_factory=dict)


async def tally(
    session: AsyncSession,
    *,
    survey_id: int,
    view: View,
    choice_questions: list[str],
    open_questions: list[str],
    details: bool = True,
) -> Tally:
    """Count the answers in view: choices by place (and with DETAILS by category), free
    answers by question (and with DETAILS the latest of them)."""
    where = view.conditions(survey_id)
    found = Tally()
    found.asked, found.completed = await _households(session, where)
    if not found.asked or not (choice_questions or open_questions):
        return found
    place = Household.village_id if view.by_village else Household.commune_code
    await _count(session, where, choice_questions, open_questions, place, details, into=found)
    keys = {k for per in found.by_place.values() for k in per}
    found.places = await _place_names(session, keys, villages=view.by_village)
    answered = [name for name in open_questions if found.open_counts.get(name)]
    if details and answered and view.narrow:
        found.latest = await _latest_of_few(session, where, answered)
    for name in answered if details and not view.narrow else ():
        found.latest[name] = await _latest(session, where, name)
    return found


def _answers(query: Any, where: list[ColumnElement[bool]]) -> Any:
    """QUERY from answers joined to their conversation and household, answered and in view."""
    return (
        query.select_from(Answer)
        .join(Conversation, Conversation.id == Answer.conversation_id)
        .join(Household, Household.id == Answer.household_id)
        .where(Answer.status == ANSWERED, *where)
    )


async def _households(session: AsyncSession, where: list[ColumnElement[bool]]) -> tuple[int, int]:
    done = case((Conversation.status == COMPLETED, Conversation.household_id))
    query = (
        select(func.count(distinct(Conversation.household_id)), func.count(distinct(done)))
        .join(Household, Household.id == Conversation.household_id)
        .where(*where)
    )
    row = (await session.execute(query)).one()
    return int(row[0] or 0), int(row[1] or 0)


async def _count(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    choices: list[str],
    free: list[str],
    place: Any,
    by_category: bool,
    *,
    into: Tally,
) -> None:
    """One pass over the answers in view: households per question, place, (category,) and
    value, a free answer counting as one value, so that every breakdown costs one scan."""
    # grouped by its label: PostgreSQL would not match the CASE's parameters twice
    value = case((Answer.question.in_(free), ""), else_=Answer.value) if free else Answer.value
    keys = [Answer.question, place, *([Household.category] if by_category else [])]
    query = _answers(select(*keys, value.label("answer"), func.count()), where)
    # not through the (question, answered_at) index: SQLite would then read the answers
    # table in question order, at random, rather than each conversation's answers together
    asked = _Unindexed(Answer.question).in_([*choices, *free])
    query = query.where(asked).group_by(*keys, "answer")
    opened = set(free)
    for row in await session.execute(query):
        question, group, answer, n = row[0], row[1], row[-2] or "", int(row[-1])
        if question in opened:
            into.open_counts[question] = into.open_counts.get(question, 0) + n
            continue
        _add(into.by_place, question, "" if group is None else str(group), answer, n)
        if by_category:
            _add(into.by_category, question, row[2] or "", answer, n)


def _add(table: dict[str, dict[str, Counts]], question: str, key: str, value: str, n: int) -> None:
    counts = table.setdefault(question, {}).setdefault(key, {})
    counts[value] = counts.get(value, 0) + n


async def _place_names(session: AsyncSession, keys: set[str], *, villages: bool) -> dict[str, str]:
    """Names of the villages (ids) or communes (codes), ordered by name."""
    query: Any
    if villages:
        ids = [int(k) for k in keys if k]
        query = select(Village.id, Village.name).where(Village.id.in_(ids))
    else:
        query = select(Commune.code, Commune.name).where(Commune.code.in_(sorted(keys)))
    rows = sorted(((str(key), name) for key, name in await session.execute(query)), key=_by_name)
    return dict(rows)


def _by_name(item: tuple[str, str]) -> str:
    return item[1].casefold()


def _latest_columns() -> list[Any]:
    return [Household.code, Village.name.label("village"), Answer.value, Answer.answered_at]


async def _latest(
    session: AsyncSession, where: list[ColumnElement[bool]], question: str
) -> list[LatestAnswer]:
    """The newest answers to a free question, read backwards through the (question,
    answered_at) index until enough are in view: for a wide view, where most are."""
    query = (
        _answers(select(*_latest_columns()), where)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(Answer.question == question)
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
        .limit(LATEST)
    )
    rows = await session.execute(query)
    return [LatestAnswer(code, village, value or "", at) for code, village, value, at in rows]


async def _latest_of_few(
    session: AsyncSession, where: list[ColumnElement[bool]], questions: list[str]
) -> dict[str, list[LatestAnswer]]:
    """The newest answers to each free question in a narrow view (a few communes): from the
    households' own answers, all questions at once, numbered within each question. Not
    through the question index, which the planners like but which holds everyone's."""
    newest = (Answer.answered_at.desc(), Answer.id.desc())
    rank = func.row_number().over(partition_by=Answer.question, order_by=newest)
    ranked = (
        _answers(select(Answer.question, *_latest_columns(), rank.label("rank")), where)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(_Unindexed(Answer.question).in_(questions))
        .subquery()
    )
    query = (
        select(ranked.c.question, ranked.c.code, ranked.c.village, ranked.c.value)
        .add_columns(ranked.c.answered_at)
        .where(ranked.c.rank <= LATEST)
        .order_by(ranked.c.question, ranked.c.rank)
    )
    found: dict[str, list[LatestAnswer]] = {}
    for question, code, village, value, at in await session.execute(query):
        found.setdefault(question, []).append(LatestAnswer(code, village, value or "", at))
    return found


class _Unindexed(FunctionElement[Any]):
    """A text column as the planner must not read it through an index: `+col` on SQLite,
    `(col || '')` elsewhere; the value is the same."""

    name = "unindexed"
    inherit_cache = True


@compiles(_Unindexed)
def _concat(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + str(compiler.process(element.clauses, **kw)) + " || '')"


@compiles(_Unindexed, "sqlite")
def _plus(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))
