"""The sender's lanes against scripted fake channels, on both backends."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    BLOCKED,
    Capabilities,
    Outgoing,
    PermanentError,
    RateLimited,
    SendError,
    Sent,
    TemporaryError,
    Unreachable,
    WebhookRequest,
    WebhookResult,
)
from bot.clock import FixedClock
from bot.pacing import MARGIN
from bot.rules import LOOP, NO_CONSENT, OPTED_OUT, introduction
from bot.sender import Lane, SenderConfig
from handlers.incoming import Incoming
from scheduler.windows import Windows
from storage import messages, outbox, reach
from storage.conversations import ContactRef, contacts_for
from storage.messages import Outbound, Party
from storage.models import Contact, Message
from storage.models import Unreachable as UnreachableRow
from storage.models.households import BASIS_CONSENT
from storage.models.messages import (
    BULK,
    CONFIRM,
    DELIVERED,
    FAILED,
    NORMAL,
    NOTICE,
    QUEUED,
    READ,
    REPLY,
    SENDING,
    SENT,
    SKIPPED,
    SURVEY,
    URGENT,
)
from storage.outbox import LOST_TWICE
from tests.handlers.conftest import PHONE_A1, PHONE_A2, PHONE_B, register  # noqa: F401

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = Windows.parse(VN, "21:00-07:00", 3)
COMMUNE = "Xã An Hiệp"

Sessions = async_sessionmaker[AsyncSession]
Script = Sent | BaseException


class FakeChannel:
    """A channel that answers each address from a script and records what it was handed."""

    def __init__(
        self,
        name: str = "fake",
        *,
        contact_kind: str = "phone",
        per_second: float = 1000,
        per_chat_per_second: float | None = None,
        max_length: int = 4096,
        sms: bool = False,
    ) -> None:
        self.name = name
        self.webhook = name
        self.capabilities = Capabilities(
            contact_kind=contact_kind,
            per_second=per_second,
            per_chat_per_second=per_chat_per_second,
            max_length=max_length,
            sms=sms,
        )
        self.script: dict[str, list[Script]] = defaultdict(list)
        self.tried: list[Outgoing] = []  # every message handed to send()
        self.taken: list[Outgoing] = []  # those the "provider" took
        self.times: list[float] = []  # when each send() began (monotonic)

    def will(self, address: str, *results: Script) -> None:
        """What the next sends to an address do (after the script: accepted)."""
        self.script[address].extend(results)

    def texts(self, address: str | None = None) -> list[str]:
        return [m.text for m in self.taken if address is None or m.address == address]

    async def send(self, message: Outgoing) -> Sent:
        self.tried.append(message)
        self.times.append(time.monotonic())
        script = self.script.get(message.address)
        result: Script = script.pop(0) if script else Sent(f"{self.name}-{message.id}")
        if isinstance(result, BaseException):
            raise result
        self.taken.append(message)
        return result

    async def receive(self, request: WebhookRequest) -> WebhookResult:
        raise NotImplementedError

    async def acknowledge(self, inbound: Incoming) -> None:
        return None

    async def check(self) -> str:
        return "fake"

    async def close(self) -> None:
        return None


def make_lane(
    channel: FakeChannel,
    sessions: Sessions,
    clock: FixedClock,
    *others: FakeChannel,
    order: Sequence[str] | None = None,
    batch: int = 500,
    paced: bool = False,
) -> Lane:
    """A lane for `channel`; `others` are the rest of the channels, in `order`."""
    every = {c.name: c for c in (channel, *others)}
    config = SenderConfig(
        windows=WINDOWS, channel_order=list(order or every), batch=batch, poll=0.01
    )
    lane = Lane(channel, sessions, clock, config, channels=every)
    if not paced:
        lane.pace.gap = 0
    return lane


async def people(sessions: Sessions) -> dict[str, ContactRef]:
    """The register's phone contacts by address."""
    async with sessions() as session:
        found = await contacts_for(session, addresses=[PHONE_A1, PHONE_A2, PHONE_B])
    return {address: refs[0] for address, refs in found.items()}


@pytest.fixture
async def known(
    register: None,  # noqa: F811
    sessions: Sessions,
    clock: FixedClock,
) -> dict[str, ContactRef]:
    """The register's contacts, each already told who writes (no introduction line)."""
    async with sessions() as session, session.begin():
        await session.execute(update(Contact).values(introduced_at=clock.now()))
    return await people(sessions)


async def enqueue(
    sessions: Sessions,
    clock: FixedClock,
    contact: ContactRef,
    *items: Outbound,
    channel: str = "fake",
) -> None:
    """Queue messages to one contact on a channel."""
    party = Party(channel, contact.address, contact.household_id, contact.contact_id)
    async with sessions() as session, session.begin():
        await messages.queue(session, [(party, item) for item in items], now=clock.now())


def notice(text: str, **options: Any) -> Outbound:
    return Outbound(text, NOTICE, **options)


def reply(text: str, **options: Any) -> Outbound:
    return Outbound(text, REPLY, **options)


async def stored(sessions: Sessions, channel: str | None = None) -> list[Message]:
    """The outbound rows, oldest first."""
    query = select(Message).order_by(Message.id)
    if channel is not None:
        query = query.where(Message.channel == channel)
    async with sessions() as session:
        return list((await session.scalars(query)).all())


async def contact_row(sessions: Sessions, contact_id: int) -> Contact:
    async with sessions() as session:
        found = await session.get(Contact, contact_id)
    assert found is not None
    return found


async def change_contact(sessions: Sessions, contact_id: int, **values: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Contact).where(Contact.id == contact_id).values(**values))


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=VN)


# --- the outbox row -----------------------------------------------------------------------


async def test_queued_rows_carry_priority_key_and_status(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    a1 = known[PHONE_A1]
    later = clock.now() + timedelta(hours=1)
    await enqueue(
        sessions,
        clock,
        a1,
        notice("Họp thôn", dedup_key="k1"),
        reply("Cảm ơn"),
        Outbound("Thông báo chung", NOTICE, priority=BULK, not_before=later),
        Outbound("HUY xong", CONFIRM),
    )
    rows = await stored(sessions)
    assert [(r.kind, r.priority, r.status) for r in rows] == [
        (NOTICE, NORMAL, QUEUED),
        (REPLY, URGENT, QUEUED),
        (NOTICE, BULK, QUEUED),
        (CONFIRM, URGENT, QUEUED),
    ]
    first = rows[0]
    assert (first.dedup_key, first.attempts, first.errors) == ("k1", 0, 0)
    assert (first.last_error, first.provider_id, first.not_before) == (None, None, None)
    assert (first.household_id, first.contact_id) == (a1.household_id, a1.contact_id)
    assert rows[2].not_before == later


async def test_a_second_queue_with_the_same_key_adds_nothing(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    a1 = known[PHONE_A1]
    await enqueue(sessions, clock, a1, notice("Nhắc nợ", dedup_key="loan:7:2026-12"))
    await enqueue(sessions, clock, a1, notice("Nhắc nợ lần hai", dedup_key="loan:7:2026-12"))
    assert [r.text for r in await stored(sessions)] == ["Nhắc nợ"]
    assert await lane.step() == 1
    await enqueue(sessions, clock, a1, notice("Nhắc nợ", dedup_key="loan:7:2026-12"))
    assert await lane.step() == 0  # a restarted scheduler re-queuing it changes nothing
    assert channel.texts() == ["Nhắc nợ"]
    await enqueue(sessions, clock, a1, notice("Khác"), notice("Khác nữa"))  # no key: both
    assert len(await stored(sessions)) == 3


# --- sending ------------------------------------------------------------------------------


async def test_a_message_is_sent_and_its_row_written(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp thôn lúc 19 giờ"))
    assert await lane.step() == 1
    [message] = channel.taken
    assert (message.address, message.text, message.kind) == (
        PHONE_A1,
        "Họp thôn lúc 19 giờ",
        NOTICE,
    )
    assert message.phone == PHONE_A1
    [row] = await stored(sessions)
    assert message.id == row.id
    assert (row.status, row.provider_id, row.sent_at) == (SENT, f"fake-{row.id}", clock.now())
    assert (row.attempts, row.errors, row.last_error, row.lease_until) == (1, 0, None, None)
    assert not row.possible_duplicate
    assert lane.stats.sent == 1
    assert await lane.step() == 0  # nothing left


async def test_other_channels_rows_are_left_alone(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    await enqueue(sessions, clock, known[PHONE_A1], notice("Cho SMS"), channel="sms2")
    assert await lane.step() == 0
    assert [r.status for r in await stored(sessions)] == [QUEUED]


async def test_not_before_is_honoured(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    later = clock.now() + timedelta(minutes=30)
    await enqueue(sessions, clock, known[PHONE_A1], notice("Sau", not_before=later))
    assert await lane.step() == 0
    clock.advance(timedelta(minutes=30))
    assert await lane.step() == 1
    assert channel.texts() == ["Sau"]


async def test_replies_before_reminders_before_bulk(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock, batch=1)
    a1, b = known[PHONE_A1], known[PHONE_B]
    await enqueue(sessions, clock, a1, Outbound("Loa phát thanh", NOTICE, priority=BULK))
    await enqueue(sessions, clock, b, Outbound("Nhắc lịch trả nợ", SURVEY))
    await enqueue(sessions, clock, a1, reply("Cảm ơn bác"))  # queued last, goes first
    for _ in range(3):
        assert await lane.step() == 1
    assert channel.texts() == ["Cảm ơn bác", "Nhắc lịch trả nợ", "Loa phát thanh"]


async def test_priorities_inside_one_batch(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    a1, a2, b = known[PHONE_A1], known[PHONE_A2], known[PHONE_B]
    await enqueue(sessions, clock, a1, Outbound("Bulk", NOTICE, priority=BULK))
    await enqueue(sessions, clock, a2, notice("Normal"))
    await enqueue(sessions, clock, b, reply("Reply"))
    assert await lane.step() == 3
    assert channel.texts() == ["Reply", "Normal", "Bulk"]


async def test_too_long_fails(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel(max_length=10)
    lane = make_lane(channel, sessions, clock)
    await enqueue(sessions, clock, known[PHONE_A1], notice("Một tin nhắn quá dài"))
    await lane.step()
    [row] = await stored(sessions)
    assert row.status == FAILED
    assert row.last_error
    assert "10" in row.last_error
    assert channel.tried == []


# --- errors from the provider -------------------------------------------------------------


async def test_rate_limited_goes_back_to_the_queue_and_the_lane_slows_down(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    ticks = [1000.0]
    lane.pace.clock = lambda: ticks[0]
    channel.will(PHONE_A1, RateLimited("429 Too Many Requests", retry_after=30))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    assert await lane.step() == 1
    [row] = await stored(sessions)
    assert row.status == QUEUED
    assert row.not_before == clock.now() + timedelta(seconds=30)
    assert (row.errors, row.attempts, row.last_error) == (0, 1, "429 Too Many Requests")
    assert lane.stats.rate_limited == 1
    assert lane.pace.available() == 0  # paused ...
    assert lane.pace.wait() == pytest.approx(30)
    assert lane.pace.rate < lane.pace.full_rate  # ... and slower afterwards
    assert await lane.step() == 0  # not due yet
    clock.advance(timedelta(seconds=30))
    ticks[0] += 30
    assert await lane.step() == 1
    [row] = await stored(sessions)
    assert (row.status, row.attempts, row.errors) == (SENT, 2, 0)
    assert channel.texts() == ["Họp"]


async def test_rate_limited_pauses_the_next_sends(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    channel.will(PHONE_A1, RateLimited("429", retry_after=0.08))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Một"))
    await lane.step()
    await enqueue(sessions, clock, known[PHONE_B], notice("Hai"))
    started = time.monotonic()
    assert await lane.step() == 1  # only B's row is due
    assert channel.times[-1] - started >= 0.05
    assert channel.texts() == ["Hai"]


async def test_temporary_errors_retry_after_5_then_10_minutes_then_fail(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    channel.will(PHONE_A1, *(TemporaryError(f"503 #{n}") for n in range(1, 4)))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    start = clock.now()

    await lane.step()
    [row] = await stored(sessions)
    assert (row.status, row.errors, row.attempts) == (QUEUED, 1, 1)
    assert row.not_before == start + timedelta(minutes=5)
    assert row.last_error == "503 #1"
    clock.advance(timedelta(minutes=4, seconds=59))
    assert await lane.step() == 0
    clock.advance(timedelta(seconds=1))

    assert await lane.step() == 1
    [row] = await stored(sessions)
    assert (row.status, row.errors, row.attempts) == (QUEUED, 2, 2)
    assert row.not_before == clock.now() + timedelta(minutes=10)
    clock.advance(timedelta(minutes=9))
    assert await lane.step() == 0
    clock.advance(timedelta(minutes=1))

    assert await lane.step() == 1
    [row] = await stored(sessions)
    assert (row.status, row.errors, row.attempts, row.last_error) == (FAILED, 3, 3, "503 #3")
    assert lane.stats.retried == 2
    assert lane.stats.failed == 1
    assert channel.taken == []
    assert len(channel.tried) == 3


async def test_a_success_after_a_temporary_error(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    channel.will(PHONE_A1, TemporaryError("timeout"))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await lane.step()
    clock.advance(timedelta(minutes=5))
    await lane.step()
    [row] = await stored(sessions)
    assert (row.status, row.errors, row.attempts, row.sent_at) == (SENT, 1, 2, clock.now())


async def test_a_bug_in_a_channel_is_retried_not_lost(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    channel.will(PHONE_A1, KeyError("oops"))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await lane.step()
    [row] = await stored(sessions)
    assert (row.status, row.errors) == (QUEUED, 1)
    assert row.last_error
    assert "oops" in row.last_error


async def test_permanent_error_fails(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    other = FakeChannel("sms2")
    lane = make_lane(channel, sessions, clock, other)
    channel.will(PHONE_A1, PermanentError("400 template not approved"))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await lane.step()
    [row] = await stored(sessions)
    assert (row.status, row.errors, row.last_error) == (FAILED, 0, "400 template not approved")
    assert lane.stats.failed == 1
    assert lane.stats.handed_over == 0


async def test_a_plain_send_error_fails(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    channel.will(PHONE_A1, SendError("refused"))
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await lane.step()
    assert [(r.status, r.last_error) for r in await stored(sessions)] == [(FAILED, "refused")]


# --- unreachable: hand over to the household's next channel -------------------------------


async def unreachable_rows(sessions: Sessions) -> list[tuple[int, str, str]]:
    async with sessions() as session:
        found = await session.execute(
            select(UnreachableRow.contact_id, UnreachableRow.channel, UnreachableRow.reason)
        )
    return sorted((c, ch, r) for c, ch, r in found.all())


async def test_unreachable_is_marked_and_handed_to_the_next_channel(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    zalo, telegram, sms = (
        FakeChannel("fake"),
        FakeChannel("tg", contact_kind="telegram"),
        FakeChannel("sms2"),
    )
    order = ["fake", "tg", "sms2"]  # no Telegram contact in H001: SMS is next
    lane = make_lane(zalo, sessions, clock, telegram, sms, order=order)
    sms_lane = make_lane(sms, sessions, clock, zalo, telegram, order=order)
    a1 = known[PHONE_A1]
    zalo.will(PHONE_A1, Unreachable("user blocked the OA", BLOCKED))
    await enqueue(sessions, clock, a1, notice("Họp thôn", dedup_key="event:3:H001"))
    await lane.step()

    first, moved = await stored(sessions)
    assert (first.status, first.last_error) == (FAILED, "user blocked the OA")
    assert await unreachable_rows(sessions) == [(a1.contact_id, "fake", BLOCKED)]
    assert (moved.channel, moved.address, moved.status) == ("sms2", PHONE_A1, QUEUED)
    assert (moved.household_id, moved.contact_id) == (a1.household_id, a1.contact_id)
    assert (moved.text, moved.kind, moved.priority) == ("Họp thôn", NOTICE, NORMAL)
    assert moved.dedup_key == "event:3:H001>sms2"
    assert moved.data == {"tried": ["fake"], "from_message": first.id}
    assert lane.stats.handed_over == 1
    assert lane.stats.failed == 1

    assert await sms_lane.step() == 1
    assert sms.texts() == ["Họp thôn"]
    assert [r.status for r in await stored(sessions)] == [FAILED, SENT]
    assert telegram.tried == []


async def test_handover_takes_the_next_reachable_phone(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    zalo, sms = FakeChannel("fake"), FakeChannel("sms2")
    lane = make_lane(zalo, sessions, clock, sms)
    a1, a2 = known[PHONE_A1], known[PHONE_A2]
    async with sessions() as session, session.begin():
        await reach.set_unreachable(
            session, [(a1.contact_id, "sms2", "not_delivered", "")], now=clock.now()
        )
    zalo.will(PHONE_A1, Unreachable("unfollowed", "unfollowed"))
    await enqueue(sessions, clock, a1, notice("Họp"))
    await lane.step()
    moved = (await stored(sessions, "sms2"))[0]
    assert (moved.address, moved.contact_id) == (PHONE_A2, a2.contact_id)


async def test_unreachable_everywhere_stops(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    zalo, sms = FakeChannel("fake"), FakeChannel("sms2")
    lane = make_lane(zalo, sessions, clock, sms)
    sms_lane = make_lane(sms, sessions, clock, zalo, order=["fake", "sms2"])
    b = known[PHONE_B]
    zalo.will(PHONE_B, Unreachable("blocked", BLOCKED))
    sms.will(PHONE_B, Unreachable("DLR 16", "not_delivered"))
    await enqueue(sessions, clock, b, notice("Họp"))
    await lane.step()
    await sms_lane.step()
    rows = await stored(sessions)
    assert [(r.channel, r.status) for r in rows] == [("fake", FAILED), ("sms2", FAILED)]
    assert await unreachable_rows(sessions) == sorted(
        [(b.contact_id, "fake", BLOCKED), (b.contact_id, "sms2", "not_delivered")]
    )
    assert sms_lane.stats.handed_over == 0
    assert await lane.step() == 0
    assert await sms_lane.step() == 0


async def test_a_household_without_another_channel_is_not_handed_over(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    zalo = FakeChannel("fake")
    lane = make_lane(zalo, sessions, clock)
    zalo.will(PHONE_B, Unreachable("blocked", BLOCKED))
    await enqueue(sessions, clock, known[PHONE_B], notice("Họp"))
    await lane.step()
    assert [(r.channel, r.status) for r in await stored(sessions)] == [("fake", FAILED)]


async def test_a_contact_known_unreachable_goes_straight_to_the_next_channel(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    zalo, sms = FakeChannel("fake"), FakeChannel("sms2")
    lane = make_lane(zalo, sessions, clock, sms)
    b = known[PHONE_B]
    async with sessions() as session, session.begin():
        await reach.set_unreachable(session, [(b.contact_id, "fake", BLOCKED, "")], now=clock.now())
    await enqueue(sessions, clock, b, notice("Họp"))
    await lane.step()
    assert zalo.tried == []
    assert [(r.channel, r.status) for r in await stored(sessions)] == [
        ("fake", FAILED),
        ("sms2", QUEUED),
    ]


# --- a crashed worker ---------------------------------------------------------------------


async def claim(sessions: Sessions, clock: FixedClock, lease: timedelta) -> list[int]:
    """Claim every due row of the fake channel as a worker about to crash would."""
    now = clock.now()
    async with sessions() as session, session.begin():
        rows = await outbox.claim(
            session, channel="fake", now=now, limit=100, lease_until=now + lease
        )
    return [r.id for r in rows]


async def test_rows_left_sending_go_once_more_flagged(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    lease = lane.config.lease
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    assert len(await claim(sessions, clock, lease)) == 1
    [row] = await stored(sessions)
    assert (row.status, row.attempts, row.lease_until) == (SENDING, 1, clock.now() + lease)

    assert await lane.step() == 0  # claimed by the other worker
    clock.advance(lease)
    await lane.recover()  # the lease has not run out yet
    assert [r.status for r in await stored(sessions)] == [SENDING]

    clock.advance(timedelta(seconds=1))
    await lane.recover()
    [row] = await stored(sessions)
    assert (row.status, row.possible_duplicate, row.lease_until) == (QUEUED, True, None)
    assert await lane.step() == 1
    [row] = await stored(sessions)
    assert (row.status, row.attempts, row.possible_duplicate) == (SENT, 2, True)
    assert channel.texts() == ["Họp"]
    await lane.recover()  # a sent row is not touched
    assert [r.status for r in await stored(sessions)] == [SENT]


async def test_a_second_expired_lease_fails_the_row(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    lease = lane.config.lease
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await enqueue(sessions, clock, known[PHONE_B], notice("Họp"))
    for _ in range(2):
        assert len(await claim(sessions, clock, lease)) == 2
        clock.advance(lease + timedelta(seconds=1))
        await lane.recover()
    rows = await stored(sessions)
    assert [(r.status, r.last_error) for r in rows] == [(FAILED, LOST_TWICE)] * 2
    assert all(r.lease_until is None and r.attempts == 2 for r in rows)
    assert await lane.step() == 0
    assert channel.tried == []


# --- quiet hours and the daily cap --------------------------------------------------------


async def test_quiet_hours_hold_all_but_replies_and_confirmations(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    clock.advance(timedelta(hours=12))  # 22:00 in Vietnam
    a1 = known[PHONE_A1]
    await enqueue(
        sessions,
        clock,
        a1,
        notice("Họp thôn"),
        Outbound("Loa", NOTICE, priority=BULK),
        reply("Dạ, đã ghi nhận"),
        Outbound("Đã dừng", CONFIRM),
    )
    assert await lane.step() == 4
    assert channel.texts() == ["Dạ, đã ghi nhận", "Đã dừng"]
    morning = local(22, 7)
    held = [r for r in await stored(sessions) if r.status == QUEUED]
    assert [(r.text, r.not_before) for r in held] == [("Họp thôn", morning), ("Loa", morning)]
    assert all(r.errors == 0 and r.last_error is None for r in held)
    assert lane.stats.held == 2
    assert await lane.step() == 0
    clock.advance(timedelta(hours=8, minutes=59))  # 06:59
    assert await lane.step() == 0
    clock.advance(timedelta(minutes=1))
    assert await lane.step() == 2
    assert channel.texts()[2:] == ["Họp thôn", "Loa"]


async def test_the_daily_cap_per_household(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    a1, a2, b = known[PHONE_A1], known[PHONE_A2], known[PHONE_B]
    await enqueue(sessions, clock, a1, notice("1"), notice("2"))
    await enqueue(sessions, clock, a2, notice("3"), notice("4"))  # the same household
    await enqueue(sessions, clock, a1, reply("trả lời"))  # replies do not count
    await enqueue(sessions, clock, b, notice("H002"))  # another household
    assert await lane.step() == 6
    assert sorted(channel.texts()) == sorted(["trả lời", "1", "2", "3", "H002"])
    [held] = [r for r in await stored(sessions) if r.status == QUEUED]
    assert (held.text, held.not_before) == ("4", local(22, 7))

    clock.advance(timedelta(hours=3))  # later the same day: the sent ones still count
    await enqueue(sessions, clock, a1, notice("5"))
    await enqueue(sessions, clock, a1, reply("vẫn trả lời"))
    assert await lane.step() == 2
    assert channel.texts()[-1] == "vẫn trả lời"
    assert [r.text for r in await stored(sessions) if r.status == QUEUED] == ["4", "5"]

    clock.advance(timedelta(hours=18))  # 07:00 tomorrow
    assert await lane.step() == 2
    assert channel.texts()[-2:] == ["4", "5"]


# --- who may be written to ----------------------------------------------------------------


async def test_an_opted_out_contact_gets_only_the_confirmation(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    a1 = known[PHONE_A1]
    await change_contact(sessions, a1.contact_id, opted_out_at=clock.now())
    await enqueue(
        sessions,
        clock,
        a1,
        notice("Họp"),
        Outbound("Khảo sát", SURVEY),
        reply("Trả lời"),
        Outbound("Bạn đã dừng nhận tin", CONFIRM),
    )
    await lane.step()
    assert channel.texts() == ["Bạn đã dừng nhận tin"]
    rows = {r.text: r for r in await stored(sessions)}
    for text in ("Họp", "Khảo sát", "Trả lời"):
        assert (rows[text].status, rows[text].last_error) == (SKIPPED, OPTED_OUT)
    assert rows["Bạn đã dừng nhận tin"].status == SENT


async def test_a_contact_that_has_not_agreed_gets_only_replies(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    b = known[PHONE_B]
    await change_contact(sessions, b.contact_id, basis=None)
    await enqueue(
        sessions,
        clock,
        b,
        notice("Họp"),
        Outbound("Khảo sát", SURVEY),
        reply("Chờ xác nhận"),
        Outbound("Đã dừng", CONFIRM),
    )
    await lane.step()
    assert channel.texts() == ["Chờ xác nhận", "Đã dừng"]
    skipped = [(r.text, r.last_error) for r in await stored(sessions) if r.status == SKIPPED]
    assert skipped == [("Họp", NO_CONSENT), ("Khảo sát", NO_CONSENT)]


async def test_the_loop_breaker(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    a1 = known[PHONE_A1]
    same = "Loa chưa hiểu tin nhắn của bạn."
    await enqueue(sessions, clock, a1, *(reply(same) for _ in range(7)))
    await enqueue(sessions, clock, a1, reply("Khác"))
    await lane.step()
    assert channel.texts() == [same] * 5 + ["Khác"]
    failed = [r for r in await stored(sessions) if r.status == FAILED]
    assert [(r.text, r.last_error) for r in failed] == [(same, LOOP)] * 2

    clock.advance(timedelta(minutes=9))  # still within ten minutes of the five
    await enqueue(sessions, clock, a1, reply(same))
    await enqueue(sessions, clock, known[PHONE_B], reply(same))  # another address is fine
    await lane.step()
    assert channel.texts(PHONE_A1).count(same) == 5
    assert channel.texts(PHONE_B) == [same]
    clock.advance(timedelta(minutes=1, seconds=1))  # the five are older than ten minutes
    await enqueue(sessions, clock, a1, reply(same))
    await lane.step()
    assert channel.texts(PHONE_A1).count(same) == 6


async def test_the_loop_breaker_sees_the_text_as_the_channel_sent_it(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    """On SMS the stored text has lost its accents; a loop must still be seen."""
    channel = FakeChannel("sms2", sms=True)
    lane = make_lane(channel, sessions, clock)
    same = "Loa chưa hiểu tin nhắn của bạn."
    for _ in range(5):  # an auto-responder answering each reply, one step at a time
        await enqueue(sessions, clock, known[PHONE_A1], reply(same), channel="sms2")
        await lane.step()
    assert channel.texts() == ["Loa chua hieu tin nhan cua ban."] * 5
    await enqueue(sessions, clock, known[PHONE_A1], reply(same), channel="sms2")
    await lane.step()
    assert len(channel.taken) == 5
    assert [(r.status, r.last_error) for r in await stored(sessions)][-1] == (FAILED, LOOP)


# --- the introduction line on the register basis ------------------------------------------


async def test_the_first_message_on_the_register_basis_says_who_writes_once(
    sessions: Sessions,
    clock: FixedClock,
    register: None,  # noqa: F811
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    found = await people(sessions)
    a1, a2, b = found[PHONE_A1], found[PHONE_A2], found[PHONE_B]
    await change_contact(sessions, b.contact_id, basis=BASIS_CONSENT)
    intro = introduction(COMMUNE)
    assert "HUY" in intro

    await enqueue(sessions, clock, a1, notice("Họp thôn"), notice("Nhắc nợ"))
    await enqueue(sessions, clock, a2, reply("Dạ"))
    await enqueue(sessions, clock, b, notice("Đã đồng ý"))
    await lane.step()
    assert channel.texts(PHONE_A1) == [f"{intro}\nHọp thôn", "Nhắc nợ"]
    assert channel.texts(PHONE_A2) == [f"{intro}\nDạ"]  # each contact, any kind of message
    assert channel.texts(PHONE_B) == ["Đã đồng ý"]  # it agreed itself: no introduction
    assert (await contact_row(sessions, a1.contact_id)).introduced_at == clock.now()
    assert (await contact_row(sessions, a2.contact_id)).introduced_at == clock.now()
    assert (await contact_row(sessions, b.contact_id)).introduced_at is None

    clock.advance(timedelta(minutes=5))
    await enqueue(sessions, clock, a1, notice("Lần sau"))
    await lane.step()
    assert channel.texts(PHONE_A1)[-1] == "Lần sau"


async def test_no_introduction_is_marked_when_the_first_message_is_held(
    sessions: Sessions,
    clock: FixedClock,
    register: None,  # noqa: F811
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    b = (await people(sessions))[PHONE_B]
    clock.advance(timedelta(hours=12))  # quiet hours
    await enqueue(sessions, clock, b, notice("Họp"))
    await lane.step()
    assert (await contact_row(sessions, b.contact_id)).introduced_at is None
    [row] = await stored(sessions)
    assert row.text == "Họp"  # the held row is stored unchanged
    clock.advance(timedelta(hours=9))
    await lane.step()
    assert channel.texts() == [f"{introduction(COMMUNE)}\nHọp"]


async def test_the_introduction_is_not_doubled_by_a_retry(
    sessions: Sessions,
    clock: FixedClock,
    register: None,  # noqa: F811
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    b = (await people(sessions))[PHONE_B]
    ticks = [1000.0]
    lane.pace.clock = lambda: ticks[0]
    channel.will(PHONE_B, TemporaryError("timeout"), RateLimited("429", retry_after=1))
    await enqueue(sessions, clock, b, notice("Họp"))
    await lane.step()
    assert (await contact_row(sessions, b.contact_id)).introduced_at is None
    clock.advance(timedelta(minutes=5))
    await lane.step()
    clock.advance(timedelta(seconds=1))
    ticks[0] += 1
    await lane.step()
    assert channel.texts() == [f"{introduction(COMMUNE)}\nHọp"]
    [row] = await stored(sessions)
    assert row.status == SENT
    assert (await contact_row(sessions, b.contact_id)).introduced_at == clock.now()


async def test_the_introduction_is_not_doubled_by_a_handover(
    sessions: Sessions,
    clock: FixedClock,
    register: None,  # noqa: F811
) -> None:
    zalo, sms = FakeChannel("fake"), FakeChannel("sms2")
    lane = make_lane(zalo, sessions, clock, sms)
    sms_lane = make_lane(sms, sessions, clock, zalo, order=["fake", "sms2"])
    b = (await people(sessions))[PHONE_B]
    zalo.will(PHONE_B, Unreachable("blocked", BLOCKED))
    await enqueue(sessions, clock, b, notice("Họp"))
    await lane.step()
    await sms_lane.step()
    assert sms.texts() == [f"{introduction(COMMUNE)}\nHọp"]


async def test_a_failed_introduction_is_not_marked_as_told(
    sessions: Sessions,
    clock: FixedClock,
    register: None,  # noqa: F811
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    b = (await people(sessions))[PHONE_B]
    channel.will(PHONE_B, TemporaryError("timeout"))  # the first row, which carries it
    await enqueue(sessions, clock, b, notice("Một"), notice("Hai"))
    await lane.step()
    assert channel.texts() == ["Hai"]
    assert (await contact_row(sessions, b.contact_id)).introduced_at is None
    assert [r.text for r in await stored(sessions)] == ["Một", "Hai"]
    clock.advance(timedelta(minutes=5))
    await lane.step()
    assert channel.texts() == ["Hai", f"{introduction(COMMUNE)}\nMột"]
    assert (await contact_row(sessions, b.contact_id)).introduced_at == clock.now()


# --- delivery reports ---------------------------------------------------------------------


async def test_delivery_reports_move_a_sent_row_forward_only(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock)
    await enqueue(sessions, clock, known[PHONE_A1], notice("Họp"))
    await lane.step()
    [row] = await stored(sessions)

    async def report(status: str) -> None:
        async with sessions() as session, session.begin():
            await outbox.receipts(
                session,
                channel="fake",
                updates=[(None, row.provider_id, status, "")],
                now=clock.now(),
            )

    await report(DELIVERED)
    assert (await stored(sessions))[0].status == DELIVERED
    await report(READ)
    await report(DELIVERED)  # late: does not undo "read"
    assert (await stored(sessions))[0].status == READ


# --- pacing in a lane (real time, kept short) ---------------------------------------------


async def test_a_lane_keeps_a_gap_per_recipient(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel(per_chat_per_second=20)
    lane = make_lane(channel, sessions, clock, paced=True)
    await enqueue(sessions, clock, known[PHONE_A1], notice("một"), notice("hai"))
    await enqueue(sessions, clock, known[PHONE_B], notice("ba"))
    assert await lane.step() == 3
    assert channel.texts() == ["một", "ba", "hai"]  # B does not wait behind A1
    gap = 1 / (20 * MARGIN)
    assert channel.times[2] - channel.times[0] >= gap * 0.9
    assert channel.times[1] - channel.times[0] < gap


async def test_a_lane_keeps_to_the_accounts_rate(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    channel = FakeChannel(per_second=20)  # a burst of one, then one every 1/19.4 s
    lane = make_lane(channel, sessions, clock)
    for address in (PHONE_A1, PHONE_A2, PHONE_B):
        await enqueue(sessions, clock, known[address], reply(address))
    assert await lane.step() == 3
    spacing = 1 / (20 * MARGIN)
    first, second, third = channel.times
    assert second - first >= spacing * 0.9
    assert third - second >= spacing * 0.9


def test_started_at_ten_in_vietnam(clock: FixedClock) -> None:
    assert clock.now() == datetime(2026, 11, 21, 3, tzinfo=UTC)
    assert not WINDOWS.quiet(clock.now())


async def test_the_running_lane_sends_batch_after_batch_and_gives_back_what_it_holds(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    """`run()` as loa worker runs it: the next batch is claimed while one goes out."""
    channel = FakeChannel()
    lane = make_lane(channel, sessions, clock, batch=3)
    texts = [f"Tin {n}" for n in range(10)]
    await enqueue(sessions, clock, known[PHONE_A1], *(reply(t) for t in texts))
    stop = asyncio.Event()
    running = asyncio.create_task(lane.run(stop))
    for _ in range(200):
        if len(channel.taken) == len(texts):
            break
        await asyncio.sleep(0.01)
    await enqueue(sessions, clock, known[PHONE_B], reply("Sau cùng"))
    stop.set()
    await running
    assert channel.texts(PHONE_A1) == texts  # each once, in order
    statuses = {m.text: m.status for m in await stored(sessions)}
    assert all(statuses[t] == SENT for t in texts)
    assert statuses["Sau cùng"] in (SENT, QUEUED)  # sent, or given back: never left `sending`


async def test_a_busy_lane_still_takes_back_a_crashed_workers_rows(
    sessions: Sessions, clock: FixedClock, known: dict[str, ContactRef]
) -> None:
    """Under a steady backlog, lease recovery runs once a lease, not only when idle."""
    await enqueue(sessions, clock, known[PHONE_B], reply("Tin bị bỏ dở"))
    [lost] = await claim(sessions, clock, timedelta(seconds=-1))  # a dead worker's, expired
    channel = FakeChannel(per_second=40)
    lane = make_lane(channel, sessions, clock, batch=4)  # 0.1 s a batch: never idle
    lane.config.lease = timedelta(seconds=0.6)
    lane.recover = _skip_first(lane.recover)  # type: ignore[method-assign]
    await enqueue(sessions, clock, known[PHONE_A1], *(reply(f"Tin {n}") for n in range(60)))
    stop = asyncio.Event()
    running = asyncio.create_task(lane.run(stop))
    for _ in range(300):
        if "Tin bị bỏ dở" in channel.texts():
            break
        await asyncio.sleep(0.01)
    backlog = len(channel.texts(PHONE_A1))
    stop.set()
    await running
    assert "Tin bị bỏ dở" in channel.texts()
    assert backlog < 60  # it came back while the backlog was still going out
    rows = {m.id: m for m in await stored(sessions)}
    assert rows[lost].possible_duplicate


def _skip_first(recover: Any) -> Any:
    """The lane's start-up recovery does nothing, so only the busy-path one can find the row."""
    calls = 0

    async def wrapped() -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            await recover()

    return wrapped
