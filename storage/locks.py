"""PostgreSQL advisory locks: one holder per name across every Loa process."""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def _key(name: str) -> int:
    return zlib.crc32(f"loa:{name}".encode())


def supports_locks(engine: AsyncEngine) -> bool:
    """Advisory locks exist on PostgreSQL; an embedded SQLite store has one process anyway."""
    return engine.dialect.name == "postgresql"


async def try_lock(connection: AsyncConnection, name: str) -> bool:
    """Take the lock on this connection if nobody holds it; held until unlock or disconnect."""
    taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)})
    await connection.commit()
    return bool(taken)


async def unlock(connection: AsyncConnection, name: str) -> None:
    """Give the lock back."""
    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
    await connection.commit()


async def alive(connection: AsyncConnection) -> bool:
    """Whether the connection holding a lock still answers (a lost line has lost the lock)."""
    try:
        await connection.execute(text("SELECT 1"))
        await connection.commit()
    except Exception:
        return False
    return True
