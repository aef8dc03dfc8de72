"""Which rows of an import file reach outside a user's communes; read only, nothing written.

The console runs this before an import by a user who does not see every commune: a household
list may only name the user's communes and may not move a household registered elsewhere; a
loan or repayment list may only name households of the user's communes. Rows the importer would
reject anyway (a bad value, an unknown household) are left to its report.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.importers.household_rows import RowChecker, read_household_rows
from storage.importers.loan_rows import (
    LoanRowChecker,
    RepaymentRowChecker,
    read_loan_rows,
    read_repayment_rows,
)
from storage.importers.places import CommuneIndex
from storage.importers.report import ImportReport
from storage.importers.sheets import read_rows
from storage.models import Household
from storage.scope import Scope

BATCH = 2000


async def _communes_of(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The commune of each stored household among these codes."""
    found: dict[str, str] = {}
    ordered = sorted(set(codes))
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start : start + BATCH]
        rows = await session.execute(
            select(Household.code, Household.commune_code).where(Household.code.in_(chunk))
        )
        found.update((code, commune) for code, commune in rows)
    return found


async def household_rows_outside(
    session: AsyncSession, path: Path, *, scope: Scope, today: date
) -> list[int]:
    """Rows of a household list naming a commune outside the scope, or a household code the
    store has in a commune outside it (ImportFileError for a file that cannot be read)."""
    if scope.everything:
        return []
    communes = await CommuneIndex.load(session)
    checker = RowChecker(communes, ImportReport(path), today)
    rows = read_household_rows(path, checker, read_rows(path))
    stored = await _communes_of(session, (row.code for row in rows))
    await session.rollback()  # end the read-only transaction before the import's own
    return sorted(
        row.row
        for row in rows
        if not scope.allows(row.commune_code)
        or (row.code in stored and not scope.allows(stored[row.code]))
    )


async def loan_rows_outside(
    session: AsyncSession, path: Path, *, scope: Scope, today: date, repayments: bool = False
) -> list[int]:
    """Rows of a loan (or repayment) list whose household the store has in a commune outside
    the scope (ImportFileError for a file that cannot be read)."""
    if scope.everything:
        return []
    report = ImportReport(path)
    if repayments:
        lines = [
            (r.row, r.household)
            for r in read_repayment_rows(path, RepaymentRowChecker(report, today), read_rows(path))
        ]
    else:
        lines = [
            (r.row, r.household)
            for r in read_loan_rows(path, LoanRowChecker(report, today), read_rows(path))
        ]
    stored = await _communes_of(session, (code for _row, code in lines))
    await session.rollback()
    return sorted(row for row, code in lines if code in stored and not scope.allows(stored[code]))
