"""Console broadcasts: the list in scope, compose with the audience builder and the live
preview, refusals beside their fields, drafts, approval, cancelling and the progress bar."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.config import get_settings
from messages.render import _
from storage.db import create_engine, session_factory
from storage.models import AuditEntry, Broadcast, Message
from tests.conftest import loa
from tests.web.conftest import Communes, add_staff, csrf_of
from web.console.broadcast_forms import sentence_pattern

TEXT = "Kính gửi {ho_ten} ({thon}): 19:00 tối nay họp dân tại nhà văn hóa."
Client = Callable[[str], TestClient]


def cli_broadcast(audience: str, by: str = "assistant") -> int:
    """A broadcast submitted through `loa broadcast create --yes`; its number."""
    code, output = loa(
        "broadcast", "create", "--text", TEXT, "--audience", audience, "--as", by, "--yes"
    )
    assert code == 0, output
    return _last_id()


def _last_id() -> int:
    async def read() -> int:
        engine = create_engine(get_settings().database_url)
        try:
            async with session_factory(engine)() as session:
                last = await session.scalar(select(func.max(Broadcast.id)))
                assert last is not None
                return int(last)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def app_store(started: TestClient, console: Any) -> Callable[..., Any]:
    """Run a coroutine function on the app's loop with a session of its store."""

    def run(work: Callable[..., Any]) -> Any:
        async def call() -> Any:
            async with console.state.sessions() as session:
                return await work(session)

        assert started.portal is not None
        return started.portal.call(call)

    return run


def audits(app_store: Callable[..., Any], key: int) -> list[AuditEntry]:
    async def read(session: Any) -> list[AuditEntry]:
        query = select(AuditEntry).where(
            AuditEntry.entity == "broadcasts", AuditEntry.entity_key == str(key)
        )
        return list(await session.scalars(query.order_by(AuditEntry.id)))

    return list(app_store(read))


def row(app_store: Callable[..., Any], key: int) -> Broadcast:
    async def read(session: Any) -> Broadcast:
        found: Broadcast | None = await session.get(Broadcast, key)
        assert found is not None
        return found

    found: Broadcast = app_store(read)
    return found


def compose(client: TestClient, **fields: Any) -> Any:
    """Post the compose form (the CSRF of the page added)."""
    form = client.get("/broadcasts/new")
    data: dict[str, Any] = {"csrf": csrf_of(form.text), "text": TEXT, "action": "submit"}
    data.update(fields)
    return client.post("/broadcasts/new", data=data, follow_redirects=False)


def created_id(response: Any) -> int:
    assert response.status_code == 303, response.text
    found = re.match(r"/broadcasts/(\d+)\?done=", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


# --- the list and the scope -----------------------------------------------------------------


def test_each_user_sees_the_broadcasts_of_their_communes(
    staff: Communes, signed_in: Client
) -> None:
    mine = cli_broadcast(f"commune={staff.mine}")
    other = cli_broadcast(f"commune={staff.other}", by="outsider")
    both = cli_broadcast("all", by="admin")
    page = signed_in("assistant").get("/broadcasts")
    assert page.status_code == 200
    assert f'href="/broadcasts/{mine}"' in page.text
    assert f'href="/broadcasts/{other}"' not in page.text
    assert f'href="/broadcasts/{both}"' not in page.text
    admin = signed_in("admin").get("/broadcasts").text
    assert all(f'href="/broadcasts/{n}"' in admin for n in (mine, other, both))
    outsider = signed_in("outsider")
    assert f'href="/broadcasts/{other}"' in outsider.get("/broadcasts").text
    assert outsider.get(f"/broadcasts/{mine}").status_code == 404
    assert outsider.get(f"/broadcasts/{mine}/progress").status_code == 404
    officer = signed_in("officer")
    assert officer.get(f"/broadcasts/{both}").status_code == 404
    assert officer.get(f"/broadcasts/{mine}").status_code == 200
    assert officer.get("/broadcasts/999999").status_code == 404


def test_the_list_filters_by_status_and_counts(staff: Communes, signed_in: Client) -> None:
    first = cli_broadcast(f"commune={staff.mine}")
    loa("broadcast", "cancel", str(first))
    second = cli_broadcast(f"commune={staff.mine}")
    client = signed_in("assistant")
    page = client.get("/broadcasts?status=cancelled").text
    assert f'href="/broadcasts/{first}"' in page
    assert f'href="/broadcasts/{second}"' not in page
    assert client.get("/broadcasts?status=nonsense").status_code == 200
    assert client.get("/broadcasts?page=0").status_code == 400


# --- compose ----------------------------------------------------------------------------------


def test_the_builder_offers_only_the_users_communes(staff: Communes, signed_in: Client) -> None:
    page = signed_in("assistant").get("/broadcasts/new")
    assert page.status_code == 200
    assert f'value="{staff.mine}"' in page.text
    assert f'value="{staff.other}"' not in page.text
    assert 'name="category"' in page.text
    assert 'name="advanced"' in page.text
    assert "broadcasts.js" in page.text
    assert signed_in("officer").get("/broadcasts/new").status_code == 403


def test_preview_without_javascript_and_as_a_fragment(staff: Communes, signed_in: Client) -> None:
    client = signed_in("assistant")
    response = compose(client, action="preview", category="poor")
    assert response.status_code == 200
    assert "bc-preview" in response.text
    assert f"commune={staff.mine} category=poor" in response.text
    form = client.get("/broadcasts/new")
    fragment = client.post(
        "/broadcasts/preview",
        data={"csrf": csrf_of(form.text), "text": TEXT, "commune": staff.mine},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-ok="1"' in fragment.text
    assert _("Estimated cost") in fragment.text
    bad = client.post("/broadcasts/preview", data={"csrf": csrf_of(form.text), "text": ""})
    assert bad.status_code == 400
    assert _("The broadcast has no text.") in bad.text
    assert client.post("/broadcasts/preview", data={"text": TEXT}).status_code == 403


def test_submitting_a_small_broadcast_schedules_it_in_the_users_commune(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    number = created_id(compose(signed_in("assistant"), category=["poor", "near_poor"]))
    found = row(app_store, number)
    assert found.status == "scheduled"
    assert found.audience == f"commune={staff.mine} category=poor,near_poor"
    assert found.communes == [staff.mine]
    assert found.created_by == "assistant"
    trail = audits(app_store, number)
    assert [a.action for a in trail] == ["create"]
    assert trail[0].actor == "assistant"
    assert trail[0].changes["status"] == [None, "scheduled"]


def test_the_builder_makes_the_audience(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    client = signed_in("assistant")
    form = client.get("/broadcasts/new")
    data = {
        "csrf": csrf_of(form.text),
        "text": TEXT,
        "action": "submit",
        "category": ["poor", "near_poor"],
        "flag": "woman_head",
    }
    response = client.post("/broadcasts/new", data=data, follow_redirects=False)
    found = row(app_store, created_id(response))
    assert found.audience == f"commune={staff.mine} category=poor,near_poor flag=woman_head"


@pytest.mark.parametrize(
    ("fields", "field", "msgid"),
    [
        ({"text": "  "}, "text", "The broadcast has no text."),
        (
            {"send_at": "2026-11-20T08:00"},
            "send_at",
            "The time to send is already past; give a time from now on.",
        ),
        (
            {"send_at": "ngày mai"},
            "send_at",
            "{text} is not a date and time such as 2026-12-01T08:00.",
        ),
        (
            {"send_at": "0001-01-01T00:00"},
            "send_at",
            "{text} is not a date and time such as 2026-12-01T08:00.",
        ),
        (
            {"channel_order": "pigeon"},
            "channel_order",
            "Loa has no channel {names}; the channels are: {known}.",
        ),
        (
            {"text": "Chào {ten}"},
            "text",
            "Loa does not know {unknown} in this text; you can use: {known}.",
        ),
        (
            {"sms_text": "Chào {ten}"},
            "sms_text",
            "Loa does not know {unknown} in this text; you can use: {known}.",
        ),
        (
            {"advanced": "category=rich"},
            "audience",
            "{key} cannot be “{value}”; use one of: {values}.",
        ),
        ({"advanced": "comune=1"}, "audience", "Unknown key “{key}”; the keys are: {keys}."),
        ({"title": "x" * 121}, "title", "The title is too long: at most {n} characters."),
    ],
)
def test_refusals_are_the_clis_sentences_beside_their_field(
    staff: Communes, signed_in: Client, fields: dict[str, str], field: str, msgid: str
) -> None:
    response = compose(signed_in("assistant"), **fields)
    assert response.status_code == 400
    found = re.search(rf'id="{field}-error">([^<]+)<', response.text)
    assert found, response.text
    assert sentence_pattern(_(msgid)).fullmatch(html.unescape(found.group(1)))


def test_the_clis_refusal_reads_the_same(staff: Communes, signed_in: Client) -> None:
    code, output = loa("broadcast", "create", "--text", TEXT, "--audience", "category=rich")
    assert code != 0
    response = compose(signed_in("assistant"), advanced="category=rich")
    sentence = re.search(r'id="audience-error">([^<]+)<', response.text)
    assert sentence
    assert " ".join(sentence.group(1).replace("&#34;", '"').split()) in " ".join(output.split())


def test_an_audience_outside_the_scope_is_refused_and_all_is_narrowed(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    client = signed_in("assistant")
    response = compose(client, advanced=f"commune={staff.other}")
    assert response.status_code == 400
    assert staff.other in re.search(r'id="audience-error">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    response = compose(client, commune=staff.other)
    assert response.status_code == 400
    found = row(app_store, created_id(compose(client, advanced="all")))
    assert found.audience == f"commune={staff.mine}"


def test_a_large_or_wide_broadcast_waits_for_approval(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    admin = signed_in("admin")
    number = created_id(compose(admin, advanced="all"))
    assert row(app_store, number).status == "pending_approval"
    page = admin.get(f"/broadcasts/{number}").text
    assert _("Waiting for an officer's approval.") in page
    refused = admin.post(
        f"/broadcasts/{number}/approve", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert refused.status_code == 400
    assert _("The sender of a broadcast cannot approve it; ask another officer.") in refused.text
    assert row(app_store, number).status == "pending_approval"


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch, settings_env: str) -> None:
    """Approval above 10 households, so one commune's broadcast needs an officer."""
    monkeypatch.setenv("LOA_APPROVAL_THRESHOLD", "10")
    get_settings.cache_clear()


def test_an_officer_approves_what_an_assistant_submitted(
    low_threshold: None, staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    assistant = signed_in("assistant")
    number = created_id(compose(assistant, category=["poor", "near_poor", "escaped", "other"]))
    assert row(app_store, number).status == "pending_approval"
    page = assistant.get(f"/broadcasts/{number}").text
    assert f'action="/broadcasts/{number}/approve"' not in page
    denied = assistant.post(f"/broadcasts/{number}/approve", data={"csrf": csrf_of(page)})
    assert denied.status_code == 403
    officer = signed_in("officer")
    page = officer.get(f"/broadcasts/{number}").text
    assert f'action="/broadcasts/{number}/approve"' in page
    response = officer.post(
        f"/broadcasts/{number}/approve", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    found = row(app_store, number)
    assert (found.status, found.approved_by) == ("scheduled", "officer")
    assert [a.action for a in audits(app_store, number)] == ["create", "approve"]
    again = officer.post(f"/broadcasts/{number}/approve", data={"csrf": csrf_of(page)})
    assert again.status_code == 400


def test_a_draft_is_saved_changed_and_submitted(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    client = signed_in("assistant")
    number = created_id(compose(client, action="draft", title="Họp dân", category="poor"))
    assert row(app_store, number).status == "draft"
    edit = client.get(f"/broadcasts/{number}/edit")
    assert edit.status_code == 200
    assert "Họp dân" in edit.text
    assert f"commune={staff.mine} category=poor" in edit.text
    signed_in_again = signed_in("admin").get(f"/broadcasts/{number}/edit", follow_redirects=False)
    assert signed_in_again.status_code == 200
    add_staff("colleague", "assistant", staff.mine)
    other = signed_in("colleague").get(f"/broadcasts/{number}/edit", follow_redirects=False)
    assert other.status_code == 303
    data = {
        "csrf": csrf_of(edit.text),
        "text": TEXT,
        "title": "Họp dân thôn",
        "advanced": f"commune={staff.mine} category=poor",
        "action": "submit",
    }
    response = client.post(f"/broadcasts/{number}/edit", data=data, follow_redirects=False)
    assert created_id(response) == number
    found = row(app_store, number)
    assert (found.status, found.title) == ("scheduled", "Họp dân thôn")
    assert [a.action for a in audits(app_store, number)] == ["create", "submit"]
    locked = client.post(f"/broadcasts/{number}/edit", data=data, follow_redirects=False)
    assert locked.headers["location"].endswith("done=locked")


def test_cancel_by_the_writer_not_by_a_colleague(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    add_staff("colleague", "assistant", staff.mine)
    writer = signed_in("assistant")
    number = created_id(compose(writer, category="poor"))
    colleague = signed_in("colleague")
    page = colleague.get(f"/broadcasts/{number}").text
    assert f'action="/broadcasts/{number}/cancel"' not in page
    refused = colleague.post(f"/broadcasts/{number}/cancel", data={"csrf": csrf_of(page)})
    assert refused.status_code == 400
    assert _("Only the sender, an officer or an admin can cancel this broadcast.") in refused.text
    assert row(app_store, number).status == "scheduled"
    outsider = signed_in("outsider")
    token = csrf_of(outsider.get("/broadcasts").text)
    assert outsider.post(f"/broadcasts/{number}/cancel", data={"csrf": token}).status_code == 404
    page = writer.get(f"/broadcasts/{number}").text
    response = writer.post(
        f"/broadcasts/{number}/cancel", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert row(app_store, number).status == "cancelled"
    assert [a.action for a in audits(app_store, number)] == ["create", "cancel"]
    again = writer.post(f"/broadcasts/{number}/cancel", data={"csrf": csrf_of(page)})
    assert again.status_code == 400


def test_the_progress_bar_moves_while_it_sends(
    staff: Communes, signed_in: Client, app_store: Callable[..., Any]
) -> None:
    client = signed_in("assistant")
    number = created_id(compose(client, category=["poor", "near_poor", "escaped", "other"]))
    page = client.get(f"/broadcasts/{number}").text
    assert "<progress" in page
    assert 'http-equiv="refresh"' not in page  # scheduled: a reload link, and the script
    assert f'data-url="/broadcasts/{number}/progress"' in page
    code, output = loa("scheduler", "tick", "--now", "2026-11-21T03:05:00+00:00")
    assert code == 0, output
    assert row(app_store, number).status == "sending"
    assert 'http-equiv="refresh"' in client.get(f"/broadcasts/{number}").text
    moving = client.get(f"/broadcasts/{number}/progress?format=json").json()
    assert moving["running"] is True
    assert moving["waiting"] > 0
    assert moving["max"] >= moving["waiting"]
    fragment = client.get(f"/broadcasts/{number}/progress")
    assert 'data-running="1"' in fragment.text
    assert "<html" not in fragment.text

    async def sent(session: Any) -> None:
        for message in await session.scalars(
            select(Message).where(Message.source_kind == "broadcast", Message.source_id == number)
        ):
            message.status = "sent"
        await session.commit()

    app_store(sent)
    loa("scheduler", "tick", "--now", "2026-11-21T03:06:00+00:00")
    done = client.get(f"/broadcasts/{number}/progress", headers={"Accept": "application/json"})
    assert done.json()["running"] is False
    assert done.json()["percent"] == 100
    assert 'http-equiv="refresh"' not in client.get(f"/broadcasts/{number}").text


def test_the_script_is_served_by_loa(started: TestClient) -> None:
    script = started.get("/static/broadcasts.js")
    assert script.status_code == 200
    assert "fetch" in script.text
