"""Instalments as the console lists them: due soon (reminders ahead) and overdue, in scope.

Both lists read unpaid instalments through the index `ix_instalments_due_paid (due_on,
paid_on)`: a window of due days for the upcoming ones, the days before today for the overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.loans import transaction_before
from storage.models import Commune, Household, Instalment, Loan, Village
from storage.scope import Scope


@dataclass(frozen=True)
class InstalmentLine:
    """An unpaid instalment with its household and where it is paid."""

    id: int
    household_code: str
    head_name: str
    commune_name: str
    village: str | None
    programme: str  # a code of storage.vocab.LOAN_PROGRAMMES
    due_on: date
    principal: int
    interest: int
    group_name: str | None
    transaction_day: int | None
    transaction_place: str | None
    overdue_at: datetime | None

    @property
    def amount(self) -> int:
        """What is due that day: principal and interest."""
        return self.principal + self.interest

    @property
    def transaction_date(self) -> date | None:
        """The commune's transaction day on or before the due date (None without one)."""
        if self.transaction_day is None:
            return None
        return transaction_before(self.transaction_day, self.due_on, inclusive=True)


@dataclass(frozen=True)
class Place:
    """Where to look: the user's scope, and a commune or village filter."""

    scope: Scope
    commune_code: str | None = None
    village_id: int | None = None


def _query(columns: Any, place: Place) -> Any:
    query = (
        select(*columns)
        .select_from(Instalment)
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(Household, Household.id == Loan.household_id)
        .where(Instalment.paid_on.is_(None), place.scope.households())
    )
    if place.commune_code is not None:
        query = query.where(Household.commune_code == place.commune_code)
    if place.village_id is not None:
        query = query.where(Household.village_id == place.village_id)
    return query


_COLUMNS = (
    Instalment.id,
    Household.code,
    Household.head_name,
    Commune.name,
    Village.name,
    Loan.programme,
    Instalment.due_on,
    Instalment.principal,
    Instalment.interest,
    Loan.group_name,
    Commune.transaction_day,
    Commune.transaction_place,
    Instalment.overdue_at,
)


async def _page(
    session: AsyncSession, place: Place, window: Any, *, newest_first: bool, offset: int, limit: int
) -> tuple[list[InstalmentLine], int]:
    query = (
        _query(_COLUMNS, place)
        .join(Commune, Commune.code == Household.commune_code)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(*window)
    )
    due = Instalment.due_on.desc() if newest_first else Instalment.due_on
    rows = await session.execute(
        query.order_by(due, Household.code, Instalment.id).offset(offset).limit(limit)
    )
    total = await session.scalar(_query([func.count()], place).where(*window))
    return [InstalmentLine(*row) for row in rows.all()], int(total or 0)


async def upcoming(
    session: AsyncSession,
    place: Place,
    *,
    today: date,
    until: date,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[InstalmentLine], int]:
    """Unpaid instalments due from today to `until`, soonest first; one page and the count."""
    window = (Instalment.due_on >= today, Instalment.due_on <= until)
    return await _page(session, place, window, newest_first=False, offset=offset, limit=limit)


async def overdue(
    session: AsyncSession, place: Place, *, today: date, offset: int = 0, limit: int = 50
) -> tuple[list[InstalmentLine], int]:
    """Unpaid instalments whose due date has passed, most recently due first."""
    window = (Instalment.due_on < today,)
    return await _page(session, place, window, newest_first=True, offset=offset, limit=limit)


async def villages(session: AsyncSession, *, scope: Scope) -> list[tuple[int, str, str, str]]:
    """The villages the user may see: (id, name, commune code, commune name)."""
    query = (
        select(Village.id, Village.name, Commune.code, Commune.name)
        .join(Commune, Commune.code == Village.commune_code)
        .where(scope.where(Village.commune_code))
        .order_by(Commune.name, Village.name)
    )
    return [(i, n, c, cn) for i, n, c, cn in await session.execute(query)]
