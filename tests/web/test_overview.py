"""The overview: figures per commune and village on the demo register, and the area limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import get_settings
from messages.render import _
from storage.models import (
    Commune,
    Contact,
    Conversation,
    FollowUp,
    Household,
    Message,
    Survey,
    SurveyRound,
    SurveyVersion,
    Unreachable,
)
from storage.overview import Overview, overview
from storage.scope import EVERYTHING, Scope
from tests.conftest import NOW
from tests.web.conftest import BASE_URL, Communes, add_staff, sign_in

T = TypeVar("T")
DAY = timedelta(days=1)
SINCE = datetime(2026, 10, 22, 17, 0, tzinfo=UTC)  # 00:00 on 23/10 in Vietnam: the window opens


@dataclass(frozen=True)
class Seeded:
    mine: list[int]  # household ids of the assistant's commune, by code
    other: list[int]  # ... of the other commune
    names: dict[str, str]  # commune code -> name


async def _ids(session: AsyncSession, commune: str) -> list[int]:
    query = select(Household.id).where(Household.commune_code == commune).order_by(Household.code)
    return list(await session.scalars(query))


async def _with_phone(session: AsyncSession, commune: str) -> list[int]:
    query = (
        select(Household.id)
        .where(Household.commune_code == commune, Household.contacts.any())
        .order_by(Household.code)
    )
    return list(await session.scalars(query))


async def _contact(session: AsyncSession, household: int) -> int:
    query = select(Contact.id).where(Contact.household_id == household).order_by(Contact.id)
    found = (await session.scalars(query)).first()
    assert found is not None
    return found


def _message(household: int, at: datetime, status: str, direction: str = "out") -> dict[str, Any]:
    return {
        "direction": direction,
        "channel": "sms",
        "address": "+84900000000",
        "household_id": household,
        "kind": "notice",
        "text": "Kính gửi ông/bà",
        "status": status,
        "created_at": at,
        "updated_at": at,
    }


async def _seed(sessions: async_sessionmaker[AsyncSession], communes: Communes) -> Seeded:
    async with sessions() as session, session.begin():
        mine, other = await _ids(session, communes.mine), await _ids(session, communes.other)
        names = dict((await session.execute(select(Commune.code, Commune.name))).all())
        h1, h2, h3, h4 = (await _with_phone(session, communes.mine))[:4]
        h6 = (await _with_phone(session, communes.other))[0]
        phone1, phone2, phone3, contact6 = [await _contact(session, h) for h in (h1, h2, h3, h6)]
        # h1 also on Zalo; h2 only on Telegram (its phone opted out); h3's phone blocked on SMS
        await session.execute(
            insert(Contact),
            [
                {"household_id": h1, "kind": "zalo", "address": "z1", "created_at": NOW},
                {"household_id": h2, "kind": "telegram", "address": "7002", "created_at": NOW},
            ],
        )
        await session.execute(
            update(Contact).where(Contact.household_id == h2).values(opted_out_at=NOW - DAY)
        )
        await session.execute(
            update(Contact)
            .where(Contact.household_id == h2, Contact.kind == "telegram")
            .values(opted_out_at=None)
        )
        await session.execute(
            insert(Unreachable),
            [{"contact_id": phone3, "channel": "sms", "reason": "not_delivered", "since": NOW}],
        )
        await session.execute(
            insert(Message),
            [
                _message(h1, NOW - DAY, "delivered"),
                _message(h1, NOW - DAY, "sent"),
                _message(h1, NOW - DAY, "failed"),
                _message(h1, NOW - DAY, "received", direction="in"),
                _message(h2, SINCE, "read"),  # the first moment of the window
                _message(h2, SINCE - timedelta(seconds=1), "delivered"),  # just before it
                _message(h3, NOW - 40 * DAY, "delivered"),
                _message(h6, NOW - 2 * DAY, "delivered"),
                _message(h6, NOW - 2 * DAY, "delivered"),
            ],
        )
        survey = (
            await session.execute(
                insert(Survey).returning(Survey.id),
                [{"form_id": "needs", "title": "Nhu cầu", "created_at": NOW}],
            )
        ).scalar_one()
        version = (
            await session.execute(
                insert(SurveyVersion).returning(SurveyVersion.id),
                [
                    {
                        "survey_id": survey,
                        "version": "1",
                        "title": "Nhu cầu",
                        "definition": {},
                        "content_hash": "0" * 64,
                        "source_name": "needs.xlsx",
                        "imported_at": NOW,
                        "imported_by": "test",
                    }
                ],
            )
        ).scalar_one()
        round_id = (
            await session.execute(
                insert(SurveyRound).returning(SurveyRound.id),
                [{"survey_id": survey, "title": "Đợt 1", "opened_at": NOW - 60 * DAY}],
            )
        ).scalar_one()

        def talk(household: int, contact: int, status: str, at: datetime) -> dict[str, Any]:
            return {
                "round_id": round_id,
                "version_id": version,
                "household_id": household,
                "contact_id": contact,
                "channel": "sms",
                "status": status,
                "position": 0,
                "trail": [],
                "answers": {},
                "started_at": at,
                "updated_at": at,
            }

        await session.execute(
            insert(Conversation),
            [
                talk(h1, phone1, "completed", NOW - 2 * DAY),
                talk(h2, phone2, "active", NOW - DAY),
                talk(h3, phone3, "expired", NOW - 50 * DAY),
                talk(h6, contact6, "completed", NOW - 3 * DAY),
            ],
        )

        def item(household: int, kind: str, status: str) -> dict[str, Any]:
            return {
                "household_id": household,
                "kind": kind,
                "priority": "normal",
                "status": status,
                "created_at": NOW - 90 * DAY,  # open follow-ups count however old
                "updated_at": NOW,
            }

        await session.execute(
            insert(FollowUp),
            [
                item(h1, "loan", "open"),
                item(h2, "loan", "assigned"),
                item(h3, "visit", "open"),
                item(h4, "visit", "done"),
                item(h4, "loan", "dismissed"),
                item(h6, "training", "open"),
            ],
        )
    return Seeded(mine, other, names)


def _call(started: TestClient, fn: Callable[[], Awaitable[T]]) -> T:
    assert started.portal is not None
    return started.portal.call(fn)


@pytest.fixture
def seeded(started: TestClient, console: FastAPI, staff: Communes) -> Seeded:
    sessions = console.state.sessions

    async def seed() -> Seeded:
        return await _seed(sessions, staff)

    return _call(started, seed)


def _figures(started: TestClient, console: FastAPI, scope: Scope, **kw: Any) -> Overview:
    async def read() -> Overview:
        return await overview(console.state.sessions, scope=scope, now=NOW, **kw)

    return _call(started, read)


def _expected_reach(started: TestClient, console: FastAPI, ids: list[int]) -> dict[str, int]:
    """Reach counted the slow way, row by row, to check the SQL."""

    async def read() -> dict[str, int]:
        async with console.state.sessions() as session:
            contacts = (
                await session.execute(select(Contact).where(Contact.household_id.in_(ids)))
            ).scalars()
            blocked = set((await session.execute(select(Unreachable.contact_id))).scalars())
            found: dict[str, set[int]] = {"sms": set(), "zalo": set(), "telegram": set()}
            for c in contacts:
                if c.opted_out_at is None and not c.shared and c.id not in blocked:
                    found["sms" if c.kind == "phone" else c.kind].add(c.household_id)
            reach = {name: len(homes) for name, homes in found.items()}
            reach["any"] = len(set().union(*found.values()))
            return reach

    return _call(started, read)


def test_the_figures_per_commune_are_those_of_the_register(
    seeded: Seeded, started: TestClient, console: FastAPI, staff: Communes
) -> None:
    data = _figures(started, console, EVERYTHING)
    units = {u.key: u for u in data.units}
    assert list(units) == [staff.mine, staff.other]
    mine, other = units[staff.mine], units[staff.other]
    assert (mine.households, other.households) == (len(seeded.mine), len(seeded.other))
    assert mine.name == seeded.names[staff.mine]
    for unit, ids in ((mine, seeded.mine), (other, seeded.other)):
        expected = _expected_reach(started, console, ids)
        assert unit.reachable == expected.pop("any")
        assert unit.reach == expected
    assert mine.reach["zalo"] == 1
    assert mine.reach["telegram"] == 1
    assert (mine.sent, mine.delivered) == (3, 2)  # delivered, sent, read; not failed or old
    assert (other.sent, other.delivered) == (2, 2)
    assert (mine.asked, mine.answered, mine.response_rate) == (2, 1, 0.5)
    assert (other.asked, other.answered) == (1, 1)
    assert mine.followups == {"loan": 2, "visit": 1}
    assert other.followups == {"training": 1}
    assert data.total.households == len(seeded.mine) + len(seeded.other)
    assert data.total.sent == 5
    assert data.kinds == ["loan", "training", "visit"]
    assert data.days[0].isoformat() == "2026-10-23"
    assert data.days[-1].isoformat() == "2026-11-21"
    by_day = dict(zip(data.days, data.daily_sent, strict=True))
    assert by_day[data.days[0]] == 1  # the message at the window's first moment
    assert by_day[data.days[-2]] == 2  # yesterday (Vietnam time)
    assert sum(data.daily_delivered) == 4


def test_the_first_channel_follows_the_channel_order(
    seeded: Seeded, started: TestClient, console: FastAPI, staff: Communes
) -> None:
    scope = Scope(frozenset({staff.mine}))
    zalo_first = _figures(started, console, scope, order=["zalo", "telegram", "sms"]).total
    sms_first = _figures(started, console, scope, order=["sms", "telegram", "zalo"]).total
    assert zalo_first.first["zalo"] == 1
    assert sms_first.first["zalo"] == 0  # h1 has a phone too: SMS takes it
    assert sum(zalo_first.first.values()) == zalo_first.reachable
    assert sum(sms_first.first.values()) == sms_first.reachable


def test_a_commune_shows_its_villages(
    seeded: Seeded, started: TestClient, console: FastAPI, staff: Communes
) -> None:
    data = _figures(started, console, EVERYTHING, commune=staff.mine)
    assert len(data.units) > 1
    assert sum(u.households for u in data.units) == len(seeded.mine)
    assert data.total.sent == 3
    assert data.total.followups == {"loan": 2, "visit": 1}
    assert all(u.name for u in data.units)


def test_the_admin_sees_every_commune_and_can_pick_one(
    seeded: Seeded, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("admin")
    page = client.get("/")
    assert page.status_code == 200
    assert seeded.names[staff.mine] in page.text
    assert seeded.names[staff.other] in page.text
    assert f'href="/?commune={staff.other}"' in page.text
    assert "<svg" in page.text
    assert _("Wants a loan") in page.text
    one = client.get(f"/?commune={staff.other}")
    assert one.status_code == 200
    assert _("By village") in one.text
    assert seeded.names[staff.mine] in one.text  # as a choice of the filter, not as a row
    assert f'href="/?commune={staff.mine}"' not in one.text
    assert client.get("/?commune=").status_code == 200
    assert client.get("/?commune=00000").status_code == 404


def test_an_assistant_sees_only_their_commune(
    seeded: Seeded, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("assistant")
    page = client.get("/")
    assert page.status_code == 200
    assert seeded.names[staff.mine] in page.text
    assert seeded.names[staff.other] not in page.text
    assert _("By village") in page.text  # one commune: its villages at once
    assert _("Wants vocational training") not in page.text  # the other commune's follow-up
    assert client.get(f"/?commune={staff.mine}").status_code == 200
    refused = client.get(f"/?commune={staff.other}")
    assert refused.status_code == 404
    assert seeded.names[staff.other] not in refused.text
    outsider = signed_in("outsider").get("/")
    assert seeded.names[staff.other] in outsider.text
    assert seeded.names[staff.mine] not in outsider.text


@pytest.fixture
def empty_console(settings_env: str) -> Iterator[TestClient]:
    """The console on a store with no area and no household, and an admin."""
    add_staff("admin", "admin")
    app = create_app(get_settings(), clock=FixedClock(NOW))
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


def test_an_empty_register_says_what_to_do(empty_console: TestClient) -> None:
    page = sign_in(empty_console, "admin").get("/")
    assert page.status_code == 200
    assert _("No households on the register here yet.") in page.text
    assert _("Import areas and households") in page.text
    assert 'href="/imports"' in page.text
    assert "<table" not in page.text
