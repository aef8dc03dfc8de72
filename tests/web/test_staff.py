"""The staff page: admins add users, change roles and areas, passwords, lock and unlock, tokens;
every change audited, no password or token in the log; everyone else is refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from storage.db import create_engine, session_factory
from storage.models import AuditEntry, StaffUser
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, Communes, csrf_of, sign_in

NEW_PASSWORD = "mat-khau-moi-rat-dai"


def _id_of(admin: TestClient, username: str) -> int:
    page = admin.get("/staff").text
    found = re.search(rf'href="/staff/(\d+)">{re.escape(username)}<', page)
    assert found, page
    return int(found.group(1))


def _post(client: TestClient, path: str, data: dict[str, str] | None = None) -> object:
    csrf = csrf_of(client.get("/staff").text)
    return client.post(path, data={"csrf": csrf, **(data or {})}, follow_redirects=False)


def _audit(url: str) -> list[tuple[str, str, dict[str, object]]]:
    async def read() -> list[tuple[str, str, dict[str, object]]]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(
                    select(AuditEntry.action, AuditEntry.actor, AuditEntry.changes)
                    .where(AuditEntry.entity == "staff_users", AuditEntry.source == "console")
                    .order_by(AuditEntry.id)
                )
                return [(a, b, c) for a, b, c in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_only_admins_see_the_staff_page(signed_in: Callable[[str], TestClient]) -> None:
    for username in ("assistant", "officer"):
        client = signed_in(username)
        assert client.get("/staff").status_code == 403
        assert client.get("/staff/1").status_code == 403
    page = signed_in("admin").get("/staff")
    assert page.status_code == 200
    for username in ("admin", "officer", "assistant", "outsider"):
        assert f">{username}<" in page.text
    assert "/staff" not in signed_in("assistant").get("/").text.split("<main>")[0]


def test_an_admin_adds_a_user_who_can_sign_in(
    signed_in: Callable[[str], TestClient],
    browser: Callable[..., TestClient],
    staff: Communes,
    settings_env: str,
) -> None:
    admin = signed_in("admin")
    response = _post(
        admin,
        "/staff",
        {
            "username": "lan.nguyen",
            "role": "assistant",
            "areas": f" {staff.mine}, ",
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = admin.get(response.headers["location"])  # type: ignore[attr-defined]
    assert "lan.nguyen" in page.text
    assert staff.mine in page.text
    sign_in(browser(), "lan.nguyen", NEW_PASSWORD)
    (action, actor, changes), *_ = _audit(settings_env)
    assert (action, actor) == ("create", "admin")
    assert changes == {"role": [None, "assistant"], "areas": [None, [staff.mine]]}
    assert NEW_PASSWORD not in str(_audit(settings_env))


BAD_NEW_USERS = [  # (fields changed, the field whose error shows, words of the error)
    ({"username": "a b"}, "username", "không có dấu cách"),
    ({"username": "admin"}, "username", "admin"),
    ({"role": "mayor"}, "role", "vai trò"),
    ({"areas": ""}, "areas", "mã"),
    ({"areas": "99999"}, "areas", "99999"),
    ({"password": "ngan", "password2": "ngan"}, "password", "10"),
    ({"password2": "khac-mat-khau-kia"}, "password2", "không giống"),
]


def test_a_bad_new_user_comes_back_with_the_error_beside_the_field(
    signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    admin = signed_in("admin")
    for fields, field, words in BAD_NEW_USERS:
        data = {
            "username": "binh",
            "role": "officer",
            "areas": staff.mine,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            **fields,
        }
        response = _post(admin, "/staff", data)
        assert response.status_code == 400  # type: ignore[attr-defined]
        html = response.text  # type: ignore[attr-defined]
        error = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)<', html)
        assert error, (fields, html)
        assert words.lower() in error.group(1).lower()
    assert ">binh<" not in admin.get("/staff").text


def test_role_and_areas_are_replaced_and_audited(
    signed_in: Callable[[str], TestClient], staff: Communes, settings_env: str
) -> None:
    admin = signed_in("admin")
    officer = _id_of(admin, "officer")
    response = _post(admin, f"/staff/{officer}", {"role": "assistant", "areas": staff.other})
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = admin.get(f"/staff/{officer}").text
    assert f'name="areas" value="{staff.other}"' in page
    changes = _audit(settings_env)[-1][2]
    assert changes == {"role": ["officer", "assistant"], "areas": [[staff.mine], [staff.other]]}
    again = _post(admin, f"/staff/{officer}", {"role": "assistant", "areas": staff.other})
    assert again.headers["location"].endswith("done=unchanged")  # type: ignore[attr-defined]
    bad = _post(admin, f"/staff/{officer}", {"role": "assistant", "areas": "00000"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert 'id="areas-error"' in bad.text  # type: ignore[attr-defined]


def test_a_new_password_signs_the_user_out_and_is_never_logged(
    signed_in: Callable[[str], TestClient],
    browser: Callable[..., TestClient],
    settings_env: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = signed_in("admin")
    assistant = signed_in("assistant")
    user = _id_of(admin, "assistant")
    short = _post(admin, f"/staff/{user}/password", {"password": "x", "password2": "x"})
    assert short.status_code == 400  # type: ignore[attr-defined]
    done = _post(
        admin, f"/staff/{user}/password", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert assistant.get("/", follow_redirects=False).status_code == 303  # signed out
    sign_in(browser(), "assistant", NEW_PASSWORD)
    assert _audit(settings_env)[-1][:2] == ("password", "admin")
    assert NEW_PASSWORD not in str(_audit(settings_env))
    assert NEW_PASSWORD not in caplog.text


def test_deactivating_ends_sessions_and_tokens_and_activating_restores(
    signed_in: Callable[[str], TestClient],
    browser: Callable[..., TestClient],
    api: Callable[[str], TestClient],
) -> None:
    admin = signed_in("admin")
    assistant = signed_in("assistant")
    client = api("assistant")
    assert client.get("/api/v1/me").status_code == 200
    user = _id_of(admin, "assistant")
    assert _post(admin, f"/staff/{user}/deactivate").status_code == 303  # type: ignore[attr-defined]
    assert "deactivated" in admin.get("/staff").text or "ngừng" in admin.get("/staff").text
    assert assistant.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert _post(admin, f"/staff/{user}/activate").status_code == 303  # type: ignore[attr-defined]
    sign_in(browser(), "assistant")


def test_an_admin_cannot_lock_themselves_out(signed_in: Callable[[str], TestClient]) -> None:
    admin = signed_in("admin")
    me = _id_of(admin, "admin")
    assert f'action="/staff/{me}/deactivate"' not in admin.get(f"/staff/{me}").text
    other = _id_of(admin, "officer")
    assert f'action="/staff/{other}/deactivate"' in admin.get(f"/staff/{other}").text
    refused = _post(admin, f"/staff/{me}/deactivate")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    demoted = _post(admin, f"/staff/{me}", {"role": "officer", "areas": "01"})
    assert demoted.status_code == 400  # type: ignore[attr-defined]
    assert admin.get("/staff").status_code == 200


def test_unlock_lifts_the_lockout(
    signed_in: Callable[[str], TestClient],
    browser: Callable[..., TestClient],
    settings_env: str,
) -> None:
    async def lock() -> None:
        engine = create_engine(settings_env)
        try:
            async with session_factory(engine)() as session, session.begin():
                await session.execute(
                    update(StaffUser)
                    .where(StaffUser.username == "officer")
                    .values(locked_until=NOW + timedelta(minutes=10))
                )
        finally:
            await engine.dispose()

    admin = signed_in("admin")
    admin.portal.call(lock)  # type: ignore[union-attr]
    user = _id_of(admin, "officer")
    assert "locked" in admin.get("/staff").text or "khóa" in admin.get("/staff").text
    assert _post(admin, f"/staff/{user}/unlock").status_code == 303  # type: ignore[attr-defined]
    sign_in(browser(), "officer", PASSWORD)
    assert _audit(settings_env)[-1][2] == {
        "locked_until": [(NOW + timedelta(minutes=10)).isoformat(), None]
    }


def test_a_new_token_is_shown_once_and_works(
    signed_in: Callable[[str], TestClient],
    browser: Callable[..., TestClient],
    settings_env: str,
) -> None:
    admin = signed_in("admin")
    user = _id_of(admin, "officer")
    response = _post(admin, f"/staff/{user}/token")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    token = re.search(r'<code class="secret">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert token
    client = browser(headers={"Authorization": f"Bearer {token.group(1)}"})
    assert client.get("/api/v1/me").status_code == 200
    assert token.group(1) not in admin.get(f"/staff/{user}").text
    assert _audit(settings_env)[-1][:2] == ("token", "admin")
    assert token.group(1) not in str(_audit(settings_env))


def test_forms_need_the_csrf_token_and_unknown_users_are_404(
    signed_in: Callable[[str], TestClient],
) -> None:
    admin = signed_in("admin")
    user = _id_of(admin, "officer")
    forged = admin.post(f"/staff/{user}/deactivate", data={"csrf": "x"})
    assert forged.status_code == 403
    assert admin.get("/staff/999999").status_code == 404
    assert _post(admin, "/staff/999999/unlock").status_code == 404  # type: ignore[attr-defined]
    assistant = signed_in("assistant")
    csrf = csrf_of(assistant.get("/").text)
    refused = assistant.post(f"/staff/{user}/deactivate", data={"csrf": csrf})
    assert refused.status_code == 403
