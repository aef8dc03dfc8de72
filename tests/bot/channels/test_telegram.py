"""Telegram end to end: webhook in, registration, consent, a built-in survey by buttons, out."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.models import Answer, Contact, Conversation, Message
from storage.models.households import BASIS_CONSENT, CONTACT_TELEGRAM
from storage.models.surveys import COMPLETED
from tests.bot.channels.conftest import SECRET, Stack
from tests.handlers.test_builtin_surveys import PLAYS

CHAT = 5001


def texts(stack: Stack, chat: int = CHAT) -> list[str]:
    return [m["text"] for m in stack.telegram.sent(chat)]


async def register_on_telegram(stack: Stack, phone: str = "84912345678") -> None:
    assert (await stack.telegram_update(stack.telegram.start_update(CHAT))).status_code == 200
    await stack.deliver()
    ask = stack.telegram.sent(CHAT)[-1]
    assert ask["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await stack.telegram_update(stack.telegram.contact_update(CHAT, phone))
    await stack.telegram_update(stack.telegram.text_update(CHAT, "Có"))
    await stack.deliver()


async def test_a_household_registers_by_its_phone_and_agrees(stack: Stack) -> None:
    await register_on_telegram(stack)
    said = texts(stack)
    assert "hộ H001" in said[1]
    assert "UBND xã An Hiệp" in said[1]
    assert "CO" in said[1]
    assert said[2].startswith("Cảm ơn")
    async with stack.sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.kind == CONTACT_TELEGRAM))
    assert contact is not None
    assert (contact.address, contact.phone, contact.basis) == (
        str(CHAT),
        "+84912345678",
        BASIS_CONSENT,
    )
    assert contact.consent_channel == "telegram"
    assert len(contact.consent_version or "") == 12


async def test_someone_elses_contact_card_proves_nothing(stack: Stack) -> None:
    await stack.telegram_update(stack.telegram.contact_update(CHAT, "84912345678", user_id=999))
    await stack.deliver()
    async with stack.sessions() as session:
        assert await session.scalar(select(Contact).where(Contact.kind == CONTACT_TELEGRAM)) is None


async def test_a_built_in_survey_is_answered_with_buttons_and_typing(stack: Stack) -> None:
    await register_on_telegram(stack)
    assert await stack.start_needs("H001") == "telegram"
    await stack.deliver()
    replies, _kinds = PLAYS["needs"]
    for number, reply in enumerate(replies):
        last = stack.telegram.sent(CHAT)[-1]
        if "reply_markup" in last and "inline_keyboard" in last["reply_markup"] and number % 2:
            update = stack.telegram.callback_update(CHAT, reply)  # a tap on the button
        else:
            update = stack.telegram.text_update(CHAT, reply)
        assert (await stack.telegram_update(update)).status_code == 200
        await stack.deliver()
    async with stack.sessions() as session:
        status = await session.scalar(select(Conversation.status))
        answers = (await session.scalars(select(Answer.question))).all()
    assert status == COMPLETED
    assert len(answers) >= len(replies) - 1
    assert any(c.method == "answerCallbackQuery" for c in stack.telegram.calls)


async def test_the_webhook_refuses_a_wrong_secret_and_stores_nothing(stack: Stack) -> None:
    update = stack.telegram.text_update(CHAT, "xin chào")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        response = await stack.client.post("/webhooks/telegram", json=update, headers=headers)
        assert response.status_code == 401
    async with stack.sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_bad_bodies_get_a_4xx_and_unknown_updates_are_ignored(stack: Stack) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    post = stack.client.post
    bad_json = await post(
        "/webhooks/telegram",
        content=b"{oops",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    form = await post("/webhooks/telegram", data={"a": "b"}, headers=headers)
    assert form.status_code == 415
    huge = json.dumps({"update_id": 1, "x": "a" * (1024 * 1024)})
    too_big = await post(
        "/webhooks/telegram", content=huge, headers={**headers, "Content-Type": "application/json"}
    )
    assert too_big.status_code == 413
    poll = {"update_id": 77, "poll": {"id": "1"}}
    assert (await stack.telegram_update(poll)).status_code == 200
    async with stack.sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_the_same_update_twice_is_handled_once(stack: Stack) -> None:
    update = stack.telegram.start_update(CHAT)
    await stack.telegram_update(update)
    await stack.telegram_update(update)
    async with stack.sessions() as session:
        inbound = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
    assert len(inbound) == 1


async def test_a_blocked_bot_hands_the_message_to_sms_or_nothing(stack: Stack) -> None:
    await register_on_telegram(stack)
    stack.telegram.fail(CHAT, status=403)
    await stack.telegram_update(stack.telegram.text_update(CHAT, "tro giup"))
    await stack.deliver()
    rows = await stack.outbox(channel="telegram")
    assert rows[-1].status == "failed"
    assert "blocked" in (rows[-1].last_error or "")
    async with stack.sessions() as session:
        from storage.models import Unreachable

        marked = (await session.scalars(select(Unreachable.reason))).all()
    assert marked == ["blocked"]


async def test_a_bug_in_a_channel_is_logged_not_a_500(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(stack.channels["telegram"], "receive", broken)
    response = await stack.telegram_update(stack.telegram.text_update(CHAT, "xin chào"))
    assert response.status_code == 200
    assert "xin ch" in caplog.text  # the body is kept in the log for a person to replay
