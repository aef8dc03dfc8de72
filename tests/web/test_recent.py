"""Wide views' figures are counted at most once a minute; a commune's are always live."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import web.console.overview
import web.recent
from web.recent import Recent

AT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


async def test_a_view_is_kept_for_a_minute_then_counted_again() -> None:
    recent, counts = Recent(), iter(range(100))

    async def count() -> int:
        return next(counts)

    first = await recent.get("province", AT, count)
    assert (first.value, first.at) == (0, AT)
    assert (await recent.get("province", AT + timedelta(seconds=59), count)).value == 0
    assert (await recent.get("other", AT, count)).value == 1  # each view its own count
    again = await recent.get("province", AT + timedelta(seconds=60), count)
    assert (again.value, again.at) == (2, AT + timedelta(seconds=60))
    assert (await recent.get("province", AT, count)).value == 3  # a clock moved back: recount


async def test_only_the_most_recently_read_views_are_kept() -> None:
    recent, calls = Recent(size=2), []

    async def count() -> None:
        calls.append(1)

    for key in ("a", "b", "a", "c", "a", "b"):
        await recent.get(key, AT, count)
    assert len(calls) == 4  # a, b, c counted; b was dropped for c, so counted again


def test_a_wide_overview_is_counted_once_a_minute_and_says_when(
    console: FastAPI,
    signed_in: Callable[[str], TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web.recent, "NARROW", 1)  # the test's two communes count as wide
    calls: list[Any] = []
    real = web.console.overview.overview

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("commune"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(web.console.overview, "overview", counting)
    admin, assistant = signed_in("admin"), signed_in("assistant")
    first = admin.get("/")
    assert first.status_code == 200
    assert "tính lại mỗi phút" in first.text
    assert admin.get("/").status_code == 200
    assert len(calls) == 1  # the second view came from the first count
    console.state.clock.advance(timedelta(seconds=61))
    admin.get("/")
    assert len(calls) == 2
    for _ in range(2):  # one commune: counted every time, and no "counted at" line
        page = assistant.get("/")
        assert "tính lại mỗi phút" not in page.text
    assert len(calls) == 4
