"""A provider's rotating token pair, replaced in one transaction by one refresher at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelToken


@dataclass(frozen=True)
class Tokens:
    """An access token, the refresh token that replaces it, and when the access token ends."""

    access_token: str
    refresh_token: str
    expires_at: datetime


async def current(session: AsyncSession, *, channel: str) -> Tokens | None:
    """The stored pair."""
    row = await session.get(ChannelToken, channel, populate_existing=True)
    return Tokens(row.access_token, row.refresh_token, row.expires_at) if row else None


async def lock(session: AsyncSession, *, channel: str) -> Tokens | None:
    """The stored pair, locked for this transaction: other refreshers wait, then see the new one.

    A write takes the lock on both backends (a row lock on PostgreSQL, the database write lock
    on SQLite), so the refresh token is never spent twice.
    """
    await session.execute(
        update(ChannelToken)
        .where(ChannelToken.channel == channel)
        .values(updated_at=ChannelToken.updated_at)
    )
    row = (
        await session.execute(select(ChannelToken).where(ChannelToken.channel == channel))
    ).scalar_one_or_none()
    if row is None:
        return None
    await session.refresh(row)
    return Tokens(row.access_token, row.refresh_token, row.expires_at)


async def seed(session: AsyncSession, *, channel: str, tokens: Tokens, now: datetime) -> None:
    """Store the first pair unless another process already has."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        upsert(ChannelToken)
        .values(
            channel=channel,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel"])
    )


async def save(session: AsyncSession, *, channel: str, tokens: Tokens, now: datetime) -> None:
    """Store a new pair (or the first one)."""
    row = await session.get(ChannelToken, channel)
    if row is None:
        session.add(
            ChannelToken(
                channel=channel,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                expires_at=tokens.expires_at,
                updated_at=now,
            )
        )
    else:
        row.access_token, row.refresh_token = tokens.access_token, tokens.refresh_token
        row.expires_at, row.updated_at = tokens.expires_at, now
    await session.flush()
