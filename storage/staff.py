"""Staff users: an argon2 password hash, a role and assigned areas; listing and changing them.

Every change is audited; a password or token never is, only that one was set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from messages.render import _
from storage import audit
from storage.models import ROLES, Commune, District, Province, StaffArea, StaffUser

_HASHER = PasswordHash.recommended()  # argon2id
MIN_PASSWORD = 10


class StaffError(ValueError):
    """A staff request that cannot be done; the message is Vietnamese, `field` the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
    raise StaffError(
        _("No province, district or commune has the code {code}.").format(code=code), "areas"
    )


def _check_role(role: str, areas: list[str]) -> None:
    if role not in ROLES:
        raise StaffError(
            _("The role must be one of: {roles}.").format(roles=", ".join(ROLES)), "role"
        )
    if not areas and role != "admin":
        raise StaffError(_("Give at least one area with --area."), "areas")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(
            _("The password needs at least {n} characters.").format(n=MIN_PASSWORD), "password"
        )


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
    _check_role(role, areas)
    _check_password(password)
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise StaffError(_("The username {name} is taken.").format(name=username), "username")
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


@dataclass(frozen=True, slots=True)
class AreaChoice:
    """An area a user can be assigned to, for the staff form's list of codes."""

    code: str
    name: str
    province: str  # its province's name (the province's own for a province)
    level: str  # province or commune


async def area_choices(session: AsyncSession) -> list[AreaChoice]:
    """Every province, each followed by its communes (one query)."""
    rows = await session.execute(
        select(Province.code, Province.name, Commune.code, Commune.name)
        .outerjoin(Commune, Commune.province_code == Province.code)
        .order_by(Province.code, Commune.code)
    )
    found: list[AreaChoice] = []
    last = None
    for code, name, commune, commune_name in rows:
        if code != last:
            found.append(AreaChoice(code, name, name, "province"))
            last = code
        if commune is not None:
            found.append(AreaChoice(commune, commune_name, name, "commune"))
    return found


async def staff_id_of(session: AsyncSession, *, username: str) -> int | None:
    """The id of the active staff user with this name."""
    query = select(StaffUser.id).where(StaffUser.username == username, StaffUser.active)
    return await session.scalar(query)


async def is_active(session: AsyncSession, *, username: str) -> bool:
    """Whether an active staff user has this name."""
    return await staff_id_of(session, username=username) is not None


@dataclass(frozen=True, slots=True)
class StaffLine:
    """A staff user as the staff page and `loa staff list` show them."""

    id: int
    username: str
    role: str
    areas: list[str]  # codes, as assigned
    active: bool
    locked: bool  # too many wrong passwords: refused until the lockout ends
    created_at: datetime


def _line(user: StaffUser, now: datetime) -> StaffLine:
    locked = user.locked_until is not None and user.locked_until > now
    areas = sorted(a.code for a in user.areas)
    return StaffLine(user.id, user.username, user.role, areas, user.active, locked, user.created_at)


async def list_staff(session: AsyncSession, *, now: datetime) -> list[StaffLine]:
    """Every staff user, active ones first, by username."""
    users = await session.scalars(
        select(StaffUser)
        .options(selectinload(StaffUser.areas))
        .order_by(StaffUser.active.desc(), StaffUser.username)
    )
    return [_line(user, now) for user in users]


async def _user(session: AsyncSession, staff_id: int) -> StaffUser | None:
    return await session.scalar(
        select(StaffUser).options(selectinload(StaffUser.areas)).where(StaffUser.id == staff_id)
    )


async def get_staff(session: AsyncSession, *, staff_id: int, now: datetime) -> StaffLine | None:
    """One staff user, active or not."""
    user = await _user(session, staff_id)
    return _line(user, now) if user else None


async def any_staff_id(session: AsyncSession, *, username: str) -> int | None:
    """The id of the staff user with this name, active or not."""
    return await session.scalar(select(StaffUser.id).where(StaffUser.username == username))


async def _existing(session: AsyncSession, staff_id: int) -> StaffUser:
    user = await _user(session, staff_id)
    if user is None:
        raise StaffError(_("There is no such staff user."))
    return user


async def _keep_an_admin(session: AsyncSession, user: StaffUser) -> None:
    """Refuse to leave the store without an active admin: nobody could manage staff again."""
    if user.role != "admin" or not user.active:
        return
    others = await session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "admin", StaffUser.active, StaffUser.id != user.id)
    )
    if not others:
        raise StaffError(_("Loa needs at least one active admin; this is the last one."), "role")


async def _audit(
    session: AsyncSession,
    user: StaffUser,
    action: str,
    changes: dict[str, list[object]],
    actor: audit.Actor,
    now: datetime,
) -> None:
    await audit.add(
        session,
        actor=actor,
        at=now,
        action=action,
        entity="staff_users",
        key=user.username,
        changes=changes,
    )


async def change_staff(
    session: AsyncSession,
    *,
    staff_id: int,
    role: str,
    areas: list[str],
    actor: audit.Actor,
    now: datetime,
) -> bool:
    """Give a user a role and replace their areas; False when nothing changed. Caller commits."""
    user = await _existing(session, staff_id)
    codes = list(dict.fromkeys(areas))
    _check_role(role, codes)
    if role != user.role:
        await _keep_an_admin(session, user)
    before = sorted(a.code for a in user.areas)
    changes = audit.diff(
        {"role": user.role, "areas": before}, {"role": role, "areas": sorted(codes)}
    )
    if not changes:
        return False
    levels = [(await area_level(session, code), code) for code in codes]
    user.role = role
    user.areas = [StaffArea(level=level, code=code) for level, code in levels]
    await _audit(session, user, "update", changes, actor, now)
    return True


async def set_password(
    session: AsyncSession, *, staff_id: int, password: str, actor: audit.Actor, now: datetime
) -> None:
    """A new password; the user's browser sessions end and the lockout lifts. Caller commits."""
    from storage.signin import end_sessions  # storage.signin imports this module

    _check_password(password)
    user = await _existing(session, staff_id)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    await end_sessions(session, staff_id=user.id)
    await _audit(session, user, "password", {}, actor, now)  # that it changed, never the value


async def set_active(
    session: AsyncSession, *, staff_id: int, active: bool, actor: audit.Actor, now: datetime
) -> bool:
    """Deactivate (signed out everywhere, tokens refused) or reactivate a user. Caller commits."""
    from storage.signin import end_sessions  # storage.signin imports this module

    user = await _existing(session, staff_id)
    if user.active == active:
        return False
    if not active:
        await _keep_an_admin(session, user)
        await end_sessions(session, staff_id=user.id)
    user.active = active
    await _audit(session, user, "update", {"active": [not active, active]}, actor, now)
    return True


async def unlock(
    session: AsyncSession, *, staff_id: int, actor: audit.Actor, now: datetime
) -> bool:
    """Lift a lockout after wrong passwords; False when the user was not locked. Caller commits."""
    user = await _existing(session, staff_id)
    if user.locked_until is None or user.locked_until <= now:
        return False
    changes = {"locked_until": [audit.jsonable(user.locked_until), None]}
    user.locked_until = None
    user.failed_logins = 0
    await _audit(session, user, "update", changes, actor, now)
    return True


async def issue_token(
    session: AsyncSession, *, staff_id: int, actor: audit.Actor, now: datetime
) -> str:
    """A new API token for an active user (the earlier one stops working). Caller commits."""
    from storage.signin import new_token  # storage.signin imports this module

    user = await _existing(session, staff_id)
    if not user.active:
        raise StaffError(_("This user is deactivated; activate them first."))
    token = await new_token(session, staff_id=user.id, now=now)
    await _audit(session, user, "token", {}, actor, now)  # that one was made, never the value
    return token
