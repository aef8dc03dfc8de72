"""`loa messages list`: the message log, on both backends."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from storage import registrations
from storage.messages import Outbound, Party, log_inbound, queue
from storage.models import Message
from storage.models.messages import FAILED, NOTICE, REPLY, STATUSES
from tests.conftest import loa
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet

HEAD = [
    "id",
    "household_code",
    "channel",
    "direction",
    "kind",
    "status",
    "not_before",
    "text",
    "created_at",
]


@pytest.fixture
async def log(
    settings_env: str,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four messages, a minute apart: H001 writes and is answered, a stranger, H002 failed."""
    monkeypatch.setattr(common, "clock", clock)
    await load_areas(sessions, tmp_path, clock)
    rows = [
        HEADER,
        household("H001", "Nguyễn Văn An"),
        household("H002", "Trần Thị Bình", **{"Số điện thoại": "0911 222 333"}),
    ]
    assert (await run_import(sessions, write_sheet(tmp_path / "ho.csv", rows), clock)).applied
    async with sessions() as session, session.begin():
        one = await registrations.household(session, code="H001")
        two = await registrations.household(session, code="H002")
        assert one is not None
        assert two is not None
        h1, h2 = Party("sms", "+84912345678", one.id), Party("zalo", "z-2", two.id)
        start = clock.now()
        await log_inbound(session, [(h1, "Xin chào, xã ơi", "text", "p-1")], now=start)
        await queue(session, [(h1, Outbound("Dạ, chào bà con", REPLY))], now=_at(start, 1))
        later = Outbound("Mai họp thôn", NOTICE, not_before=start + timedelta(hours=1))
        await queue(session, [(Party("telegram", "555"), later)], now=_at(start, 2))
        await queue(session, [(h2, Outbound("Lịch vay vốn", NOTICE))], now=_at(start, 3))
        await session.execute(update(Message).where(Message.address == "z-2").values(status=FAILED))


def _at(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


def _csv(*args: str) -> list[list[str]]:
    code, output = loa("messages", "list", "--format", "csv", *args)
    assert code == 0, output
    return list(csv.reader(io.StringIO(output)))


def test_the_log_newest_first_as_csv(log: None) -> None:
    rows = _csv()
    assert rows[0] == HEAD
    assert [(r[1], r[2], r[3], r[4], r[5], r[7]) for r in rows[1:]] == [
        ("H002", "zalo", "out", "notice", "failed", "Lịch vay vốn"),
        ("", "telegram", "out", "notice", "queued", "Mai họp thôn"),
        ("H001", "sms", "out", "reply", "queued", "Dạ, chào bà con"),
        ("H001", "sms", "in", "text", "received", "Xin chào, xã ơi"),
    ]
    assert rows[2][6] == "2026-11-21T11:00:00+07:00"  # not_before, local time
    assert [r[8] for r in rows[1:]] == [
        "2026-11-21T10:03:00+07:00",
        "2026-11-21T10:02:00+07:00",
        "2026-11-21T10:01:00+07:00",
        "2026-11-21T10:00:00+07:00",
    ]


def test_filters_and_limit(log: None) -> None:
    assert [r[7] for r in _csv("--household", "h001")[1:]] == [
        "Dạ, chào bà con",
        "Xin chào, xã ơi",
    ]
    assert [r[7] for r in _csv("--status", "failed")[1:]] == ["Lịch vay vốn"]
    assert [r[7] for r in _csv("--channel", "telegram")[1:]] == ["Mai họp thôn"]
    assert [r[7] for r in _csv("--limit", "1")[1:]] == ["Lịch vay vốn"]
    assert _csv("--household", "H002", "--channel", "sms") == [HEAD]


def test_table_and_file(log: None, tmp_path: Path) -> None:
    code, output = loa("messages", "list")
    assert code == 0, output
    assert "H002" in output
    assert "Mai" in output
    out = tmp_path / "log.csv"
    code, output = loa("messages", "list", "--household", "H001", "--out", str(out))
    assert code == 0, output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEAD
    assert len(rows) == 3


def test_unknown_household_or_status(log: None) -> None:
    code, output = loa("messages", "list", "--household", "NOPE")
    assert code == 1
    assert _("No household has the code {code}.").format(code="NOPE") in output
    code, output = loa("messages", "list", "--status", "lost")
    assert code == 1
    assert ", ".join(STATUSES) in " ".join(output.split())  # the known ones, however wrapped
