"""`loa households codes`: one-time codes on slips to print, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import codes, common
from bot.clock import FixedClock
from messages.render import _
from storage.models import Household, RegistrationCode
from storage.registrations import CODE_ALPHABET, CODE_LENGTH
from tests.conftest import loa
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet


@pytest.fixture
async def register(
    settings_env: str,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three households of Xã An Hiệp (29002) in two villages, one of Xã Phú Túc (29005)."""
    monkeypatch.setattr(common, "clock", clock)
    for name in ("LOA_TELEGRAM_BOT_USERNAME", "LOA_KANNEL_FROM"):
        monkeypatch.delenv(name, raising=False)
    await load_areas(sessions, tmp_path, clock)
    rows = [
        HEADER,
        household("H003", "Lê Văn Cường", **{"Thôn": "Ấp 2"}),
        household("H001", "Nguyễn Văn An"),
        household("H002", "Trần Thị Bình"),
        household("P001", "Phạm Thị Dung", **{"Mã xã": "29005", "Thôn": "Ấp Phú"}),
    ]
    assert (await run_import(sessions, write_sheet(tmp_path / "ho.csv", rows), clock)).applied


def _sheet(path: Path) -> tuple[Any, list[tuple[Any, ...]]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    return sheet, list(sheet.iter_rows(values_only=True))


def _squeeze(text: str) -> str:
    """TEXT without white space: Rich wraps long paths wherever it likes."""
    return "".join(text.split())


def test_codes_with_sms_and_qr(
    register: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_KANNEL_FROM", "8085")
    common.get_settings.cache_clear()
    out = tmp_path / "slips" / "an-hiep.xlsx"
    code, output = loa(
        "households", "codes", "--commune", "29002", "--bot", "@LoaAnHiepBot", "--out", str(out)
    )
    assert code == 0, output
    said = _("{n} registration codes written to {path}, {new} of them new.")
    assert _squeeze(said.format(n=3, path=out, new=3)) in _squeeze(output)
    sheet, rows = _sheet(out)
    assert rows[0] == (
        "Mã hộ",
        "Chủ hộ",
        "Thôn, ấp",
        _("Registration code"),
        _("Register by SMS"),
        _("Register on Telegram"),
    )
    assert [r[:3] for r in rows[1:]] == [
        ("H001", "Nguyễn Văn An", "Ấp 1"),
        ("H002", "Trần Thị Bình", "Ấp 1"),
        ("H003", "Lê Văn Cường", "Ấp 2"),
    ]
    issued = [r[3] for r in rows[1:]]
    assert len(set(issued)) == 3
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in issued)
    sms = _("Text DK {code} to {number}")
    assert [r[4] for r in rows[1:]] == [sms.format(code=c, number="8085") for c in issued]
    assert len(sheet._images) == 3
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.page_setup.paperSize == int(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth == 1
    assert not list(out.parent.glob(".*partial"))  # no half file left behind


async def test_a_second_run_keeps_unused_codes_and_replaces_used_ones(
    register: None, tmp_path: Path, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    code, output = await _run("households", "codes", "--out", str(first), "--bot", "LoaBot")
    assert code == 0, output
    before = {r[0]: r[3] for r in _sheet(first)[1][1:]}
    assert set(before) == {"H001", "H002", "H003", "P001"}
    async with sessions() as session, session.begin():
        await session.execute(
            update(RegistrationCode)
            .where(RegistrationCode.code == before["H001"])
            .values(used_at=clock.now())
        )
    code, output = await _run("households", "codes", "--out", str(second), "--bot", "LoaBot")
    assert code == 0, output
    after = {r[0]: r[3] for r in _sheet(second)[1][1:]}
    assert after["H001"] != before["H001"]
    assert {k: v for k, v in after.items() if k != "H001"} == {
        k: v for k, v in before.items() if k != "H001"
    }
    async with sessions() as session:
        count = len((await session.scalars(select(RegistrationCode))).all())
        households = len((await session.scalars(select(Household))).all())
    assert (count, households) == (5, 4)


def test_without_a_bot_username_there_is_no_qr_column(
    register: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "plain.xlsx"
    code, output = loa("households", "codes", "--out", str(out))
    assert code == 0, output
    assert "LOA_TELEGRAM_BOT_USERNAME" in output  # the warning
    sheet, rows = _sheet(out)
    assert len(rows[0]) == 4  # no SMS sender configured, no bot: code columns only
    assert len(sheet._images) == 0
    monkeypatch.setenv("LOA_TELEGRAM_BOT_USERNAME", "LoaAnHiepBot")
    code, output = loa("households", "codes", "--out", str(out))
    assert code == 0, output
    assert "LOA_TELEGRAM_BOT_USERNAME" not in output
    sheet, rows = _sheet(out)
    assert len(rows[0]) == 5
    assert len(sheet._images) == 4


def test_a_failed_write_leaves_no_file(
    register: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(codes.os, "replace", broken)
    out = tmp_path / "slips.xlsx"
    code, output = loa("households", "codes", "--out", str(out), "--bot", "LoaBot")
    assert code == 1
    assert "Nospaceleftondevice" in _squeeze(output)
    assert list(tmp_path.glob("*slips*")) == []


def test_refusals(register: None, tmp_path: Path) -> None:
    code, output = loa("households", "codes", "--out", str(tmp_path / "a.csv"))
    assert code == 1
    assert ".xlsx" in output
    code, output = loa(
        "households", "codes", "--commune", "99999", "--out", str(tmp_path / "a.xlsx")
    )
    assert code == 1
    assert "99999" in output
    assert not (tmp_path / "a.xlsx").exists()
    code, output = loa("households", "codes", "--bot", "no way", "--out", str(tmp_path / "a.xlsx"))
    assert code == 1
    code, output = loa(
        "households", "codes", "--commune", "29008", "--out", str(tmp_path / "a.xlsx")
    )
    assert code == 1  # a commune without households
    assert not (tmp_path / "a.xlsx").exists()


async def _run(*args: str) -> tuple[int, str]:
    """Run the CLI off the test's event loop (it runs its own)."""
    return await asyncio.to_thread(loa, *args)
