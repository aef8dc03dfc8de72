"""Keywords on every channel: stop, start, help, consent; and registration by code or phone."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from handlers.dialogue.conversations import Turn
from handlers.incoming import PHONE, START, Incoming
from handlers.keywords import HELP, NO, STOP, YES, answer, keyword
from handlers.keywords import START as START_WORD
from handlers.router import Policy, handle
from messages.render import VN_ZONE
from storage.models import Contact, Conversation, Message, Registration
from storage.models.households import BASIS_CONSENT, BASIS_REGISTER, CONTACT_TELEGRAM
from storage.models.messages import CONFIRM
from storage.models.surveys import COMPLETED, STOPPED
from tests.handlers.conftest import PHONE_B, load_built_in, one_time_code, phone
from tests.handlers.test_builtin_surveys import PLAYS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HUY", (STOP, "")),
        ("Hủy", (STOP, "")),
        ("hủy ", (STOP, "")),
        ("/stop", (STOP, "")),
        ("DỪNG", (STOP, "")),
        ("dung", (STOP, "")),
        ("STOP", (STOP, "")),
        ("DK", (START_WORD, "")),
        ("dk AB12CD34", (START_WORD, "AB12CD34")),
        ("Đk h002", (START_WORD, "h002")),
        ("BATDAU", (START_WORD, "")),
        ("bat dau", (START_WORD, "")),
        ("/start", (START_WORD, "")),
        ("HELP", (HELP, "")),
        ("tro giup", (HELP, "")),
        ("TRỢ GIÚP", (HELP, "")),
        ("/help", (HELP, "")),
        ("Dừng lại một chút nhé", None),
        ("Tôi muốn vay vốn", None),
        ("", None),
    ],
)
def test_keywords_ignore_case_accents_and_slashes(
    text: str, expected: tuple[str, str] | None
) -> None:
    assert keyword(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CO", YES), ("có", YES), ("Đồng ý", YES), ("1", YES), ("không", NO), ("2", NO), ("?", None)],
)
def test_consent_answers(text: str, expected: str | None) -> None:
    assert answer(text) == expected


def turn(clock: FixedClock) -> Turn:
    now = clock.now()
    return Turn(now=now, today=now.astimezone(VN_ZONE).date())


async def say(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, incoming: Incoming
) -> list[str]:
    policy = Policy(help_contact="chị Lan, 0912 000 111")
    async with sessions() as session, session.begin():
        sent = await handle(session, incoming, turn=turn(clock), policy=policy)
    return [m.text for m in sent]


@pytest.mark.usefixtures("register")
async def test_stop_ends_a_survey_and_only_a_confirmation_follows(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await load_built_in(sessions, "needs", clock)
    household_phone = phone(sessions, clock, PHONE_B)
    await household_phone.start("needs")
    said = await household_phone.say("Hủy")
    assert said == ["Loa đã dừng gửi tin cho bạn. Nhắn DK để nhận lại."]
    async with sessions() as session:
        assert await session.scalar(select(Conversation.status)) == STOPPED
        contact = await session.scalar(select(Contact).where(Contact.address == PHONE_B))
        last = await session.scalar(select(Message).order_by(Message.id.desc()).limit(1))
    assert contact is not None
    assert contact.opted_out_at is not None
    assert last is not None
    assert last.kind == CONFIRM
    assert await household_phone.say("BAT DAU") == ["Cảm ơn. Loa sẽ gửi tin của xã cho gia đình."]
    async with sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.address == PHONE_B))
    assert contact is not None
    assert contact.opted_out_at is None
    assert contact.basis == BASIS_REGISTER  # the register's basis stays


@pytest.mark.usefixtures("register")
async def test_help_names_the_communes_contact(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    said = await say(sessions, clock, Incoming("sms", PHONE_B, "TRỢ GIÚP"))
    assert "chị Lan, 0912 000 111" in said[0]
    assert "HUY" in said[0]


@pytest.mark.usefixtures("register")
async def test_a_one_time_code_registers_once(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    code = await one_time_code(sessions, clock, "H003")
    chat = Incoming("telegram", "777", code, kind=CONTACT_TELEGRAM, event=START)
    said = await say(sessions, clock, chat)
    assert "hộ H003" in said[0]
    assert "CO" in said[0]
    assert (
        "Cảm ơn"
        in (await say(sessions, clock, Incoming("telegram", "777", "có", kind=CONTACT_TELEGRAM)))[0]
    )
    async with sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.address == "777"))
    assert contact is not None
    assert contact.basis == BASIS_CONSENT
    assert contact.consent_channel == "telegram"
    other = Incoming("telegram", "888", code, kind=CONTACT_TELEGRAM, event=START)
    assert "không có trong danh sách" in (await say(sessions, clock, other))[0]


@pytest.mark.usefixtures("register")
async def test_a_household_code_alone_waits_for_an_assistant(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    chat = Incoming("telegram", "777", "H002", kind=CONTACT_TELEGRAM)
    said = await say(sessions, clock, chat)
    assert "xác nhận" in said[0]
    shared = Incoming("telegram", "777", kind=CONTACT_TELEGRAM, event=PHONE, phone="+84900000001")
    await say(sessions, clock, shared)  # a phone the register does not hold: still waiting
    async with sessions() as session:
        waiting = (await session.scalars(select(Registration))).all()
        contacts = (await session.scalars(select(Contact).where(Contact.address == "777"))).all()
    assert [(r.status, r.phone) for r in waiting] == [("pending", "+84900000001")]
    assert contacts == []


@pytest.mark.usefixtures("register")
async def test_a_proven_phone_settles_a_pending_claim(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await say(sessions, clock, Incoming("telegram", "777", "H002", kind=CONTACT_TELEGRAM))
    proof = Incoming("telegram", "777", kind=CONTACT_TELEGRAM, event=PHONE, phone=PHONE_B)
    said = await say(sessions, clock, proof)
    assert "hộ H002" in said[0]
    async with sessions() as session:
        waiting = await session.scalar(select(Registration))
    assert waiting is not None
    assert waiting.status == "approved"


@pytest.mark.usefixtures("register")
async def test_an_unknown_number_is_told_whom_to_call(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    said = await say(sessions, clock, Incoming("sms", "+84900000002", "Xin chào"))
    assert "chị Lan, 0912 000 111" in said[0]


@pytest.mark.usefixtures("register")
async def test_a_console_phone_registers_by_dk_and_answers_a_survey(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    code = await one_time_code(sessions, clock, "H003")
    newcomer = phone(sessions, clock, "+84905556677")
    assert "hộ H003" in (await newcomer.say(f"dk {code.lower()}"))[0]
    assert (await newcomer.say("CO"))[0].startswith("Cảm ơn")
    await load_built_in(sessions, "needs", clock)
    await newcomer.start("needs")
    for reply in PLAYS["needs"][0]:
        assert await newcomer.say(reply)
    async with sessions() as session:
        assert await session.scalar(select(Conversation.status)) == COMPLETED
