"""What a message to a household needs to know of it: name, code, village, commune."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, Village


@dataclass(frozen=True)
class Recipient:
    """A household as a text addresses it."""

    household_id: int
    code: str
    head_name: str
    village: str
    commune: str
    commune_code: str


async def recipients(session: AsyncSession, *, household_ids: Iterable[int]) -> list[Recipient]:
    """The households asked for, in id order (those that no longer exist are left out)."""
    ids = sorted(set(household_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(
            Household.id,
            Household.code,
            Household.head_name,
            Village.name,
            Commune.name,
            Household.commune_code,
        )
        .join(Commune, Commune.code == Household.commune_code)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(Household.id.in_(ids))
        .order_by(Household.id)
    )
    return [
        Recipient(hid, code, head, village or "", commune, commune_code)
        for hid, code, head, village, commune, commune_code in rows
    ]
