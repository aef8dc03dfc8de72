"""Signing in and out: the session cookie, CSRF on every form, the lockout, API tokens."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import loa
from tests.web.conftest import PASSWORD, csrf_of, sign_in


def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    browser: Callable[..., TestClient],
) -> None:
    client = browser()
    response = client.get("/?commune=1&x=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fcommune%3D1%26x%3D2"
    form = client.get("/login?next=/followups")
    assert 'name="username"' in form.text
    assert 'name="password"' in form.text
    assert 'value="/followups"' in form.text


def test_signing_in_sets_a_safe_cookie_and_returns_where_the_user_was_going(
    browser: Callable[..., TestClient],
) -> None:
    client = browser()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "assistant",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "/households",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/households"
    cookie = response.headers["set-cookie"]
    assert "loa_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" in cookie
    assert client.get("/", follow_redirects=False).status_code == 200


def test_the_next_address_never_leaves_the_site(browser: Callable[..., TestClient]) -> None:
    client = browser()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "assistant",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_over_plain_http_the_cookie_is_not_marked_secure(
    browser: Callable[..., TestClient],
) -> None:
    client = browser(base_url="http://testserver")
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "assistant", "password": PASSWORD, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert "Secure" not in response.headers["set-cookie"]


def test_a_wrong_password_is_refused_in_vietnamese(browser: Callable[..., TestClient]) -> None:
    client = browser()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "assistant", "password": "sai-mat-khau", "csrf": csrf_of(form.text)},
    )
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert "loa_session" not in client.cookies


def test_the_sign_in_form_needs_its_csrf_token(browser: Callable[..., TestClient]) -> None:
    client = browser()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "assistant", "password": PASSWORD, "csrf": "forged"}
    )
    assert response.status_code == 403
    assert "loa_session" not in client.cookies


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    browser: Callable[..., TestClient],
) -> None:
    client = browser()
    for _ in range(4):
        form = client.get("/login")
        wrong = {"username": "officer", "password": "wrong-password", "csrf": csrf_of(form.text)}
        assert client.post("/login", data=wrong).status_code == 401
    form = client.get("/login")
    locked = client.post(
        "/login",
        data={"username": "officer", "password": "wrong-password", "csrf": csrf_of(form.text)},
    )
    assert locked.status_code == 429
    assert "bị khóa 15 phút" in locked.text
    form = client.get("/login")
    right = client.post(
        "/login", data={"username": "officer", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert right.status_code == 429
    # the others are not affected
    sign_in(browser(), "assistant")


def test_signing_out_ends_the_session_and_needs_the_csrf_token(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("assistant")
    page = client.get("/")
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    stolen = client.cookies.get("loa_session")
    assert stolen is None
    assert client.get("/", follow_redirects=False).status_code == 303


def test_api_tokens_authenticate_and_a_new_one_replaces_the_old(
    api: Callable[[str], TestClient], browser: Callable[..., TestClient]
) -> None:
    first = api("officer")
    assert first.get("/api/v1/me").status_code == 200
    second = api("officer")
    assert first.get("/api/v1/me").status_code == 401
    assert second.get("/api/v1/me").status_code == 200
    anonymous = browser()
    response = anonymous.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "detail" in response.json()
    assert loa("staff", "token", "nobody")[0] != 0


def test_passwords_and_tokens_never_reach_the_logs(
    browser: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = browser()
    form = client.get("/login")
    client.post("/login", data={"username": "assistant", "password": "sai-mat-khau-9", "csrf": "x"})
    client.post(
        "/login",
        data={"username": "assistant", "password": "sai-mat-khau-9", "csrf": csrf_of(form.text)},
    )
    sign_in(client, "assistant")
    assert "sai-mat-khau-9" not in caplog.text
    assert PASSWORD not in caplog.text
    assert client.cookies["loa_session"] not in caplog.text
