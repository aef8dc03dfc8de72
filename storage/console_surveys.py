"""Surveys as the console and the API list them: forms, versions, rounds and their counts.

A form is not tied to an area, so every user sees every survey; the counts (households asked
and households that completed) are limited to the user's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from storage import audiences
from storage.audiences import Audience, AudienceError
from storage.console_results import View
from storage.models import (
    Commune,
    Conversation,
    Household,
    Survey,
    SurveyRound,
    SurveyVersion,
    Village,
)
from storage.models.surveys import COMPLETED
from storage.scope import Scope

OPEN = "open"  # answers still come in
CLOSED = "closed"  # the deadline passed and the round was closed
ONE_BY_ONE = "one_by_one"  # households asked one at a time (`loa survey start --household`)


@dataclass(frozen=True, slots=True)
class RoundLine:
    """A round of a survey with the households of the scope asked and those that finished."""

    id: int
    title: str
    audience: str | None
    opened_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    asked: int
    answered: int

    @property
    def status(self) -> str:
        if self.closed_at is not None:
            return CLOSED
        return OPEN if self.audience is not None else ONE_BY_ONE


@dataclass(frozen=True, slots=True)
class VersionLine:
    """One imported version of a form."""

    id: int
    version: str
    title: str
    source_name: str
    imported_at: datetime
    imported_by: str


@dataclass(frozen=True, slots=True)
class SurveyLine:
    """A survey with its newest version and its rounds, newest first."""

    id: int
    form_id: str
    title: str
    latest: str
    versions: int
    rounds: list[RoundLine]

    @property
    def asked(self) -> int:
        return sum(r.asked for r in self.rounds)

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.rounds)


async def count_surveys(session: AsyncSession) -> int:
    """How many surveys are loaded."""
    return int(await session.scalar(select(func.count()).select_from(Survey)) or 0)


async def list_surveys(
    session: AsyncSession, *, scope: Scope, offset: int = 0, limit: int | None = None
) -> list[SurveyLine]:
    """Surveys by form id with their rounds and the scope's counts."""
    latest = (
        select(
            SurveyVersion.survey_id,
            func.max(SurveyVersion.id).label("last"),
            func.count().label("n"),
        )
        .group_by(SurveyVersion.survey_id)
        .subquery()
    )
    query = (
        select(Survey.id, Survey.form_id, Survey.title, SurveyVersion.version, latest.c.n)
        .join(latest, latest.c.survey_id == Survey.id)
        .join(SurveyVersion, SurveyVersion.id == latest.c.last)
        .order_by(Survey.form_id)
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    rounds = await _rounds(session, scope=scope, survey_ids=[row[0] for row in rows])
    return [
        SurveyLine(sid, form_id, title, version, n, rounds.get(sid, []))
        for sid, form_id, title, version, n in rows
    ]


async def get_survey(
    session: AsyncSession, *, survey_id: int, scope: Scope, counts: bool = True
) -> SurveyLine | None:
    """One survey, or None; without COUNTS its rounds' households are not counted (0)."""
    found = await session.get(Survey, survey_id)
    if found is None:
        return None
    versions = await list_versions(session, survey_id=survey_id)
    rounds = await _rounds(session, scope=scope, survey_ids=[survey_id], counts=counts)
    latest = versions[0].version if versions else ""
    return SurveyLine(
        found.id, found.form_id, found.title, latest, len(versions), rounds.get(survey_id, [])
    )


async def list_versions(session: AsyncSession, *, survey_id: int) -> list[VersionLine]:
    """The survey's versions, newest first."""
    rows = await session.execute(
        select(
            SurveyVersion.id,
            SurveyVersion.version,
            SurveyVersion.title,
            SurveyVersion.source_name,
            SurveyVersion.imported_at,
            SurveyVersion.imported_by,
        )
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.id.desc())
    )
    return [VersionLine(*row) for row in rows]


async def latest_definition(session: AsyncSession, *, survey_id: int) -> dict[str, Any] | None:
    """The newest version's form (Loa's JSON model), or None."""
    found: dict[str, Any] | None = await session.scalar(
        select(SurveyVersion.definition)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.id.desc())
        .limit(1)
    )
    return found


async def survey_id_of(session: AsyncSession, *, form_id: str) -> int | None:
    """The id of the survey with this form id."""
    found: int | None = await session.scalar(select(Survey.id).where(Survey.form_id == form_id))
    return found


async def _rounds(
    session: AsyncSession, *, scope: Scope, survey_ids: list[int], counts: bool = True
) -> dict[int, list[RoundLine]]:
    """Each survey's rounds, newest first, with households asked and completed in scope."""
    if not survey_ids:
        return {}
    tallied = await _round_counts(session, scope=scope, survey_ids=survey_ids) if counts else {}
    rows = await session.execute(
        select(
            SurveyRound.survey_id,
            SurveyRound.id,
            SurveyRound.title,
            SurveyRound.audience,
            SurveyRound.opened_at,
            SurveyRound.deadline,
            SurveyRound.closed_at,
        )
        .where(SurveyRound.survey_id.in_(survey_ids))
        .order_by(SurveyRound.id.desc())
    )
    found: dict[int, list[RoundLine]] = {}
    for survey_id, rid, title, audience, opened, deadline, closed in rows:
        asked, answered = tallied.get(rid, (0, 0))
        line = RoundLine(rid, title, audience, opened, deadline, closed, asked, answered)
        found.setdefault(survey_id, []).append(line)
    return found


async def _round_counts(
    session: AsyncSession, *, scope: Scope, survey_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Round id -> households of the scope asked, and those that completed the survey."""
    done = case((Conversation.status == COMPLETED, Conversation.household_id))
    tally = (
        select(
            Conversation.round_id,
            func.count(distinct(Conversation.household_id)).label("asked"),
            func.count(distinct(done)).label("answered"),
        )
        .join(Household, Household.id == Conversation.household_id)
        .join(SurveyRound, SurveyRound.id == Conversation.round_id)
        .where(SurveyRound.survey_id.in_(survey_ids), scope.households())
        .group_by(Conversation.round_id)
    )
    return {
        rid: (int(asked), int(answered)) for rid, asked, answered in await session.execute(tally)
    }


async def scoped_audience(session: AsyncSession, text: str, *, scope: Scope) -> Audience:
    """The audience TEXT, checked against the store and held inside the scope: a user who
    covers some communes only asks their households (AudienceError otherwise)."""
    audience = await audiences.resolve(session, text)
    if scope.communes is None:
        return audience
    if not scope.communes:
        raise AudienceError(_("Your account covers no commune yet; ask an administrator."))
    outside = [code for code in audience.communes if code not in scope.communes]
    if outside:
        message = _("These communes are outside your areas: {codes}.")
        raise AudienceError(message.format(codes=", ".join(outside)))
    if audience.villages:
        rows = await session.execute(
            select(Village.code, Village.commune_code).where(Village.code.in_(audience.villages))
        )
        if away := sorted(code for code, commune in rows if commune not in scope.communes):
            message = _("These villages are outside your areas: {codes}.")
            raise AudienceError(message.format(codes=", ".join(away)))
    if audience.communes:
        return audience
    mine = tuple(sorted(scope.communes))
    if audience.everyone:
        return Audience(communes=mine)
    return replace(audience, communes=mine)


async def results_view(
    session: AsyncSession,
    *,
    survey_id: int,
    scope: Scope,
    round_id: int | None,
    commune: str | None,
) -> View | None:
    """The results' filters, checked: None for a round of another survey, or a commune that
    does not exist or lies outside the scope (both answer 404)."""
    if round_id is not None:
        found = await session.scalar(
            select(SurveyRound.id).where(
                SurveyRound.id == round_id, SurveyRound.survey_id == survey_id
            )
        )
        if found is None:
            return None
    if commune is not None:
        known = await session.scalar(select(Commune.code).where(Commune.code == commune))
        if known is None or not scope.allows(commune):
            return None
    return View(scope, round_id, commune)
