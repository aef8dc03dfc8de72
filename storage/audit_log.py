"""Reading the audit log: newest first, filtered, in keyset pages (it can hold millions of rows).

Ids follow time (rows are only appended), so a date range becomes a range of ids found by
bisection on the primary key: about twenty look-ups for millions of rows, where a filter on
`at` alone would read every row newer than the range. The id range is widened by SLACK on
both sides (several processes commit a little out of order) and `at` is still checked, so a
row is never shown outside the range; only a row written with a clock moved by more than
SLACK (a replayed scheduler pass) can be missed by a range that should hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Base

PAGE = 50
SLACK = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One change as the audit page shows it."""

    id: int
    at: datetime
    actor: str
    source: str
    action: str
    entity: str
    key: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the reader asked for; None means any."""

    actor: str | None = None
    entity: str | None = None
    since: datetime | None = None  # from this moment (inclusive)
    until: datetime | None = None  # up to this moment (exclusive)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """A page of changes, newest first, and the keys to the pages beside it."""

    lines: list[AuditLine]
    older: int | None  # pass as `before` for the next (older) page
    newer: int | None  # pass as `after` for the previous (newer) page


def entities() -> list[str]:
    """The tables a change can be about (the filter's choices), without reading the log."""
    return sorted(table.name for table in Base.metadata.sorted_tables)


async def _first_id_from(session: AsyncSession, moment: datetime) -> int | None:
    """The smallest id written at or after `moment`, or None when every row is older."""
    low = await session.scalar(select(func.min(AuditEntry.id)))
    last = await session.scalar(select(func.max(AuditEntry.id)))
    if low is None or last is None:
        return None
    high = last + 1  # the answer lies in [low, high]; high means "none"
    while low < high:
        middle = (low + high) // 2
        row = (
            await session.execute(
                select(AuditEntry.id, AuditEntry.at)
                .where(AuditEntry.id >= middle)
                .order_by(AuditEntry.id)
                .limit(1)
            )
        ).first()
        if row is None or row.at >= moment:
            high = middle
        else:
            low = row.id + 1
    return low if low <= last else None


async def _filtered(session: AsyncSession, wanted: AuditFilter) -> Select[Any] | None:
    """The filtered query, or None when the range holds no row at all."""
    query = select(AuditEntry)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.entity:
        query = query.where(AuditEntry.entity == wanted.entity)
    if wanted.since is not None:
        first = await _first_id_from(session, wanted.since - SLACK)
        if first is None:
            return None
        query = query.where(AuditEntry.id >= first, AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        end = await _first_id_from(session, wanted.until + SLACK)
        if end is not None:
            query = query.where(AuditEntry.id < end)
        query = query.where(AuditEntry.at < wanted.until)
    return query


def _line(row: AuditEntry) -> AuditLine:
    changes = row.changes if isinstance(row.changes, dict) else {"": row.changes}
    return AuditLine(
        row.id, row.at, row.actor, row.source, row.action, row.entity, row.entity_key, changes
    )


async def read(
    session: AsyncSession,
    wanted: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE,
) -> AuditPage:
    """A page of changes, newest first: those older than `before`, or newer than `after`."""
    query = await _filtered(session, wanted)
    if query is None:
        return AuditPage([], None, None)
    if after is not None:  # the page above: read upwards, then show newest first
        rows = list(
            await session.scalars(
                query.where(AuditEntry.id > after).order_by(AuditEntry.id).limit(limit + 1)
            )
        )
        more_newer = len(rows) > limit
        lines = [_line(r) for r in reversed(rows[:limit])]
        older = lines[-1].id if lines else None
        return AuditPage(lines, older, lines[0].id if lines and more_newer else None)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    lines = [_line(r) for r in rows[:limit]]
    older = lines[-1].id if len(rows) > limit else None
    newer = lines[0].id if lines and before is not None else None
    return AuditPage(lines, older, newer)
