"""What a message to a household needs to know of it: name, code, village, commune."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, Village

_HOUSEHOLDS = cast(Table, Household.__table__)
_VILLAGES = cast(Table, Village.__table__)
_COMMUNES = cast(Table, Commune.__table__)


# slots, not frozen: a broadcast makes 100,000 (a frozen init costs six times more)
@dataclass(slots=True)
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
    h, v, c = _HOUSEHOLDS.c, _VILLAGES.c, _COMMUNES.c  # tables: no ORM row processing
    rows = await session.execute(
        select(h.id, h.code, h.head_name, v.name, c.name, h.commune_code)
        .select_from(_HOUSEHOLDS.join(_COMMUNES, c.code == h.commune_code))
        .outerjoin(_VILLAGES, v.id == h.village_id)
        .where(h.id.in_(ids))
        .order_by(h.id)
    )
    return [
        Recipient(hid, code, head, village or "", commune, commune_code)
        for hid, code, head, village, commune, commune_code in rows
    ]
