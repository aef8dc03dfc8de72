"""Try as a household: only in the demo; plays a phone of the user's areas on the console
channel; what is typed goes through the inbox; queued messages show up on the screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.config import get_settings
from storage import messages
from storage.messages import Outbound, Party
from storage.models import AuditEntry, Contact, Household, Message
from storage.models.messages import BROADCAST, INBOUND
from tests.conftest import NOW, loa
from tests.web.conftest import Communes, csrf_of


@pytest.fixture(autouse=True)
def demo_mode(monkeypatch: pytest.MonkeyPatch, settings_env: str) -> Iterator[None]:
    """LOA_DEMO=1, set before the app is built, and the built-in surveys."""
    monkeypatch.setenv("LOA_DEMO", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def surveys(staff: Communes) -> Communes:
    code, output = loa("survey", "import", "messages/vi/surveys/escape_poverty.csv")
    assert code == 0, output
    return staff


def _phone_household(started: TestClient, commune: str) -> tuple[str, str]:
    """A household of the commune with a phone no other household shares: code and phone."""

    async def find() -> tuple[str, str]:
        async with started.app.state.sessions() as session:  # type: ignore[attr-defined]
            row = (
                await session.execute(
                    select(Household.code, Contact.address)
                    .join(Contact, Contact.household_id == Household.id)
                    .where(
                        Household.commune_code == commune,
                        Contact.kind == "phone",
                        Contact.shared.is_(False),
                    )
                    .order_by(Household.code)
                    .limit(1)
                )
            ).one()
            return row[0], row[1]

    return started.portal.call(find)  # type: ignore[union-attr]


@pytest.fixture
def mine(started: TestClient, surveys: Communes) -> tuple[str, str]:
    return _phone_household(started, surveys.mine)


@pytest.fixture
def other(started: TestClient, surveys: Communes) -> tuple[str, str]:
    return _phone_household(started, surveys.other)


def _inbound_count(console: FastAPI, started: TestClient, phone: str) -> int:
    async def count() -> int:
        async with console.state.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.address == phone, Message.direction == INBOUND)
            )
            return int(found or 0)

    return started.portal.call(count)  # type: ignore[union-attr]


def _send(client: TestClient, code: str, text: str) -> object:
    csrf = csrf_of(client.get(f"/try/{code}").text)
    return client.post(
        f"/try/{code}/send", data={"csrf": csrf, "text": text}, follow_redirects=False
    )


def test_outside_the_demo_the_page_does_not_exist(
    signed_in: Callable[[str], TestClient], console: FastAPI, mine: tuple[str, str]
) -> None:
    client = signed_in("assistant")
    assert client.get("/try").status_code == 200
    assert 'href="/try"' in client.get("/").text
    console.state.settings = console.state.settings.model_copy(update={"demo": False})
    assert client.get("/try").status_code == 404
    assert client.get(f"/try/{mine[0]}").status_code == 404
    assert 'href="/try"' not in client.get("/").text


def test_the_picker_offers_households_of_the_users_areas_only(
    signed_in: Callable[[str], TestClient], mine: tuple[str, str], other: tuple[str, str]
) -> None:
    client = signed_in("assistant")
    page = client.get("/try").text
    assert f"/try/{mine[0]}" in page
    assert f"/try/{other[0]}" not in page
    chosen = client.get("/try?choose=1", follow_redirects=False)
    assert chosen.status_code == 303
    assert chosen.headers["location"].startswith("/try/")
    typed = client.get(f"/try?household={mine[0]}", follow_redirects=False)
    assert typed.headers["location"] == f"/try/{mine[0]}"
    refused = client.get(f"/try?household={other[0]}")
    assert refused.status_code == 404
    assert 'id="household-error"' in refused.text


def test_a_household_outside_the_areas_is_404_and_nothing_is_sent(
    signed_in: Callable[[str], TestClient],
    console: FastAPI,
    started: TestClient,
    mine: tuple[str, str],
    other: tuple[str, str],
) -> None:
    client = signed_in("assistant")
    code, phone = other
    assert client.get(f"/try/{code}").status_code == 404
    assert client.get(f"/try/{code}/messages").status_code == 404
    csrf = csrf_of(client.get(f"/try/{mine[0]}").text)
    sent = client.post(f"/try/{code}/send", data={"csrf": csrf, "text": "1"})
    assert sent.status_code == 404
    survey = client.post(f"/try/{code}/survey", data={"csrf": csrf, "form_id": "escape_poverty"})
    assert survey.status_code == 404
    assert _inbound_count(console, started, phone) == 0
    assert signed_in("outsider").get(f"/try/{code}").status_code == 200


def test_a_test_survey_is_answered_on_the_page(
    signed_in: Callable[[str], TestClient],
    console: FastAPI,
    started: TestClient,
    mine: tuple[str, str],
) -> None:
    client = signed_in("assistant")
    code, phone = mine
    page = client.get(f"/try/{code}").text
    assert "Gửi thử một khảo sát cho hộ này" in page
    assert "tryout.js" in page
    started_survey = client.post(
        f"/try/{code}/survey",
        data={"csrf": csrf_of(page), "form_id": "escape_poverty"},
        follow_redirects=False,
    )
    assert started_survey.status_code == 303
    screen = client.get(f"/try/{code}/messages")
    assert screen.headers["cache-control"] == "no-store"
    assert "đăng ký phấn đấu thoát nghèo" in screen.text
    assert _send(client, code, "1").status_code == 303  # type: ignore[attr-defined]
    screen = client.get(f"/try/{code}/messages").text
    assert re.search(r'class="msg from-me"[^>]*><p>1</p>', screen)
    assert "Hộ định làm gì để tăng thu nhập" in screen
    assert _inbound_count(console, started, phone) == 1

    async def audited() -> list[str]:
        async with console.state.sessions() as session:
            rows = await session.scalars(
                select(AuditEntry.entity_key).where(AuditEntry.entity == "conversations")
            )
            return list(rows)

    assert started.portal.call(audited) == [code]  # type: ignore[union-attr]


def test_a_message_queued_for_the_phone_shows_up_when_it_is_due(
    signed_in: Callable[[str], TestClient],
    console: FastAPI,
    started: TestClient,
    mine: tuple[str, str],
) -> None:
    code, phone = mine

    async def queue() -> None:
        async with console.state.sessions() as session, session.begin():
            party = Party("console", phone)
            await messages.queue(
                session,
                [
                    (party, Outbound("Thông báo: họp thôn tối nay.", BROADCAST)),
                    (
                        party,
                        Outbound(
                            "Thông báo ngày mai.", BROADCAST, not_before=NOW + timedelta(days=1)
                        ),
                    ),
                ],
                now=NOW,
            )

    client = signed_in("assistant")
    assert "Điện thoại chưa có tin nào" in client.get(f"/try/{code}/messages").text
    started.portal.call(queue)  # type: ignore[union-attr]
    screen = client.get(f"/try/{code}/messages").text
    assert "họp thôn tối nay" in screen
    assert "ngày mai" not in screen


def test_typing_goes_through_the_inbox_and_bad_input_is_told(
    signed_in: Callable[[str], TestClient],
    console: FastAPI,
    started: TestClient,
    mine: tuple[str, str],
) -> None:
    client = signed_in("officer")
    code, phone = mine
    assert _send(client, code, "trợ giúp").status_code == 303  # type: ignore[attr-defined]
    assert "HUY" in client.get(f"/try/{code}/messages").text  # the help reply
    empty = _send(client, code, "   ")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    assert 'id="text-error"' in empty.text  # type: ignore[attr-defined]
    long = _send(client, code, "x" * 1001)
    assert long.status_code == 400  # type: ignore[attr-defined]
    csrf = csrf_of(client.get(f"/try/{code}").text)
    unknown = client.post(f"/try/{code}/survey", data={"csrf": csrf, "form_id": "nope"})
    assert unknown.status_code == 400
    assert 'id="form_id-error"' in unknown.text
    forged = client.post(f"/try/{code}/send", data={"csrf": "x", "text": "1"})
    assert forged.status_code == 403
    assert _inbound_count(console, started, phone) == 1
