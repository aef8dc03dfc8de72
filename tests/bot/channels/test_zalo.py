"""Zalo end to end: follow, phone by request_user_info, consent, a survey, ZNS outside the window,
signatures, token rotation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import ChannelToken, Contact, Conversation, Message, Unreachable
from storage.models.households import BASIS_CONSENT, CONTACT_ZALO
from storage.models.messages import NOTICE, SURVEY
from storage.models.surveys import COMPLETED
from tests.bot.channels.conftest import Stack
from tests.handlers.test_builtin_surveys import PLAYS

USER = "4010011112223334445"


def said(stack: Stack) -> list[str]:
    return [m["message"].get("text", "") for m in stack.zalo.sent_cs(USER)]


async def register_on_zalo(stack: Stack) -> None:
    assert (await stack.zalo_event(stack.zalo.event_follow(USER))).status_code == 200
    await stack.deliver()
    card = stack.zalo.sent_cs(USER)[-1]["message"]["attachment"]["payload"]
    assert card["template_type"] == "request_user_info"
    await stack.zalo_event(stack.zalo.event_submit_info(USER, "84912345678"))
    await stack.zalo_event(stack.zalo.event_text(USER, "đồng ý"))
    await stack.deliver()


async def queue(stack: Stack, kind: str, text: str) -> None:
    from storage.messages import Outbound, Party, queue

    async with stack.sessions() as session, session.begin():
        contact = await session.scalar(select(Contact).where(Contact.kind == CONTACT_ZALO))
        assert contact is not None
        party = Party("zalo", USER, contact.household_id, contact.id)
        await queue(session, [(party, Outbound(text, kind))], now=stack.clock.now())


async def test_a_follower_registers_by_the_phone_it_submits(stack: Stack) -> None:
    await register_on_zalo(stack)
    assert "hộ H001" in said(stack)[1]
    assert said(stack)[2].startswith("Cảm ơn")
    async with stack.sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.kind == CONTACT_ZALO))
    assert contact is not None
    assert contact.basis == BASIS_CONSENT
    assert contact.phone == "+84912345678"


async def test_a_built_in_survey_is_answered_on_zalo(stack: Stack) -> None:
    await register_on_zalo(stack)
    assert await stack.start_needs("H001") == "zalo"
    await stack.deliver()
    assert "1." in said(stack)[-1]  # options as numbered text: Zalo shows no buttons here
    for reply in PLAYS["needs"][0]:
        await stack.zalo_event(stack.zalo.event_text(USER, reply))
        await stack.deliver()
    async with stack.sessions() as session:
        assert await session.scalar(select(Conversation.status)) == COMPLETED


async def test_outside_the_window_a_templated_kind_goes_by_zns(stack: Stack) -> None:
    await register_on_zalo(stack)
    stack.clock.advance(timedelta(days=8))
    await queue(stack, NOTICE, "Ngày 25/11 xã phát thẻ BHYT tại nhà văn hoá thôn.")
    await stack.deliver()
    zns = stack.zalo.sent_zns("84912345678")
    assert len(zns) == 1
    assert zns[0]["template_id"] == "tpl-1"
    assert "thẻ BHYT" in zns[0]["template_data"]["noi_dung"]
    row = (await stack.outbox(kind=NOTICE))[-1]
    assert row.status == "sent"
    assert (row.data or {}).get("via") == "zns"


async def test_outside_the_window_without_a_template_the_contact_is_marked(stack: Stack) -> None:
    await register_on_zalo(stack)
    stack.clock.advance(timedelta(days=8))
    await queue(stack, SURVEY, "Câu hỏi khảo sát")
    await stack.deliver()
    row = (await stack.outbox(kind=SURVEY))[-1]
    assert row.status == "failed"
    async with stack.sessions() as session:
        assert (await session.scalars(select(Unreachable.reason))).all() == ["outside_window"]
    await stack.zalo_event(stack.zalo.event_text(USER, "xin chào"))  # the window opens again
    async with stack.sessions() as session:
        assert (await session.scalars(select(Unreachable.reason))).all() == []


async def test_an_unfollow_makes_the_contact_unreachable(stack: Stack) -> None:
    await register_on_zalo(stack)
    await stack.zalo_event(stack.zalo.event_unfollow(USER))
    await queue(stack, NOTICE, "Tin mới")
    await stack.deliver()
    assert (await stack.outbox(kind=NOTICE))[-1].status == "failed"
    assert all("Tin mới" not in text for text in said(stack))


async def test_a_bad_signature_is_refused_and_another_app_ignored(stack: Stack) -> None:
    body, headers = stack.zalo.event_text(USER, "xin chào")
    forged = {**headers, "X-ZEvent-Signature": "mac=" + "0" * 64}
    response = await stack.client.post(
        "/webhooks/zalo", content=body, headers={**forged, "Content-Type": "application/json"}
    )
    assert response.status_code == 401
    other = body.replace(b'"app_id":"1234567890"', b'"app_id":"999"')
    response = await stack.client.post(
        "/webhooks/zalo", content=other, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    async with stack.sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_the_refresh_token_rotates_in_the_store(stack: Stack) -> None:
    await register_on_zalo(stack)
    assert stack.zalo.refresh_calls == 1
    async with stack.sessions() as session:
        token = await session.get(ChannelToken, "zalo")
    assert token is not None
    assert token.refresh_token == stack.zalo.refresh_token
    stack.clock.advance(timedelta(hours=25))
    await stack.zalo_event(stack.zalo.event_text(USER, "xin chào"))
    await stack.deliver()
    assert stack.zalo.refresh_calls == 2
    assert said(stack)[-1].startswith("Cảm ơn")
