"""Staff users: argon2 passwords, areas by level, audit, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import FixedClock
from storage.models import AuditEntry, StaffUser
from storage.staff import StaffError, add_staff, verify_password
from tests.storage.sheets import ACTOR, load_areas

Sessions = async_sessionmaker[AsyncSession]


async def test_add_staff_hashes_the_password_and_finds_area_levels(
    sessions: Sessions, tmp_path: Path, clock: FixedClock
) -> None:
    await load_areas(sessions, tmp_path, clock)
    async with sessions() as session:
        await add_staff(
            session,
            username="lan",
            role="officer",
            areas=["86", "831", "29002"],
            password="mat-khau-that-dai",
            actor=ACTOR,
            now=clock.now(),
        )
        await session.commit()
    async with sessions() as session:
        user = await session.scalar(select(StaffUser).options(selectinload(StaffUser.areas)))
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.entity == "staff_users"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password("mat-khau-that-dai", user.password_hash)
    assert not verify_password("sai-mat-khau-roi", user.password_hash)
    assert sorted((a.level, a.code) for a in user.areas) == [
        ("commune", "29002"),
        ("district", "831"),
        ("province", "86"),
    ]
    assert audit is not None
    assert "password" not in str(audit.changes)


@pytest.mark.parametrize(
    ("role", "areas", "password", "message"),
    [
        ("mayor", ["86"], "mat-khau-that-dai", "Vai trò"),
        ("assistant", [], "mat-khau-that-dai", "--area"),
        ("assistant", ["86"], "ngan", "ít nhất 10 ký tự"),
        ("assistant", ["12345"], "mat-khau-that-dai", "12345"),
    ],
)
async def test_bad_staff_requests_are_refused(
    sessions: Sessions,
    tmp_path: Path,
    clock: FixedClock,
    role: str,
    areas: list[str],
    password: str,
    message: str,
) -> None:
    await load_areas(sessions, tmp_path, clock)
    async with sessions() as session:
        with pytest.raises(StaffError, match=message):
            await add_staff(
                session,
                username="x",
                role=role,
                areas=areas,
                password=password,
                actor=ACTOR,
                now=clock.now(),
            )
