"""The matrix's world: one record of every placeholder kind per commune, and store snapshots.

Not a PROBES module (the leading underscore keeps the harness from collecting it). Records are
written through the started app's own session factory, on its event loop (`portal.call`), so
they work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Base,
    Broadcast,
    Contact,
    Event,
    FollowUp,
    Household,
    Instalment,
    Loan,
    Message,
    StaffArea,
    Survey,
    SurveyRound,
)
from tests.conftest import NOW

PLACEHOLDERS = (
    "household",
    "followup",
    "message",
    "broadcast",
    "event",
    "commune",
    "village",
    "instalment",
    "staff",  # a staff user (not an admin) whose areas include the commune
    "survey",  # a survey id: surveys are shared by every commune, their answers are not
    "round",  # a round of that survey (started for every household)
)
SHARED = {"survey", "round"}  # the same record for every commune: no "other commune's" version
# Columns a request may touch without changing anything a person would call data.
VOLATILE = {("api_tokens", "last_used_at")}
_serial = itertools.count(1)

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Home:
    """The household (with a phone) the records of a commune belong to."""

    household_id: int
    code: str
    village_id: int
    contact_id: int
    phone: str


async def _home(session: AsyncSession, commune: str) -> Home:
    row = (
        await session.execute(
            select(Household.id, Household.code, Household.village_id, Contact.id, Contact.address)
            .join(Contact, Contact.household_id == Household.id)
            .where(
                Household.commune_code == commune,
                Household.village_id.is_not(None),
                Contact.kind == "phone",
            )
            .order_by(Household.code, Contact.position)
            .limit(1)
        )
    ).first()
    assert row is not None, f"no household with a phone in commune {commune}"
    return Home(row[0], row[1], row[2], row[3], row[4])


def _rows(home: Home, commune: str, n: int) -> dict[str, Any]:
    """New ORM rows of every kind for one household of the commune."""
    stamps = {"created_at": NOW, "updated_at": NOW}
    return {
        "followup": FollowUp(
            household_id=home.household_id,
            kind="needs_help",
            priority="normal",
            status="open",
            note=f"Hộ nhờ cán bộ đến hướng dẫn điền phiếu (lần {n}).",
            **stamps,
        ),
        "message": Message(
            direction="in",
            channel="console",
            address=home.phone,
            household_id=home.household_id,
            contact_id=home.contact_id,
            kind="free_text",
            text=f"Cho hỏi lịch phát gạo ạ ({n})",
            status="received",
            **stamps,
        ),
        "broadcast": Broadcast(
            title=f"Thông báo {n}",
            text="Kính gửi {ho_ten}: họp thôn tối thứ Bảy.",
            audience=f"commune={commune}",
            send_at=NOW + timedelta(days=1),
            status="pending_approval",
            households=100,
            communes=[commune],
            needs_approval=True,
            created_by="assistant",
            **stamps,
        ),
        "event": Event(
            kind="meeting",
            title=f"Họp đối thoại {n}",
            commune_code=commune,
            starts_at=NOW + timedelta(days=7),
            place="Nhà văn hoá thôn",
            audience=f"commune={commune}",
            status="planned",
            details={},
            created_by="assistant",
            **stamps,
        ),
    }


async def make_records(sessions: Sessions, commune: str) -> dict[str, str]:
    """A new record of every kind in the commune: placeholder -> value for the paths."""
    n = next(_serial)
    async with sessions() as session:
        home = await _home(session, commune)
        rows = _rows(home, commune, n)
        session.add_all(rows.values())
        loan = Loan(
            household_id=home.household_id,
            programme="ho_ngheo",
            amount=30_000_000,
            disbursed_on=date(2020, 1, 1) + timedelta(days=n),
            source_name="matrix",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(loan)
        await session.flush()
        instalment = Instalment(
            loan_id=loan.id,
            due_on=date(2026, 11, 26),
            principal=1_000_000,
            interest=150_000,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(instalment)
        await session.flush()
        values = {kind: str(row.id) for kind, row in rows.items()}
        colleague = await session.scalar(
            select(func.min(StaffArea.staff_id)).where(
                StaffArea.level == "commune", StaffArea.code == commune
            )
        )
        survey = await session.scalar(select(func.min(Survey.id)))
        round_ = await session.scalar(select(func.min(SurveyRound.id)))
        await session.commit()
    return {
        **values,
        "staff": str(colleague or 0),
        "survey": str(survey or 0),
        "round": str(round_ or 0),
        "household": home.code,
        "commune": commune,
        "village": str(home.village_id),
        "instalment": str(instalment.id),
    }


async def snapshot(sessions: Sessions) -> dict[str, str]:
    """A digest of every table's rows: equal snapshots mean nothing was written."""
    digests: dict[str, str] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if (table.name, c.name) not in VOLATILE]
            order = list(table.primary_key.columns) or columns
            rows = (await session.execute(select(*columns).order_by(*order))).all()
            digests[table.name] = hashlib.sha1(repr(rows).encode()).hexdigest()
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose rows differ between two snapshots."""
    return sorted(name for name in before if before[name] != after.get(name))
