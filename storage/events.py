"""Events in the store: invitations and registrations (more arrives with the events commands)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EventRegistration
from storage.models.events import INVITED

_REGISTRATIONS = cast(Table, EventRegistration.__table__)


async def invite(
    session: AsyncSession, *, event_id: int, household_ids: Sequence[int], now: datetime
) -> None:
    """Note that these households were told of the event; one already on its list stays."""
    if not household_ids:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        upsert(_REGISTRATIONS).on_conflict_do_nothing(index_elements=["event_id", "household_id"]),
        [
            {"event_id": event_id, "household_id": h, "status": INVITED, "invited_at": now}
            for h in household_ids
        ],
    )
