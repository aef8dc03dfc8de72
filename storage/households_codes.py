"""Households and their one-time registration codes, for the slips the commune prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, RegistrationCode, Village
from storage.registrations import codes_for

BATCH = 1000  # households per query: well under every backend's limit on bound parameters


@dataclass(frozen=True)
class SlipHousehold:
    """A household as its slip shows it."""

    id: int
    code: str
    head_name: str
    commune_code: str
    village: str | None


async def commune_exists(session: AsyncSession, *, code: str) -> bool:
    """Whether a commune has this code."""
    return await session.get(Commune, code) is not None


async def slip_households(session: AsyncSession, *, commune: str | None) -> list[SlipHousehold]:
    """Every household (of COMMUNE if given), by commune, village and code: slips by village."""
    query = (
        select(
            Household.id, Household.code, Household.head_name, Household.commune_code, Village.name
        )
        .outerjoin(Village, Village.id == Household.village_id)
        .order_by(Household.commune_code, Village.name.is_(None), Village.name, Household.code)
    )
    if commune:
        query = query.where(Household.commune_code == commune)
    return [SlipHousehold(*row) for row in await session.execute(query)]


async def issue_codes(
    session: AsyncSession, *, household_ids: Sequence[int], now: datetime
) -> tuple[dict[int, str], int]:
    """An unused code for each household (the one it has, or a new one), and how many are new."""
    codes: dict[int, str] = {}
    fresh = 0
    for start in range(0, len(household_ids), BATCH):
        batch = household_ids[start : start + BATCH]
        have = await session.scalar(
            select(func.count(func.distinct(RegistrationCode.household_id))).where(
                RegistrationCode.household_id.in_(batch), RegistrationCode.used_at.is_(None)
            )
        )
        codes.update(await codes_for(session, household_ids=batch, now=now))
        fresh += len(batch) - (have or 0)
    return codes, fresh
