"""Survey pages: the list, uploading a form, starting a round, results in the user's areas."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import common
from bot.clock import FixedClock
from storage.db import create_engine, session_factory
from storage.models import (
    AuditEntry,
    Contact,
    Conversation,
    Household,
    Survey,
    SurveyRound,
    Village,
)
from tests.conftest import NOW, loa
from tests.web.conftest import Communes, csrf_of

T = TypeVar("T")
SURVEYS = Path(__file__).resolve().parents[2] / "messages" / "vi" / "surveys"
# Replies to the training survey, played on a household's phone with `loa chat`.
YES_MINE = ["1", "2", "Nguyen Van An 1990", "3", "1 2", "5", "1", "1", "1", "2"]
YES_OTHER = ["1", "1", "Tran Thi Binh 1995", "1", "3", "5", "1", "1", "1", "1"]
NO_BUSY = ["2", "1"]
NO_FIT = ["2", "2"]


@dataclass(frozen=True)
class Surveyed:
    """The training survey asked of every household, five of them answering."""

    survey_id: int
    round_id: int
    mine: str
    other: str


def run(read: Callable[[AsyncSession], Awaitable[T]], url: str) -> T:
    """Run READ in a session of the test store (before the app starts, or beside it)."""

    async def go() -> T:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return await read(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def phones(url: str, commune: str) -> list[str]:
    """Phones of households of COMMUNE in the middle of a conversation, by household id."""

    async def read(session: AsyncSession) -> list[str]:
        rows = await session.scalars(
            select(Contact.address)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .join(Household, Household.id == Conversation.household_id)
            .where(Household.commune_code == commune, Conversation.status == "active")
            .order_by(Household.id)
        )
        return list(rows)

    return run(read, url)


def answer(phone: str, replies: list[str]) -> str:
    code, output = loa("chat", "--phone", phone, stdin="\n".join(replies) + "\n")
    assert code == 0, output
    return output


def survey_training(url: str, communes: Communes, monkeypatch: pytest.MonkeyPatch) -> Surveyed:
    """Load the training survey, ask everyone through the CLI, and have three households of
    the first commune and two of the other answer."""
    monkeypatch.setattr(common, "clock", FixedClock(NOW))
    code, output = loa("survey", "import", str(SURVEYS / "training.csv"))
    assert code == 0, output
    args = ["--audience", "all", "--deadline", "2026-12-05T17:00", "--yes"]
    code, output = loa("survey", "start", "training", *args)
    assert code == 0, output
    mine, other = phones(url, communes.mine), phones(url, communes.other)
    answer(mine[0], YES_MINE)
    answer(mine[1], NO_BUSY)
    answer(mine[2], NO_FIT)
    assert "Cảm ơn" in answer(other[0], YES_OTHER)
    answer(other[1], NO_BUSY)

    async def ids(session: AsyncSession) -> tuple[int, int]:
        survey = await session.scalar(select(Survey.id))
        one = await session.scalar(select(SurveyRound.id))
        assert survey is not None
        assert one is not None
        return survey, one

    survey_id, round_id = run(ids, url)
    return Surveyed(survey_id, round_id, communes.mine, communes.other)


@pytest.fixture
def surveyed(staff: Communes, settings_env: str, monkeypatch: pytest.MonkeyPatch) -> Surveyed:
    return survey_training(settings_env, staff, monkeypatch)


def section(html: str, question: str) -> str:
    """The results card of one question."""
    found = re.search(
        rf'<section class="card question" id="q-{question}">(.*?)</section>', html, re.S
    )
    assert found, f"no card for {question}"
    return found.group(1)


def count_in(url: str, query: Select[int]) -> int:
    async def read(session: AsyncSession) -> int:
        return int(await session.scalar(query) or 0)

    return run(read, url)


# --- the list and a survey's page -------------------------------------------------------------


def test_the_list_and_a_survey_page_count_households_of_the_users_areas(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient], settings_env: str
) -> None:
    asked_mine = count_in(
        settings_env,
        select(func.count())
        .select_from(Conversation)
        .join(Household, Household.id == Conversation.household_id)
        .where(Household.commune_code == surveyed.mine),
    )
    page = signed_in("assistant").get("/surveys")
    assert page.status_code == 200
    assert "Nhu cầu học nghề" in page.text
    assert f'href="/surveys/{surveyed.survey_id}"' in page.text
    assert f"{asked_mine} hộ đã hỏi, 3 hộ đã trả lời" in page.text  # in the commune
    assert 'action="/surveys/upload"' in page.text  # an assistant composes
    admin = signed_in("admin").get("/surveys")
    assert "182 hộ đã hỏi, 5 hộ đã trả lời" in admin.text
    client = signed_in("officer")
    listed = client.get("/surveys")
    assert listed.status_code == 200
    assert 'action="/surveys/upload"' not in listed.text  # an officer does not compose
    page = client.get(f"/surveys/{surveyed.survey_id}")
    assert page.status_code == 200
    assert "Trong hộ có ai muốn học nghề không?" in page.text
    assert "2026112101" in page.text
    assert "training.csv" in page.text
    assert f"/surveys/{surveyed.survey_id}/results?round={surveyed.round_id}" in page.text
    assert "/rounds/new" not in page.text  # an officer does not start rounds
    assert client.get("/surveys/999999").status_code == 404
    assert client.get("/surveys/abc").status_code == 400


# --- results ---------------------------------------------------------------------------------


def test_results_count_only_the_users_commune_by_village_and_category(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient], settings_env: str
) -> None:
    url = f"/surveys/{surveyed.survey_id}/results"
    assistant, admin = signed_in("assistant"), signed_in("admin")
    mine = assistant.get(url)
    assert mine.status_code == 200
    want = section(mine.text, "want_training")
    assert "1 (33%)" in want
    assert "2 (67%)" in want
    assert "Nguyen Van An 1990" in mine.text
    assert "Tran Thi Binh 1995" not in mine.text
    assert "<svg" in want  # a chart
    everyone = admin.get(url)
    want = section(everyone.text, "want_training")
    assert "2 (40%)" in want
    assert "3 (60%)" in want
    assert "Nguyen Van An 1990" in everyone.text
    assert "Tran Thi Binh 1995" in everyone.text
    # select_multiple: each chosen time counts once
    times = section(everyone.text, "free_time")
    assert "Buổi sáng" in times
    assert "Buổi tối" in times
    finished = count_in(
        settings_env,
        select(func.count(func.distinct(Village.name)))
        .join(Household, Household.village_id == Village.id)
        .join(Conversation, Conversation.household_id == Household.id)
        .where(Conversation.status == "completed", Household.commune_code == surveyed.mine),
    )
    villages, categories = section(mine.text, "want_training").split("<details>")[1:]
    assert "Theo thôn" in villages  # one commune: a line per village
    assert villages.count('<th scope="row">') == finished
    assert '<th scope="row">Nghèo</th>' in categories
    by_commune = section(everyone.text, "want_training")
    assert "Theo xã" in by_commune  # several communes: a line per commune
    one = section(admin.get(f"{url}?commune={surveyed.other}").text, "want_training")
    assert "1 (50%)" in one
    assert "Theo thôn" in one


def test_filters_and_exports_outside_the_users_areas_answer_404(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    url = f"/surveys/{surveyed.survey_id}/results"
    assert client.get(f"{url}?commune={surveyed.other}").status_code == 404
    assert client.get(f"{url}?commune={surveyed.mine}").status_code == 200
    assert client.get(f"{url}?commune=nowhere").status_code == 404
    assert client.get(f"{url}?round=999").status_code == 404
    assert client.get(f"{url}?round=x").status_code == 404
    assert client.get(f"{url}?round={surveyed.round_id}").status_code == 200
    assert client.get(f"{url}?round=&commune=").status_code == 200
    outsider = signed_in("outsider").get(url)
    assert "2 (100%)" not in section(outsider.text, "want_training")
    assert "1 (50%)" in section(outsider.text, "want_training")
    officer = signed_in("officer")
    response = officer.get(f"{url}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "training-results.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows
    assert {r["commune_code"] for r in rows} == {surveyed.mine}
    assert sum(r["status"] == "completed" for r in rows) == 3
    assert "Nguyen Van An 1990" in {r["learner_name"] for r in rows}
    book = load_workbook(io.BytesIO(officer.get(f"{url}.xlsx").content), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0][0] == "household_code"
    assert len(sheet) == len(rows) + 1
    admin = signed_in("admin").get(f"{url}.csv?commune={surveyed.other}")
    other = list(csv.DictReader(io.StringIO(admin.content.decode("utf-8-sig"))))
    assert {r["commune_code"] for r in other} == {surveyed.other}
    assert officer.get(f"{url}.csv?commune={surveyed.other}").status_code == 404
    assert officer.get(f"{url}.pdf").status_code == 404


# --- uploading a form ------------------------------------------------------------------------


def upload(client: TestClient, name: str, content: bytes, *, csrf: str | None = None) -> Response:
    token = csrf if csrf is not None else csrf_of(client.get("/surveys").text)
    response: Response = client.post(
        "/surveys/upload",
        data={"csrf": token},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )
    return response


def surveys_stored(url: str) -> int:
    return count_in(url, select(func.count()).select_from(Survey))


def test_a_form_with_mistakes_is_listed_by_sheet_row_and_column_and_not_stored(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient], settings_env: str
) -> None:
    text = (SURVEYS / "needs.csv").read_text(encoding="utf-8")
    broken = text.replace("select_one loan_purpose", "select_one nowhere").replace(
        ",integer,loan_amount,", ",integr,loan_amount,"
    )
    client = signed_in("assistant")
    response = upload(client, "needs.csv", broken.encode())
    assert response.status_code == 400
    html = response.text
    assert 'id="problems"' in html
    assert "<td>survey</td>" in html
    assert "<td>type</td>" in html
    assert re.search(r'<td class="num">\d+</td>', html)
    assert surveys_stored(settings_env) == 1
    refused = upload(client, "notes.txt", b"hello")
    assert refused.status_code == 400
    assert "field-error" in refused.text
    binary = upload(client, "needs.csv", b"\x00\x01\x02")
    assert binary.status_code == 400
    assert surveys_stored(settings_env) == 1
    content = (SURVEYS / "needs.csv").read_bytes()
    officer = signed_in("officer")
    assert upload(officer, "needs.csv", content).status_code == 403
    assistant = signed_in("assistant")
    forged = upload(assistant, "needs.csv", content, csrf="forged")
    assert forged.status_code == 403


def test_a_good_form_is_loaded_and_the_survey_page_says_so(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient], settings_env: str
) -> None:
    client = signed_in("assistant")
    content = (SURVEYS / "needs.csv").read_bytes()
    response = upload(client, "needs.csv", content)
    assert response.status_code == 303
    target = response.headers["location"]
    assert re.fullmatch(r"/surveys/\d+\?done=created", target)
    page = client.get(target)
    assert "flash" in page.text
    assert "needs" in page.text
    assert surveys_stored(settings_env) == 2
    again = upload(client, "needs.csv", content)
    assert again.headers["location"].endswith("done=unchanged")
    audited = count_in(
        settings_env,
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity == "survey_versions", AuditEntry.actor == "assistant"),
    )
    assert audited == 1


# --- starting a round ------------------------------------------------------------------------


def load_needs(client: TestClient) -> int:
    """The needs survey, uploaded through the console; its id."""
    response = upload(client, "needs.csv", (SURVEYS / "needs.csv").read_bytes())
    found = re.fullmatch(r"/surveys/(\d+)\?done=created", response.headers["location"])
    assert found
    return int(found.group(1))


def post_round(client: TestClient, survey_id: int, **fields: str) -> Response:
    form = client.get(f"/surveys/{survey_id}/rounds/new")
    assert form.status_code == 200
    data = {"title": "", "audience": "", "deadline": "2026-12-01T17:00", "reminders": "2"}
    response: Response = client.post(
        f"/surveys/{survey_id}/rounds",
        data={**data, **fields, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    return response


def test_the_round_form_checks_every_field_beside_it(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    needs = load_needs(client)
    form = client.get(f"/surveys/{needs}/rounds/new").text
    assert f'value="commune={surveyed.mine}"' in form
    assert 'type="datetime-local"' in form
    cases = {
        "audience": {"audience": f"commune={surveyed.other}"},
        "deadline": {"audience": "all", "deadline": "2026-11-20T17:00"},
        "reminders": {"audience": "all", "reminders": "5"},
    }
    for field, data in cases.items():
        response = post_round(client, needs, **data)
        assert response.status_code == 400, field
        assert f'id="{field}-error"' in response.text, field
    typo = post_round(client, needs, audience="catgory=poor")
    assert 'id="audience-error"' in typo.text
    assert "catgory" in typo.text
    garbage = post_round(client, needs, audience="all", deadline="tomorrow")
    assert 'id="deadline-error"' in garbage.text
    assert signed_in("officer").get(f"/surveys/{needs}/rounds/new").status_code == 403
    client = signed_in("admin")
    preview = post_round(client, needs, audience="all")
    assert preview.status_code == 200
    assert "<strong>Sẽ hỏi 200 hộ.</strong>" in preview.text


def test_a_round_is_counted_first_then_opened_inside_the_assistants_communes(
    surveyed: Surveyed, signed_in: Callable[[str], TestClient], settings_env: str
) -> None:
    client = signed_in("assistant")
    needs = load_needs(client)
    poor_mine = count_in(
        settings_env,
        select(func.count())
        .select_from(Household)
        .where(Household.commune_code == surveyed.mine, Household.category == "poor"),
    )
    preview = post_round(client, needs, audience="category=poor", title="Nhu cầu 2027")
    assert preview.status_code == 200
    assert 'id="preview"' in preview.text
    assert f"<strong>Sẽ hỏi {poor_mine} hộ.</strong>" in preview.text
    assert f"commune={surveyed.mine} category=poor" in preview.text
    rounds_of_needs = select(func.count()).where(SurveyRound.survey_id == needs)
    assert count_in(settings_env, rounds_of_needs) == 0  # a preview stores nothing
    opened = post_round(client, needs, audience="category=poor", title="Nhu cầu 2027", confirm="1")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/surveys/{needs}?done=round"
    assert count_in(settings_env, rounds_of_needs) == 1
    stored = count_in(
        settings_env,
        select(func.count()).where(
            SurveyRound.survey_id == needs,
            SurveyRound.audience == f"commune={surveyed.mine} category=poor",
            SurveyRound.created_by == "assistant",
            SurveyRound.title == "Nhu cầu 2027",
        ),
    )
    assert stored == 1
    elsewhere = count_in(
        settings_env,
        select(func.count())
        .select_from(Conversation)
        .join(SurveyRound, SurveyRound.id == Conversation.round_id)
        .join(Household, Household.id == Conversation.household_id)
        .where(SurveyRound.survey_id == needs, Household.commune_code != surveyed.mine),
    )
    assert elsewhere == 0
    audited = count_in(
        settings_env,
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity == "survey_rounds", AuditEntry.actor == "assistant"),
    )
    assert audited == 1
    page = client.get(opened.headers["location"])
    assert "Nhu cầu 2027" in page.text
    assert 'class="flash' in page.text
    again = post_round(client, needs, audience="category=poor", confirm="1")
    assert again.status_code == 400
    assert 'class="flash error"' in again.text
