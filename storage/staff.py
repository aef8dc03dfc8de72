"""Staff users: creating them with an argon2 password hash and their assigned areas."""

from __future__ import annotations

from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from storage import audit
from storage.models import ROLES, Commune, District, Province, StaffArea, StaffUser

_HASHER = PasswordHash.recommended()  # argon2id
MIN_PASSWORD = 10


class StaffError(ValueError):
    """A staff request that cannot be done; the message is Vietnamese."""


def hash_password(password: str) -> str:
    """An argon2 hash of the password."""
    return _HASHER.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    """True when the password matches the hash."""
    return _HASHER.verify(password, hashed)


async def area_level(session: AsyncSession, code: str) -> str:
    """Which level an area code names: province, district or commune."""
    for level, model in (("commune", Commune), ("district", District), ("province", Province)):
        if await session.get(model, code) is not None:
            return level
    raise StaffError(_("No province, district or commune has the code {code}.").format(code=code))


async def add_staff(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    areas: list[str],
    password: str,
    actor: audit.Actor,
    now: datetime,
) -> StaffUser:
    """Create a staff user assigned to areas; the caller commits."""
    if role not in ROLES:
        raise StaffError(_("The role must be one of: {roles}.").format(roles=", ".join(ROLES)))
    if len(password) < MIN_PASSWORD:
        raise StaffError(_("The password needs at least {n} characters.").format(n=MIN_PASSWORD))
    if not areas and role != "admin":
        raise StaffError(_("Give at least one area with --area."))
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise StaffError(_("The username {name} is taken.").format(name=username))
    user = StaffUser(
        username=username,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
    )
    for code in dict.fromkeys(areas):
        user.areas.append(StaffArea(level=await area_level(session, code), code=code))
    session.add(user)
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="staff_users",
        key=username,
        changes={"role": [None, role], "areas": [None, list(dict.fromkeys(areas))]},
    )
    return user


async def staff_id_of(session: AsyncSession, *, username: str) -> int | None:
    """The id of the active staff user with this name."""
    query = select(StaffUser.id).where(StaffUser.username == username, StaffUser.active)
    return await session.scalar(query)


async def is_active(session: AsyncSession, *, username: str) -> bool:
    """Whether an active staff user has this name."""
    return await staff_id_of(session, username=username) is not None
