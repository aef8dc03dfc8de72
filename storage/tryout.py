"""The "try as a household" page's reads: a household's own phone, its console messages.

A phone is played on the console channel (a pull channel): what waits for it is marked
delivered when the page shows it, as `loa chat` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CONTACT_PHONE, Contact, Household, Message, Survey, Village
from storage.models.messages import DELIVERED, INBOUND, OUTBOUND, QUEUED, READ, SENT
from storage.scope import Scope

CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class TryHousehold:
    """A household and the phone the page plays (None: it has no phone of its own)."""

    code: str
    head_name: str
    village: str | None
    phone: str | None
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class PhoneMessage:
    """One message on the phone's screen."""

    id: int
    outgoing: bool  # from Loa to the phone
    text: str
    at: datetime
    status: str


def _own_phone() -> ColumnElement[bool]:
    return and_(Contact.kind == CONTACT_PHONE, Contact.shared.is_(False))


async def household(session: AsyncSession, *, code: str, scope: Scope) -> TryHousehold | None:
    """The household with this code in the scope, with its first phone no one else shares."""
    row = (
        await session.execute(
            select(Household.id, Household.code, Household.head_name, Village.name)
            .outerjoin(Village, Village.id == Household.village_id)
            .where(Household.code == code, scope.households())
        )
    ).first()
    if row is None:
        return None
    phone = (
        await session.execute(
            select(Contact.address, Contact.opted_out_at.is_not(None))
            .where(Contact.household_id == row.id, _own_phone())
            .order_by(Contact.position, Contact.id)
            .limit(1)
        )
    ).first()
    if phone is None:
        return TryHousehold(row.code, row.head_name, row.name, None)
    return TryHousehold(row.code, row.head_name, row.name, phone[0], bool(phone[1]))


async def suggestions(
    session: AsyncSession, *, scope: Scope, limit: int = 20
) -> list[TryHousehold]:
    """Households of the scope with a phone of their own: first those with messages waiting."""
    waiting = select(Message.household_id).where(
        Message.status == QUEUED,
        Message.channel == CONSOLE,
        Message.direction == OUTBOUND,
        Message.household_id == Household.id,
    )
    query = (
        select(Household.code, Household.head_name, Village.name, Contact.address)
        .join(Contact, Contact.household_id == Household.id)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(_own_phone(), Contact.opted_out_at.is_(None), scope.households())
    )
    first = await session.execute(
        query.where(waiting.exists()).order_by(Household.code).limit(limit)
    )
    found = {r.code: TryHousehold(r.code, r.head_name, r.name, r.address) for r in first}
    if len(found) < limit:
        rest = await session.execute(query.order_by(Household.code).limit(limit))
        for r in rest:
            found.setdefault(r.code, TryHousehold(r.code, r.head_name, r.name, r.address))
    return list(found.values())[:limit]


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(Message.not_before.is_(None), Message.not_before <= now)


async def deliver(session: AsyncSession, *, address: str, now: datetime) -> int:
    """Mark what is due for this phone on the console as delivered: the phone has read it."""
    result = await session.execute(
        update(Message)
        .where(
            Message.channel == CONSOLE,
            Message.address == address,
            Message.status == QUEUED,
            _due(now),
        )
        .values(status=DELIVERED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def screen(session: AsyncSession, *, address: str, limit: int = 60) -> list[PhoneMessage]:
    """The phone's last messages on the console, in and out, oldest first (only what reached
    it: a queued, cancelled or skipped message is not on the phone)."""
    rows = await session.execute(
        select(Message.id, Message.direction, Message.text, Message.created_at, Message.status)
        .where(
            Message.channel == CONSOLE,
            Message.address == address,
            or_(Message.direction == INBOUND, Message.status.in_([SENT, DELIVERED, READ])),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    found = [
        PhoneMessage(r.id, r.direction == OUTBOUND, r.text, r.created_at, r.status) for r in rows
    ]
    return found[::-1]


async def surveys(session: AsyncSession) -> list[tuple[str, str]]:
    """Every survey as (form id, title), for the page's "send a test survey" button."""
    rows = await session.execute(select(Survey.form_id, Survey.title).order_by(Survey.form_id))
    return [(form_id, title) for form_id, title in rows]
