"""The follow-up work queue as the console and the API read it: filtered, in scope, in order.

Order: priority (high first), then due date (soonest first, none last), then age (oldest
first). Every query takes the user's `Scope`; an item outside it is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    AuditEntry,
    Commune,
    Contact,
    FollowUp,
    Household,
    Province,
    StaffArea,
    StaffUser,
    Village,
)
from storage.models.followups import ASSIGNED, OPEN
from storage.models.households import CONTACT_PHONE
from storage.scope import Scope

ACTIVE = (OPEN, ASSIGNED)  # the default status filter: still to be done
ME = "me"  # assignee filter: assigned to the signed-in user
UNASSIGNED = "unassigned"  # assignee filter: nobody yet
ANYONE = "anyone"  # assignee filter: no filter
ASSIGNEE_FILTERS = (ANYONE, ME, UNASSIGNED)
WORKING_ROLES = ("assistant", "admin")  # roles that work follow-ups
MAX_ID = 2_147_483_647  # ids are 32-bit on PostgreSQL: a larger one names nothing

_RANK = case({"high": 0, "normal": 1, "low": 2}, value=FollowUp.priority, else_=1)
_Assignee = aliased(StaffUser)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the queue shows; None means no filter."""

    kind: str | None = None
    village_id: int | None = None
    statuses: tuple[str, ...] = ACTIVE
    assignee: str = ANYONE  # ANYONE, ME or UNASSIGNED
    commune: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One follow-up as the queue shows it."""

    id: int
    household_code: str
    head_name: str
    commune_code: str
    village: str
    kind: str
    priority: str
    status: str
    assignee: str | None  # username
    due_on: date | None
    note: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Detail:
    """One follow-up with what its page needs."""

    item: Item
    household_id: int
    commune_name: str
    assignee_id: int | None
    question: str | None
    phones: list[str]


_COLUMNS = (
    FollowUp.id,
    Household.code,
    Household.head_name,
    Household.commune_code,
    Village.name,
    FollowUp.kind,
    FollowUp.priority,
    FollowUp.status,
    _Assignee.username,
    FollowUp.due_on,
    FollowUp.note,
    FollowUp.created_at,
    FollowUp.updated_at,
)


def _item(row: Any) -> Item:
    values = list(row[: len(_COLUMNS)])
    values[4] = values[4] or ""
    return Item(*values)


def _base(scope: Scope, columns: tuple[Any, ...]) -> Select[Any]:
    return (
        select(*columns)
        .join(Household, Household.id == FollowUp.household_id)
        .outerjoin(Village, Village.id == Household.village_id)
        .outerjoin(_Assignee, _Assignee.id == FollowUp.assignee_id)
        .where(scope.households())
    )


def _filtered(query: Select[Any], filters: Filters, *, me: int) -> Select[Any]:
    if filters.kind:
        query = query.where(FollowUp.kind == filters.kind)
    if filters.village_id is not None:
        query = query.where(Household.village_id == filters.village_id)
    if filters.statuses:
        query = query.where(FollowUp.status.in_(filters.statuses))
    if filters.assignee == ME:
        query = query.where(FollowUp.assignee_id == me)
    elif filters.assignee == UNASSIGNED:
        query = query.where(FollowUp.assignee_id.is_(None))
    if filters.commune:
        query = query.where(Household.commune_code == filters.commune)
    return query


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(
        _RANK, FollowUp.due_on.is_(None), FollowUp.due_on, FollowUp.created_at, FollowUp.id
    )


async def queue_page(
    session: AsyncSession, *, scope: Scope, filters: Filters, me: int, offset: int, limit: int
) -> tuple[list[Item], int]:
    """One page of the queue, and how many items match in all."""
    # Without a place to limit it to (an admin, no commune or village asked), the follow-ups
    # are counted and ordered alone and only the page's rows are joined: at 100,000
    # households that is a few milliseconds instead of a join of every open item.
    alone = scope.everything and filters.village_id is None and not filters.commune
    counted = select(func.count()).select_from(FollowUp)
    if not alone:
        counted = counted.join(Household, Household.id == FollowUp.household_id)
    counted = _filtered(counted.where(scope.households()) if not alone else counted, filters, me=me)
    total = int(await session.scalar(counted) or 0)
    if total == 0 or offset >= total:
        return [], total
    query = _ordered(_filtered(_base(scope, _COLUMNS), filters, me=me))
    if alone:
        ids = _ordered(_filtered(select(FollowUp.id), filters, me=me)).offset(offset).limit(limit)
        query = query.where(FollowUp.id.in_(ids.scalar_subquery()))
    else:
        query = query.offset(offset).limit(limit)
    rows = await session.execute(query)
    return [_item(row) for row in rows], total


@dataclass(frozen=True, slots=True)
class ListLine:
    """A follow-up on the printed or exported list: the item with its commune and a phone."""

    item: Item
    commune_name: str
    province_name: str
    phone: str | None


async def list_lines(
    session: AsyncSession, *, scope: Scope, filters: Filters, me: int
) -> list[ListLine]:
    """Every matching item for the official list: by commune, village, then queue order."""
    first_phone = (
        select(Contact.address)
        .where(Contact.household_id == Household.id, Contact.kind == CONTACT_PHONE)
        .order_by(Contact.position, Contact.id)
        .limit(1)
        .scalar_subquery()
    )
    columns = (*_COLUMNS, Commune.name, Province.name, first_phone)
    query = (
        _filtered(_base(scope, columns), filters, me=me)
        .join(Commune, Commune.code == Household.commune_code)
        .join(Province, Province.code == Commune.province_code)
    )
    query = _ordered(query.order_by(Household.commune_code, Village.name.is_(None), Village.name))
    n = len(_COLUMNS)
    return [
        ListLine(_item(row), row[n], row[n + 1], row[n + 2]) for row in await session.execute(query)
    ]


async def detail(session: AsyncSession, *, scope: Scope, followup_id: int) -> Detail | None:
    """One follow-up, or None when it does not exist or lies outside the scope."""
    if not 0 < followup_id <= MAX_ID:
        return None
    columns = (
        *_COLUMNS,
        Household.id,
        Commune.name,
        FollowUp.assignee_id,
        FollowUp.question,
    )
    query = (
        _base(scope, columns)
        .join(Commune, Commune.code == Household.commune_code)
        .where(FollowUp.id == followup_id)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    n = len(_COLUMNS)
    phones = await session.scalars(
        select(Contact.address)
        .where(Contact.household_id == row[n], Contact.kind == CONTACT_PHONE)
        .order_by(Contact.position, Contact.id)
    )
    return Detail(_item(row), row[n], row[n + 1], row[n + 2], row[n + 3], list(phones))


async def assignable(session: AsyncSession, *, commune_code: str) -> list[tuple[int, str]]:
    """The active staff who may work this commune's follow-ups: (id, username), by name."""
    commune = select(Commune.district_code, Commune.province_code).where(
        Commune.code == commune_code
    )
    found = (await session.execute(commune)).first()
    if found is None:
        return []
    district, province = found
    covers = or_(
        and_(StaffArea.level == "commune", StaffArea.code == commune_code),
        and_(StaffArea.level == "district", StaffArea.code == district),
        and_(StaffArea.level == "province", StaffArea.code == province),
    )
    covering = select(StaffArea.staff_id).where(covers)
    query = (
        select(StaffUser.id, StaffUser.username)
        .where(
            StaffUser.active.is_(True),
            StaffUser.role.in_(WORKING_ROLES),
            or_(StaffUser.role == "admin", StaffUser.id.in_(covering)),
        )
        .order_by(StaffUser.username)
    )
    return [(i, name) for i, name in await session.execute(query)]


async def villages(session: AsyncSession, *, commune_code: str) -> list[tuple[int, str]]:
    """A commune's villages for the filter: (id, name), by name."""
    query = (
        select(Village.id, Village.name)
        .where(Village.commune_code == commune_code)
        .order_by(Village.name)
    )
    return [(i, name) for i, name in await session.execute(query)]


async def village_commune(session: AsyncSession, *, village_id: int) -> str | None:
    """The commune of a village, or None."""
    if not 0 < village_id <= MAX_ID:
        return None
    return await session.scalar(select(Village.commune_code).where(Village.id == village_id))


@dataclass(frozen=True, slots=True)
class Change:
    """A change made to a follow-up, from the audit log."""

    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]


async def history(session: AsyncSession, *, followup_id: int, limit: int = 30) -> list[Change]:
    """The latest changes made to a follow-up, newest first (its scope checked by the caller)."""
    query = (
        select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.changes)
        .where(AuditEntry.entity == "followups", AuditEntry.entity_key == str(followup_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [Change(*row) for row in await session.execute(query)]
