"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, a fixed clock.

Tests that take `sessions` (or `engine`) run once per backend. The PostgreSQL run needs
LOA_TEST_PG_URL; without it those runs are skipped, and with LOA_TEST_REQUIRE_PG=1 (set by
.ci/run) a skipped PostgreSQL test fails the whole run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FixedClock
from bot.config import get_settings
from storage.db import create_engine, run_outside_transaction, session_factory
from storage.migrate import upgrade_url
from storage.models import Base

PG_URL = os.environ.get("LOA_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("LOA_TEST_REQUIRE_PG") == "1"
REQUIRE_KANNEL = os.environ.get("LOA_TEST_REQUIRE_KANNEL") == "1"
REQUIRE_CHROMIUM = os.environ.get("LOA_TEST_REQUIRE_CHROMIUM") == "1"  # tests/e2e
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
_skipped_pg: list[str] = []
_skipped_kannel: list[str] = []
_skipped_chromium: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("LOA_TEST_REQUIRE_PG=1 but LOA_TEST_PG_URL is not set")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgresql" in report.keywords:
        _skipped_pg.append(report.nodeid)
    if report.skipped and "kannel" in report.keywords:
        _skipped_kannel.append(report.nodeid)
    if report.skipped and "chromium" in report.keywords:
        _skipped_chromium.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_PG and _skipped_pg:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: {len(_skipped_pg)} PostgreSQL tests were skipped "
                "but LOA_TEST_REQUIRE_PG=1",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if REQUIRE_KANNEL and _skipped_kannel:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: {len(_skipped_kannel)} Kannel tests were skipped "
                "but LOA_TEST_REQUIRE_KANNEL=1",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if REQUIRE_CHROMIUM and _skipped_chromium:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: {len(_skipped_chromium)} browser tests were skipped "
                "but LOA_TEST_REQUIRE_CHROMIUM=1",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("store") / "template.db"
    asyncio.run(upgrade_url(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A migrated PostgreSQL database of its own for this test run, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set LOA_TEST_PG_URL)")
    name = f"loa_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(run_outside_transaction(PG_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade_url(url))
        yield url
    finally:
        asyncio.run(
            run_outside_transaction(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "loa.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    asyncio.run(run_outside_transaction(url, f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return url


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test store."""
    engine = create_engine(store_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory of the test store."""
    return session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at 10:00 on 21/11/2026, Vietnam time."""
    return FixedClock(NOW)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, store_url: str) -> Iterator[str]:
    """Point LOA_DATABASE_URL at the test store for code that reads the settings."""
    monkeypatch.setenv("LOA_DATABASE_URL", store_url)
    get_settings.cache_clear()
    yield store_url
    get_settings.cache_clear()


def loa(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """Run the `loa` command in-process; returns the exit code and what it printed."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def demo(settings_env: str, tmp_path: Path) -> Path:
    """A demo register of 2 communes and 200 households, imported through the CLI."""
    areas, households = tmp_path / "areas.xlsx", tmp_path / "ho.csv"
    code, output = loa(
        "demo-data",
        "--households",
        "200",
        "--communes",
        "2",
        "--seed",
        "7",
        "--areas-out",
        str(areas),
        "--out",
        str(households),
    )
    assert code == 0, output
    assert loa("import", "areas", str(areas))[0] == 0
    code, output = loa("import", "households", str(households), "--skip-invalid")
    assert code == 0, output
    return households
