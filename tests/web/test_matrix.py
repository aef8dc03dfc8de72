"""The area-limit matrix: every console page, export and API route, for every role.

Each area lists its routes as `PROBES` in tests/web/matrix/<area>.py. For each role, every
probe naming a record is sent with a record of another commune (nothing written; 404 for a record
in the path, as a record outside the user's areas does not exist for them; in a query or form,
404, a refusal or a page showing none of it), and every probe with a record of the user's
own commune (it must work when the role has the capability, which proves the probe reaches
the route; without it, 403 or 404 and nothing written). Pages must not show another commune's
households. Coverage tests fail when a route has no probe, and every console form post must
be refused, writing nothing, without its CSRF token. The harness is tests/web/matrix/_harness.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings, get_settings
from tests.conftest import loa
from tests.web.conftest import Communes
from tests.web.matrix import Probe
from tests.web.matrix._harness import (
    PLACEHOLDER,
    PREFIX,
    Matrix,
    collected,
    endpoints,
    foreign_probe,
    names_a_record,
    own_probe,
    placeholders,
    reaches,
    routes,
)
from tests.web.matrix._world import PLACEHOLDERS
from web.console.auth import CAPABILITIES

PROBES = [probe for _, probe in collected()]


@pytest.fixture(autouse=True)
def _demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """LOA_DEMO=1: the try-as-a-household routes exist only in the demo."""
    monkeypatch.setenv("LOA_DEMO", "1")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The app's routes (not started: no store is opened)."""
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", demo=True))


def _unprobed(app: FastAPI, *, with_record: bool) -> list[str]:
    return [
        f"{method} {path}"
        for method, path in routes(app)
        if ("{" in path) == with_record and not any(reaches(p, method, path) for p in PROBES)
    ]


def test_every_route_with_a_record_in_its_path_has_a_probe(app: FastAPI) -> None:
    missing = _unprobed(app, with_record=True)
    assert not missing, "routes missing from tests/web/matrix/*.py PROBES:\n" + "\n".join(missing)


def test_every_page_export_and_api_route_has_a_probe(app: FastAPI) -> None:
    missing = _unprobed(app, with_record=False)
    assert not missing, "routes missing from tests/web/matrix/*.py PROBES:\n" + "\n".join(missing)


def test_every_probe_names_a_route_placeholders_and_a_capability(app: FastAPI) -> None:
    known = routes(app)
    capabilities = set().union(*CAPABILITIES.values())
    wrong = []
    for area, probe in collected():
        if not any(reaches(probe, method, path) for method, path in known):
            wrong.append(f"{area}: {probe.method} {probe.path}: no such route")
        if unknown := placeholders(probe) - set(PLACEHOLDERS):
            wrong.append(f"{area}: {probe.path}: unknown placeholders {sorted(unknown)}")
        if probe.capability not in capabilities:
            wrong.append(f"{area}: {probe.path}: unknown capability {probe.capability}")
    assert not wrong, "\n".join(wrong)


def start_a_survey() -> None:
    """A survey with a round for the survey probes (the demo register has none): survey 1,
    round 1, as {survey} and {round} name them."""
    form = Path(__file__).resolve().parents[2] / "messages/vi/surveys/training.csv"
    for args in [
        ("survey", "import", str(form)),
        ("survey", "start", "training", "--audience", "all", "--deadline", "2026-12-05T17:00"),
    ]:
        code, output = loa(*args, *(["--yes"] if "start" in args else []))
        assert code == 0, output


def check_foreign(m: Matrix, other: str) -> None:
    """Every probe naming a record, with another commune's: 404 (or 403), nothing written."""
    foreign = m.records(other)
    records = [p for p in PROBES if names_a_record(p)]
    m.guarded(records, lambda p: foreign_probe(m, p, foreign), "with another commune's record")


def check_own(m: Matrix, mine: str, other: str | None, probes: list[Probe]) -> None:
    """Probes with the user's own records: 403/404 and nothing written without the
    capability; with it, the route is reached (and shows nothing of the other commune)."""
    own = m.records(mine)
    foreign = None if other is None else m.records(other)
    lacking = [p for p in probes if not m.can(p)]
    m.guarded(lacking, lambda p: own_probe(m, p, own, foreign), "without the capability")
    for probe in [p for p in probes if m.can(p) and p.method == "GET"]:
        own_probe(m, probe, own, foreign)
    for probe in [p for p in probes if m.can(p) and p.method != "GET"]:
        own_probe(m, probe, m.records(mine), foreign)  # a fresh record: a post may change it


def check_user(m: Matrix, staff: Communes) -> None:
    """The assistant and the officer go through everything; the outsider (an assistant of the
    other commune) tries the first commune's records; the admin, what only an admin may do."""
    if m.user == "outsider":
        check_foreign(m, staff.mine)
    elif m.user == "admin":
        ordinary = CAPABILITIES["assistant"] | CAPABILITIES["officer"]
        check_own(m, staff.mine, None, [p for p in PROBES if p.capability not in ordinary])
    else:
        check_foreign(m, staff.other)
        check_own(m, staff.mine, staff.other, PROBES)


def test_each_role_reaches_its_own_records_and_nothing_of_another_commune(
    staff: Communes,
    started: TestClient,
    signed_in: Callable[[str], TestClient],
    api: Callable[[str], TestClient],
) -> None:
    if any(p.path.startswith(("/surveys", "/api/v1/surveys")) for p in PROBES):
        start_a_survey()
    # One store for every role: the demo register takes seconds to build.
    failures: list[str] = []
    for user in ("assistant", "officer", "outsider", "admin"):
        m = Matrix(started, signed_in, api, user).open()
        check_user(m, staff)
        failures += m.failures
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


def test_every_console_form_post_needs_the_csrf_token(
    staff: Communes,
    started: TestClient,
    signed_in: Callable[[str], TestClient],
    api: Callable[[str], TestClient],
) -> None:
    m = Matrix(started, signed_in, api, "admin").open()
    posts = [
        (method, path)
        for method, path in endpoints(started.app)  # type: ignore[arg-type]
        if method != "GET" and not path.startswith((PREFIX, "/webhooks"))
    ]
    assert posts, "no console form posts"
    probes = []
    for method, path in posts:
        probe = next((p for p in PROBES if reaches(p, method, path)), None)
        if probe is None and not PLACEHOLDER.search(path):
            probe = Probe(method, path)  # type: ignore[arg-type]
        if probe is not None:  # else no probe fills it: the coverage test names it
            probes.append(probe)
    values = m.records(staff.mine)

    def refused(probe: Probe) -> None:
        for token in (None, "not-the-session-token"):
            response = m.send(probe, values, csrf=token)
            if response.status_code != 403:
                m.fail(probe, f"with csrf={token!r}", response)

    m.guarded(probes, refused, "without the session's CSRF token")
    assert not m.failures, f"{len(m.failures)} failures:\n" + "\n".join(m.failures)
