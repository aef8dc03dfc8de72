"""Reading the register: areas, households and their contacts, for the CLI and the console."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from messages.text import fold
from storage.models import (
    CONTACT_PHONE,
    Commune,
    CommuneAlias,
    Contact,
    District,
    Household,
    Province,
    Village,
)


@dataclass(frozen=True, slots=True)
class CommuneLine:
    """A commune with its province, legacy district, old communes and household count."""

    province_code: str
    province_name: str
    district_code: str | None
    district_name: str | None
    code: str
    name: str
    old_codes: list[str]
    old_names: list[str]
    households: int


@dataclass(frozen=True, slots=True)
class HouseholdLine:
    """A household as the lists show it."""

    code: str
    head_name: str
    commune_code: str
    commune_name: str
    village: str | None
    category: str
    phones: list[str]


async def list_communes(session: AsyncSession) -> list[CommuneLine]:
    """Every commune, ordered by province and code."""
    counts = dict(
        (
            await session.execute(
                select(Household.commune_code, func.count()).group_by(Household.commune_code)
            )
        ).all()
    )
    aliases: dict[str, list[CommuneAlias]] = {}
    for alias in await session.scalars(select(CommuneAlias).order_by(CommuneAlias.id)):
        aliases.setdefault(alias.commune_code, []).append(alias)
    query = (
        select(Commune, Province, District)
        .join(Province, Commune.province_code == Province.code)
        .outerjoin(District, Commune.district_code == District.code)
        .order_by(Province.code, Commune.code)
    )
    lines = []
    for commune, province, district in await session.execute(query):
        old = aliases.get(commune.code, [])
        lines.append(
            CommuneLine(
                province.code,
                province.name,
                district.code if district else None,
                district.name if district else None,
                commune.code,
                commune.name,
                [a.old_code for a in old if a.old_code],
                [a.old_name for a in old if a.old_name],
                counts.get(commune.code, 0),
            )
        )
    return lines


def _household_query(
    *, commune: str | None, village: str | None, category: str | None
) -> Select[Household, Commune, Village]:
    query = (
        select(Household, Commune, Village)
        .join(Commune, Household.commune_code == Commune.code)
        .outerjoin(Village, Household.village_id == Village.id)
        .options(selectinload(Household.contacts))
    )
    if commune:
        query = query.where(Household.commune_code == commune)
    if village:
        query = query.where(Village.name_key == fold(village))
    if category:
        query = query.where(Household.category == category)
    return query


async def list_households(
    session: AsyncSession,
    *,
    commune: str | None = None,
    village: str | None = None,
    category: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[HouseholdLine]:
    """Households matching the filters, ordered by commune and code."""
    query = _household_query(commune=commune, village=village, category=category)
    query = query.order_by(Household.commune_code, Household.code).offset(offset).limit(limit)
    return [_line(h, c, v) for h, c, v in (await session.execute(query))]


async def count_households(
    session: AsyncSession,
    *,
    commune: str | None = None,
    village: str | None = None,
    category: str | None = None,
) -> int:
    """How many households match the filters."""
    query = _household_query(commune=commune, village=village, category=category)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return int(total or 0)


def _line(household: Household, commune: Commune, village: Village | None) -> HouseholdLine:
    phones = [c.address for c in household.contacts if c.kind == CONTACT_PHONE]
    return HouseholdLine(
        household.code,
        household.head_name,
        commune.code,
        commune.name,
        village.name if village else None,
        household.category,
        phones,
    )


@dataclass(frozen=True, slots=True)
class HouseholdCard:
    """Everything the register holds about one household."""

    household: Household
    commune: Commune
    village: Village | None
    deprivations: list[str]

    @property
    def contacts(self) -> Sequence[Contact]:
        """The household's contacts, in order."""
        return self.household.contacts


async def get_household(session: AsyncSession, *, code: str) -> HouseholdCard | None:
    """One household by its code, or None."""
    query = (
        _household_query(commune=None, village=None, category=None)
        .where(Household.code == code)
        .options(selectinload(Household.deprivations))
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    household, commune, village = row
    return HouseholdCard(household, commune, village, [d.indicator for d in household.deprivations])
