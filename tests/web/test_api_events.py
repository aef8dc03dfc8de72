"""API events: the list and one event in the token's areas, registrants paginated, 404 outside."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Communes
from tests.web.seed_events import Seeded, in_app, seed


@pytest.fixture
def seeded(staff: Communes, started: TestClient) -> Seeded:
    return seed(in_app(started), staff)


def test_the_list_holds_the_events_of_the_tokens_communes(
    seeded: Seeded,
    api: Callable[[str], TestClient],
) -> None:
    body = api("officer").get("/api/v1/events").json()
    assert [e["id"] for e in body["items"]] == [seeded.mine]
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    event = body["items"][0]
    assert (event["registered"], event["min_size"], event["kind"]) == (3, 3, "training")
    assert event["details"]["fee_waiver"] is True
    every = api("admin").get("/api/v1/events", params={"per_page": 2}).json()
    assert every["total"] == 3
    assert len(every["items"]) == 2
    assert api("admin").get("/api/v1/events", params={"upcoming": "true"}).json()["total"] == 3


def test_one_event_and_its_registrants(
    seeded: Seeded,
    staff: Communes,
    api: Callable[[str], TestClient],
) -> None:
    client = api("assistant")
    event = client.get(f"/api/v1/events/{seeded.mine}").json()
    assert event["commune_code"] == staff.mine
    page = client.get(f"/api/v1/events/{seeded.mine}/registrants", params={"per_page": 1}).json()
    assert page["total"] == 2  # the other commune's registrant is not the assistant's to see
    assert [r["household_code"] for r in page["items"]] == seeded.registered[:1]
    second = client.get(
        f"/api/v1/events/{seeded.mine}/registrants", params={"per_page": 1, "page": 2}
    ).json()
    assert [r["household_code"] for r in second["items"]] == seeded.registered[1:]
    assert second["items"][0]["channel"] == "staff"


def test_outside_the_tokens_areas_is_not_found(
    seeded: Seeded,
    api: Callable[[str], TestClient],
) -> None:
    client = api("assistant")
    for path in (
        f"/api/v1/events/{seeded.other}",
        f"/api/v1/events/{seeded.nowhere}",
        f"/api/v1/events/{seeded.other}/registrants",
        "/api/v1/events/424242",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"]
    assert client.get("/api/v1/events/0").status_code in (400, 422)
    assert api("outsider").get(f"/api/v1/events/{seeded.mine}").status_code == 404
