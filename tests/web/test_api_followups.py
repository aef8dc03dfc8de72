"""The follow-up API: the queue of the token's areas, one item, working it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Communes
from tests.web.seed_followups import Seeded, seed


@pytest.fixture
def seeded(staff: Communes, settings_env: str) -> Seeded:
    return seed(settings_env, staff.mine, staff.other)


def test_the_list_is_paginated_filtered_and_limited_to_the_tokens_areas(
    seeded: Seeded, staff: Communes, api: Callable[[str], TestClient]
) -> None:
    client = api("officer")
    body = client.get("/api/v1/followups").json()
    assert body["total"] == 2
    assert [x["id"] for x in body["items"]] == [seeded.loan, seeded.visit]
    assert body["items"][0]["kind_label"] == "Muốn vay vốn"
    every = client.get("/api/v1/followups", params={"status": "all", "per_page": 1}).json()
    assert every["total"] == 3
    assert len(every["items"]) == 1
    done = client.get("/api/v1/followups", params={"status": "done"}).json()
    assert [x["id"] for x in done["items"]] == [seeded.training]
    assert client.get("/api/v1/followups", params={"commune": staff.other}).status_code == 404
    assert client.get(f"/api/v1/followups/{seeded.foreign}").status_code == 404
    one = client.get(f"/api/v1/followups/{seeded.loan}").json()
    assert one["household_code"] == seeded.household
    assert one["phones"]


def test_working_an_item_needs_the_work_capability_and_is_validated(
    seeded: Seeded, api: Callable[[str], TestClient]
) -> None:
    officer = api("officer")
    path = f"/api/v1/followups/{seeded.loan}"
    assert officer.patch(path, json={"status": "done"}).status_code == 403
    assistant = api("assistant")
    changed = assistant.patch(
        path, json={"assignee": "assistant", "due_on": "2026-12-10", "note": "Hẹn thăm hộ."}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["status"], body["assignee"], body["due_on"]) == (
        "assigned",
        "assistant",
        "2026-12-10",
    )
    assert body["note"].endswith("[21/11/2026 assistant] Hẹn thăm hộ.")
    assert assistant.post(path, json={"status": "done"}).json()["status"] == "done"
    past = assistant.patch(path, json={"due_on": "2026-01-01"})
    assert past.status_code == 400
    assert "ngày đã qua" in past.json()["detail"]
    stranger = assistant.patch(path, json={"assignee": "outsider"})
    assert stranger.status_code == 400
    assert assistant.patch(path, json={"status": "closed"}).status_code == 422
    assert assistant.patch(path, json={"colour": "red"}).status_code == 422
    foreign = assistant.patch(f"/api/v1/followups/{seeded.foreign}", json={"status": "done"})
    assert foreign.status_code == 404
