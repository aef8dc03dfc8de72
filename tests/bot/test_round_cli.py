"""`loa survey start FORM --audience ... --deadline ...`: a preview, then a round with --yes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from bot.cli import common
from bot.clock import FixedClock
from storage.db import create_engine
from storage.models import Contact, Conversation, Message, Relay, SurveyRound
from storage.models.households import CONTACT_PHONE
from tests.conftest import NOW, loa

BUILT_IN = sorted(str(p) for p in Path("messages/vi/surveys").glob("*.csv"))
DEADLINE = "2026-11-28T17:00"  # local time: 10:00 UTC


def rows(url: str, query: Select[Any]) -> list[Any]:
    """The rows of a query on the test store."""

    async def read() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(query)).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def scalar(url: str, query: Select[Any]) -> Any:
    """One value from the test store."""
    return rows(url, query)[0][0]


def counts(url: str) -> tuple[int, int, int]:
    """Rounds, conversations and relay lines in the store."""
    return (
        scalar(url, select(func.count()).select_from(SurveyRound)),
        scalar(url, select(func.count()).select_from(Conversation)),
        scalar(url, select(func.count()).select_from(Relay)),
    )


@pytest.fixture
def at_now(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo register with the built-in surveys, the CLI's clock at 10:00 21/11/2026."""
    assert loa("survey", "import", *BUILT_IN)[0] == 0
    monkeypatch.setattr(common, "clock", FixedClock(NOW))


def test_preview_stores_nothing_and_yes_opens_the_round(at_now: None, settings_env: str) -> None:
    args = ("survey", "start", "training", "--audience", "all", "--deadline", DEADLINE)
    code, output = loa(*args, "--title", "Học nghề 2027")
    assert code == 0, output
    assert "200" in output
    assert "Học nghề 2027" in output
    assert "17:00 28/11/2026" in output
    assert counts(settings_env) == (0, 0, 0)
    assert scalar(settings_env, select(func.count()).select_from(Message)) == 0

    code, output = loa(*args, "--title", "Học nghề 2027", "--reminders", "1", "--yes")
    assert code == 0, output
    with_phone = scalar(
        settings_env,
        select(func.count(func.distinct(Contact.household_id))).where(
            Contact.kind == CONTACT_PHONE, Contact.shared.is_(False)
        ),
    )
    rounds, conversations, relayed = counts(settings_env)
    assert rounds == 1
    assert conversations == with_phone  # each on the console, the demo's one channel
    assert conversations + relayed == 200
    assert str(conversations) in output
    (row,) = rows(
        settings_env,
        select(
            SurveyRound.audience,
            SurveyRound.deadline,
            SurveyRound.max_reminders,
            SurveyRound.created_by,
            SurveyRound.title,
        ),
    )
    assert row.audience == "all"
    assert row.deadline.replace(tzinfo=UTC) == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert (row.max_reminders, row.title) == (1, "Học nghề 2027")
    assert row.created_by.startswith("cli:")

    code, output = loa(*args, "--yes")  # a second round while this one is open
    assert code == 1
    assert counts(settings_env)[0] == 1


@pytest.mark.parametrize(
    "args",
    [
        ("training",),  # neither --household nor --audience
        ("training", "--household", "X", "--audience", "all", "--deadline", DEADLINE),
        ("nope", "--audience", "all", "--deadline", DEADLINE),
        ("training", "--audience", "all", "--deadline", "2026-11-20T10:00"),  # past
        ("training", "--audience", "all", "--deadline", "ngày mai"),
        ("training", "--audience", "all"),  # no deadline
        ("training", "--audience", "followup=no_answer", "--deadline", DEADLINE),  # nobody
        ("training", "--audience", "commune=99999", "--deadline", DEADLINE),
        ("training", "--audience", "all", "--deadline", DEADLINE, "--reminders", "3"),
    ],
)
def test_a_wrong_start_is_one_sentence_and_stores_nothing(
    at_now: None, settings_env: str, args: tuple[str, ...]
) -> None:
    code, output = loa("survey", "start", *args, "--yes")
    assert code == 1, output
    assert output.strip()
    assert "Traceback" not in output
    assert counts(settings_env) == (0, 0, 0)


def test_one_household_still_starts_at_once(at_now: None, settings_env: str) -> None:
    households = loa("households", "list", "--format", "csv")[1].splitlines()[1:]
    first = next(line.split(",")[0] for line in households if line.split(",")[5])
    status, output = loa("survey", "start", "training", "--household", first)
    assert status == 0, output
    assert "Trong hộ có ai muốn học nghề không?" in output
    status, output = loa("survey", "start", "training", "--household", first, "--yes")
    assert status == 1
