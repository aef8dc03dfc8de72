"""API broadcasts: paged list in scope, one with its progress, preview, create (draft or
submitted), refusals as 400 with the field, approve and cancel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from bot.config import get_settings
from messages.render import _
from tests.web.conftest import Communes
from tests.web.test_broadcasts import TEXT, cli_broadcast

Client = Callable[[str], TestClient]


def test_the_list_is_paged_and_in_scope(staff: Communes, api: Client) -> None:
    mine = [cli_broadcast(f"commune={staff.mine}") for _ in range(3)]
    other = cli_broadcast(f"commune={staff.other}", by="outsider")
    client = api("assistant")
    first = client.get("/api/v1/broadcasts", params={"per_page": 2})
    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 2)
    assert [b["id"] for b in body["items"]] == [mine[2], mine[1]]
    second = client.get("/api/v1/broadcasts", params={"per_page": 2, "page": 2}).json()
    assert [b["id"] for b in second["items"]] == [mine[0]]
    assert client.get(f"/api/v1/broadcasts/{other}").status_code == 404
    assert client.get("/api/v1/broadcasts/999999").status_code == 404
    one = client.get(f"/api/v1/broadcasts/{mine[0]}").json()
    assert one["status"] == "scheduled"
    assert one["communes"] == [staff.mine]
    assert one["progress"]["running"] is True
    admin = api("admin").get("/api/v1/broadcasts", params={"status": "scheduled"}).json()
    assert admin["total"] == 4
    assert client.get("/api/v1/broadcasts", params={"status": "nonsense"}).status_code == 422


def test_preview_and_create_limited_to_the_tokens_communes(staff: Communes, api: Client) -> None:
    client = api("assistant")
    body = {"text": TEXT, "categories": ["poor", "near_poor"]}
    seen = client.post("/api/v1/broadcasts/preview", json=body)
    assert seen.status_code == 200, seen.text
    assert seen.json()["audience"] == f"commune={staff.mine} category=poor,near_poor"
    assert seen.json()["communes"] == [staff.mine]
    created = client.post("/api/v1/broadcasts", json=body)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["broadcast"]["status"] == "scheduled"
    assert saved["preview"]["households"] == saved["broadcast"]["households"]
    draft = client.post("/api/v1/broadcasts", json={**body, "submit": False}).json()
    assert draft["broadcast"]["status"] == "draft"
    assert draft["preview"] is None
    outside = client.post("/api/v1/broadcasts", json={"text": TEXT, "communes": [staff.other]})
    assert outside.status_code == 400
    assert outside.json()["field"] == "audience"
    assert staff.other in outside.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "msgid"),
    [
        ({"text": " "}, "text", "The broadcast has no text."),
        (
            {"send_at": "2026-11-20T08:00:00"},
            "send_at",
            "The time to send is already past; give a time from now on.",
        ),
        ({"channel_order": ["pigeon"]}, "channel_order", None),
        ({"audience": "category=rich"}, "audience", None),
    ],
)
def test_refusals_are_400_with_the_field(
    staff: Communes, api: Client, body: dict[str, object], field: str, msgid: str | None
) -> None:
    response = api("assistant").post(
        "/api/v1/broadcasts", json={"text": TEXT, "audience": "category=poor", **body}
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    if msgid is not None:
        assert response.json()["detail"] == _(msgid)


def test_bad_bodies_and_roles(staff: Communes, api: Client) -> None:
    assert api("assistant").post("/api/v1/broadcasts", json={"title": "x"}).status_code == 422
    officer = api("officer").post("/api/v1/broadcasts", json={"text": TEXT, "audience": "all"})
    assert officer.status_code == 403
    nul = api("assistant").post("/api/v1/broadcasts", json={"text": "a\x00b", "audience": "all"})
    assert nul.status_code == 422


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch, settings_env: str) -> None:
    monkeypatch.setenv("LOA_APPROVAL_THRESHOLD", "10")
    get_settings.cache_clear()


def test_approve_and_cancel(low_threshold: None, staff: Communes, api: Client) -> None:
    assistant = api("assistant")
    created = assistant.post("/api/v1/broadcasts", json={"text": TEXT, "audience": "all"})
    number = created.json()["broadcast"]["id"]
    assert created.json()["broadcast"]["status"] == "pending_approval"
    assert assistant.post(f"/api/v1/broadcasts/{number}/approve").status_code == 403
    assert api("outsider").post(f"/api/v1/broadcasts/{number}/approve").status_code == 403
    assert api("outsider").post(f"/api/v1/broadcasts/{number}/cancel").status_code == 404
    approved = api("officer").post(f"/api/v1/broadcasts/{number}/approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("scheduled", "officer")
    again = api("officer").post(f"/api/v1/broadcasts/{number}/approve")
    assert again.status_code == 400
    cancelled = assistant.post(f"/api/v1/broadcasts/{number}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["broadcast"]["status"] == "cancelled"
    assert cancelled.json()["withdrawn"] == 0
    assert assistant.post(f"/api/v1/broadcasts/{number}/cancel").status_code == 400


def test_the_openapi_document_lists_the_routes(started: TestClient) -> None:
    paths = started.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/broadcasts",
        "/api/v1/broadcasts/preview",
        "/api/v1/broadcasts/{broadcast_id}",
        "/api/v1/broadcasts/{broadcast_id}/approve",
        "/api/v1/broadcasts/{broadcast_id}/cancel",
    ):
        assert path in paths
    assert "400" in paths["/api/v1/broadcasts"]["post"]["responses"]
