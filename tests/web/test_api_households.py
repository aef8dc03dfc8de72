"""The households and messages API: search, a household's record and messages, the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from messages.phones import national_format
from storage.db import create_engine, session_factory
from storage.models import Message
from tests.conftest import NOW
from tests.web.conftest import Communes
from tests.web.test_households import MESSAGES, World
from tests.web.test_households import world as world  # the fixture, by name

STRANGER = "+84988000111"  # wrote in from a number the register does not hold


async def _stranger(url: str) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                insert(Message),
                [
                    {
                        "direction": "in",
                        "channel": "sms",
                        "address": STRANGER,
                        "kind": "unknown",
                        "text": "Ai đấy?",
                        "status": "received",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                ],
            )
    finally:
        await engine.dispose()


@pytest.fixture
def stranger(world: World, settings_env: str) -> None:
    asyncio.run(_stranger(settings_env))


def test_households_are_paged_and_limited_to_the_tokens_areas(
    world: World, api: Callable[[str], TestClient], staff: Communes
) -> None:
    client = api("officer")
    first = client.get("/api/v1/households").json()
    assert first["total"] == world.mine_total
    assert first["page"] == 1
    assert first["per_page"] == 50
    assert len(first["items"]) == 50
    assert {h["commune_code"] for h in first["items"]} == {staff.mine}
    second = client.get("/api/v1/households?page=2&per_page=20").json()
    assert len(second["items"]) == 20
    assert second["items"][0]["code"] == first["items"][20]["code"]
    everyone = api("admin").get("/api/v1/households").json()
    assert everyone["total"] > world.mine_total


def test_households_are_searched_by_name_code_and_phone(
    world: World, api: Callable[[str], TestClient], staff: Communes
) -> None:
    client = api("assistant")
    for q in (world.name.upper(), world.code, national_format(world.phone)):
        found = client.get("/api/v1/households", params={"q": q}).json()
        assert world.code in [h["code"] for h in found["items"]], q
    hit = next(
        h
        for h in client.get("/api/v1/households", params={"q": world.code}).json()["items"]
        if h["code"] == world.code
    )
    assert world.phone in hit["phones"]  # E.164: staff call households
    assert hit["opted_out"] is True  # its Zalo contact opted out
    assert hit["unreachable"] is False
    other = client.get("/api/v1/households", params={"q": world.other}).json()
    assert other["total"] == 0
    mute = client.get("/api/v1/households", params={"unreachable": "true"}).json()
    assert world.mute in [h["code"] for h in mute["items"]]
    poor = client.get("/api/v1/households", params={"category": "poor"}).json()
    assert {h["category"] for h in poor["items"]} == {"poor"}


def test_a_commune_filter_outside_the_areas_answers_404(
    world: World, api: Callable[[str], TestClient], staff: Communes
) -> None:
    client = api("assistant")
    assert client.get("/api/v1/households", params={"commune": staff.mine}).status_code == 200
    refused = client.get("/api/v1/households", params={"commune": staff.other})
    assert refused.status_code == 404
    assert isinstance(refused.json()["detail"], str)
    bad = client.get("/api/v1/households", params={"category": "rich"})
    assert bad.status_code == 422


def test_a_households_record_has_contacts_followups_and_loans(
    world: World, api: Callable[[str], TestClient]
) -> None:
    found = api("officer").get(f"/api/v1/households/{world.code}")
    assert found.status_code == 200
    body = found.json()
    assert body["code"] == world.code
    assert body["head_name"] == world.name
    phones = [c for c in body["contacts"] if c["kind"] == "phone"]
    assert phones[0]["address"] == world.phone
    assert phones[0]["unreachable"] == {"sms": "not_delivered"}
    zalo = next(c for c in body["contacts"] if c["kind"] == "zalo")
    assert zalo["basis"] == "consent"
    assert zalo["opted_out_at"] is not None
    assert body["followups"][0]["assignee"] == "assistant"
    assert body["followups"][0]["due_on"] == "2026-11-30"
    (loan,) = body["loans"]
    assert loan["amount"] == 50_000_000
    assert loan["instalments"] == 3
    assert loan["outstanding"] == 4_600_000
    assert loan["overdue_instalments"] == 1  # 15/11 unpaid; today is 21/11
    assert loan["next_due"] == "2026-11-15"


def test_a_household_outside_the_areas_answers_404_as_json(
    world: World, api: Callable[[str], TestClient]
) -> None:
    client = api("assistant")
    for path in (f"/api/v1/households/{world.other}", f"/api/v1/households/{world.other}/messages"):
        refused = client.get(path)
        assert refused.status_code == 404, path
        assert isinstance(refused.json()["detail"], str)
    assert client.get("/api/v1/households/NOPE").status_code == 404
    assert api("admin").get(f"/api/v1/households/{world.other}").status_code == 200
    assert client.get("/api/v1/households/" + "x" * 41).status_code == 422


def test_a_households_messages_are_paged_newest_first(
    world: World, api: Callable[[str], TestClient]
) -> None:
    client = api("assistant")
    first = client.get(f"/api/v1/households/{world.code}/messages?per_page=100").json()
    assert first["total"] == MESSAGES
    assert [m["text"] for m in first["items"][:2]] == ["Tin số 104", "Tin số 103"]
    last = client.get(f"/api/v1/households/{world.code}/messages?per_page=100&page=2").json()
    assert [m["text"] for m in last["items"]] == [f"Tin số {n}" for n in range(4, -1, -1)]
    assert {m["direction"] for m in first["items"]} == {"in", "out"}


def test_the_message_log_is_limited_to_the_areas_and_filtered(
    world: World, stranger: None, api: Callable[[str], TestClient]
) -> None:
    officer = api("officer")
    mine = officer.get("/api/v1/messages?per_page=200").json()
    assert mine["total"] == MESSAGES
    assert all(m["household_code"] == world.code for m in mine["items"])
    assert STRANGER not in [m["address"] for m in mine["items"]]
    incoming = officer.get("/api/v1/messages", params={"direction": "in"}).json()
    assert incoming["total"] == MESSAGES // 2
    assert {m["direction"] for m in incoming["items"]} == {"in"}
    recent = officer.get("/api/v1/messages", params={"since": "2026-11-21T09:55:00+07:00"})
    assert recent.json()["total"] == 5  # a message a minute, the last at 10:00 minus 1 minute
    naive = officer.get("/api/v1/messages", params={"since": "2026-11-21T02:55:00"}).json()
    assert naive["total"] == 5  # a naive time is UTC
    far = officer.get("/api/v1/messages", params={"since": "9999-12-31T23:00:00-05:00"})
    assert far.status_code == 200
    assert far.json()["total"] == 0
    one = officer.get("/api/v1/messages", params={"household": world.code}).json()
    assert one["total"] == MESSAGES
    admin = api("admin").get("/api/v1/messages").json()
    assert admin["items"][0]["address"] == STRANGER
    assert admin["items"][0]["household_code"] is None


def test_the_message_log_of_another_communes_household_answers_404(
    world: World, api: Callable[[str], TestClient]
) -> None:
    client = api("assistant")
    assert client.get("/api/v1/messages", params={"household": world.other}).status_code == 404
    assert client.get("/api/v1/messages", params={"direction": "up"}).status_code == 422


def test_phone_numbers_never_reach_the_logs(
    world: World, api: Callable[[str], TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    """Even at DEBUG: SQLAlchemy hides statement parameters, aiosqlite stays at INFO."""
    client = api("assistant")
    with caplog.at_level(logging.DEBUG):
        found = client.get("/api/v1/households", params={"q": national_format(world.phone)})
        record = client.get(f"/api/v1/households/{world.code}")
        page = api("assistant").get("/api/v1/messages", params={"household": world.code})
    assert world.phone in found.text
    assert world.phone in record.text
    assert page.status_code == 200
    server = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the client's
    logged = "\n".join(r.getMessage() for r in server).replace(" ", "")
    assert world.phone[3:] not in logged


def test_the_openapi_document_lists_the_routes(
    world: World, api: Callable[[str], TestClient]
) -> None:
    paths = api("assistant").get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/households",
        "/api/v1/households/{code}",
        "/api/v1/households/{code}/messages",
        "/api/v1/messages",
    ):
        assert "get" in paths[path], path
    assert not any(path.startswith("/households") for path in paths)
