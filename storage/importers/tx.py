"""One transaction per import: committed, or rolled back on a dry run or any error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from storage.importers.report import ImportReport


@asynccontextmanager
async def all_or_nothing(
    session: AsyncSession, report: ImportReport, *, dry_run: bool
) -> AsyncIterator[None]:
    """Run the body in one transaction; keep it only when it succeeds and is not a dry run."""
    try:
        yield
    except BaseException:
        await session.rollback()
        raise
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
        report.applied = True
