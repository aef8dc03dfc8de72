"""Signing staff in: password checks with a lockout, browser sessions and API tokens.

Tokens are random (`secrets.token_urlsafe`); the store keeps only their SHA-256, so a copy of
the database signs no one in.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiToken, StaffSession, StaffUser
from storage.staff import hash_password, verify_password

MAX_FAILURES = 5  # failed sign-ins in a row before the account is locked
LOCKOUT = timedelta(minutes=15)
SESSION_LIFE = timedelta(hours=12)  # a working day; then sign in again


@functools.cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown: both take the same time."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a session or token belongs to."""

    staff_id: int
    username: str
    role: str
    csrf: str  # empty for API tokens: they are not sent by a browser on its own


def digest(token: str) -> str:
    """The SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


async def check_password(
    session: AsyncSession, *, username: str, password: str, now: datetime
) -> tuple[StaffUser | None, bool]:
    """The user when the password is right, and whether the account is locked.

    A locked account is refused even with the right password until the lockout ends; each
    wrong password counts, and the MAX_FAILURES-th locks the account for LOCKOUT. The caller
    commits.
    """
    user = await session.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active)
    )
    if user is None:
        verify_password(password, _dummy_hash())
        return None, False
    if user.locked_until is not None and user.locked_until > now:
        return None, True
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            return None, True
        return None, False
    user.failed_logins = 0
    user.locked_until = None
    return user, False


async def open_session(session: AsyncSession, *, staff_id: int, now: datetime) -> str:
    """A new browser session; returns the cookie's token. The caller commits."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=digest(token),
            staff_id=staff_id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFE,
        )
    )
    await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    return token


async def session_user(session: AsyncSession, *, token: str, now: datetime) -> SignedIn | None:
    """The active staff user a session cookie belongs to, while it has not expired."""
    row = (
        await session.execute(
            select(StaffUser.id, StaffUser.username, StaffUser.role, StaffSession.csrf)
            .join(StaffSession, StaffSession.staff_id == StaffUser.id)
            .where(
                StaffSession.token_hash == digest(token),
                StaffSession.expires_at > now,
                StaffUser.active,
            )
        )
    ).first()
    return SignedIn(*row) if row else None


async def close_session(session: AsyncSession, *, token: str) -> None:
    """Sign a browser out. The caller commits."""
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == digest(token)))


async def end_sessions(session: AsyncSession, *, staff_id: int) -> None:
    """Sign a user out everywhere (deactivated, password changed). The caller commits."""
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def new_token(session: AsyncSession, *, staff_id: int, now: datetime) -> str:
    """A new API token for a user; the earlier ones stop working. The caller commits."""
    await session.execute(delete(ApiToken).where(ApiToken.staff_id == staff_id))
    token = "loa_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=digest(token), staff_id=staff_id, created_at=now))
    return token


async def token_user(session: AsyncSession, *, token: str, now: datetime) -> SignedIn | None:
    """The active staff user an API token belongs to; notes when it was last used."""
    row = (
        await session.execute(
            select(StaffUser.id, StaffUser.username, StaffUser.role, ApiToken.id)
            .join(ApiToken, ApiToken.staff_id == StaffUser.id)
            .where(ApiToken.token_hash == digest(token), StaffUser.active)
        )
    ).first()
    if row is None:
        return None
    await session.execute(update(ApiToken).where(ApiToken.id == row[3]).values(last_used_at=now))
    await session.commit()
    return SignedIn(row[0], row[1], row[2], "")
