"""Writing small spreadsheets for importer tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from storage.audit import Actor
from storage.importers.areas import import_areas
from storage.importers.households import import_households
from storage.importers.report import ImportReport

ACTOR = Actor(name="cli:test", source="import:test")
TODAY = date(2026, 11, 21)
HEADER = [
    "STT",
    "Mã hộ",
    "Họ và tên chủ hộ",
    "Mã xã",
    "Xã",
    "Thôn",
    "Phân loại",
    "Ngày công nhận",
    "Số điện thoại",
    "Dân tộc",
    "Nữ chủ hộ",
    "Nhóm hộ",
    "Số nhân khẩu",
    "Thiếu hụt",
    "Ghi chú",
]
AREAS = [
    ["Mã tỉnh", "Tên tỉnh", "Mã huyện", "Tên huyện", "Mã xã", "Tên xã", "Mã xã cũ", "Tên xã cũ"],
    [
        "86",
        "Tỉnh Vĩnh Long",
        "831",
        "Huyện Châu Thành",
        "29002",
        "Xã An Hiệp",
        "28756; 28759",
        "Xã Tân Thạch; Xã Hữu Định",
    ],
    ["86", "Tỉnh Vĩnh Long", "", "", "29005", "Xã Phú Túc", "", ""],
    ["86", "Tỉnh Vĩnh Long", "", "", "29008", "Phường Long Châu", "", ""],
    ["89", "Tỉnh Gia Lai", "", "", "24001", "Xã Phú Túc", "", ""],
]


def write_sheet(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Write rows to .xlsx or .csv (by suffix)."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return path
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def household(code: str, name: str = "Nguyễn Văn An", **fields: Any) -> list[Any]:
    """A household row in HEADER order; fields override by header title."""
    values: dict[str, Any] = {
        "STT": 1,
        "Mã hộ": code,
        "Họ và tên chủ hộ": name,
        "Mã xã": "29002",
        "Xã": "",
        "Thôn": "Ấp 1",
        "Phân loại": "Nghèo",
        "Ngày công nhận": "15/03/2024",
        "Số điện thoại": "0912 345 678",
        "Dân tộc": "Kinh",
        "Nữ chủ hộ": "",
        "Nhóm hộ": "1",
        "Số nhân khẩu": "4",
        "Thiếu hụt": "",
        "Ghi chú": "",
    }
    values.update(fields)
    return [values[title] for title in HEADER]


async def load_areas(
    sessions: async_sessionmaker[AsyncSession], tmp: Path, clock: FixedClock
) -> ImportReport:
    """Import the standard test areas."""
    async with sessions() as session:
        report = await import_areas(
            session, write_sheet(tmp / "areas.csv", AREAS), actor=ACTOR, now=clock.now()
        )
    assert report.applied, report.rejects
    return report


async def run_import(
    sessions: async_sessionmaker[AsyncSession], path: Path, clock: FixedClock, **options: Any
) -> ImportReport:
    """Import a household file with the test actor and clock."""
    async with sessions() as session:
        return await import_households(
            session, path, actor=ACTOR, now=clock.now(), today=TODAY, **options
        )
