"""Broadcasts: preview, approval, the scheduler pass (batches, resuming, cancelling), holidays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.config import Settings
from bot.rules import plan
from messages.placeholders import PlaceholderError
from scheduler import broadcasts
from scheduler.broadcasts import BroadcastError, Draft, approve, cancel, preview, run, submit
from scheduler.delivery import Routing
from scheduler.tick import Context, Line
from scheduler.windows import Windows
from storage import broadcasts as store
from storage import outbox, relays
from storage.audit import Actor
from storage.models import Broadcast, Event, EventRegistration, Message
from storage.models.broadcasts import (
    CANCELLED,
    DONE,
    PENDING_APPROVAL,
    SCHEDULED,
    SENDING,
    SOURCE_BROADCAST,
)
from storage.models.messages import BULK, NORMAL, QUEUED, SENT
from storage.staff import add_staff
from tests.scheduler.conftest import stub_routing

Sessions = async_sessionmaker[AsyncSession]
TEXT = "Kính gửi {ho_ten} ({thon}): tối nay 19:00 họp dân tại nhà văn hóa."
AN_HIEP = "commune=29002"  # H001-H005: Telegram, SMS, Zalo, relay, opted out


def settings(**values: Any) -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///unused.db", **values)


async def submitted(
    sessions: Sessions, routing: Routing, now: datetime, draft: Draft, by: str = "lan"
) -> int:
    async with sessions() as session, session.begin():
        number, _seen = await submit(
            session, draft, routing=routing, settings=settings(), now=now, by=by
        )
    return number


async def tick(sessions: Sessions, routing: Routing, now: datetime) -> dict[str, int]:
    lines: Sequence[Line] = await run(Context(sessions, routing, settings(), now))
    return {line.label: line.count for line in lines}


async def rows(sessions: Sessions, number: int) -> list[Message]:
    async with sessions() as session:
        query = select(Message).where(
            Message.source_kind == SOURCE_BROADCAST, Message.source_id == number
        )
        return list(await session.scalars(query.order_by(Message.household_id)))


async def stored(sessions: Sessions, number: int) -> store.BroadcastRow:
    async with sessions() as session:
        found = await store.get(session, broadcast_id=number)
    assert found is not None
    return found


async def nothing_stored(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


# --- preview -----------------------------------------------------------------------------


async def test_preview_counts_channels_relays_parts_and_cost(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    async with sessions() as session:
        seen = await preview(
            session, Draft(TEXT, AN_HIEP), routing=routing, settings=settings(), now=clock.now()
        )
    assert seen.households == 5
    assert seen.channels == {"sms": 1, "telegram": 1, "zalo": 1}
    assert (seen.relayed, seen.opted_out) == (1, 1)
    assert (seen.segments, seen.longest) == (1, 1)
    assert seen.cost == {"sms": 250.0, "telegram": 0.0, "zalo": 200.0}
    assert seen.total_cost == 450.0
    assert seen.communes == ["29002"]
    assert (seen.needs_approval, seen.reason) == (False, "")
    assert seen.sample == "Kính gửi Nguyễn Văn An (Ấp 1): tối nay 19:00 họp dân tại nhà văn hóa."
    assert (
        seen.sms_sample == "Kinh gui Nguyen Van An (Ap 1): toi nay 19:00 hop dan tai nha van hoa."
    )
    await nothing_stored(sessions)


async def test_own_channel_order_and_sms_text(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    long_sms = "Hop dan {ho_ten} " + "x" * 200  # two parts
    draft = Draft(TEXT, AN_HIEP, sms_text=long_sms, channel_order=["sms"])
    async with sessions() as session:
        seen = await preview(session, draft, routing=routing, settings=settings(), now=clock.now())
    assert seen.channels == {"sms": 2}  # H001's phone too; H003 has only Zalo: by hand
    assert seen.relayed == 2
    assert (seen.segments, seen.longest) == (4, 2)
    assert seen.cost == {"sms": 1000.0}
    assert seen.sms_sample is not None
    assert seen.sms_sample.startswith("Hop dan Nguyen Van An")


async def test_approval_for_two_communes_or_over_the_threshold(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    async with sessions() as session:
        both = await preview(
            session, Draft(TEXT, "all"), routing=routing, settings=settings(), now=clock.now()
        )
        many = await preview(
            session,
            Draft(TEXT, AN_HIEP),
            routing=routing,
            settings=settings(approval_threshold=4),
            now=clock.now(),
        )
    assert both.communes == ["29002", "29005"]
    assert both.needs_approval
    assert "2" in both.reason
    assert many.needs_approval
    assert "5" in many.reason
    assert "4" in many.reason
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, "all"))
    assert (await stored(sessions, number)).status == PENDING_APPROVAL
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP))
    assert (await stored(sessions, number)).status == SCHEDULED


@pytest.mark.parametrize(
    ("draft", "error", "words"),
    [
        (Draft("Chào {ten}", AN_HIEP), PlaceholderError, "{ten}"),
        (Draft("Mời dự {su_kien}", AN_HIEP), PlaceholderError, "{su_kien}"),
        (Draft(TEXT, AN_HIEP, sms_text="Hop {ngay}"), PlaceholderError, "{ngay}"),
        (Draft("   ", AN_HIEP), BroadcastError, ""),
        (Draft(TEXT, "commune=29008"), BroadcastError, "commune=29008"),
        (Draft(TEXT, "commune=99999"), ValueError, "99999"),
        (Draft("Hop dan " + "x" * 470, AN_HIEP), BroadcastError, "4"),
        (Draft(TEXT, AN_HIEP, channel_order=["viber"]), BroadcastError, "viber"),
        (Draft(TEXT, AN_HIEP, event_id=999), BroadcastError, "999"),
    ],
)
async def test_bad_drafts_store_nothing(
    sessions: Sessions,
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
    draft: Draft,
    error: type[Exception],
    words: str,
) -> None:
    with pytest.raises(error) as caught:
        await submitted(sessions, routing, clock.now(), draft)
    assert words in str(caught.value)
    await nothing_stored(sessions)


async def test_a_time_in_the_past_is_refused(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    past = clock.now() - timedelta(minutes=5)
    with pytest.raises(BroadcastError):
        await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP, send_at=past))
    await nothing_stored(sessions)
    just_now = clock.now() - timedelta(seconds=30)  # typing takes time: still "now"
    await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP, send_at=just_now))


# --- approval ----------------------------------------------------------------------------


async def staff(sessions: Sessions, clock: FixedClock) -> None:
    """lan (assistant, An Hiệp), binh (officer, province 86), chi (officer, Gia Lai 89),
    dung (officer of An Hiệp only), root (admin)."""
    actor = Actor("cli:test", "cli")
    people = [
        ("lan", "assistant", ["29002"]),
        ("binh", "officer", ["86"]),
        ("chi", "officer", ["89"]),
        ("dung", "officer", ["29002"]),
        ("root", "admin", []),
    ]
    async with sessions() as session, session.begin():
        for name, role, areas in people:
            await add_staff(
                session,
                username=name,
                role=role,
                areas=areas,
                password="mat-khau-that-dai",
                actor=actor,
                now=clock.now(),
            )


async def test_who_may_approve(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    await staff(sessions, clock)
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, "all"), by="binh")
    for who, words in (
        ("binh", ""),  # the sender
        ("lan", "lan"),  # an assistant
        ("chi", "29002"),  # an officer of another province
        ("dung", "29005"),  # an officer of one of the two communes
        ("nobody", "nobody"),
    ):
        async with sessions() as session, session.begin():
            with pytest.raises(BroadcastError) as caught:
                await approve(session, number, by=who, now=clock.now())
        assert words in str(caught.value)
        assert (await stored(sessions, number)).status == PENDING_APPROVAL
    async with sessions() as session, session.begin():
        await approve(session, number, by="root", now=clock.now())
    found = await stored(sessions, number)
    assert (found.status, found.approved_by, found.approved_at) == (SCHEDULED, "root", clock.now())
    async with sessions() as session, session.begin():
        with pytest.raises(BroadcastError):
            await approve(session, number, by="root", now=clock.now())


async def test_an_officer_of_the_province_approves(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    await staff(sessions, clock)
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, "all"), by="lan")
    async with sessions() as session, session.begin():
        await approve(session, number, by="binh", now=clock.now())
    assert (await stored(sessions, number)).status == SCHEDULED


# --- the pass ----------------------------------------------------------------------------


async def test_queued_at_its_time_once(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    later = clock.now() + timedelta(hours=1)
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP, send_at=later))
    assert (await tick(sessions, routing, clock.now()))["Broadcasts queued"] == 0
    assert await rows(sessions, number) == []
    lines = await tick(sessions, routing, later)
    assert lines["Broadcasts queued"] == 1
    assert lines["Broadcast messages queued"] == 3
    assert lines["Broadcast households to reach by hand"] == 1
    queued = await rows(sessions, number)
    assert [(m.household_id, m.channel, m.priority) for m in queued] == [
        (town["H001"], "telegram", BULK),
        (town["H002"], "sms", BULK),
        (town["H003"], "zalo", BULK),
    ]
    assert queued[0].text.startswith("Kính gửi Nguyễn Văn An (Ấp 1)")
    assert queued[1].dedup_key == f"b{number}:{town['H002']}"
    found = await stored(sessions, number)
    assert (found.status, found.queued_at) == (SENDING, later)
    async with sessions() as session:
        lines_by_hand = await relays.lines(session, sources=[(SOURCE_BROADCAST, number)])
    assert [line.household_code for line in lines_by_hand] == ["H004"]
    again = await tick(sessions, routing, later + timedelta(minutes=1))
    assert again["Broadcasts queued"] == 0
    assert len(await rows(sessions, number)) == 3


async def test_a_pass_that_stops_midway_is_resumed_without_duplicates(
    sessions: Sessions,
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP))
    monkeypatch.setattr(broadcasts, "BATCH", 2)
    real = broadcasts.put
    calls = 0

    async def crash_on_the_second_page(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died")
        return await real(*args, **kwargs)

    monkeypatch.setattr(broadcasts, "put", crash_on_the_second_page)
    lines = await tick(sessions, routing, clock.now())
    assert lines["Broadcasts not queued; see the log"] == 1
    assert len(await rows(sessions, number)) == 2  # H001 and H002: the first page
    assert (
        (await stored(sessions, number)).status,
        (await stored(sessions, number)).queued_at,
    ) == (
        SENDING,
        None,
    )
    lines = await tick(sessions, routing, clock.now() + timedelta(minutes=1))
    assert lines["Broadcasts queued"] == 1
    queued = await rows(sessions, number)
    assert len(queued) == 3
    assert len({m.dedup_key for m in queued}) == 3
    assert (await stored(sessions, number)).queued_at is not None


async def test_cancel_stops_what_is_not_yet_sent(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP))
    await tick(sessions, routing, clock.now())
    first = (await rows(sessions, number))[0]
    async with sessions() as session, session.begin():
        await session.execute(update(Message).where(Message.id == first.id).values(status=SENT))
    async with sessions() as session, session.begin():
        assert await cancel(session, number, by="lan", now=clock.now()) == 2
    assert [m.status for m in await rows(sessions, number)] == [SENT, CANCELLED, CANCELLED]
    found = await stored(sessions, number)
    assert (found.status, found.cancelled_by) == (CANCELLED, "lan")
    async with sessions() as session, session.begin():
        with pytest.raises(BroadcastError):
            await cancel(session, number, by="lan", now=clock.now())
    assert (await tick(sessions, routing, clock.now()))["Broadcasts done"] == 0


async def test_a_cancel_while_queueing_leaves_nothing_queued(
    sessions: Sessions,
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP))
    real = broadcasts.put

    async def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        async with sessions() as other, other.begin():
            await cancel(other, number, by="lan", now=clock.now())
        return await real(*args, **kwargs)

    monkeypatch.setattr(broadcasts, "put", cancelled_meanwhile)
    lines = await tick(sessions, routing, clock.now())
    assert lines["Broadcasts queued"] == 0
    assert await rows(sessions, number) == []
    assert (await stored(sessions, number)).status == CANCELLED


async def test_done_when_nothing_is_left_to_send(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    number = await submitted(sessions, routing, clock.now(), Draft(TEXT, AN_HIEP))
    assert (await tick(sessions, routing, clock.now()))["Broadcasts done"] == 0
    ids = [m.id for m in await rows(sessions, number)]
    async with sessions() as session, session.begin():
        await session.execute(update(Message).where(Message.id.in_(ids[:2])).values(status=SENT))
    later = clock.now() + timedelta(minutes=5)
    assert (await tick(sessions, routing, later))["Broadcasts done"] == 0
    async with sessions() as session, session.begin():
        await session.execute(update(Message).where(Message.id == ids[2]).values(status="failed"))
    assert (await tick(sessions, routing, later))["Broadcasts done"] == 1
    found = await stored(sessions, number)
    assert (found.status, found.done_at) == (DONE, later)
    async with sessions() as session:
        done = await store.progress(session, broadcast_id=number)
    assert (done.count(SENT), done.count("failed"), done.relayed) == (2, 1, 1)


async def test_a_bulk_broadcast_waits_out_a_holiday_an_urgent_one_does_not(
    sessions: Sessions, town: dict[str, int], routing: Routing
) -> None:
    holiday = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00, Vietnam Cultural Day
    bulk = await submitted(
        sessions, routing, holiday, Draft("Thông báo chung", "village=29002-002")
    )
    urgent = await submitted(
        sessions, routing, holiday, Draft("Tin khẩn: lũ về", "village=29002-002", urgent=True)
    )
    await tick(sessions, routing, holiday)
    async with sessions() as session, session.begin():
        claimed = await outbox.claim(
            session,
            channel="sms",
            now=holiday,
            limit=10,
            lease_until=holiday + timedelta(minutes=2),
        )
    assert sorted((r.source_id, r.priority) for r in claimed) == [(bulk, BULK), (urgent, NORMAL)]
    windows = Windows.parse(settings().zone, "21:00-07:00", 3)
    decided = plan(claimed, now=holiday, windows=windows, sent_today={}, repeats={})
    assert [r.source_id for r in decided.send] == [urgent]
    [held] = decided.done
    assert held.status == QUEUED
    assert held.not_before == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 07:00 the next day


# --- events ------------------------------------------------------------------------------


async def event(sessions: Sessions, clock: FixedClock, starts_at: datetime) -> int:
    now = clock.now()
    async with sessions() as session, session.begin():
        found = Event(
            kind="training",
            title="Lớp nghề may",
            commune_code="29002",
            starts_at=starts_at,
            place="Nhà văn hóa ấp 1",
            audience=AN_HIEP,
            status="confirmed",
            details={},
            register_by=date(2026, 11, 28),
            created_by="lan",
            created_at=now,
            updated_at=now,
        )
        session.add(found)
        await session.flush()
        return found.id


async def test_event_placeholders_are_filled_and_households_invited(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    number_of_event = await event(sessions, clock, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    text = "Mời {ho_ten} dự {su_kien} lúc {gio} ngày {ngay} tại {dia_diem}; hạn {han_dang_ky}."
    draft = Draft(text, AN_HIEP, event_id=number_of_event)
    async with sessions() as session:
        seen = await preview(session, draft, routing=routing, settings=settings(), now=clock.now())
    expected = (
        "Mời Nguyễn Văn An dự Lớp nghề may lúc 08:00 ngày 01/12/2026 tại Nhà văn hóa ấp 1;"
        " hạn 28/11/2026."
    )
    assert seen.sample == expected
    number = await submitted(sessions, routing, clock.now(), draft)
    await tick(sessions, routing, clock.now())
    assert (await rows(sessions, number))[0].text == expected
    async with sessions() as session:
        invited = await session.scalar(
            select(func.count())
            .select_from(EventRegistration)
            .where(EventRegistration.event_id == number_of_event)
        )
    assert invited == 5


async def test_an_event_in_the_past_is_refused(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    number_of_event = await event(sessions, clock, clock.now() - timedelta(days=1))
    with pytest.raises(BroadcastError):
        await submitted(
            sessions,
            routing,
            clock.now(),
            Draft("Mời dự {su_kien}", AN_HIEP, event_id=number_of_event),
        )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_without_an_sms_channel_a_long_text_is_fine(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    chat_only = stub_routing(("zalo", "telegram"))
    long_text = "Hop dan " + "x" * 470
    async with sessions() as session:
        seen = await preview(
            session,
            Draft(long_text, AN_HIEP),
            routing=Routing({k: v for k, v in chat_only.channels.items() if k != "sms"}, ["zalo"]),
            settings=settings(),
            now=clock.now(),
        )
    assert seen.sms_sample is None  # no SMS channel: a long text is fine
