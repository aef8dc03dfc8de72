"""`loa relay list|done`: the printable list of households told by hand, per village."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from storage import relays
from storage.exports.relays import header, title
from storage.models import Contact, Event, Household
from storage.models.broadcasts import SOURCE_EVENT
from storage.relays import NewRelay
from tests.conftest import loa
from tests.scheduler.conftest import town  # noqa: F401

TEXT = "Kính gửi {ho_ten}: tối nay họp dân ở {thon}."


@pytest.fixture
async def event_id(
    settings_env: str,
    sessions: async_sessionmaker[AsyncSession],
    town: dict[str, int],  # noqa: F811
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """The town with H002's phone gone (so Ấp 2 has a household to tell by hand), an event,
    and H006 on the event's own relay list."""
    monkeypatch.setattr(common, "clock", clock)
    monkeypatch.setattr(common.out, "width", 200)
    now = clock.now()
    async with sessions() as session, session.begin():
        await session.execute(delete(Contact).where(Contact.household_id == town["H002"]))
        event = Event(
            kind="meeting",
            title="Họp dân ấp",
            commune_code="29002",
            starts_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
            place="Nhà văn hóa",
            audience="commune=29002",
            status="confirmed",
            details={},
            created_by="lan",
            created_at=now,
            updated_at=now,
        )
        session.add(event)
        await session.flush()
        h6 = await session.scalar(select(Household.id).where(Household.code == "H006"))
        assert h6 is not None
        await relays.add(session, [NewRelay(SOURCE_EVENT, event.id, h6, "Mời dự họp")], now=now)
        return event.id


def queued(event: int) -> None:
    code, output = loa(
        "broadcast",
        "create",
        "--text",
        TEXT,
        "--audience",
        "commune=29002",
        "--event",
        str(event),
        "--yes",
    )
    assert code == 0, output
    code, output = loa("scheduler", "tick", "--now", "2026-11-21T10:00")
    assert code == 0, output


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def test_relay_list_per_village_as_csv_and_xlsx(event_id: int, tmp_path: Path) -> None:
    queued(event_id)
    out = tmp_path / "bao-tin.csv"
    code, output = loa("relay", "list", "--broadcast", "1", "--format", "csv", "--out", str(out))
    assert code == 0, output
    rows = read_csv(out)
    assert rows[0] == [_("Commune"), _("Village"), *header()]
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == [
        ("Xã An Hiệp", "Ấp 1", "1", "H003"),  # Zalo is not set up here
        ("Xã An Hiệp", "Ấp 1", "2", "H004"),
        ("Xã An Hiệp", "Ấp 2", "1", "H002"),
    ]
    assert rows[2][5] == "Kính gửi Phạm Thị Dung: tối nay họp dân ở Ấp 1."
    book_path = tmp_path / "bao-tin.xlsx"
    code, output = loa(
        "relay", "list", "--broadcast", "1", "--format", "xlsx", "--out", str(book_path)
    )
    assert code == 0, output
    book = load_workbook(book_path)
    assert book.sheetnames == ["Ấp 1", "Ấp 2"]
    first = book["Ấp 1"]
    assert first["A1"].value == title()
    assert first["A2"].value == "Ấp 1, Xã An Hiệp"
    assert [c.value for c in first[5]] == header()
    assert [first.cell(row=r, column=2).value for r in (6, 7)] == ["H003", "H004"]
    assert first.print_title_rows == "$5:$5"
    assert first.page_setup.orientation == "landscape"
    assert [c.value for c in book["Ấp 2"]["B"]][5] == "H002"


def test_relay_list_of_an_event_and_relay_done(event_id: int, tmp_path: Path) -> None:
    queued(event_id)
    out = tmp_path / "su-kien.csv"
    code, output = loa(
        "relay", "list", "--event", str(event_id), "--format", "csv", "--out", str(out)
    )
    assert code == 0, output
    codes = [r[3] for r in read_csv(out)[1:]]
    assert codes == ["H003", "H004", "H002", "H006"]  # the broadcast's and the event's own
    code, output = loa(
        "relay",
        "done",
        "--broadcast",
        "1",
        "--household",
        "h004",
        "--by",
        "Ông Sáu",
        "--note",
        "đã báo",
    )
    assert code == 0, output
    assert _("Recorded: the household {code} was told.").format(code="h004") in output
    code, output = loa("relay", "done", "--broadcast", "1", "--household", "H004")
    assert code == 0
    assert _("The household {code} was already recorded as told.").format(code="H004") in output
    code, output = loa("relay", "done", "--broadcast", "1", "--household", "H001")
    assert code == 1
    assert _("The household {code} is not on this relay list.").format(code="H001") in output
    code, output = loa("relay", "done", "--broadcast", "1", "--household", "NOPE")
    assert code == 1
    code, output = loa("relay", "list", "--broadcast", "1", "--format", "csv", "--out", str(out))
    rows = {r[3]: r for r in read_csv(out)[1:]}
    assert rows["H004"][6] == "21/11/2026"
    assert rows["H003"][6] == ""
    code, output = loa("broadcast", "status", "1")
    assert f"{_('Told by hand')} 1" in " ".join(output.replace("│", " ").split())


def test_relay_list_needs_one_source(event_id: int) -> None:
    assert loa("relay", "list", "--format", "csv")[0] == 1
    assert loa("relay", "list", "--broadcast", "1", "--event", "1")[0] == 1
    code, output = loa("relay", "list", "--broadcast", "7", "--format", "csv")
    assert code == 1
    assert _("No broadcast has the number {id}.").format(id=7) in output
    assert loa("relay", "list", "--broadcast", "7", "--format", "pdf")[0] == 1
