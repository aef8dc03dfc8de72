"""The matrix harness: the probes of every area, the app's routes, and one user's run.

Not a PROBES module (the leading underscore keeps the collector away). tests/web/test_matrix.py
holds the tests; this module holds how a probe is filled, sent and judged.
"""

from __future__ import annotations

import html
import importlib
import io
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from starlette.routing import compile_path

import tests.web.matrix as matrix
from messages.render import _
from tests.web.conftest import csrf_of
from tests.web.matrix import Probe
from tests.web.matrix._world import SHARED, Sessions, changed, make_records, snapshot
from web.api import PREFIX
from web.console.auth import CAPABILITIES

# Routes with no record of a commune behind them: signing in and out, health, providers.
EXEMPT = re.compile(r"^(/login|/logout|/healthz|/static|/webhooks)(/|$)")
ROLES = {"assistant": "assistant", "officer": "officer", "outsider": "assistant", "admin": "admin"}
# Not reaching the route: no session, refused, unknown, wrong method, or the probe's data fails
# validation before the handler runs (fill `data`).
NOT_REAL = {401, 403, 404, 405, 422}
PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")
INVALID = html.escape(_("An address or a form field is not valid."))  # web/errors.py: not run


def collected() -> list[tuple[str, Probe]]:
    """Every area's probes, with the area's module name."""
    found: list[tuple[str, Probe]] = []
    for info in sorted(pkgutil.iter_modules(matrix.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{matrix.__name__}.{info.name}")
            found += [(info.name, probe) for probe in getattr(module, "PROBES", [])]
    return found


def placeholders(probe: Probe) -> set[str]:
    """The placeholders of the path, query and form."""
    return set(PLACEHOLDER.findall(probe.path)) | {
        name for value in probe.data.values() for name in PLACEHOLDER.findall(value)
    }


def record_in_path(probe: Probe) -> bool:
    """Whether the path itself (not its query) names a record of one commune (not only shared
    ones, as a survey): such a record outside the user's areas answers 404."""
    return bool(set(PLACEHOLDER.findall(probe.path.split("?", 1)[0])) - SHARED)


def names_a_record(probe: Probe) -> bool:
    """Whether the path, query or form names a record of one commune."""
    return bool(placeholders(probe) - SHARED)


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def endpoints(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, full path) of every API route of the app, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x includes lazily
    except ImportError:  # older FastAPI: app.routes holds the routes themselves
        found = [(getattr(r, "path", ""), r) for r in app.routes]
    else:
        found = [(c.path or "", c.original_route) for c in iter_route_contexts(app.routes)]
    for path, route in found:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, path


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every console and API route a probe must cover."""
    return [(method, path) for method, path in endpoints(app) if not EXEMPT.match(path)]


def reaches(probe: Probe, method: str, path: str) -> bool:
    """Whether the probe's request would land on this route (ids filled with 1)."""
    sample = PLACEHOLDER.sub("1", probe.path.split("?", 1)[0])
    return probe.method == method and bool(compile_path(path)[0].match(sample))


@dataclass
class Matrix:
    """One user's clients on the started app, the store, and the failures found so far."""

    started: TestClient
    signed_in: Callable[[str], TestClient]
    api: Callable[[str], TestClient]
    user: str
    failures: list[str] = field(default_factory=list)
    _clients: dict[str, TestClient] = field(default_factory=dict)
    _csrf: str = ""

    @property
    def sessions(self) -> Sessions:
        return self.started.app.state.sessions  # type: ignore[attr-defined,no-any-return]

    def open(self) -> Matrix:
        """Sign in and get a token first: both write to the store, a probe must not."""
        self._clients["api"] = self.api(self.user)
        self._clients["console"] = self.signed_in(self.user)
        self._csrf = csrf_of(self._clients["console"].get("/").text)
        return self

    def records(self, commune: str) -> dict[str, str]:
        return self.started.portal.call(make_records, self.sessions, commune)  # type: ignore[union-attr]

    def snapshot(self) -> dict[str, str]:
        return self.started.portal.call(snapshot, self.sessions)  # type: ignore[union-attr]

    def can(self, probe: Probe) -> bool:
        return probe.capability in CAPABILITIES[ROLES[self.user]]

    def send(
        self, probe: Probe, values: dict[str, str], *, csrf: str | None = "session"
    ) -> httpx.Response:
        """The probe's request with the record values filled in."""
        api = probe.path.startswith(PREFIX)
        client = self._clients["api" if api else "console"]
        path = fill(probe.path, values)
        data = {key: fill(value, values) for key, value in probe.data.items()}
        if probe.method == "GET":
            return client.get(path, params=data or None, follow_redirects=False)
        if probe.json:
            return client.request(probe.method, path, json=data, follow_redirects=False)
        if not api and csrf is not None:
            data["csrf"] = self._csrf if csrf == "session" else csrf
        return client.request(probe.method, path, data=data, follow_redirects=False)

    def fail(self, probe: Probe, what: str, response: httpx.Response) -> None:
        body = response.text[:200].replace("\n", " ") if is_text(response) else "(binary)"
        line = f"{self.user}: {probe.method} {probe.path} {what}: got {response.status_code} {body}"
        if line not in self.failures:
            self.failures.append(line)

    def guarded(self, probes: list[Probe], run: Callable[[Probe], object], what: str) -> None:
        """Run probes that must write nothing; when the store changed, find which one did."""
        before = self.snapshot()
        for probe in probes:
            run(probe)
        tables = changed(before, self.snapshot())
        if not tables:
            return
        found = False
        for probe in probes:  # again, one by one, to name the culprit
            before = self.snapshot()
            run(probe)
            if wrote := changed(before, self.snapshot()):
                self.failures.append(
                    f"{self.user}: {probe.method} {probe.path} {what} wrote {wrote}"
                )
                found = True
        if not found:
            self.failures.append(f"{self.user}: the probes {what} wrote {tables}")


def is_text(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return kind.startswith(("text/", "application/json"))


def words(response: httpx.Response) -> str:
    """What a person would read in a response: its text, or every cell of a workbook."""
    if "spreadsheetml" in response.headers.get("content-type", ""):
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        rows = (row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
        return " ".join(str(cell) for row in rows for cell in row if cell is not None)
    return response.text if is_text(response) else ""


def leaked(response: httpx.Response, foreign: dict[str, str]) -> str:
    """A household code of the other commune in the response, if one is there."""
    found = re.search(rf"\b{foreign['commune']}-\d{{5}}\b", words(response))
    return found.group(0) if found else ""


def foreign_probe(m: Matrix, probe: Probe, foreign: dict[str, str]) -> None:
    """With another commune's record: 404 (or 403 without the capability)."""
    response = m.send(probe, foreign)
    expected = {404} if m.can(probe) else {403, 404}
    if not record_in_path(probe):  # named in the query or form: refused, or shows nothing of it
        expected |= {400, 403, 422} if probe.method != "GET" else {200, 400}
    if response.status_code not in expected:
        m.fail(probe, "with another commune's record", response)
    elif response.status_code == 200 and (code := leaked(response, foreign)):
        m.fail(probe, f"with another commune's record shows the household {code}", response)


def own_probe(m: Matrix, probe: Probe, own: dict[str, str], foreign: dict[str, str] | None) -> None:
    """With a record of the user's own commune: works with the capability, 403/404 without."""
    response = m.send(probe, own)
    status = response.status_code
    if not m.can(probe):
        if status not in (403, 404):
            m.fail(probe, "without the capability", response)
        return
    if (
        status in NOT_REAL
        or status >= 500
        or response.headers.get("location", "").startswith("/login")
        or (status == 400 and INVALID in words(response))
    ):
        m.fail(probe, "with the user's own record", response)
    elif (
        foreign and probe.method == "GET" and status == 200 and (code := leaked(response, foreign))
    ):
        m.fail(probe, f"shows another commune's household {code}", response)
