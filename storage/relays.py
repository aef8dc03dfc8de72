"""Relays: households no channel reaches get the text by hand, from a village relay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, Relay, Village

_RELAYS = cast(Table, Relay.__table__)


@dataclass(frozen=True)
class NewRelay:
    """A household to reach by hand for one source (a broadcast, an event...)."""

    source_kind: str
    source_id: int
    household_id: int
    text: str


@dataclass(frozen=True)
class RelayLine:
    """A line of the relay list, as village heads get it."""

    id: int
    commune: str
    village: str
    household_code: str
    head_name: str
    text: str
    delivered_at: datetime | None
    delivered_by: str | None


async def add(session: AsyncSession, relays: Sequence[NewRelay], *, now: datetime) -> None:
    """Put households on a source's relay list; one already on it stays as it is."""
    if not relays:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        upsert(_RELAYS).on_conflict_do_nothing(
            index_elements=["source_kind", "source_id", "household_id"]
        ),
        [
            {
                "source_kind": r.source_kind,
                "source_id": r.source_id,
                "household_id": r.household_id,
                "text": r.text,
                "created_at": now,
            }
            for r in relays
        ],
    )


async def lines(session: AsyncSession, *, sources: Sequence[tuple[str, int]]) -> list[RelayLine]:
    """The relay list of these sources, by commune, village and household code."""
    if not sources:
        return []
    wanted = [(Relay.source_kind == kind) & (Relay.source_id == sid) for kind, sid in sources]
    condition = wanted[0]
    for more in wanted[1:]:
        condition = condition | more
    rows = await session.execute(
        select(
            Relay.id,
            Commune.name,
            Village.name,
            Household.code,
            Household.head_name,
            Relay.text,
            Relay.delivered_at,
            Relay.delivered_by,
        )
        .join(Household, Household.id == Relay.household_id)
        .join(Commune, Commune.code == Household.commune_code)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(condition)
        .order_by(Commune.name, Village.name, Household.code, Relay.id)
    )
    return [
        RelayLine(i, commune, village or "", code, head, text, at, by)
        for i, commune, village, code, head, text, at, by in rows
    ]


async def delivered(
    session: AsyncSession,
    *,
    sources: Sequence[tuple[str, int]],
    household_id: int,
    by: str,
    note: str | None,
    now: datetime,
) -> int:
    """Record that a relay gave the household its text; how many relay lines that closed."""
    total = 0
    for kind, sid in sources:
        result = await session.execute(
            update(_RELAYS)
            .where(
                _RELAYS.c.source_kind == kind,
                _RELAYS.c.source_id == sid,
                _RELAYS.c.household_id == household_id,
                _RELAYS.c.delivered_at.is_(None),
            )
            .values(delivered_at=now, delivered_by=by, note=note)
        )
        total += cast(int, getattr(result, "rowcount", 0) or 0)
    return total
