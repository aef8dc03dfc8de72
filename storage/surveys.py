"""Storing survey forms, their versions and rounds; reading them back for the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from storage import audit
from storage.models import Conversation, Survey, SurveyRound, SurveyVersion

CREATED = "created"  # a new survey
ADDED = "added"  # a new version of a known survey
UNCHANGED = "unchanged"  # this version was already there, the same


class SurveyError(Exception):
    """A survey operation that cannot go ahead; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class FormVersion:
    """One stored version of a form."""

    id: int
    survey_id: int
    form_id: str
    version: str
    title: str
    definition: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class SurveySummary:
    """A line of `loa survey list`."""

    form_id: str
    title: str
    versions: int
    latest: str
    conversations: dict[str, int]  # status -> count


async def save_version(
    session: AsyncSession,
    *,
    form_id: str,
    title: str,
    version: str,
    definition: dict[str, Any],
    content_hash: str,
    source_name: str,
    actor: audit.Actor,
    now: datetime,
) -> str:
    """Store a form version: CREATED, ADDED or UNCHANGED; SurveyError on a changed version."""
    survey = await session.scalar(select(Survey).where(Survey.form_id == form_id))
    outcome = ADDED
    if survey is None:
        survey = Survey(form_id=form_id, title=title, created_at=now)
        session.add(survey)
        await session.flush()
        outcome = CREATED
    existing = await session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.version == version
        )
    )
    if existing is not None:
        if existing.content_hash == content_hash:
            return UNCHANGED
        message = _(
            "Version {version} of the survey {form_id} is already loaded with other content; "
            "raise the version on the settings sheet and import again."
        )
        raise SurveyError(message.format(version=version, form_id=form_id))
    survey.title = title
    session.add(
        SurveyVersion(
            survey_id=survey.id,
            version=version,
            title=title,
            definition=definition,
            content_hash=content_hash,
            source_name=source_name[:255],
            imported_at=now,
            imported_by=actor.name,
        )
    )
    changes = {"version": [None, version], "source": [None, source_name]}
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="survey_versions",
        key=form_id,
        changes=changes,
    )
    return outcome


async def latest_version(session: AsyncSession, *, form_id: str) -> FormVersion | None:
    """The newest version of a form (the one new conversations start on)."""
    row = (
        await session.execute(
            _version_query().where(Survey.form_id == form_id).order_by(SurveyVersion.id.desc())
        )
    ).first()
    return None if row is None else FormVersion(*row)


async def version_by_id(session: AsyncSession, *, version_id: int) -> FormVersion:
    """A stored version by its id (a running conversation's own version)."""
    row = (await session.execute(_version_query().where(SurveyVersion.id == version_id))).one()
    return FormVersion(*row)


def _version_query() -> Any:
    return select(
        SurveyVersion.id,
        SurveyVersion.survey_id,
        Survey.form_id,
        SurveyVersion.version,
        SurveyVersion.title,
        SurveyVersion.definition,
        SurveyVersion.content_hash,
    ).join(Survey, Survey.id == SurveyVersion.survey_id)


async def list_surveys(session: AsyncSession) -> list[SurveySummary]:
    """Every survey with its version count, newest version and conversations by status."""
    latest = (
        select(SurveyVersion.survey_id, func.max(SurveyVersion.id).label("last"), func.count())
        .group_by(SurveyVersion.survey_id)
        .subquery()
    )
    rows = await session.execute(
        select(Survey.id, Survey.form_id, Survey.title, latest.c[2], SurveyVersion.version)
        .join(latest, latest.c.survey_id == Survey.id)
        .join(SurveyVersion, SurveyVersion.id == latest.c.last)
        .order_by(Survey.form_id)
    )
    counts: dict[int, dict[str, int]] = {}
    tally = await session.execute(
        select(SurveyVersion.survey_id, Conversation.status, func.count())
        .join(Conversation, Conversation.version_id == SurveyVersion.id)
        .group_by(SurveyVersion.survey_id, Conversation.status)
    )
    for survey_id, status, count in tally:
        counts.setdefault(survey_id, {})[status] = count
    return [
        SurveySummary(form_id, title, n, version, counts.get(survey_id, {}))
        for survey_id, form_id, title, n, version in rows
    ]


async def newest_open(session: AsyncSession, *, survey_id: int) -> int | None:
    """The survey's newest open round: the one new conversations start in."""
    found: int | None = await session.scalar(
        select(SurveyRound.id)
        .where(SurveyRound.survey_id == survey_id, SurveyRound.closed_at.is_(None))
        .order_by(SurveyRound.id.desc())
        .limit(1)
    )
    return found


async def open_round(session: AsyncSession, *, survey_id: int, title: str, now: datetime) -> int:
    """The survey's open round, opened now if there is none."""
    round_id = await newest_open(session, survey_id=survey_id)
    if round_id is not None:
        return round_id
    new = SurveyRound(survey_id=survey_id, title=title, opened_at=now)
    session.add(new)
    await session.flush()
    return new.id
