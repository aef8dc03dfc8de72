"""Loan reminders (D-7, D-3, the transaction day) and overdue follow-ups, day by day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.rules import plan
from messages.sms import prepare
from scheduler import loan_texts, loans
from scheduler.delivery import Routing
from scheduler.tick import Context, passes
from scheduler.windows import Windows
from storage import outbox, relays
from storage.db import create_engine, session_factory
from storage.followups import NewFollowUp, open_followups
from storage.loans import DueInstalment, transaction_before, transaction_windows
from storage.models import Commune, FollowUp, Instalment, Loan, Message
from storage.models.broadcasts import SOURCE_INSTALMENT
from storage.models.messages import OVERDUE, SKIPPED
from storage.outbox import PAID

Sessions = async_sessionmaker[AsyncSession]
DUE = date(2026, 12, 15)  # the town's transaction day is the 10th, at the People's Committee
PLACE = "Trụ sở UBND xã An Hiệp"
HEAD = "+84912345678"


def settings(days: str = "7,3") -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///unused.db", loan_reminder_days=days)


def context(sessions: Sessions, routing: Routing, on: date, days: str = "7,3") -> Context:
    """A pass at 10:00 local time on a day."""
    now = datetime(on.year, on.month, on.day, 3, tzinfo=UTC)
    return Context(sessions, routing, settings(days), now)


async def lend(
    sessions: Sessions, household_id: int, due: date = DUE, programme: str = "ho_ngheo", n: int = 0
) -> int:
    """Loan N of a household with one instalment of 1.500.000 + 95.000 đồng; its id."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with sessions() as session, session.begin():
        row = Loan(
            household_id=household_id,
            programme=programme,
            amount=30_000_000,
            disbursed_on=date(2025, 1, 10) + timedelta(days=n),
            group_name="Tổ TK&VV Ấp 1",
            group_head_phone=HEAD,
            source_name="test",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        instalment = Instalment(
            loan_id=row.id,
            due_on=due,
            principal=1_500_000,
            interest=95_000,
            created_at=now,
            updated_at=now,
        )
        session.add(instalment)
        await session.flush()
        return instalment.id


async def pay(sessions: Sessions, instalment_id: int, on: date) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Instalment)
            .where(Instalment.id == instalment_id)
            .values(paid_on=on, paid_amount=1_595_000)
        )


async def keys(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(select(Message.dedup_key).order_by(Message.id))
        return [k for k in found.all() if k is not None]


async def texts(sessions: Sessions, key: str) -> list[tuple[str, str, dict[str, object] | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Message.channel, Message.text, Message.data).where(Message.dedup_key == key)
        )
        return [(c, t, d) for c, t, d in rows.all()]


async def counts(ctx: Context) -> dict[str, int]:
    return {line.label: line.count for line in await loans.run(ctx)}


async def test_the_days_that_matter(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    sms, chat = await lend(sessions, town["H002"]), await lend(sessions, town["H001"])
    expected: list[str] = []
    for on, kind in (
        (date(2026, 12, 7), None),
        (date(2026, 12, 8), "d7"),
        (date(2026, 12, 8), None),  # the same day again
        (date(2026, 12, 9), None),
        (date(2026, 12, 10), "tx"),
        (date(2026, 12, 11), None),
        (date(2026, 12, 12), "d3"),
        (date(2026, 12, 15), None),  # the due date itself
    ):
        lines = await counts(context(sessions, routing, on))
        if kind:
            expected += [f"loan{sms}.{kind}", f"loan{chat}.{kind}"]
        assert lines["Loan reminders queued"] == (2 if kind else 0), on
        assert lines["Overdue instalments"] == 0
        assert await keys(sessions) == expected, on
    ((channel, text, _data),) = await texts(sessions, f"loan{sms}.d7")
    assert channel == "sms"
    assert "15/12/2026" in text
    ((channel, _text, _data),) = await texts(sessions, f"loan{chat}.tx")
    assert channel == "telegram"

    lines = await counts(context(sessions, routing, date(2026, 12, 16)))
    assert lines == {
        "Loan reminders queued": 0,
        "Overdue instalments": 2,
        "Overdue notices queued": 2,
    }
    found = await keys(sessions)
    assert found[: len(expected)] == expected
    assert sorted(found[len(expected) :]) == [f"loan{sms}.overdue", f"loan{chat}.overdue"]
    for day in (date(2026, 12, 16), date(2026, 12, 17), date(2027, 1, 10)):
        lines = await counts(context(sessions, routing, day))
        assert set(lines.values()) == {0}, day
    async with sessions() as session:
        items = (await session.execute(select(FollowUp.household_id, FollowUp.kind))).all()
        marked = (await session.scalars(select(Instalment.overdue_at))).all()
    assert sorted(items) == sorted([(town["H002"], "overdue"), (town["H001"], "overdue")])
    assert all(at == datetime(2026, 12, 16, 3, tzinfo=UTC) for at in marked)


async def test_a_restart_queues_nothing_twice(
    sessions: Sessions, store_url: str, town: dict[str, int], routing: Routing
) -> None:
    await lend(sessions, town["H002"])
    await loans.run(context(sessions, routing, date(2026, 12, 8)))
    await loans.run(context(sessions, routing, date(2026, 12, 16)))
    engine = create_engine(store_url)  # a new process: its own engine and sessions
    try:
        again = session_factory(engine)
        for on in (date(2026, 12, 8), date(2026, 12, 16)):
            lines = await counts(context(again, routing, on))
            assert set(lines.values()) == {0}
    finally:
        await engine.dispose()
    assert len(await keys(sessions)) == 2


async def test_paid_before_d3_gets_no_more(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    paid = await lend(sessions, town["H002"])
    await loans.run(context(sessions, routing, date(2026, 12, 8)))
    await pay(sessions, paid, date(2026, 12, 9))
    for on in (date(2026, 12, 10), date(2026, 12, 12), date(2026, 12, 16)):
        await loans.run(context(sessions, routing, on))
    assert await keys(sessions) == [f"loan{paid}.d7"]
    async with sessions() as session:
        assert (await session.scalars(select(FollowUp.id))).first() is None


async def test_paid_after_queuing_is_skipped_by_the_sender(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    paid = await lend(sessions, town["H002"])
    await loans.run(context(sessions, routing, date(2026, 12, 8)))
    await pay(sessions, paid, date(2026, 12, 8))
    now = datetime(2026, 12, 8, 4, tzinfo=UTC)
    async with sessions() as session, session.begin():
        rows = await outbox.claim(
            session, channel="sms", now=now, limit=10, lease_until=now + timedelta(minutes=5)
        )
        decided = plan(
            rows,
            now=now,
            windows=Windows.parse(settings().zone, "21:00-07:00", 3),
            sent_today={},
            repeats={},
        )
        await outbox.finish(session, decided.done, now=now)
    assert decided.send == []
    async with sessions() as session:
        row = (await session.execute(select(Message.status, Message.last_error))).one()
    assert tuple(row) == (SKIPPED, PAID)


async def test_transaction_day_on_d7_sends_that_one_alone(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    due = await lend(sessions, town["H002"], date(2026, 12, 17))  # D-7 is the 10th
    await loans.run(context(sessions, routing, date(2026, 12, 10)))
    await loans.run(context(sessions, routing, date(2026, 12, 14)))
    assert await keys(sessions) == [f"loan{due}.tx", f"loan{due}.d3"]
    ((_channel, _text, data),) = await texts(sessions, f"loan{due}.tx")
    assert data is not None
    chat = str(data["texts"]["chat"])  # type: ignore[index]
    assert f"{PLACE}, on 10/12/2026" in chat or f"{PLACE}, ngày 10/12/2026" in chat


async def test_transaction_day_31_in_a_30_day_month(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Commune).where(Commune.code == "29002").values(transaction_day=31)
        )
    due = await lend(sessions, town["H002"], date(2026, 12, 5))
    for on in (date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)):
        await loans.run(context(sessions, routing, on))
    assert await keys(sessions) == [f"loan{due}.d7", f"loan{due}.tx"]
    ((_c, text, _d),) = await texts(sessions, f"loan{due}.d7")
    assert "30/11/2026" in text  # the SMS names the day to pay: November has no 31st


async def test_a_household_no_channel_reaches_is_relayed(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    due = await lend(sessions, town["H004"])
    lines = await counts(context(sessions, routing, date(2026, 12, 8)))
    assert lines["Loan reminders queued"] == 0
    async with sessions() as session:
        found = await relays.lines(session, sources=[(SOURCE_INSTALMENT, due)])
    assert [line.household_code for line in found] == ["H004"]
    assert "1.500.000 đồng" in found[0].text
    assert await keys(sessions) == []


async def test_offsets_come_from_the_settings(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    due = await lend(sessions, town["H002"], date(2026, 12, 20))  # the 10th is before D-5
    for on in (date(2026, 12, 13), date(2026, 12, 15), date(2026, 12, 17)):
        await loans.run(context(sessions, routing, on, days="5"))
    assert await keys(sessions) == [f"loan{due}.d5"]


async def test_the_text_says_what_where_and_whom_to_call(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    due = await lend(sessions, town["H001"])
    await loans.run(context(sessions, routing, date(2026, 12, 8)))
    ((channel, text, data),) = await texts(sessions, f"loan{due}.d7")
    assert channel == "telegram"
    for part in ("1.500.000 đồng", "95.000 đồng", "1.595.000 đồng", "15/12/2026"):
        assert part in text
    assert f"{PLACE}, on 10/12/2026" in text or f"{PLACE}, ngày 10/12/2026" in text
    assert "0912 345 678" in text
    assert "tín dụng đen" in text
    assert data is not None
    sms = str(data["texts"]["sms"])  # type: ignore[index]
    assert "1.500.000 đồng" in sms
    assert "0912 345 678" in sms
    assert prepare(sms).segments <= settings().sms_max_segments


def test_a_long_sms_drops_the_least_needed_first() -> None:
    today = date(2026, 12, 8)
    long_place = "Nhà văn hoá ấp Phú Hữu, cạnh chợ cũ, đối diện trường tiểu học " * 5
    due = DueInstalment(1, 1, "ho_ngheo", DUE, 1_500_000, 95_000, "Tổ 1", HEAD, 10, long_place)
    full = " ".join(text for text, _rank in loan_texts.reminder_sms(due, today=today))
    assert prepare(full).segments > 3
    short = loan_texts.fit(loan_texts.reminder_sms(due, today=today), 3, True)
    assert prepare(short).segments <= 3
    assert "1.500.000 đồng" in short
    assert "0912 345 678" in short  # the group head stays; the advice, then the place went
    assert long_place not in short
    assert "sharks" not in short
    assert loan_texts.fit(loan_texts.reminder_sms(due, today=today), 4, True) == full  # fits in 4


async def test_instalments_overdue_together_get_one_notice(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    first = await lend(sessions, town["H002"], date(2026, 12, 14))
    second = await lend(sessions, town["H002"], date(2026, 12, 15), programme="nuoc_sach", n=1)
    lines = await counts(context(sessions, routing, date(2026, 12, 16)))
    assert lines["Overdue instalments"] == 2
    assert lines["Overdue notices queued"] == 1
    assert await keys(sessions) == [f"loan{first}.overdue"]
    ((_c, _t, data),) = await texts(sessions, f"loan{first}.overdue")
    assert data is not None
    chat = str(data["texts"]["chat"])  # type: ignore[index]
    assert "14/12/2026" in chat
    assert "15/12/2026" in chat
    async with sessions() as session:
        found = (await session.execute(select(FollowUp.dedup_key, FollowUp.priority))).all()
        kinds = (await session.scalars(select(Message.kind))).all()
    assert sorted(found) == [(f"overdue:{first}", "high"), (f"overdue:{second}", "high")]
    assert kinds == [OVERDUE]


async def test_followups_with_a_key_open_once(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    now = datetime(2026, 12, 16, tzinfo=UTC)
    item = NewFollowUp(town["H002"], "overdue", "high", "x", dedup_key="overdue:1")
    plain = NewFollowUp(town["H002"], "visit", "normal", "y")
    async with sessions() as session, session.begin():
        await open_followups(session, [item, plain], now=now)
    async with sessions() as session, session.begin():
        await open_followups(session, [item, plain], now=now)
    async with sessions() as session:
        kinds = (await session.scalars(select(FollowUp.kind).order_by(FollowUp.id))).all()
    assert kinds == ["overdue", "visit", "visit"]  # without a key, callers decide


async def test_two_schedulers_at_once(
    sessions: Sessions, store_url: str, town: dict[str, int], routing: Routing
) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("two processes share a store on PostgreSQL")
    ids = [await lend(sessions, town[code]) for code in ("H001", "H002", "H003", "H006")]
    ids.append(await lend(sessions, town["H002"], date(2026, 12, 14), n=1))
    engines = [create_engine(store_url) for _ in range(2)]
    try:
        factories = [session_factory(e) for e in engines]
        for on in (date(2026, 12, 8), date(2026, 12, 10), date(2026, 12, 16)):
            await asyncio.gather(*(loans.run(context(f, routing, on)) for f in factories))
    finally:
        for engine in engines:
            await engine.dispose()
    found = await keys(sessions)
    assert len(found) == len(set(found))
    assert {f"loan{i}.d7" for i in ids[:4]} <= set(found)
    assert f"loan{ids[4]}.d7" not in found  # due on the 14th: its D-7 was the 7th
    assert sum(k.endswith(".overdue") for k in found) == 4  # H002 once for both
    async with sessions() as session:
        items = (await session.scalars(select(FollowUp.dedup_key))).all()
    assert sorted(str(k) for k in items) == sorted(f"overdue:{i}" for i in ids)


def test_the_calendar() -> None:
    due = DueInstalment(1, 1, "ho_ngheo", DUE, 1, 1, None, None, None, None)
    assert due.kind(date(2026, 12, 8)) == "d7"
    assert transaction_before(31, date(2026, 12, 5)) == date(2026, 11, 30)
    assert transaction_before(10, date(2026, 12, 10)) == date(2026, 11, 10)
    assert transaction_before(10, date(2026, 12, 10), inclusive=True) == date(2026, 12, 10)
    assert transaction_windows(date(2026, 2, 28), 40) == [
        (day, date(2026, 3, day)) for day in range(28, 32)
    ]
    assert transaction_windows(date(2026, 2, 28), 7) == [
        (day, date(2026, 3, 7)) for day in range(28, 32)
    ]
    assert transaction_windows(date(2026, 3, 10), 7) == [(10, date(2026, 3, 17))]
    assert loans.run in passes()


def test_texts_without_a_place_or_a_head() -> None:
    due = DueInstalment(1, 1, "hssv", DUE, 1_500_000, 0, None, None, None, None)
    text = loan_texts.reminder_text(due, today=date(2026, 12, 8))
    assert "1.500.000 đồng" in text
    assert "None" not in text
    notice = loan_texts.overdue_text([due])
    assert "15/12/2026" in notice
    assert "tín dụng đen" in notice
    many = [
        DueInstalment(n, 1, "hssv", DUE - timedelta(days=n), 100_000, 0, None, HEAD, 10, None)
        for n in range(1, 6)
    ]
    sms = loan_texts.fit(loan_texts.overdue_sms(many), 3, True)
    assert "14/12/2026, 13/12/2026, 12/12/2026..." in sms
    assert "500.000 đồng" in sms  # the total of all five
    assert prepare(sms).segments <= 3
