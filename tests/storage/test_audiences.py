"""The audience filter: the one-line language (pure) and the households it picks (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dialogue import xlsform
from handlers.dialogue.form import Form
from storage import audiences, vocab
from storage.audience_query import EXAMPLE
from storage.audiences import Audience, AudienceError, parse
from storage.audit import Actor
from storage.models import (
    Answer,
    Commune,
    Contact,
    Conversation,
    FollowUp,
    Household,
    HouseholdDeprivation,
    Instalment,
    Loan,
    Province,
    SurveyRound,
    Unreachable,
    Village,
)
from storage.surveys import latest_version

Sessions = async_sessionmaker[AsyncSession]
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
NEEDS = Path(__file__).resolve().parents[2] / "messages/vi/surveys/needs.csv"


# --- the language (pure) ---------------------------------------------------------------------


def _error(text: str) -> str:
    with pytest.raises(AudienceError) as caught:
        parse(text)
    return str(caught.value)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_query_says_how_to_write_one(text: str) -> None:
    assert EXAMPLE in _error(text)


def test_an_unknown_key_lists_the_valid_keys() -> None:
    message = _error("comune=28756")
    assert "comune" in message
    for key in ("province", "commune", "village", "category", "flag", "registered", "followup"):
        assert key in message
    for key in ("loan", "overdue", "channel", "consent", "answer:FORM.QUESTION", "all"):
        assert key in message


def test_an_unknown_category_lists_the_categories() -> None:
    message = _error("category=poor,rich")
    assert "rich" in message
    assert all(code in message for code in vocab.CATEGORIES)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("category", "category"),
        ("category=", "category="),
        ("=poor", "=poor"),
        ("category=poor,,near_poor", "category=poor,,near_poor"),
        ("commune=28756 village", "village"),
    ],
)
def test_a_malformed_term_is_quoted(text: str, term: str) -> None:
    assert f"“{term}”" in _error(text)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("answer:needs=yes", "answer:needs=yes"),
        ("answer:.want_training=yes", "answer:.want_training=yes"),
        ("answer:needs.=yes", "answer:needs.=yes"),
    ],
)
def test_a_malformed_answer_term_is_quoted(text: str, quoted: str) -> None:
    message = _error(text)
    assert f"“{quoted}”" in message
    assert "answer:needs.want_training=yes" in message


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("registered=maybe", ["maybe", "yes", "no"]),
        ("overdue=yes,no", ["yes,no"]),
        ("flag=tall", ["tall", "ethnic_minority", "group3", "newly_escaped", "telecom"]),
        ("channel=fax", ["fax", "telegram", "zalo", "sms", "console"]),
        ("followup=party", ["party", "escape_poverty", "needs_help"]),
        ("loan=gold", ["gold", "any", *vocab.LOAN_PROGRAMMES]),
    ],
)
def test_an_unknown_value_lists_the_valid_ones(text: str, mentions: list[str]) -> None:
    message = _error(text)
    assert all(word in message for word in mentions), message


def test_a_key_twice_and_all_with_others_are_refused() -> None:
    assert "category" in _error("category=poor category=near_poor")
    assert "needs.want_training" in _error(
        "answer:needs.want_training=yes answer:needs.want_training=no"
    )
    assert "“all”" in _error("all commune=28756")


def test_vocabularies_are_read_when_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(vocab.FOLLOWUP_KINDS, "new_kind", "New kind")
    monkeypatch.setitem(vocab.LOAN_PROGRAMMES, "new_programme", "New programme")
    assert parse("followup=new_kind loan=new_programme").followups == ("new_kind",)


def test_the_canonical_text_is_stable_and_reads_back() -> None:
    given = (
        "Answer:needs.production=Livestock,crops flag=Ethnic_Minority "
        "CATEGORY=near_poor,poor,poor commune=28759,28756 consent=YES channel=sms,zalo all_x=1"
    )
    assert "all_x" in _error(given)
    audience = parse(given.removesuffix(" all_x=1"))
    text = str(audience)
    assert text == (
        "commune=28756,28759 category=poor,near_poor flag=ethnic_minority channel=zalo,sms "
        "consent=yes answer:needs.production=crops,livestock"
    )
    assert parse(text) == audience
    assert str(parse(EXAMPLE)) == EXAMPLE
    assert str(parse(" ALL ")) == "all"
    assert parse("all") == Audience(everyone=True)


def test_the_newly_escaped_window_agrees_with_benefits_until() -> None:
    start = date(2027, 2, 20)
    for today in (start + timedelta(days=n) for n in range(420)):
        cutoff = audiences.window_closed_through(today)
        for recognized in (cutoff - timedelta(days=d) for d in range(-3, 4)):
            until = vocab.benefits_until("escaped", recognized)
            assert until is not None
            assert (recognized > cutoff) == (until > today), (today, recognized)


# --- against a store --------------------------------------------------------------------------


@cache
def _needs_form() -> Form:
    return xlsform.load_form(NEEDS)


def _household(
    code: str, commune: str, village: int | None, category: str, **more: Any
) -> Household:
    return Household(
        code=code,
        head_name=code,
        name_key=code.lower(),
        commune_code=commune,
        village_id=village,
        category=category,
        created_at=NOW,
        updated_at=NOW,
        **more,
    )


def _contact(household: Household, kind: str, address: str, **more: Any) -> Contact:
    return Contact(household_id=household.id, kind=kind, address=address, created_at=NOW, **more)


def _followup(household: Household, kind: str, status: str) -> FollowUp:
    return FollowUp(
        household_id=household.id,
        kind=kind,
        priority="normal",
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


async def _places(session: AsyncSession) -> list[Village]:
    session.add_all([Province(code="80", name="Tây Ninh"), Province(code="83", name="Vĩnh Long")])
    await session.flush()
    session.add_all(
        [
            Commune(code="28756", name="Xã A", name_key="xa a", province_code="80"),
            Commune(code="28759", name="Xã B", name_key="xa b", province_code="80"),
            Commune(code="29002", name="Xã C", name_key="xa c", province_code="83"),
        ]
    )
    await session.flush()
    villages = [
        Village(code=code, commune_code=code[:5], name=code, name_key=code)
        for code in ("28756-001", "28756-002", "28759-001")
    ]
    session.add_all(villages)
    await session.flush()
    return villages


async def _households(session: AsyncSession, villages: list[Village]) -> dict[str, Household]:
    v1, v2, v3 = (v.id for v in villages)
    rows = {
        "H1": _household("H1", "28756", v1, "poor", ethnic_minority=True, group_no=1),
        "H2": _household("H2", "28756", v2, "near_poor", woman_head=True, group_no=2),
        "H3": _household("H3", "28759", v3, "escaped", recognized_on=date(2024, 6, 1), group_no=3),
        "H4": _household("H4", "28759", None, "escaped", recognized_on=date(2023, 6, 1)),
        "H5": _household("H5", "29002", None, "other", ethnic_minority=True),
    }
    session.add_all(rows.values())
    await session.flush()
    return rows


async def _contacts(session: AsyncSession, h: dict[str, Household]) -> dict[str, Contact]:
    contacts = {
        "H1": _contact(h["H1"], "phone", "+84912000001", basis="register"),
        "H1z": _contact(h["H1"], "zalo", "z1"),
        "H2": _contact(h["H2"], "telegram", "5550002", basis="consent"),
        "H3z": _contact(h["H3"], "zalo", "z3", opted_out_at=NOW),
        "H3": _contact(h["H3"], "phone", "+84912000003", shared=True),
        "H4": _contact(h["H4"], "phone", "+84912000004"),
        "H5": _contact(h["H5"], "phone", "+84912000005", basis="consent", opted_out_at=NOW),
    }
    session.add_all(contacts.values())
    await session.flush()
    session.add(
        Unreachable(contact_id=contacts["H4"].id, channel="sms", reason="not_delivered", since=NOW)
    )
    return contacts


async def _register(session: AsyncSession, h: dict[str, Household]) -> None:
    deprived = [("H1", "telecom"), ("H1", "water"), ("H2", "housing_quality")]
    session.add_all(HouseholdDeprivation(household_id=h[c].id, indicator=i) for c, i in deprived)
    followups = [
        ("H1", "escape_poverty", "open"),
        ("H2", "escape_poverty", "dismissed"),
        ("H2", "training", "assigned"),
        ("H3", "loan", "open"),
        ("H4", "needs_help", "done"),
    ]
    session.add_all(_followup(h[code], kind, status) for code, kind, status in followups)


async def _loans(session: AsyncSession, h: dict[str, Household]) -> None:
    loans = {
        "H1": Loan(household_id=h["H1"].id, programme="ho_ngheo", amount=30_000_000),
        "H2": Loan(household_id=h["H2"].id, programme="giai_quyet_viec_lam", amount=20_000_000),
        "H3": Loan(household_id=h["H3"].id, programme="ho_ngheo", amount=10_000_000),
    }
    for loan in loans.values():
        loan.disbursed_on, loan.source_name, loan.created_at, loan.updated_at = (
            date(2025, 1, 10),
            "vbsp.xlsx",
            NOW,
            NOW,
        )
    session.add_all(loans.values())
    await session.flush()
    due = [  # (loan, due on, paid on)
        ("H1", date(2026, 9, 15), date(2026, 9, 15)),
        ("H1", date(2026, 10, 15), None),  # overdue on 21/11/2026
        ("H2", date(2026, 10, 15), date(2026, 10, 14)),
        ("H3", date(2026, 12, 15), None),  # unpaid, not yet due
    ]
    session.add_all(
        Instalment(
            loan_id=loans[code].id,
            due_on=due_on,
            principal=1_000_000,
            interest=100_000,
            paid_on=paid_on,
            created_at=NOW,
            updated_at=NOW,
        )
        for code, due_on, paid_on in due
    )


async def _answers(session: AsyncSession, h: dict[str, Household], c: dict[str, Contact]) -> None:
    await xlsform.save_form(
        session, _needs_form(), source_name="needs.csv", actor=Actor("cli:test", "test"), now=NOW
    )
    version = await latest_version(session, form_id="needs")
    assert version is not None
    survey_round = SurveyRound(survey_id=version.survey_id, title="Nhu cầu", opened_at=NOW)
    session.add(survey_round)
    await session.flush()
    given = {
        "H1": [("want_training", "yes", "answered"), ("production", "crops livestock", "answered")],
        "H2": [("want_training", "no", "answered"), ("production", "market", "answered")],
        "H3": [("production", "livestock business", "answered")],
        "H4": [("want_training", None, "unanswered")],
    }
    for code, answers in given.items():
        conversation = Conversation(
            round_id=survey_round.id,
            version_id=version.id,
            household_id=h[code].id,
            contact_id=c[code].id,
            channel="console",
            status="completed",
            position=0,
            trail=[],
            answers={},
            started_at=NOW,
            updated_at=NOW,
        )
        session.add(conversation)
        await session.flush()
        session.add_all(
            Answer(
                conversation_id=conversation.id,
                household_id=h[code].id,
                contact_id=c[code].id,
                question=question,
                value=value,
                raw=value,
                status=status,
                answered_at=NOW,
            )
            for question, value, status in answers
        )


@pytest.fixture
async def store(sessions: Sessions) -> dict[str, int]:
    """Five households in three communes of two provinces; returns code -> id."""
    async with sessions() as session, session.begin():
        villages = await _places(session)
        households = await _households(session, villages)
        contacts = await _contacts(session, households)
        await _register(session, households)
        await _loans(session, households)
        await _answers(session, households, contacts)
    return {code: household.id for code, household in households.items()}


CASES = [
    ("all", "H1 H2 H3 H4 H5"),
    ("province=80", "H1 H2 H3 H4"),
    ("province=83", "H5"),
    ("province=80,83", "H1 H2 H3 H4 H5"),
    ("commune=28756", "H1 H2"),
    ("commune=28756,29002", "H1 H2 H5"),
    ("village=28756-001", "H1"),
    ("village=28756-001,28759-001", "H1 H3"),
    ("category=poor", "H1"),
    ("category=poor,near_poor", "H1 H2"),
    ("CATEGORY=Near_Poor", "H2"),
    ("flag=ethnic_minority", "H1 H5"),
    ("flag=woman_head", "H2"),
    ("flag=group1", "H1"),
    ("flag=group2,group3", "H2 H3"),
    ("flag=newly_escaped", "H3"),  # H4's 36 months ended on 01/06/2026
    ("flag=telecom", "H1"),
    ("flag=water,housing_quality", "H1 H2"),
    ("flag=woman_head,telecom", "H1 H2"),
    ("registered=yes", "H1"),
    ("registered=no", "H2 H3 H4 H5"),  # H2's registration was dismissed
    ("followup=training", "H2"),
    ("followup=loan,training", "H2 H3"),
    ("followup=needs_help", ""),  # done
    ("answer:needs.want_training=yes", "H1"),
    ("answer:needs.want_training=yes,no", "H1 H2"),  # H4's is unanswered
    ("answer:needs.production=livestock", "H1 H3"),  # select_multiple: contains
    ("answer:needs.production=market,business", "H2 H3"),
    ("loan=ho_ngheo", "H1 H3"),
    ("loan=any", "H1 H3"),  # H2 has paid everything
    ("loan=giai_quyet_viec_lam", ""),
    ("overdue=yes", "H1"),
    ("overdue=no", "H2 H3 H4 H5"),
    ("channel=sms", "H1"),  # H3 shared, H4 unreachable by SMS, H5 opted out
    ("channel=console", "H1 H4"),
    ("channel=telegram", "H2"),
    ("channel=zalo", "H1"),  # H3's Zalo opted out
    ("channel=zalo,telegram", "H1 H2"),
    ("consent=yes", "H2 H5"),
    ("consent=no", "H1 H3 H4"),
    ("commune=28756 flag=ethnic_minority", "H1"),
    ("category=poor,near_poor channel=telegram", "H2"),
    ("province=80 registered=no overdue=no", "H2 H3 H4"),
    ("answer:needs.want_training=yes,no answer:needs.production=market", "H2"),
    ("flag=ethnic_minority consent=yes", "H5"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_the_audience_picks_these_households(
    sessions: Sessions, store: dict[str, int], text: str, expected: str
) -> None:
    async with sessions() as session:
        audience = await audiences.resolve(session, text)
        ids = set(await session.scalars(audiences.household_ids(audience, today=TODAY)))
        total = await audiences.count(session, audience, today=TODAY)
    names = {code for code, id_ in store.items() if id_ in ids}
    assert names == set(expected.split())
    assert total == len(names)


async def test_count_and_communes(sessions: Sessions, store: dict[str, int]) -> None:
    async with sessions() as session:
        everyone = parse("all")
        assert await audiences.count(session, everyone, today=TODAY) == 5
        assert await audiences.communes(session, everyone, today=TODAY) == [
            "28756",
            "28759",
            "29002",
        ]
        minority = parse("flag=ethnic_minority")
        assert await audiences.communes(session, minority, today=TODAY) == ["28756", "29002"]
        assert await audiences.count(session, parse("province=80"), today=TODAY) == 4
        assert (
            await audiences.communes(session, parse("loan=giai_quyet_viec_lam"), today=TODAY) == []
        )


async def test_stream_ids_in_batches(sessions: Sessions, store: dict[str, int]) -> None:
    async with sessions() as session:
        stream = audiences.stream_ids(session, parse("all"), today=TODAY, batch=2)
        batches = [batch async for batch in stream]
        assert [len(b) for b in batches] == [2, 2, 1]
        assert [i for b in batches for i in b] == sorted(store.values())
        exact = audiences.stream_ids(session, parse("province=80"), today=TODAY, batch=2)
        assert [len(b) async for b in exact] == [2, 2]


async def test_stream_ids_while_the_caller_writes(
    sessions: Sessions, store: dict[str, int]
) -> None:
    seen: list[int] = []
    async with sessions() as session:
        audience = parse("followup=loan,training,visit")
        async for batch in audiences.stream_ids(session, audience, today=TODAY, batch=1):
            seen += batch
            household = await session.get(Household, batch[0])
            assert household is not None
            session.add(_followup(household, "visit", "open"))  # still in the audience
            await session.flush()
    assert seen == sorted([store["H2"], store["H3"]])


@pytest.mark.parametrize(
    ("text", "mentions", "absent"),
    [
        ("province=80,99,98", ["98", "99"], ["80"]),
        ("commune=28756,99999,88888", ["88888", "99999"], ["28756"]),
        ("village=28756-001,28756-009", ["28756-009"], ["28756-001"]),
        ("answer:nope.want_training=yes", ["nope", "needs"], []),
        ("answer:needs.nope=yes", ["nope", "want_training", "production", "wish_text"], ["intro"]),
        ("answer:needs.need_count=1", ["need_count"], []),  # calculated, never `answered`
        ("answer:needs.want_training=maybe", ["maybe", "yes, no"], []),
        ("answer:needs.production=crops,fishing", ["fishing", "livestock", "none"], []),
    ],
)
async def test_check_against_the_store(
    sessions: Sessions, store: dict[str, int], text: str, mentions: list[str], absent: list[str]
) -> None:
    async with sessions() as session:
        with pytest.raises(AudienceError) as caught:
            await audiences.resolve(session, text)
    message = str(caught.value)
    assert all(word in message for word in mentions), message
    assert not any(f" {word}" in message for word in absent), message


async def test_a_text_question_takes_any_value_and_no_survey_is_named(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(AudienceError) as caught:
            await audiences.resolve(session, "answer:needs.want_training=yes")
    assert "needs" in str(caught.value)
    async with sessions() as session, session.begin():
        await xlsform.save_form(
            session, _needs_form(), source_name="needs.csv", actor=Actor("cli:test", "t"), now=NOW
        )
    async with sessions() as session:
        audience = await audiences.resolve(session, "answer:needs.wish_text=nhà")
        assert await audiences.count(session, audience, today=TODAY) == 0
