"""Contacts a household adds itself: one-time codes, pending claims, consent and opting out."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import ContactRef
from storage.models import Commune, Contact, Conversation, Household, Registration, RegistrationCode
from storage.models.channels import APPROVED, PENDING, REJECTED
from storage.models.households import BASIS_CONSENT
from storage.models.surveys import ACTIVE, STOPPED

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper by phone
CODE_LENGTH = 8


class RegistrationError(Exception):
    """A registration cannot be decided; the message says why in Vietnamese."""


@dataclass(frozen=True)
class HouseholdRef:
    """A household as registration needs it."""

    id: int
    code: str
    head_name: str
    commune_code: str
    commune_name: str


@dataclass(frozen=True)
class PendingRow:
    """A pending (or decided) registration, for the assistant's list."""

    id: int
    channel: str
    kind: str
    address: str
    household_code: str
    head_name: str
    commune_code: str
    phone: str | None
    name: str | None
    status: str
    created_at: datetime


def new_code() -> str:
    """A fresh one-time registration code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _household_query() -> Any:
    return select(
        Household.id, Household.code, Household.head_name, Household.commune_code, Commune.name
    ).join(Commune, Commune.code == Household.commune_code)


async def household(session: AsyncSession, *, code: str) -> HouseholdRef | None:
    """A household by its code (Mã hộ), matched without regard to case."""
    row = (
        await session.execute(_household_query().where(func.upper(Household.code) == code.upper()))
    ).first()
    return HouseholdRef(*row) if row else None


async def household_by_id(session: AsyncSession, *, household_id: int) -> HouseholdRef:
    """A household by its id."""
    row = (await session.execute(_household_query().where(Household.id == household_id))).one()
    return HouseholdRef(*row)


async def code_household(session: AsyncSession, *, code: str) -> HouseholdRef | None:
    """The household of an unused one-time code."""
    household_id = await session.scalar(
        select(RegistrationCode.household_id).where(
            RegistrationCode.code == code.upper(), RegistrationCode.used_at.is_(None)
        )
    )
    if household_id is None:
        return None
    return await household_by_id(session, household_id=household_id)


async def use_code(session: AsyncSession, *, code: str, contact_id: int, now: datetime) -> None:
    """A code has done its job: it proves nothing again."""
    await session.execute(
        update(RegistrationCode)
        .where(RegistrationCode.code == code.upper())
        .values(used_at=now, contact_id=contact_id)
    )


async def codes_for(
    session: AsyncSession, *, household_ids: Sequence[int], now: datetime
) -> dict[int, str]:
    """An unused code for each household: the one it has, or a new one."""
    have = dict(
        (
            await session.execute(
                select(RegistrationCode.household_id, RegistrationCode.code).where(
                    RegistrationCode.household_id.in_(household_ids),
                    RegistrationCode.used_at.is_(None),
                )
            )
        ).all()
    )
    fresh = {h: new_code() for h in household_ids if h not in have}
    if fresh:
        session.add_all(
            RegistrationCode(code=c, household_id=h, created_at=now) for h, c in fresh.items()
        )
        await session.flush()
    return {**have, **fresh}


async def add_contact(
    session: AsyncSession,
    *,
    household: HouseholdRef,
    kind: str,
    address: str,
    now: datetime,
    phone: str | None = None,
    name: str | None = None,
) -> ContactRef:
    """A contact the household added itself; it has not agreed to anything yet."""
    contact = await session.scalar(
        select(Contact).where(
            Contact.household_id == household.id, Contact.kind == kind, Contact.address == address
        )
    )
    if contact is None:
        last = await session.scalar(
            select(func.max(Contact.position)).where(Contact.household_id == household.id)
        )
        contact = Contact(
            household_id=household.id,
            kind=kind,
            address=address,
            position=(last or 0) + 1,
            shared=False,
            created_at=now,
            phone=phone,
            name=name,
            last_seen_at=now,
        )
        session.add(contact)
        await session.flush()
    return ContactRef(
        contact.id,
        household.id,
        household.code,
        household.head_name,
        household.commune_code,
        address,
        kind,
        contact.basis,
        contact.opted_out_at is not None,
    )


async def add_pending(
    session: AsyncSession,
    *,
    channel: str,
    kind: str,
    address: str,
    household_id: int,
    now: datetime,
    phone: str | None = None,
    name: str | None = None,
) -> None:
    """Keep a claim for an assistant to decide (one pending claim per address)."""
    existing = await pending(session, kind=kind, address=address)
    if existing is not None:
        existing.household_id = household_id
        existing.phone = phone or existing.phone
        return
    session.add(
        Registration(
            channel=channel,
            kind=kind,
            address=address,
            household_id=household_id,
            phone=phone,
            name=name,
            status=PENDING,
            created_at=now,
        )
    )


async def pending(session: AsyncSession, *, kind: str, address: str) -> Registration | None:
    """The address's pending claim, if any."""
    return await session.scalar(
        select(Registration).where(
            Registration.kind == kind,
            Registration.address == address,
            Registration.status == PENDING,
        )
    )


def _pending_of(kind: str, address: str) -> Any:
    return update(Registration).where(
        Registration.kind == kind, Registration.address == address, Registration.status == PENDING
    )


async def show_phone(session: AsyncSession, *, kind: str, address: str, phone: str) -> bool:
    """Note the phone a waiting claim showed; False when the address has no waiting claim."""
    result = await session.execute(_pending_of(kind, address).values(phone=phone))
    return bool(cast(Any, result).rowcount)


async def settle(session: AsyncSession, *, kind: str, address: str, now: datetime) -> None:
    """The address proved its household itself: its waiting claim, if any, is approved."""
    await session.execute(
        _pending_of(kind, address).values(status=APPROVED, decided_at=now, decided_by="proof")
    )


async def list_registrations(session: AsyncSession, *, status: str = PENDING) -> list[PendingRow]:
    """Registrations in a status, oldest first."""
    rows = await session.execute(
        select(
            Registration.id,
            Registration.channel,
            Registration.kind,
            Registration.address,
            Household.code,
            Household.head_name,
            Household.commune_code,
            Registration.phone,
            Registration.name,
            Registration.status,
            Registration.created_at,
        )
        .join(Household, Household.id == Registration.household_id)
        .where(Registration.status == status)
        .order_by(Registration.created_at, Registration.id)
    )
    return [PendingRow(*row) for row in rows]


async def decide(
    session: AsyncSession, *, registration_id: int, approve: bool, by: str, now: datetime
) -> tuple[Registration, ContactRef | None]:
    """Approve (the contact is added) or reject a pending registration."""
    registration = await session.get(Registration, registration_id, with_for_update=True)
    if registration is None or registration.status != PENDING:
        raise RegistrationError(str(registration_id))
    registration.status = APPROVED if approve else REJECTED
    registration.decided_at, registration.decided_by = now, by
    if not approve:
        return registration, None
    owner = await household_by_id(session, household_id=registration.household_id)
    contact = await add_contact(
        session,
        household=owner,
        kind=registration.kind,
        address=registration.address,
        now=now,
        phone=registration.phone,
        name=registration.name,
    )
    return registration, contact


async def consent(
    session: AsyncSession, *, contact_id: int, channel: str, version: str, now: datetime
) -> None:
    """The household agreed: basis consent, with time, channel and the words' version."""
    await session.execute(
        update(Contact)
        .where(Contact.id == contact_id)
        .values(
            basis=BASIS_CONSENT,
            basis_at=now,
            consent_channel=channel,
            consent_version=version,
            opted_out_at=None,
        )
    )


async def opt_out(session: AsyncSession, *, contact_ids: Sequence[int], now: datetime) -> None:
    """HUY / DỪNG / STOP: nothing more but the confirmation; a running survey stops."""
    await session.execute(
        update(Contact).where(Contact.id.in_(contact_ids)).values(opted_out_at=now)
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.contact_id.in_(contact_ids), Conversation.status == ACTIVE)
        .values(status=STOPPED, updated_at=now)
    )


async def opt_in(session: AsyncSession, *, contact_ids: Sequence[int]) -> None:
    """DK / BATDAU / START: messages again."""
    await session.execute(
        update(Contact).where(Contact.id.in_(contact_ids)).values(opted_out_at=None)
    )


async def seen_now(session: AsyncSession, *, contact_ids: Sequence[int], now: datetime) -> None:
    """The contacts wrote to Loa: their interaction window opens again."""
    if contact_ids:
        await session.execute(
            update(Contact).where(Contact.id.in_(contact_ids)).values(last_seen_at=now)
        )


async def set_phone(session: AsyncSession, *, contact_id: int, phone: str) -> None:
    """Keep the phone a chat contact proved."""
    await session.execute(update(Contact).where(Contact.id == contact_id).values(phone=phone))
