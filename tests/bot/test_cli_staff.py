"""`loa staff list|password|deactivate|activate|areas|unlock|token`, and the demo's staff."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.orm import selectinload

from bot.demo_staff import demo_password
from bot.demodata import PROVINCE_CODE
from storage.db import create_engine, session_factory
from storage.models import ApiToken, AuditEntry, StaffSession, StaffUser
from storage.signin import check_password, open_session
from storage.staff import verify_password
from tests.conftest import NOW, loa

PASSWORD = "mat-khau-that-dai"


def _commune() -> str:
    return list(csv.reader(io.StringIO(loa("areas", "list", "--format", "csv")[1])))[1][4]


def _user(url: str, username: str) -> StaffUser:
    async def read() -> StaffUser:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                user = await session.scalar(
                    select(StaffUser)
                    .options(selectinload(StaffUser.areas))
                    .where(StaffUser.username == username)
                )
                assert user is not None
                return user
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _run(url: str, sql: Any) -> list[Any]:
    async def go() -> list[Any]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                result = await session.execute(sql)
                return [] if isinstance(sql, Update) else list(result.all())
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_staff_list_shows_roles_areas_and_state(demo: Path, settings_env: str) -> None:
    code, output = loa("staff", "list")
    assert code == 0
    assert "loa staff add" in output
    commune = _commune()
    loa("staff", "add", "lan", "--role", "assistant", "--area", commune, "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip
    loa("staff", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    code, output = loa("staff", "list")
    assert code == 0, output
    assert "lan" in output
    assert commune in output
    assert "đang dùng" in output


def test_password_deactivate_activate_and_unlock(demo: Path, settings_env: str) -> None:
    commune = _commune()
    loa("staff", "add", "lan", "--role", "assistant", "--area", commune, "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip

    async def sign_in() -> None:
        engine = create_engine(settings_env)
        try:
            async with session_factory(engine)() as session, session.begin():
                user = await session.scalar(select(StaffUser).where(StaffUser.username == "lan"))
                assert user is not None
                await open_session(session, staff_id=user.id, now=NOW)
        finally:
            await engine.dispose()

    asyncio.run(sign_in())
    code, output = loa("staff", "password", "lan", "--password-stdin", stdin="ngan\n")
    assert code == 1
    assert "10" in output
    code, output = loa("staff", "password", "lan", "--password-stdin", stdin="mat-khau-moi-dai\n")
    assert code == 0, output
    assert verify_password("mat-khau-moi-dai", _user(settings_env, "lan").password_hash)
    assert _run(settings_env, select(StaffSession.id)) == []  # signed out everywhere
    code, output = loa("staff", "password", "nobody", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 1
    assert "nobody" in output

    assert loa("staff", "deactivate", "lan")[0] == 0
    assert not _user(settings_env, "lan").active
    assert "từ trước" in loa("staff", "deactivate", "lan")[1]
    code, output = loa("staff", "token", "lan")
    assert code == 1  # no token for a deactivated user
    assert loa("staff", "activate", "lan")[0] == 0
    assert _user(settings_env, "lan").active

    _run(
        settings_env,
        update(StaffUser)
        .where(StaffUser.username == "lan")
        .values(locked_until=NOW + timedelta(days=365 * 10)),
    )
    code, output = loa("staff", "unlock", "lan")
    assert code == 0, output
    assert _user(settings_env, "lan").locked_until is None
    assert "không bị khóa" in loa("staff", "unlock", "lan")[1]

    actions = [row[0] for row in _run(settings_env, select(AuditEntry.action).where(
        AuditEntry.entity == "staff_users").order_by(AuditEntry.id))]  # fmt: skip
    assert actions == ["create", "password", "update", "update", "update"]
    assert "mat-khau-moi-dai" not in str(_run(settings_env, select(AuditEntry.changes)))


def test_areas_are_replaced_and_the_last_admin_stays(demo: Path, settings_env: str) -> None:
    commune = _commune()
    loa("staff", "add", "lan", "--role", "assistant", "--area", commune, "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip
    province = PROVINCE_CODE
    code, output = loa("staff", "areas", "lan", "--area", province, "--role", "officer")
    assert code == 0, output
    user = _user(settings_env, "lan")
    assert user.role == "officer"
    assert [(a.level, a.code) for a in user.areas] == [("province", province)]
    assert "Không có gì thay đổi" in loa("staff", "areas", "lan", "--area", province)[1]
    code, output = loa("staff", "areas", "lan", "--area", "00000")
    assert code == 1
    assert "00000" in output
    code, output = loa("staff", "areas", "lan")
    assert code == 1  # an officer needs an area

    loa("staff", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    code, output = loa("staff", "deactivate", "root")
    assert code == 1
    assert "quản trị" in output
    code, output = loa("staff", "areas", "root", "--role", "officer", "--area", province)
    assert code == 1
    assert _user(settings_env, "root").role == "admin"


def test_a_token_replaces_the_last_and_is_audited(demo: Path, settings_env: str) -> None:
    loa("staff", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    first = loa("staff", "token", "root")[1].strip().splitlines()[-1]
    code, output = loa("staff", "token", "root")
    assert code == 0
    second = output.strip().splitlines()[-1]
    assert first != second
    assert second.startswith("loa_")
    assert len(_run(settings_env, select(ApiToken.id))) == 1
    changes = _run(settings_env, select(AuditEntry.action, AuditEntry.changes))
    assert ("token", {}) in [tuple(row) for row in changes]
    assert second not in str(changes)


def test_demo_staff_prints_the_accounts_and_resets_them_when_run_again(
    demo: Path, settings_env: str, tmp_path: Path
) -> None:
    saved = tmp_path / "tai-khoan.txt"
    code, output = loa("demo-staff", "--save", str(saved))
    assert code == 0, output
    assert "http://127.0.0.1:8000/login" in output
    for username in ("quantri", "canbo.xa", "canbo.tinh"):
        assert username in output
    text = saved.read_text(encoding="utf-8")
    passwords = {line.split()[0]: line.split()[1] for line in text.splitlines()[2:]}
    assert oct(saved.stat().st_mode)[-3:] == "600"
    commune = _commune()
    assistant = _user(settings_env, "canbo.xa")
    assert (assistant.role, [a.code for a in assistant.areas]) == ("assistant", [commune])
    officer = _user(settings_env, "canbo.tinh")
    assert (officer.role, [a.level for a in officer.areas]) == ("officer", ["province"])
    assert _user(settings_env, "quantri").role == "admin"

    async def check(username: str, password: str) -> bool:
        engine = create_engine(settings_env)
        try:
            async with session_factory(engine)() as session:
                found, _locked = await check_password(
                    session, username=username, password=password, now=NOW
                )
                return found is not None
        finally:
            await engine.dispose()

    assert asyncio.run(check("canbo.xa", passwords["canbo.xa"]))
    code, output = loa("demo-staff")
    assert code == 0, output
    assert not asyncio.run(check("canbo.xa", passwords["canbo.xa"]))  # a new password now


def test_demo_passwords_are_long_and_easy_to_type() -> None:
    password = demo_password()
    assert len(password) == 14
    assert not set(password) & set("0o1liI")
