"""API: surveys, one survey, and results counted in the token user's areas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import loa
from tests.web.conftest import Communes
from tests.web.test_surveys import SURVEYS, Surveyed, survey_training


@pytest.fixture
def surveyed(staff: Communes, settings_env: str, monkeypatch: pytest.MonkeyPatch) -> Surveyed:
    return survey_training(settings_env, staff, monkeypatch)


def choices(results: dict[str, Any], question: str) -> dict[str, int]:
    found = next(q for q in results["questions"] if q["name"] == question)
    return {c["name"]: c["count"] for c in found["choices"]}


def test_surveys_are_listed_by_page_and_carry_their_questions(
    surveyed: Surveyed, api: Callable[[str], TestClient]
) -> None:
    assert loa("survey", "import", str(SURVEYS / "needs.csv"))[0] == 0
    client = api("assistant")
    body = client.get("/api/v1/surveys").json()
    assert body["total"] == 2
    assert [s["form_id"] for s in body["items"]] == ["needs", "training"]
    training = body["items"][1]
    assert training["id"] == surveyed.survey_id
    assert training["version"] == "2026112101"
    [one] = training["rounds"]
    assert one["id"] == surveyed.round_id
    assert one["status"] == "open"
    assert one["answered"] == 3  # in the assistant's commune
    admin = api("admin").get("/api/v1/surveys?page=2&per_page=1").json()
    assert admin["total"] == 2
    assert [s["form_id"] for s in admin["items"]] == ["training"]
    assert admin["items"][0]["rounds"][0]["answered"] == 5
    assert admin["items"][0]["rounds"][0]["asked"] == 182
    client = api("officer")
    body = client.get(f"/api/v1/surveys/{surveyed.survey_id}").json()
    assert body["form_id"] == "training"
    want = next(q for q in body["questions"] if q["name"] == "want_training")
    assert want["type"] == "select_one"
    assert [c["name"] for c in want["choices"]] == ["yes", "no"]
    missing = client.get("/api/v1/surveys/999999")
    assert missing.status_code == 404
    assert "detail" in missing.json()
    assert client.get("/api/v1/surveys/0").status_code == 422


def test_results_count_the_assistants_commune_and_the_admins_both(
    surveyed: Surveyed, api: Callable[[str], TestClient]
) -> None:
    url = f"/api/v1/surveys/{surveyed.survey_id}/results"
    mine = api("assistant").get(url).json()
    assert mine["completed"] == 3
    assert choices(mine, "want_training") == {"yes": 1, "no": 2}
    assert choices(mine, "no_reason")["busy"] == 1
    learner = next(q for q in mine["questions"] if q["name"] == "learner_name")
    assert learner["answered"] == 1
    assert learner["choices"] == []
    everyone = api("admin").get(url).json()
    assert everyone["completed"] == 5
    assert choices(everyone, "want_training") == {"yes": 2, "no": 3}
    assert choices(everyone, "free_time") == {
        "morning": 1,
        "afternoon": 1,
        "evening": 1,
        "weekend": 0,
    }
    share = next(q for q in everyone["questions"] if q["name"] == "want_training")
    assert [c["percent"] for c in share["choices"]] == [40.0, 60.0]
    other = api("admin").get(f"{url}?commune={surveyed.other}&round={surveyed.round_id}").json()
    assert other["commune"] == surveyed.other
    assert choices(other, "want_training") == {"yes": 1, "no": 1}


def test_results_outside_the_users_areas_answer_404(
    surveyed: Surveyed, api: Callable[[str], TestClient], browser: Callable[..., TestClient]
) -> None:
    url = f"/api/v1/surveys/{surveyed.survey_id}/results"
    client = api("assistant")
    assert client.get(f"{url}?commune={surveyed.other}").status_code == 404
    assert client.get(f"{url}?round=999").status_code == 404
    assert client.get("/api/v1/surveys/999999/results").status_code == 404
    assert browser().get(url).status_code == 401
