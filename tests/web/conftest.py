"""The console and API on the demo register: staff of each role, signed-in clients.

`console` is the app running on the demo store (2 communes, 200 households) with the fixed
clock. `staff` creates users; `signed_in(username)` gives a browser signed in as one;
`api(username)` a client carrying that user's API token. The first commune is the
assistant's and officer's; the second is "the other commune" for the area-limit tests.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import get_settings
from storage.db import create_engine, session_factory
from storage.models import Commune
from tests.conftest import NOW, loa

PASSWORD = "mat-khau-thu-nghiem"
BASE_URL = "https://testserver"  # cookies are Secure over https


@dataclass(frozen=True)
class Communes:
    mine: str  # the commune the assistant and the officer cover
    other: str  # a commune they do not cover


def _communes(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(Commune.code).order_by(Commune.code)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def communes(demo: object, settings_env: str) -> Communes:
    codes = _communes(settings_env)
    return Communes(mine=codes[0], other=codes[1])


def add_staff(username: str, role: str, *areas: str) -> None:
    args = ["staff", "add", username, "--role", role, "--password-stdin"]
    for area in areas:
        args += ["--area", area]
    code, output = loa(*args, stdin=PASSWORD + "\n")
    assert code == 0, output


@pytest.fixture
def staff(communes: Communes) -> Communes:
    """admin (everything), officer and assistant (the first commune), and an assistant of the
    second commune (`outsider`)."""
    add_staff("admin", "admin")
    add_staff("officer", "officer", communes.mine)
    add_staff("assistant", "assistant", communes.mine)
    add_staff("outsider", "assistant", communes.other)
    return communes


@pytest.fixture
def started(staff: Communes) -> Iterator[TestClient]:
    """The app, started (its store open) for the test, with an anonymous browser."""
    app = create_app(get_settings(), clock=FixedClock(NOW))
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def console(started: TestClient) -> FastAPI:
    return started.app  # type: ignore[return-value]


@pytest.fixture
def browser(started: TestClient) -> Callable[..., TestClient]:
    """Another client of the started app: its own cookies, the app's event loop (asyncpg's
    connections belong to one loop)."""

    def make(**options: object) -> TestClient:
        options.setdefault("base_url", BASE_URL)
        client = TestClient(started.app, **options)  # type: ignore[arg-type]
        client.portal = started.portal
        return client

    return make


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def signed_in(browser: Callable[..., TestClient]) -> Callable[[str], TestClient]:
    """A new browser signed in as a user (the app is already started)."""

    def make(username: str) -> TestClient:
        return sign_in(browser(), username)

    return make


@pytest.fixture
def api(browser: Callable[..., TestClient]) -> Callable[[str], TestClient]:
    """A client sending a fresh API token of a user."""

    def make(username: str) -> TestClient:
        code, output = loa("staff", "token", username)
        assert code == 0, output
        token = output.strip().splitlines()[-1].strip()
        return browser(headers={"Authorization": f"Bearer {token}"})

    return make
