"""`loa event ...` end to end on the test town: create, list, register, update, lists, feedback."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from storage.db import create_engine, session_factory
from storage.models import Event, Message
from storage.models.messages import EVENT_CHANGE
from tests.conftest import loa
from tests.scheduler.conftest import town  # noqa: F401

CLASS = (
    *("event", "create", "--kind", "training", "--title", "Lớp may công nghiệp"),
    *("--at", "2026-12-01T08:00", "--place", "Nhà văn hóa ấp 1", "--audience", "commune=29002"),
    *("--register-by", "28/11/2026", "--min-size", "2", "--detail", "trade=may công nghiệp"),
    *("--detail", "fee_waiver=yes", "--detail", "allowance=ăn trưa 30.000 đồng/ngày"),
)


@pytest.fixture
def cli(
    settings_env: str,
    town: dict[str, int],  # noqa: F811
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The town in the store the CLI opens, a fixed clock; the store's URL."""
    monkeypatch.setattr(common, "clock", clock)
    monkeypatch.setattr(common.out, "width", 200)  # table cells on one line each
    common.get_settings.cache_clear()
    return settings_env


def flat(output: str) -> str:
    """The output with its line breaks and table borders folded to single spaces."""
    return " ".join(output.replace("│", " ").split())


def stored(url: str) -> tuple[list[Event], list[tuple[str, str]]]:
    """The events, and the outbox's (kind, dedup key) pairs."""

    async def read() -> tuple[list[Event], list[tuple[str, str]]]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                events = list(await session.scalars(select(Event)))
                rows = await session.execute(select(Message.kind, Message.dedup_key))
                return events, [(k, d or "") for k, d in rows.all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def ok(*args: str) -> str:
    code, output = loa(*args)
    assert code == 0, output
    return output


def test_create_previews_and_only_yes_stores(cli: str) -> None:
    text = flat(ok(*CLASS))
    for fact in ("Lớp may công nghiệp", "08:00", "01/12/2026", "28/11/2026", "30.000 đồng/ngày"):
        assert fact in text
    assert _("Nothing was stored. Add --yes to store the event and send its notice.") in text
    assert stored(cli) == ([], [])
    text = flat(ok(*CLASS, "--yes"))
    (event,), _rows = stored(cli)  # on PostgreSQL the preview used up a number
    message = _("Stored event {id}; its notice is broadcast {broadcast} ({state}).")
    assert message.format(id=event.id, broadcast=1, state=_("scheduled")) in text
    assert (event.title, event.min_size, event.details["fee_waiver"]) == (
        "Lớp may công nghiệp",
        2,
        True,
    )


@pytest.mark.parametrize(
    ("change", "shows"),
    [
        (("--at", "2026-11-20T08:00"), ""),  # in the past
        (("--register-by", "2026-12-05"), "05/12/2026"),  # after the event
        (("--detail", "jobs=5"), "trade=…"),  # not a detail of a class: the keys are listed
        (("--kind", "party"), "training"),
        (("--status", "postponed"), "postponed"),
        (("--min-size", "0"), ""),
        (("--audience", "commune=29008"), "29008"),
        (("--register-by", "mai"), "mai"),
        (("--as", "nobody"), "nobody"),
    ],
)
def test_bad_input_is_one_sentence_and_stores_nothing(
    cli: str, change: tuple[str, str], shows: str
) -> None:
    args = list(CLASS)
    if change[0] in args and change[0] != "--detail":
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    code, output = loa(*args, "--yes")
    assert code == 1, output
    assert output.strip()
    assert shows in flat(output)
    assert stored(cli) == ([], [])


def _registered_class(cli: str) -> None:
    """The class stored, its notice queued (inviting H001-H005), H001 and H002 registered."""
    ok(*CLASS, "--yes")
    ok("scheduler", "tick")
    for code in ("H002", "H001"):
        ok("event", "register", "1", "--household", code)


def test_register_list_and_the_registrant_list(cli: str, tmp_path: Path) -> None:
    _registered_class(cli)
    again = flat(ok("event", "register", "1", "--household", "H002"))
    title = "Lớp may công nghiệp"
    assert (
        _("The household {code} was already registered for {title}.").format(
            code="H002", title=title
        )
        in again
    )
    listed = flat(ok("event", "list", "--upcoming"))
    assert title in listed
    assert f"5 / 2 / 2 {_('class is full')}" in listed
    assert "Lớp may" not in ok("event", "list", "--commune", "29005")
    shown = list(csv.reader(io.StringIO(ok("event", "registrants", "1", "--format", "csv"))))
    out_file = tmp_path / "ds.xlsx"
    ok("event", "registrants", "1", "--format", "xlsx", "--out", str(out_file))
    sheet = load_workbook(out_file).active
    assert sheet is not None
    from_xlsx = [
        [("" if c is None else str(c)) for c in row] for row in sheet.iter_rows(values_only=True)
    ]
    for table in (shown, from_xlsx):
        assert table[0][0] == _("REGISTRANT LIST")
        assert table[1][0] == title
        assert "08:00 01/12/2026" in table[2][0]
        assert "Nhà văn hóa ấp 1" in table[3][0]
        assert table[4][:3] == [_("No."), _("Household code"), _("Head of household")]
        assert [row[:3] for row in table[5:7]] == [
            ["1", "H001", "Nguyễn Văn An"],
            ["2", "H002", "Trần Thị Bình"],
        ]
        assert table[6][5] == "0912 000 002"
        assert table[6][7] == _("in person")
        assert table[-2][0] == _("Registered households: {n}").format(n=2)
        assert table[-1][0] == _("Minimum size {n}: reached.").format(n=2)


def test_postponing_tells_the_households_on_the_list(cli: str) -> None:
    _registered_class(cli)
    text = flat(ok("event", "update", "1", "--status", "postponed"))
    # only the console here: H001 and H002 by message, H003 (Zalo) and H004 by hand
    message = _("Event {id} changed; {n} households told, {relayed} of them by hand.")
    assert message.format(id=1, n=4, relayed=2) in text
    (event,), rows = stored(cli)
    assert (event.status, event.revision) == ("postponed", 1)
    told = [key for kind, key in rows if kind == EVENT_CHANGE]
    assert sorted(told) == ["ev1.r1:1", "ev1.r1:2"]
    code, output = loa("event", "update", "1", "--status", "postponed")
    assert code == 1, output  # nothing changes
    code, output = loa("event", "update", "7", "--status", "confirmed")
    assert code == 1
    assert "7" in output


def test_feedback_after_the_event(cli: str, clock: FixedClock) -> None:
    ok("survey", "import", "messages/vi/surveys/feedback.csv")
    soon = (
        *("event", "create", "--kind", "distribution", "--title", "Cấp gạo cứu đói"),
        *("--at", "2026-11-21T14:00", "--place", "UBND xã", "--audience", "commune=29002"),
        *("--status", "confirmed", "--register-by", "2026-11-21", "--detail", "items=gạo 15 kg"),
        *("--feedback-form", "feedback", "--yes"),
    )
    ok(*soon)
    ok("event", "register", "1", "--household", "H002")
    ok("event", "register", "1", "--household", "H004")  # no phone, no chat: unreachable
    code, output = loa("event", "feedback", "1")
    assert code == 1, output  # not yet taken place
    clock.advance(timedelta(hours=5))
    text = flat(ok("event", "feedback", "1"))
    message = _("Feedback survey started: {started}; not started: {refused}; unreachable: {none}.")
    assert message.format(started=1, refused=0, none=1) in text
