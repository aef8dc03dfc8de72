"""Events: creating one with its notice, invitations, quorum, reminders, changes of plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.config import Settings
from handlers.events import enrol
from messages import events as words
from messages.render import _
from scheduler import broadcasts
from scheduler import events as logic
from scheduler.delivery import Routing
from scheduler.events import EventDraft, EventError
from scheduler.tick import Context, passes
from storage import events as store
from storage.audience_query import AudienceError
from storage.models import Broadcast, Event, EventRegistration, Message
from storage.models.broadcasts import SCHEDULED, SOURCE_EVENT
from storage.models.events import CONFIRMED, INVITED, POSTPONED, REGISTERED
from storage.models.messages import CANCELLED, EVENT_CHANGE, EVENT_REMINDER, QUEUED

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = Settings(database_url="sqlite+aiosqlite:///unused.db")
ZONE = SETTINGS.zone
CLASS = EventDraft(
    kind="training",
    title="Lớp may công nghiệp",
    starts_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),  # 08:00 on 01/12/2026 in Vietnam
    place="Nhà văn hóa ấp 1",
    audience="commune=29002",  # H001-H005
    register_by=date(2026, 11, 28),
    min_size=2,
    details={"trade": "may công nghiệp", "fee_waiver": True, "allowance": "ăn trưa 30.000 đồng"},
)


async def create(sessions: Sessions, routing: Routing, now: datetime, draft: EventDraft) -> int:
    async with sessions() as session, session.begin():
        created = await logic.create(
            session, draft, routing=routing, settings=SETTINGS, now=now, by="lan", submit=True
        )
    return created.event_id


async def count(sessions: Sessions, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def registrations(sessions: Sessions, event_id: int) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(
            select(EventRegistration.household_id, EventRegistration.status).where(
                EventRegistration.event_id == event_id
            )
        )
        return dict(rows.all())


async def outbox(sessions: Sessions, kind: str) -> list[Message]:
    async with sessions() as session:
        query = select(Message).where(Message.kind == kind, Message.source_kind == SOURCE_EVENT)
        return list(await session.scalars(query.order_by(Message.id)))


async def register(sessions: Sessions, event_id: int, household_id: int, now: datetime) -> None:
    async with sessions() as session, session.begin():
        event = await logic.stored(session, event_id)
        await enrol(
            session, event, household_id=household_id, contact_id=None, channel="staff", now=now
        )


async def remind(sessions: Sessions, routing: Routing, now: datetime) -> int:
    lines = await logic.run(Context(sessions, routing, SETTINGS, now))
    return {line.label: line.count for line in lines}["Event reminders queued"]


async def update(sessions: Sessions, routing: Routing, now: datetime, **change: Any) -> Any:
    async with sessions() as session, session.begin():
        return await logic.update(
            session, change.pop("event_id"), routing=routing, settings=SETTINGS, now=now, **change
        )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"starts_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC)}, EventError),  # in the past
        ({"register_by": date(2026, 12, 2)}, EventError),  # after the event
        ({"register_by": date(2026, 11, 20)}, EventError),  # already past
        ({"min_size": 0}, EventError),
        ({"kind": "party"}, EventError),
        ({"status": "cancelled"}, EventError),
        ({"details": {"jobs": 5}}, EventError),  # not a detail of a class
        ({"audience": "category=rich"}, AudienceError),
        ({"audience": "commune=99999"}, AudienceError),
        ({"commune_code": "99999"}, EventError),
    ],
)
async def test_a_wrong_event_stores_and_queues_nothing(
    sessions: Sessions,
    town: dict[str, int],
    routing: Routing,
    clock: FixedClock,
    change: dict[str, Any],
    problem: type[Exception],
) -> None:
    with pytest.raises(problem) as raised:
        await create(sessions, routing, clock.now(), replace(CLASS, **change))
    assert str(raised.value)
    for model in (Event, Broadcast, Message, EventRegistration):
        assert await count(sessions, model) == 0


def test_details_by_kind() -> None:
    details = logic.parse_details("job_session", ["employers=Công ty May 10", "jobs=120"])
    assert details == {"employers": "Công ty May 10", "jobs": 120}
    assert logic.parse_details("training", ["fee_waiver=có"]) == {"fee_waiver": True}
    with pytest.raises(EventError) as raised:
        logic.parse_details("meeting", ["trade=may"])
    assert "topic=" in str(raised.value)  # the keys it takes are listed
    for wrong in (["jobs=nhiều"], ["jobs"], ["employers="]):
        with pytest.raises(EventError):
            logic.parse_details("job_session", wrong)


async def test_create_stores_the_event_and_its_notice_then_the_pass_invites(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    event_id = await create(sessions, routing, clock.now(), CLASS)
    async with sessions() as session:
        event = await logic.stored(session, event_id)
        notice = await session.scalar(select(Broadcast).where(Broadcast.event_id == event_id))
    assert (event.kind, event.status, event.revision, event.min_size) == (
        "training",
        "planned",
        0,
        2,
    )
    assert event.details["fee_waiver"] is True
    assert notice is not None
    assert notice.status == SCHEDULED
    assert "{su_kien}" in notice.text
    assert "{han_dang_ky}" in notice.text
    assert f"({_('planned')})" in notice.text  # no promise without money behind it
    assert await registrations(sessions, event_id) == {}  # invited when the notice is queued
    await broadcasts.run(Context(sessions, routing, SETTINGS, clock.now()))
    invited = await registrations(sessions, event_id)
    assert set(invited) == {town[c] for c in ("H001", "H002", "H003", "H004", "H005")}
    assert set(invited.values()) == {INVITED}


async def test_the_notice_says_what_when_where_and_how_to_register(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    async with sessions() as session:
        created = await logic.create(
            session,
            CLASS,
            routing=routing,
            settings=SETTINGS,
            now=clock.now(),
            by="lan",
            submit=False,
        )
        await session.rollback()
    sample = created.preview.sample
    for fact in ("Lớp may công nghiệp", "08:00", "01/12/2026", "Nhà văn hóa ấp 1", "28/11/2026"):
        assert fact in sample
    assert "ăn trưa 30.000 đồng" in sample
    assert "may công nghiệp" in sample
    assert _("Tuition is free.") in sample
    assert created.sms_text is not None
    assert created.preview.sms_sample is not None
    assert created.preview.longest <= SETTINGS.sms_max_segments
    assert await count(sessions, Event) == 0  # a preview is rolled back


async def test_quorum_is_noted_once_when_the_class_reaches_its_minimum(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    event_id = await create(sessions, routing, clock.now(), CLASS)
    await register(sessions, event_id, town["H001"], clock.now())
    async with sessions() as session:
        assert (await logic.stored(session, event_id)).quorum_at is None
    reached = clock.now() + timedelta(hours=1)
    await register(sessions, event_id, town["H002"], reached)
    await register(sessions, event_id, town["H003"], reached + timedelta(hours=1))
    async with sessions() as session:
        event = await logic.stored(session, event_id)
        assert await store.registered_count(session, event_id=event_id) == 3
    assert event.quorum_at == reached


async def _tomorrow_class(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> int:
    """A confirmed class at 08:00 on 23/11 with H001 and H002 registered, H003 invited."""
    draft = replace(
        CLASS,
        starts_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        register_by=None,
        status=CONFIRMED,
        details={"bring": "CCCD"},
    )
    event_id = await create(sessions, routing, clock.now(), draft)
    async with sessions() as session, session.begin():
        await store.invite(
            session, event_id=event_id, household_ids=[town["H003"]], now=clock.now()
        )
    for code in ("H001", "H002"):
        await register(sessions, event_id, town[code], clock.now())
    return event_id


async def test_reminders_the_day_before_to_registered_households_once(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    assert logic.run in passes()
    event_id = await _tomorrow_class(sessions, town, routing, clock)
    assert await remind(sessions, routing, clock.now()) == 0  # D-2: too early
    clock.advance(timedelta(hours=14))  # 00:00 on 22/11, local: D-1
    assert await remind(sessions, routing, clock.now()) == 2
    assert await remind(sessions, routing, clock.now() + timedelta(hours=9)) == 0  # a rerun
    sent = await outbox(sessions, EVENT_REMINDER)
    assert sorted(m.household_id for m in sent) == sorted([town["H001"], town["H002"]])
    assert {m.dedup_key for m in sent} == {
        f"ev{event_id}.remind.r0:{town[c]}" for c in ("H001", "H002")
    }
    assert all("Lớp may công nghiệp" in m.text and "08:00" in m.text for m in sent)
    assert all("CCCD" in m.text and "Nhà văn hóa ấp 1" in m.text for m in sent)
    clock.advance(timedelta(days=1))  # D: the reminder day has passed
    assert await remind(sessions, routing, clock.now()) == 0


async def test_moving_the_date_withdraws_reminders_tells_everyone_and_reminds_anew(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    event_id = await _tomorrow_class(sessions, town, routing, clock)
    clock.advance(timedelta(hours=14))  # D-1
    await remind(sessions, routing, clock.now())
    later = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    done = await update(sessions, routing, clock.now(), event_id=event_id, starts_at=later)
    assert done.event.revision == 1
    assert done.reminders_cancelled == 2
    assert {m.status for m in await outbox(sessions, EVENT_REMINDER)} == {CANCELLED}
    told = await outbox(sessions, EVENT_CHANGE)
    assert sorted(m.household_id for m in told) == sorted(town[c] for c in ("H001", "H002", "H003"))
    assert all("24/11/2026" in m.text for m in told)
    assert await remind(sessions, routing, clock.now()) == 0  # nothing tomorrow any more
    clock.advance(timedelta(days=1))  # D-1 of the new date
    assert await remind(sessions, routing, clock.now()) == 2
    fresh = [m for m in await outbox(sessions, EVENT_REMINDER) if m.status == QUEUED]
    assert {m.dedup_key for m in fresh} == {
        f"ev{event_id}.remind.r1:{town[c]}" for c in ("H001", "H002")
    }


async def test_a_postponed_event_gets_change_notices_and_no_reminder(
    sessions: Sessions, town: dict[str, int], routing: Routing, clock: FixedClock
) -> None:
    event_id = await _tomorrow_class(sessions, town, routing, clock)
    clock.advance(timedelta(hours=14))  # D-1
    assert await remind(sessions, routing, clock.now()) == 2
    done = await update(sessions, routing, clock.now(), event_id=event_id, status=POSTPONED)
    assert done.notices_cancelled == 1  # its notice, not sent yet, must not go out any more
    async with sessions() as session:
        notice = await session.scalar(select(Broadcast).where(Broadcast.event_id == event_id))
    assert notice is not None
    assert notice.status == "cancelled"
    assert done.changed == ["status"]
    assert done.reminders_cancelled == 2
    assert {m.status for m in await outbox(sessions, EVENT_REMINDER)} == {CANCELLED}
    told = await outbox(sessions, EVENT_CHANGE)
    assert len(told) == 3
    assert {m.dedup_key for m in told} == {
        f"ev{event_id}.r1:{town[c]}" for c in ("H001", "H002", "H003")
    }
    async with sessions() as session:
        event = await logic.stored(session, event_id)
    assert told[0].text == words.change(event, ZONE, changed=["status"])
    assert await remind(sessions, routing, clock.now() + timedelta(hours=1)) == 0
    with pytest.raises(EventError):  # the same status again: nothing to change
        await update(sessions, routing, clock.now(), event_id=event_id, status=POSTPONED)
    assert (await registrations(sessions, event_id))[town["H001"]] == REGISTERED
