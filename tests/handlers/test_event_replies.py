"""Registration by reply: "1" to an event's notice, and every "1" that is not one."""

# ruff: noqa: F811  (the town fixture is imported from the scheduler tests, then requested)

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from handlers.dialogue.conversations import Turn
from handlers.dialogue.xlsform import load_form
from handlers.events import EVENT_REPLY
from handlers.router import ANSWER, FREE_TEXT, Incoming, Policy, handle, start_survey
from messages import events as words
from messages.render import VN_ZONE, _
from storage import events as store
from storage.conversations import contacts_for
from storage.models import Event, EventRegistration, Message
from storage.models.events import CONFIRMED, INVITED, PLANNED, REGISTERED, WITHDRAWN
from storage.models.households import CONTACT_PHONE, CONTACT_TELEGRAM
from storage.models.messages import REPLY
from tests.handlers.conftest import save_form
from tests.handlers.dialogue.forms import sheets, write_csv
from tests.scheduler.conftest import routing, town  # noqa: F401  (fixtures)

Sessions = async_sessionmaker[AsyncSession]
H002_PHONE = "+84912000002"  # SMS, the register's basis
H001_TELEGRAM = "7001"
H006_PHONE = "+84912000006"  # never invited
POLICY = Policy(help_contact="chị Lan, 0912 000 111")


async def invited_event(
    sessions: Sessions,
    town: dict[str, int],
    clock: FixedClock,
    *,
    min_size: int | None = None,
    status: str = CONFIRMED,
    starts_at: datetime = datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
) -> int:
    """A class at 08:00 on 01/12/2026, registration until 28/11; H001-H003 invited."""
    now = clock.now()
    event = Event(
        kind="training",
        title="Lớp trồng nấm",
        starts_at=starts_at,
        place="Hội trường xã An Hiệp",
        audience="commune=29002",
        status=status,
        details={},
        register_by=date(2026, 11, 28),
        min_size=min_size,
        revision=0,
        created_by="lan",
        created_at=now,
        updated_at=now,
    )
    async with sessions() as session, session.begin():
        event_id = await store.add(session, event=event)
        ids = [town[c] for c in ("H001", "H002", "H003")]
        await store.invite(session, event_id=event_id, household_ids=ids, now=now)
    return event_id


async def say(
    sessions: Sessions,
    clock: FixedClock,
    text: str,
    *,
    channel: str = "sms",
    address: str = H002_PHONE,
    kind: str = CONTACT_PHONE,
) -> list[str]:
    now = clock.now()
    async with sessions() as session, session.begin():
        incoming = Incoming(channel, address, text, kind=kind)
        turn = Turn(now=now, today=now.astimezone(VN_ZONE).date())
        sent = await handle(session, incoming, turn=turn, policy=POLICY)
    return [m.text for m in sent]


async def status_of(sessions: Sessions, event_id: int, household_id: int) -> EventRegistration:
    async with sessions() as session:
        found = await session.scalar(
            select(EventRegistration).where(
                EventRegistration.event_id == event_id,
                EventRegistration.household_id == household_id,
            )
        )
    assert found is not None
    return found


async def event_of(sessions: Sessions, event_id: int) -> Event:
    async with sessions() as session:
        found = await store.get(session, event_id=event_id)
    assert found is not None
    return found


async def last_exchange(sessions: Sessions) -> list[tuple[str, str, str, str, int | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Message.direction, Message.kind, Message.channel, Message.address)
            .add_columns(Message.household_id)
            .order_by(Message.id.desc())
            .limit(2)
        )
        return [(d, k, c, a, h) for d, k, c, a, h in rows.all()][::-1]


async def test_reply_1_registers_and_confirms_on_the_households_channel(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock)
    (reply,) = await say(sessions, clock, "1")
    event = await event_of(sessions, event_id)
    assert reply == words.registered(event, VN_ZONE)
    for fact in ("Lớp trồng nấm", "08:00", "01/12/2026", "Hội trường xã An Hiệp"):
        assert fact in reply
    row = await status_of(sessions, event_id, town["H002"])
    assert (row.status, row.channel, row.registered_at) == (REGISTERED, "sms", clock.now())
    assert row.contact_id is not None
    assert await last_exchange(sessions) == [
        ("in", EVENT_REPLY, "sms", H002_PHONE, town["H002"]),
        ("out", REPLY, "sms", H002_PHONE, town["H002"]),
    ]
    (again,) = await say(sessions, clock, "1")
    assert again == words.already_registered(event, VN_ZONE)
    assert again != reply


async def test_dang_ky_on_telegram_registers_too(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock)
    (reply,) = await say(
        sessions, clock, "Đăng ký", channel="telegram", address=H001_TELEGRAM, kind=CONTACT_TELEGRAM
    )
    assert "Lớp trồng nấm" in reply
    row = await status_of(sessions, event_id, town["H001"])
    assert (row.status, row.channel) == (REGISTERED, "telegram")


async def test_after_the_deadline_registration_is_closed_politely(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock)
    clock.advance(timedelta(days=7, hours=14))  # 00:00 on 29/11, local: the day after the deadline
    (reply,) = await say(sessions, clock, "1")
    event = await event_of(sessions, event_id)
    assert reply == words.closed(event, contact=POLICY.help_contact)
    assert "chị Lan, 0912 000 111" in reply
    assert (await status_of(sessions, event_id, town["H002"])).status == INVITED


async def test_on_the_deadline_day_registration_is_still_open(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock)
    clock.advance(timedelta(days=7, hours=13))  # 23:00 on 28/11, local
    await say(sessions, clock, "có")
    assert (await status_of(sessions, event_id, town["H002"])).status == REGISTERED


async def test_no_declines_and_withdraws_a_registration(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock)
    event = await event_of(sessions, event_id)
    assert await say(sessions, clock, "2") == [words.declined(event, withdrawn=False)]
    assert (await status_of(sessions, event_id, town["H002"])).status == INVITED
    await say(sessions, clock, "1")
    assert await say(sessions, clock, "không") == [words.declined(event, withdrawn=True)]
    assert (await status_of(sessions, event_id, town["H002"])).status == WITHDRAWN
    await say(sessions, clock, "1")  # changed its mind again
    assert (await status_of(sessions, event_id, town["H002"])).status == REGISTERED


async def test_a_household_without_invitation_goes_to_the_inbox_as_before(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    await invited_event(sessions, town, clock)  # H006 is not on its list
    before = await say(sessions, clock, "Nhà tôi bị ngập", address=H006_PHONE)
    assert await say(sessions, clock, "1", address=H006_PHONE) == before
    assert before == [_("Thank you, the commune officer will read your message.")]
    (inbound, _out) = await last_exchange(sessions)
    assert inbound[:2] == ("in", FREE_TEXT)


async def test_an_invitation_to_a_past_event_changes_nothing(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    await invited_event(sessions, town, clock, starts_at=clock.now() + timedelta(hours=2))
    clock.advance(timedelta(hours=3))
    assert await say(sessions, clock, "1") == [
        _("Thank you, the commune officer will read your message.")
    ]


async def test_an_active_survey_takes_1_as_its_answer(
    sessions: Sessions, town: dict[str, int], clock: FixedClock, tmp_path: Path
) -> None:
    event_id = await invited_event(sessions, town, clock)
    book = sheets([("select_one yn", "ok", "Hộ có khỏe không?", "", "yes", "", "")])
    await save_form(sessions, load_form(write_csv(tmp_path / "f.csv", book)), clock)
    now = clock.now()
    async with sessions() as session, session.begin():
        contact = (await contacts_for(session, addresses=[H002_PHONE]))[H002_PHONE][0]
        turn = Turn(now=now, today=now.astimezone(VN_ZONE).date())
        await start_survey(session, form_id="test", contact=contact, channel="sms", turn=turn)
    await say(sessions, clock, "1")
    (inbound, _out) = await last_exchange(sessions)
    assert inbound[:2] == ("in", ANSWER)
    assert (await status_of(sessions, event_id, town["H002"])).status == INVITED


async def test_the_class_is_full_when_replies_reach_the_minimum(
    sessions: Sessions, town: dict[str, int], clock: FixedClock
) -> None:
    event_id = await invited_event(sessions, town, clock, min_size=2, status=PLANNED)
    (reply,) = await say(sessions, clock, "1")
    assert f"{_('This is a plan; the commune will confirm it when it is certain.')}" in reply
    assert (await event_of(sessions, event_id)).quorum_at is None
    clock.advance(timedelta(minutes=5))
    await say(
        sessions, clock, "ok", channel="telegram", address=H001_TELEGRAM, kind=CONTACT_TELEGRAM
    )
    assert (await event_of(sessions, event_id)).quorum_at == clock.now()
