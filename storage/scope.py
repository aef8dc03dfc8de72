"""What a staff user may see: the communes their areas cover, as one value every query takes.

Admins see everything (`communes is None`). Officers and assistants see the communes inside the
provinces, legacy districts and communes they are assigned to; a record outside them does not
exist for them (the console and the API answer 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, StaffArea


@dataclass(frozen=True, slots=True)
class Scope:
    """The communes a user may see; None means all of them (an admin)."""

    communes: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.communes is None

    def allows(self, commune_code: str | None) -> bool:
        """Whether a record of this commune is visible; records with no commune are admin-only."""
        if self.communes is None:
            return True
        return commune_code is not None and commune_code in self.communes

    def where(self, column: Any) -> ColumnElement[bool]:
        """A condition keeping rows whose commune code column is in the scope."""
        if self.communes is None:
            return true()
        if not self.communes:
            return false()
        return column.in_(sorted(self.communes))  # type: ignore[no-any-return]

    def households(self) -> ColumnElement[bool]:
        """A condition on `households.commune_code`."""
        return self.where(Household.commune_code)


EVERYTHING = Scope(None)


async def scope_of(session: AsyncSession, *, staff_id: int, role: str) -> Scope:
    """The communes a staff user's assigned areas cover."""
    if role == "admin":
        return EVERYTHING
    areas = (
        await session.execute(
            select(StaffArea.level, StaffArea.code).where(StaffArea.staff_id == staff_id)
        )
    ).all()
    conditions = []
    for level, code in areas:
        column = {
            "province": Commune.province_code,
            "district": Commune.district_code,
            "commune": Commune.code,
        }[level]
        conditions.append(column == code)
    if not conditions:
        return Scope(frozenset())
    codes = await session.scalars(select(Commune.code).where(or_(*conditions)))
    return Scope(frozenset(codes))


async def communes_in(
    session: AsyncSession, *, scope: Scope, by_code: bool = False
) -> list[tuple[str, str]]:
    """(code, name) of the communes the scope covers, by name (or by code): the pages'
    commune filters and the overview's rows."""
    order = (Commune.code,) if by_code else (Commune.name, Commune.code)
    query = select(Commune.code, Commune.name).where(scope.where(Commune.code)).order_by(*order)
    return [(code, name) for code, name in await session.execute(query)]
