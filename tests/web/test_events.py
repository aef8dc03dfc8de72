"""Console events: the list in scope, an event's page with its registrants, creating one with
the CLI's checks and notice, changing its status, and the registrant list as .xlsx."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from messages.render import _
from storage.models import AuditEntry, Broadcast, Event
from tests.web.conftest import Communes, csrf_of
from tests.web.seed_events import Seeded, Store, in_app, seed


@pytest.fixture
def app_store(started: TestClient) -> Store:
    return in_app(started)


@pytest.fixture
def seeded(staff: Communes, app_store: Store) -> Seeded:
    return seed(app_store, staff)


def test_the_list_shows_the_events_of_the_users_communes(
    seeded: Seeded, signed_in: Callable[[str], TestClient]
) -> None:
    page = signed_in("assistant").get("/events")
    assert page.status_code == 200
    assert f'href="/events/{seeded.mine}"' in page.text
    assert f'href="/events/{seeded.other}"' not in page.text
    assert f'href="/events/{seeded.nowhere}"' not in page.text
    assert "Lớp may công nghiệp" in page.text
    everything = signed_in("admin").get("/events?show=all").text
    assert all(f'href="/events/{i}"' in everything for i in (seeded.mine, seeded.nowhere))


def test_an_events_page_shows_details_and_registrants_in_scope(
    seeded: Seeded, signed_in: Callable[[str], TestClient]
) -> None:
    page = signed_in("officer").get(f"/events/{seeded.mine}")
    assert page.status_code == 200
    text = page.text
    assert "may công nghiệp" in text
    assert "3 / 3" in text  # registered against the minimum size, in every commune
    for code in seeded.registered:
        assert f'href="/households/{code}"' in text
    assert seeded.foreign not in text  # a household of another commune stays hidden
    assert _("Minimum size {n}: reached.").format(n=3) in text
    assert "/events/" + str(seeded.mine) + "/status" not in text  # an officer does not compose


def test_another_communes_event_or_an_unknown_one_is_not_found(
    seeded: Seeded, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    for path in (
        f"/events/{seeded.other}",
        f"/events/{seeded.nowhere}",
        "/events/999999",
        f"/events/{seeded.other}/registrants.xlsx",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/events/99999999999").status_code in (400, 404)
    assert signed_in("outsider").get(f"/events/{seeded.mine}").status_code == 404


def test_the_registrant_list_downloads_as_xlsx(
    seeded: Seeded, signed_in: Callable[[str], TestClient]
) -> None:
    response = signed_in("officer").get(f"/events/{seeded.mine}/registrants.xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert _("REGISTRANT LIST") in cells
    assert set(seeded.registered) <= set(cells)
    assert seeded.foreign not in cells


def _form(staff: Communes, **changes: str) -> dict[str, str]:
    form = {
        "kind": "training",
        "title": "Lớp trồng nấm rơm",
        "commune": staff.mine,
        "starts_at": "2026-12-05T08:00",
        "place": "Hội trường UBND xã",
        "audience": "category=poor,near_poor",
        "status": "planned",
        "register_by": "2026-12-01",
        "min_size": "15",
        "detail_trade": "trồng nấm rơm",
        "detail_fee_waiver": "có",
        "action": "create",
    }
    return {**form, **changes}


def _count(app_store: Store, model: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)))

    found: int = app_store(work)
    return found


def test_creating_an_event_stores_it_submits_its_notice_and_audits(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store
) -> None:
    client = signed_in("assistant")
    form = client.get("/events/new")
    assert form.status_code == 200
    preview = client.post(
        "/events/new", data={**_form(staff, action="preview"), "csrf": csrf_of(form.text)}
    )
    assert preview.status_code == 200
    assert "trồng nấm rơm" in preview.text
    assert _count(app_store, Event) == 0  # a preview stores nothing
    done = client.post(
        "/events/new", data={**_form(staff), "csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    event_id = int(done.headers["location"].split("/")[2].split("?")[0])

    async def read(session: Any) -> tuple[Event, list[AuditEntry], list[Broadcast]]:
        event = await session.get(Event, event_id)
        audits = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "events", AuditEntry.entity_key == str(event_id)
            )
        )
        notices = await session.scalars(select(Broadcast).where(Broadcast.event_id == event_id))
        return event, list(audits), list(notices)

    event, audits, notices = app_store(read)
    assert event.audience == f"commune={staff.mine} category=poor,near_poor"
    assert (event.min_size, event.details["fee_waiver"], event.created_by) == (
        15,
        True,
        "assistant",
    )
    assert [(a.actor, a.source, a.action) for a in audits] == [("assistant", "console", "create")]
    assert len(notices) == 1
    assert notices[0].communes == [staff.mine]
    page = client.get(done.headers["location"])
    assert "Lớp trồng nấm rơm" in page.text


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"starts_at": "2026-11-20T08:00"}, "starts_at", ""),
        ({"starts_at": "mai"}, "starts_at", "mai"),
        ({"register_by": "2026-12-09"}, "register_by", "09/12/2026"),
        ({"min_size": "0"}, "min_size", ""),
        ({"title": ""}, "title", ""),
        ({"kind": "job_session", "detail_jobs": "nhiều"}, "detail_jobs", "jobs"),
        ({"audience": "category=giau"}, "audience", "giau"),
        ({"audience": "province=86"}, "audience", ""),
        ({"commune": "OTHER"}, "commune", ""),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_stores_nothing(
    staff: Communes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
    changes: dict[str, str],
    field: str,
    words: str,
) -> None:
    client = signed_in("assistant")
    token = csrf_of(client.get("/events/new").text)
    values = {k: (staff.other if v == "OTHER" else v) for k, v in changes.items()}
    response = client.post("/events/new", data={**_form(staff, **values), "csrf": token})
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert words in response.text
    assert _count(app_store, Event) == 0


def test_an_audience_reaching_another_commune_is_refused(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store
) -> None:
    client = signed_in("assistant")
    token = csrf_of(client.get("/events/new").text)
    audience = f"commune={staff.mine},{staff.other}"
    response = client.post("/events/new", data={**_form(staff, audience=audience), "csrf": token})
    assert response.status_code == 400
    assert 'id="audience-error"' in response.text
    assert staff.other in response.text
    assert _count(app_store, Event) == 0
    officer = signed_in("officer")
    assert officer.get("/events/new").status_code == 403


def test_changing_the_status_tells_the_list_and_is_audited(
    seeded: Seeded, signed_in: Callable[[str], TestClient], app_store: Store
) -> None:
    client = signed_in("assistant")
    path = f"/events/{seeded.mine}"
    token = csrf_of(client.get(path).text)
    bad = client.post(f"{path}/status", data={"starts_at": "hôm qua", "csrf": token})
    assert bad.status_code == 400
    assert 'id="starts_at-error"' in bad.text
    same = client.post(f"{path}/status", data={"status": "", "csrf": token})
    assert same.status_code == 400
    assert _("Nothing changes: give a new status, date or place.") in same.text
    done = client.post(
        f"{path}/status",
        data={"status": "postponed", "starts_at": "2026-12-20T08:00", "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303

    async def read(session: Any) -> tuple[Event, list[AuditEntry]]:
        event = await session.get(Event, seeded.mine)
        audits = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "events", AuditEntry.entity_key == str(seeded.mine)
            )
        )
        return event, list(audits)

    event, audits = app_store(read)
    assert (event.status, event.revision) == ("postponed", 1)
    assert [a.changes["status"] for a in audits] == [["planned", "postponed"]]
    assert "starts_at" in audits[0].changes
    cancel = client.post(f"{path}/status", data={"status": "cancelled", "csrf": token})
    assert cancel.status_code == 200  # followed to the event's page
    again = client.post(f"{path}/status", data={"status": "confirmed", "csrf": token})
    assert again.status_code == 400
    outsider = signed_in("outsider")
    other_token = csrf_of(outsider.get("/events").text)
    refused = outsider.post(f"{path}/status", data={"status": "confirmed", "csrf": other_token})
    assert refused.status_code == 404
