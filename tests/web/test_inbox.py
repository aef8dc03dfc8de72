"""The inbox: free-text messages of the user's communes, replies through the outbox, turning
a message into a follow-up, marking it handled."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.models import AuditEntry, FollowUp, Message
from tests.web.conftest import Communes, csrf_of
from tests.web.seed_followups import Seeded, seed


@pytest.fixture
def seeded(staff: Communes, settings_env: str) -> Seeded:
    return seed(settings_env, staff.mine, staff.other)


@pytest.fixture
def assistant(seeded: Seeded, signed_in: Callable[[str], TestClient]) -> TestClient:
    return signed_in("assistant")


def _rows(client: TestClient, query: object) -> list[object]:
    async def read() -> list[object]:
        async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            return list((await session.execute(query)).all())

    return client.portal.call(read)  # type: ignore[union-attr]


def test_the_inbox_lists_free_text_of_the_users_communes_only(
    seeded: Seeded, assistant: TestClient
) -> None:
    page = assistant.get("/inbox")
    assert page.status_code == 200
    assert f'href="/inbox/{seeded.message}"' in page.text
    assert "Cho hỏi khi nào phát gạo ạ?" in page.text
    assert f'href="/inbox/{seeded.answer}"' not in page.text  # a survey answer
    assert f'href="/inbox/{seeded.foreign_message}"' not in page.text
    assert "Nhà tôi bị dột mái." not in page.text
    assert assistant.get(f"/inbox/{seeded.foreign_message}").status_code == 404
    assert assistant.get(f"/inbox/{seeded.answer}").status_code == 404
    shown = assistant.get(f"/inbox/{seeded.message}")
    assert shown.status_code == 200
    assert f'href="/households/{seeded.household}"' in shown.text


def test_a_reply_is_queued_on_the_channel_the_household_wrote_from(
    seeded: Seeded, assistant: TestClient
) -> None:
    path = f"/inbox/{seeded.message}"
    token = csrf_of(assistant.get(path).text)
    response = assistant.post(
        f"{path}/reply",
        data={"text": "Dạ, thứ Bảy này phát gạo tại nhà văn hoá.", "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    sent = _rows(
        assistant,
        select(Message.channel, Message.address, Message.kind, Message.status, Message.text).where(
            Message.direction == "out", Message.source_id == seeded.message
        ),
    )
    assert sent == [
        ("console", seeded.phone, "notice", "queued", "Dạ, thứ Bảy này phát gạo tại nhà văn hoá.")
    ]
    assert f'href="/inbox/{seeded.message}"' not in assistant.get("/inbox").text  # handled
    assert f'href="/inbox/{seeded.message}"' in assistant.get("/inbox?state=done").text
    audited = _rows(
        assistant,
        select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.entity == "messages", AuditEntry.entity_key == str(seeded.message)
        ),
    )
    assert audited == [("assistant", "handle")]


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_an_empty_or_too_long_reply_is_refused_beside_the_field(
    seeded: Seeded, assistant: TestClient, text: str
) -> None:
    path = f"/inbox/{seeded.message}"
    token = csrf_of(assistant.get(path).text)
    response = assistant.post(f"{path}/reply", data={"text": text, "csrf": token})
    assert response.status_code == 400
    assert 'id="text-error"' in response.text
    sent = _rows(assistant, select(Message.id).where(Message.direction == "out"))
    assert sent == []


def test_a_message_becomes_a_follow_up_once(seeded: Seeded, assistant: TestClient) -> None:
    path = f"/inbox/{seeded.message}"
    token = csrf_of(assistant.get(path).text)
    first = assistant.post(
        f"{path}/followup", data={"kind": "feedback", "csrf": token}, follow_redirects=False
    )
    assert first.status_code == 303
    target = first.headers["location"]
    item = assistant.get(target)
    assert item.status_code == 200
    assert "Cho hỏi khi nào phát gạo ạ?" in item.text
    again = assistant.post(
        f"{path}/followup", data={"kind": "feedback", "csrf": token}, follow_redirects=False
    )
    assert again.headers["location"] == target
    kinds = _rows(assistant, select(FollowUp.kind).where(FollowUp.dedup_key.is_not(None)))
    assert kinds == [("feedback",)]
    bad = assistant.post(f"{path}/followup", data={"kind": "nonsense", "csrf": token})
    assert bad.status_code == 400
    assert 'id="kind-error"' in bad.text


def test_marking_handled_and_the_limits_of_each_role(
    seeded: Seeded, assistant: TestClient, signed_in: Callable[[str], TestClient]
) -> None:
    path = f"/inbox/{seeded.message}"
    officer = signed_in("officer")
    page = officer.get(path)
    assert page.status_code == 200
    assert f'action="{path}/reply"' not in page.text
    refused = officer.post(f"{path}/handled", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    outsider = signed_in("outsider")
    token = csrf_of(outsider.get("/inbox").text)
    assert outsider.post(f"{path}/handled", data={"csrf": token}).status_code == 404
    token = csrf_of(assistant.get(path).text)
    done = assistant.post(f"{path}/handled", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "đã đánh dấu xử lý xong" in assistant.get(path).text
