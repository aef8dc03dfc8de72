"""The household pages: search and filters in the user's areas, and one household's record."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.phones import national_format
from messages.text import strip_accents
from storage.db import create_engine, session_factory
from storage.models import (
    Answer,
    Contact,
    Conversation,
    Event,
    EventRegistration,
    FollowUp,
    Household,
    Instalment,
    Loan,
    Message,
    StaffUser,
    Survey,
    SurveyRound,
    SurveyVersion,
    Unreachable,
)
from tests.conftest import NOW, loa
from tests.web.conftest import Communes

DAY = timedelta(days=1)
MESSAGES = 105  # more than one page of the timeline (100)


@dataclass(frozen=True)
class World:
    """The records the tests look for."""

    code: str  # a household of the assistant's commune with everything on its record
    name: str  # its head's name
    phone: str  # its phone, E.164
    village_id: int
    mute: str  # a household of the same commune with no contact at all
    other: str  # a household of the other commune
    other_name: str
    other_phone: str
    mine_total: int  # households in the assistant's commune


async def _household(session: AsyncSession, commune: str, n: int = 0) -> tuple[int, str, str, str]:
    """The n-th household of the commune (by code) with a phone of its own, and that phone."""
    phones = select(Contact.household_id).where(Contact.kind == "phone", Contact.shared.is_(False))
    hid, code, name = (
        await session.execute(
            select(Household.id, Household.code, Household.head_name)
            .where(
                Household.commune_code == commune,
                Household.village_id.is_not(None),
                Household.id.in_(phones),
            )
            .order_by(Household.code)
            .offset(n)
            .limit(1)
        )
    ).one()
    phone = await session.scalar(
        select(Contact.address)
        .where(Contact.household_id == hid, Contact.kind == "phone", Contact.shared.is_(False))
        .order_by(Contact.position)
        .limit(1)
    )
    return hid, code, name, str(phone)


def _message(household: int, n: int) -> dict[str, Any]:
    at = NOW - timedelta(minutes=MESSAGES - n)
    return {
        "direction": "in" if n % 2 else "out",
        "channel": "sms",
        "address": "+84900000000",
        "household_id": household,
        "kind": "free_text" if n % 2 else "broadcast",
        "text": f"Tin số {n}",
        "status": "received" if n % 2 else ("failed" if n == 4 else "delivered"),
        "created_at": at,
        "updated_at": at,
    }


async def _survey(session: AsyncSession, household: int, contact: int) -> None:
    version, survey = (
        await session.execute(
            select(SurveyVersion.id, Survey.id)
            .join(Survey, Survey.id == SurveyVersion.survey_id)
            .where(Survey.form_id == "needs")
        )
    ).one()
    round_id = (
        await session.execute(
            insert(SurveyRound).returning(SurveyRound.id),
            [{"survey_id": survey, "title": "Đợt tháng 11", "opened_at": NOW - 3 * DAY}],
        )
    ).scalar_one()
    conversation = (
        await session.execute(
            insert(Conversation).returning(Conversation.id),
            [
                {
                    "round_id": round_id,
                    "version_id": version,
                    "household_id": household,
                    "contact_id": contact,
                    "channel": "sms",
                    "status": "completed",
                    "position": 0,
                    "trail": [],
                    "answers": {},
                    "started_at": NOW - 2 * DAY,
                    "updated_at": NOW - DAY,
                    "completed_at": NOW - DAY,
                }
            ],
        )
    ).scalar_one()
    answers = [
        ("want_loan", "yes", "1", "answered"),
        ("loan_purpose", "chan_nuoi", "1", "answered"),
        ("production", "crops livestock", "1 2", "answered"),
        ("job_need", None, "???", "unanswered"),
    ]
    await session.execute(
        insert(Answer),
        [
            {
                "conversation_id": conversation,
                "household_id": household,
                "contact_id": contact,
                "question": q,
                "value": v,
                "raw": raw,
                "status": status,
                "answered_at": NOW - DAY,
            }
            for q, v, raw, status in answers
        ],
    )


async def _work(session: AsyncSession, household: int) -> None:
    assistant = await session.scalar(select(StaffUser.id).where(StaffUser.username == "assistant"))
    stamps = {"created_at": NOW - 2 * DAY, "updated_at": NOW - 2 * DAY}
    await session.execute(
        insert(FollowUp),
        [
            {
                "household_id": household,
                "kind": "loan",
                "priority": "high",
                "status": "assigned",
                "note": "Gọi lại sau mùa gặt",
                "assignee_id": assistant,
                "due_on": date(2026, 11, 30),
                **stamps,
            }
        ],
    )
    loan = (
        await session.execute(
            insert(Loan).returning(Loan.id),
            [
                {
                    "household_id": household,
                    "programme": "ho_ngheo",
                    "amount": 50_000_000,
                    "disbursed_on": date(2025, 5, 10),
                    "group_name": "Tổ TK&VV thôn 1",
                    "source_name": "vay.xlsx",
                    **stamps,
                }
            ],
        )
    ).scalar_one()
    await session.execute(
        insert(Instalment),
        [
            {"loan_id": loan, "due_on": date(2026, 10, 15), "principal": 2_000_000,
             "interest": 300_000, "paid_on": date(2026, 10, 14), "paid_amount": 2_300_000,
             **stamps},
            {"loan_id": loan, "due_on": date(2026, 11, 15), "principal": 2_000_000,
             "interest": 300_000, **stamps},
            {"loan_id": loan, "due_on": date(2026, 12, 15), "principal": 2_000_000,
             "interest": 300_000, **stamps},
        ],
    )  # fmt: skip
    event = (
        await session.execute(
            insert(Event).returning(Event.id),
            [
                {
                    "kind": "training",
                    "title": "Lớp kỹ thuật chăn nuôi bò",
                    "commune_code": None,
                    "starts_at": NOW + 5 * DAY,
                    "place": "Hội trường xã",
                    "audience": "all",
                    "status": "confirmed",
                    "details": {},
                    "created_by": "assistant",
                    **stamps,
                }
            ],
        )
    ).scalar_one()
    await session.execute(
        insert(EventRegistration),
        [
            {
                "event_id": event,
                "household_id": household,
                "channel": "sms",
                "status": "registered",
                "invited_at": NOW - 2 * DAY,
                "registered_at": NOW - DAY,
            }
        ],
    )


async def _seed(url: str, communes: Communes) -> World:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            hid, code, name, phone = await _household(session, communes.mine)
            mute_id, mute, _n, _p = await _household(session, communes.mine, 1)
            _o, other, other_name, other_phone = await _household(session, communes.other)
            contact = await session.scalar(
                select(Contact.id).where(Contact.household_id == hid, Contact.address == phone)
            )
            assert contact is not None
            await session.execute(delete(Contact).where(Contact.household_id == mute_id))
            await session.execute(
                insert(Contact),
                [
                    {
                        "household_id": hid,
                        "kind": "zalo",
                        "address": "zalo-8841",
                        "position": 9,
                        "created_at": NOW,
                        "basis": "consent",
                        "basis_at": NOW - 5 * DAY,
                        "consent_channel": "zalo",
                        "opted_out_at": NOW - DAY,
                    }
                ],
            )
            await session.execute(
                insert(Unreachable),
                [
                    {
                        "contact_id": contact,
                        "channel": "sms",
                        "reason": "not_delivered",
                        "since": NOW,
                    }
                ],
            )
            await session.execute(insert(Message), [_message(hid, n) for n in range(MESSAGES)])
            await _survey(session, hid, contact)
            await _work(session, hid)
            village = await session.scalar(select(Household.village_id).where(Household.id == hid))
            total = await session.scalar(
                select(func.count()).where(Household.commune_code == communes.mine)
            )
        return World(
            code,
            name,
            phone,
            int(village or 0),
            mute,
            other,
            other_name,
            other_phone,
            int(total or 0),
        )
    finally:
        await engine.dispose()


@pytest.fixture
def world(staff: Communes, settings_env: str) -> World:
    """The demo register with a survey imported and one household's full record (before the
    app starts)."""
    code, output = loa("survey", "import", "messages/vi/surveys/needs.csv")
    assert code == 0, output
    return asyncio.run(_seed(settings_env, staff))


def codes(html: str) -> list[str]:
    """The household codes a list page links to."""
    return list(dict.fromkeys(re.findall(r'href="/households/([^"?#]+)"', html)))


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_only_the_users_communes_fifty_a_page(
    world: World, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("assistant")
    first = client.get("/households")
    assert first.status_code == 200
    assert f"{world.mine_total} hộ" in first.text.replace(".", "")
    assert len(codes(first.text)) == 50
    assert all(code.startswith(staff.mine) for code in codes(first.text))
    assert "page=2" in first.text
    second = client.get("/households?page=2")
    assert set(codes(second.text)).isdisjoint(codes(first.text))
    last = client.get(f"/households?page={-(-world.mine_total // 50)}")
    assert 0 < len(codes(last.text)) <= 50
    assert client.get("/households?page=abc").status_code == 200  # the first page


def test_a_name_is_found_whatever_the_accents_and_case(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    spellings = [
        world.name,  # as written
        strip_accents(world.name).upper(),  # no accents, upper case
        world.name.split()[-1].lower(),  # the given name only
        strip_accents(" ".join(world.name.split()[:2])),  # the start of the name
        " ".join(world.name.split()[1:]),  # from its second word
    ]
    for spelling in spellings:
        found = client.get("/households", params={"q": spelling})
        assert found.status_code == 200
        assert world.code in codes(found.text), spelling


def test_a_code_is_found_by_its_start_and_a_phone_in_any_spelling(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    exact = codes(client.get("/households", params={"q": world.code}).text)
    assert exact == [world.code]
    assert world.code in codes(client.get("/households", params={"q": world.code[:-1]}).text)
    for spelling in (world.phone, national_format(world.phone), "0" + world.phone[3:]):
        found = client.get("/households", params={"q": spelling})
        assert world.code in codes(found.text), spelling
    assert national_format(world.phone) in found.text


def test_a_search_never_reaches_another_commune(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    for q in (world.other, world.other_phone, world.other_name):
        assert world.other not in codes(client.get("/households", params={"q": q}).text)
    admin = signed_in("admin")
    assert world.other in codes(admin.get("/households", params={"q": world.other}).text)


def test_filters_by_village_category_reachability_and_opt_out(
    world: World, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("assistant")
    village = client.get("/households", params={"village": world.village_id})
    assert village.status_code == 200
    assert world.code in codes(village.text)
    assert len(codes(village.text)) < 50
    poor = client.get("/households", params={"category": "poor"})
    assert poor.status_code == 200
    assert codes(poor.text)
    unreachable = codes(client.get("/households", params={"unreachable": "1"}).text)
    assert world.mute in unreachable
    assert world.code not in unreachable  # its phone fails on SMS, but the console reaches it
    opted = codes(client.get("/households", params={"opted_out": "1"}).text)
    assert opted == [world.code]


def test_a_commune_filter_serves_as_the_commune_page(
    world: World, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("assistant")
    page = client.get("/households", params={"commune": staff.mine})
    assert page.status_code == 200
    assert world.code in codes(page.text)
    moved = client.get(f"/communes/{staff.mine}", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/households?commune={staff.mine}"
    admin = signed_in("admin")
    both = admin.get("/households", params={"commune": staff.other})
    assert world.other in codes(both.text)
    assert world.code not in codes(both.text)


def test_another_communes_filters_answer_404(
    world: World, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("outsider")
    assert client.get("/households", params={"commune": staff.mine}).status_code == 404
    assert client.get("/households", params={"commune": "99999"}).status_code == 404
    assert client.get("/households", params={"village": world.village_id}).status_code == 404
    assert client.get(f"/communes/{staff.mine}").status_code == 404


def test_bad_filters_are_told_beside_the_field(
    world: World, signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    client = signed_in("assistant")
    for params, field in [
        ({"category": "rich"}, "category"),
        ({"village": "thôn 1"}, "village"),
        ({"q": "x" * 101}, "q"),
    ]:
        page = client.get("/households", params=params)
        assert page.status_code == 400, params
        assert f'id="{field}-error"' in page.text
    nul = client.get("/households", params={"q": "Ng\x00uyen", "commune": staff.mine})
    assert nul.status_code == 200


# --- one household ----------------------------------------------------------------------------


def test_a_households_page_shows_its_whole_record(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    page = signed_in("officer").get(f"/households/{world.code}")
    assert page.status_code == 200
    text = page.text
    assert world.name in text
    assert national_format(world.phone) in text  # contacts, formatted
    assert "zalo-8841" in text
    assert "Zalo" in text
    assert "Gọi lại sau mùa gặt" in text
    assert "30/11/2026" in text
    assert "assistant" in text  # its assignee
    assert "50.000.000" in text
    assert "15/11/2026" in text
    assert "Lớp kỹ thuật chăn nuôi bò" in text  # the event
    assert "Hộ mình có cần vay vốn ưu đãi" in text  # a question's label
    assert "Trồng trọt, Chăn nuôi" in text  # a select_multiple answer by its labels
    assert "Tin số 104" in text
    assert "Tin số 5" in text
    assert text.index("Tin số 104") < text.index("Tin số 103")
    assert "Tin số 4<" not in text  # on the second page of the timeline
    older = signed_in("officer").get(f"/households/{world.code}?page=2")
    assert "Tin số 4<" in older.text
    assert "Tin số 0<" in older.text


def test_a_household_outside_the_users_areas_is_not_found(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    refused = client.get(f"/households/{world.other}")
    assert refused.status_code == 404
    assert 'href="/followups"' in refused.text  # the menu stays on the error page
    assert client.get("/households/NO-SUCH-CODE").status_code == 404
    assert client.get("/households/" + "x" * 41).status_code == 400
    assert signed_in("admin").get(f"/households/{world.other}").status_code == 200


def test_an_empty_household_page_says_so(
    world: World, signed_in: Callable[[str], TestClient]
) -> None:
    page = signed_in("assistant").get(f"/households/{world.mute}")
    assert page.status_code == 200
    assert page.text.count('class="empty"') >= 5


def test_the_list_without_a_session_sends_the_browser_to_sign_in(
    world: World, browser: Callable[..., TestClient]
) -> None:
    response = browser().get(f"/households/{world.code}", follow_redirects=False)
    assert response.status_code == 303
