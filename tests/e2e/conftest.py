"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright.

One Loa server for the e2e tests, on a loopback port, as `loa run` has it (the web console,
the sender and the scheduler in one loop) on a demo store in a temporary SQLite file, with
LOA_DEMO=1 (the try-as-a-household page) and a low approval threshold. SMS go to a fake
Kannel inside the process, paced, so a broadcast's progress moves while a test watches.
Its clock starts at 10:00 on 21/11/2026 in Vietnam and runs: quiet hours never hold the test.

Tests skip without /usr/bin/chromium; with LOA_TEST_REQUIRE_CHROMIUM=1 (.ci/run) a skipped
test fails the run (tests/conftest.py). Playwright never downloads a browser here.
Screenshots go to var/e2e-screenshots/ (kept by CI as artifacts).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import create_app
from bot.cli import app as cli_app
from bot.config import Settings, get_settings
from storage.db import create_engine, session_factory
from tests.conftest import NOW
from tests.web.matrix._world import make_records

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e-screenshots"
PASSWORD = "mat-khau-thu-nghiem"
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 800}
SMS_PER_SECOND = 8  # a broadcast to a commune takes several seconds: its progress moves
TIMEOUT_MS = 60_000  # generous: a loaded CI machine signs in (argon2) slowly


class RunningClock:
    """Time that starts at a fixed moment (a weekday morning in Vietnam) and then runs."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)


@dataclass(frozen=True)
class World:
    """The demo store the server runs on."""

    url: str
    mine: str  # the commune of `assistant` and `officer`
    other: str  # the commune of `outsider`
    records: dict[str, str]  # a record of every kind in `mine` (tests/web/matrix/_world.py)
    foreign: dict[str, str]  # ... and in `other`
    folder: Path
    base_url: str = ""


def cli(url: str, *args: str, stdin: str | None = None) -> str:
    """Run `loa ...` in-process against the e2e store; fails the run when it fails."""
    from typer.testing import CliRunner

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app, list(args), input=stdin, env={"LOA_DATABASE_URL": url, "LOA_DEMO": "1"}
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, f"loa {' '.join(args)}: {result.output}"
    return result.output


def _communes(url: str) -> list[str]:
    from sqlalchemy import select

    from storage.models import Commune

    async def read() -> list[str]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(Commune.code).order_by(Commune.code)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _records(url: str, commune: str) -> dict[str, str]:
    async def make() -> dict[str, str]:
        engine = create_engine(url)
        try:
            return await make_records(session_factory(engine), commune)
        finally:
            await engine.dispose()

    return asyncio.run(make())


def build_world(folder: Path) -> World:
    """A migrated demo store: 2 communes, 200 households, the surveys, staff of each role."""
    url = f"sqlite+aiosqlite:///{folder / 'loa.db'}"
    areas, households = folder / "don-vi.xlsx", folder / "ho.csv"
    cli(url, "db", "upgrade")
    cli(url, "demo-data", "--households", "200", "--communes", "2", "--seed", "7",
        "--areas-out", str(areas), "--out", str(households))  # fmt: skip
    cli(url, "import", "areas", str(areas))
    cli(url, "import", "households", str(households), "--skip-invalid")
    surveys = sorted((Path(__file__).resolve().parents[2] / "messages/vi/surveys").glob("*.csv"))
    cli(url, "survey", "import", *map(str, surveys))
    mine, other = _communes(url)[:2]
    for username, role, areas_ in [
        ("admin", "admin", []),
        ("officer", "officer", [mine]),
        ("assistant", "assistant", [mine]),
        ("outsider", "assistant", [other]),
    ]:
        args = ["staff", "add", username, "--role", role, "--password-stdin"]
        for code in areas_:
            args += ["--area", code]
        cli(url, *args, stdin=PASSWORD + "\n")
    return World(url, mine, other, _records(url, mine), _records(url, other), folder)


async def _fake_kannel(request: httpx.Request) -> httpx.Response:
    """Kannel's sendsms: accepted."""
    await asyncio.sleep(0.01)
    return httpx.Response(202, text="0: Accepted for delivery")


def settings_for(world: World) -> Settings:
    return Settings(
        database_url=world.url,
        demo=True,
        secret_key="e2e-secret-key-0123456789",
        approval_threshold=5,
        channel_order="sms",
        kannel_sendsms_url="http://kannel.test/cgi-bin/sendsms",
        kannel_username="loa",
        kannel_password="loa-e2e",
        kannel_from="LOA",
        kannel_secret="e2e-kannel-secret",
        kannel_per_second=SMS_PER_SECOND,
        scheduler_seconds=5,
    )


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo store, and Loa serving it on a loopback port (sender and scheduler running)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    world = build_world(tmp_path_factory.mktemp("e2e"))
    app = create_app(
        settings_for(world),
        clock=RunningClock(NOW),
        transports={"sms": httpx.MockTransport(_fake_kannel)},
        sender=True,
        scheduler=True,
    )
    sock = _free_socket()
    config = uvicorn.Config(app, lifespan="on", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 90  # the lifespan opens the store and the channels
    while not server.started:
        assert thread.is_alive(), "Loa stopped while starting"
        assert time.monotonic() < deadline, "Loa did not start in time"
        time.sleep(0.02)
    try:
        yield World(**{**world.__dict__, "base_url": f"http://127.0.0.1:{sock.getsockname()[1]}"})
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser). Package-scoped: the
    sync API keeps an event loop running in this thread until it stops, and the asyncio tests
    after tests/e2e need none running."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


_taken: list[Path] = []  # this run's screenshots, for the summary


@pytest.fixture(scope="session", autouse=True)
def _fresh_shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()


class Screen:
    """A page in its own browser context, and numbered screenshots of the steps that matter."""

    def __init__(self, page: Any, world: World, name: str) -> None:
        self.page, self.world, self.name, self.step = page, world, name, 0

    def go(self, path: str) -> Any:
        return self.page.goto(self.world.base_url + path)

    def shot(self, what: str) -> Path:
        self.step += 1
        path = SHOTS / f"{self.name}-{self.step:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        return path

    def sign_in(self, username: str) -> None:
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit], form button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.inner_text("body")


@pytest.fixture
def screen(
    world: World, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Screen]]:
    """`screen(viewport=PHONE)`: a fresh browser context on the server, closed after the test."""
    contexts: list[Any] = []
    name = request.node.name.removeprefix("test_")
    name = name if len(name) <= 40 else name[:40].rsplit("_", 1)[0]

    def make(viewport: dict[str, int] = PHONE, accept_downloads: bool = False) -> Screen:
        context = chromium.new_context(
            viewport=viewport, locale="vi-VN", accept_downloads=accept_downloads
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        suffix = f"-{len(contexts)}" if contexts[1:] else ""
        return Screen(context.new_page(), world, name + suffix)

    yield make
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _taken:
        terminalreporter.write_line(f"e2e screenshots ({len(_taken)}): {SHOTS}")
