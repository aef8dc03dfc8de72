"""Instalments for the scheduler: the reminders due on a day, and the newly overdue, once.

The VBSP transaction day is a day of the month (Commune.transaction_day); in a month shorter
than it, it falls on the month's last day. A reminder on the transaction day covers the
instalments due after it and within the reminder period (up to the furthest offset), so an
instalment gets at most one transaction-day reminder.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, and_, case, exists, false, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Household, Instalment, Loan, Message

_INSTALMENTS = cast(Table, Instalment.__table__)
TX = "tx"  # the kind of the transaction-day reminder; the others are d7, d3...


@dataclass(frozen=True)
class DueInstalment:
    """An unpaid instalment with what a reminder about it says."""

    id: int
    household_id: int
    programme: str  # a code of storage.vocab.LOAN_PROGRAMMES
    due_on: date
    principal: int
    interest: int
    group_name: str | None
    group_head_phone: str | None  # E.164
    transaction_day: int | None
    transaction_place: str | None
    on_transaction_day: bool = False  # today is the transaction day this reminder is for

    def kind(self, today: date) -> str:
        """The reminder kind today: tx, or dN for N days before the due date."""
        return TX if self.on_transaction_day else f"d{(self.due_on - today).days}"


def reminder_key(instalment_id: int, kind: str) -> str:
    """The de-duplication key of a reminder (or the overdue notice) about an instalment."""
    return f"loan{instalment_id}.{kind}"


def transaction_date(day: int, year: int, month: int) -> date:
    """The transaction day in a month: the day itself, or the month's last day if shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_after(value: date, months: int) -> tuple[int, int]:
    index = value.year * 12 + value.month - 1 + months
    return index // 12, index % 12 + 1


def transaction_before(day: int, due: date, *, inclusive: bool = False) -> date:
    """The latest transaction day before `due` (or on it, if `inclusive`)."""
    this = transaction_date(day, due.year, due.month)
    if this < due or (inclusive and this == due):
        return this
    return transaction_date(day, *_month_after(due, -1))


def transaction_windows(today: date, longest: int) -> list[tuple[int, date]]:
    """The transaction days that fall today, each with the last due date its reminder covers:
    within the reminder period, and before that commune's next transaction day."""
    windows = []
    for day in range(1, 32):
        if transaction_date(day, today.year, today.month) == today:
            following = transaction_date(day, *_month_after(today, 1))
            windows.append((day, min(today + timedelta(days=longest), following)))
    return windows


def _columns() -> tuple[Any, ...]:
    return (
        Instalment.id,
        Loan.household_id,
        Loan.programme,
        Instalment.due_on,
        Instalment.principal,
        Instalment.interest,
        Loan.group_name,
        Loan.group_head_phone,
        Commune.transaction_day,
        Commune.transaction_place,
    )


def _due(row: Any, on_transaction_day: Any = False) -> DueInstalment:
    found = DueInstalment(*row[:10])
    return replace(found, on_transaction_day=True) if on_transaction_day else found


def _joined(query: Any) -> Any:
    return (
        query.select_from(Instalment)
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(Household, Household.id == Loan.household_id)
        .join(Commune, Commune.code == Household.commune_code)
    )


def _not_queued(today: date, offsets: Sequence[int], on_tx: Any) -> Any:
    """No message with this reminder's key exists yet (a pass re-run later the same day)."""
    by_day = {today + timedelta(days=n): literal(f".d{n}") for n in offsets}
    suffix = case((on_tx, literal(f".{TX}")), else_=case(by_day, value=Instalment.due_on))
    key = literal("loan") + Instalment.id.cast(String) + suffix
    return ~exists().where(Message.dedup_key == key)


async def due_reminders(
    session: AsyncSession,
    *,
    today: date,
    offsets: Sequence[int],
    after: int = 0,
    limit: int = 2000,
) -> list[DueInstalment]:
    """Unpaid instalments with a reminder due today and not yet queued, by id after `after`:
    those due N days on (N in `offsets`), and on a commune's transaction day those it covers
    (which then get that reminder alone)."""
    if not offsets:
        return []
    windows = transaction_windows(today, max(offsets))
    on_tx = or_(
        false(),
        *(and_(Commune.transaction_day == d, Instalment.due_on <= last) for d, last in windows),
    )
    days = [today + timedelta(days=n) for n in offsets]
    query = _joined(select(*_columns(), on_tx)).where(
        Instalment.paid_on.is_(None),
        Instalment.due_on > today,
        Instalment.due_on <= today + timedelta(days=max(offsets)),
        or_(Instalment.due_on.in_(days), on_tx),
        Instalment.id > after,
        _not_queued(today, offsets, on_tx),
    )
    rows = await session.execute(query.order_by(Instalment.id).limit(limit))
    return [_due(row, row[10]) for row in rows]


def _newly_overdue(today: date) -> Any:
    return and_(
        Instalment.due_on < today, Instalment.paid_on.is_(None), Instalment.overdue_at.is_(None)
    )


async def overdue_households(session: AsyncSession, *, today: date, limit: int = 1000) -> list[int]:
    """Households with an instalment unpaid past its due date and not yet marked overdue, from
    up to `limit` such instalments; marking theirs takes them off the next call."""
    # No ORDER BY: with one, PostgreSQL walks every loan in household order looking for the
    # few overdue ones; without, it reads them off the (due_on, paid_on) index.
    query = (
        select(Loan.household_id)
        .select_from(Instalment)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(_newly_overdue(today))
        .limit(limit)
    )
    return list(dict.fromkeys((await session.scalars(query)).all()))


async def mark_overdue(
    session: AsyncSession, *, household_ids: Sequence[int], today: date, now: datetime
) -> list[DueInstalment]:
    """Mark these households' newly overdue instalments overdue (now) and return them, by
    household and due date. A concurrent pass that marked one first keeps it: it is not
    returned here."""
    if not household_ids:
        return []
    wanted = (
        select(Instalment.id)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(Loan.household_id.in_(household_ids), _newly_overdue(today))
    )
    ids = list((await session.scalars(wanted)).all())
    if not ids:
        return []
    # The conditions are repeated on the row itself: on PostgreSQL a second pass waiting on
    # the row lock re-checks them after the first commits, and so takes nothing.
    marked = await session.execute(
        update(_INSTALMENTS)
        .where(
            _INSTALMENTS.c.id.in_(ids),
            _INSTALMENTS.c.overdue_at.is_(None),
            _INSTALMENTS.c.paid_on.is_(None),
        )
        .values(overdue_at=now, updated_at=now)
        .returning(_INSTALMENTS.c.id)
    )
    taken = [row[0] for row in marked.all()]
    if not taken:
        return []
    query = _joined(select(*_columns())).where(Instalment.id.in_(taken))
    rows = await session.execute(
        query.order_by(Loan.household_id, Instalment.due_on, Instalment.id)
    )
    return [_due(row) for row in rows]
