"""The JSON API against its own OpenAPI document, with Schemathesis.

Every operation of /api/v1/openapi.json gets generated requests (Hypothesis, a bounded number
per operation), sent with the admin's or an assistant's token through the started app; no
answer may be a server error, and every answer must have a documented status code and match
its schema. Path parameters are now and then a real record of the demo register, so the
checks see the 200 answers too, not only 404s. A failure names the operation and the request.

Schemathesis's own pytest plugin is not used (its lazy loading does not run on pytest 9.2),
only its strategies and checks. SQLite only: the API's SQL is the same on both backends and
the area-limit matrix covers PostgreSQL.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import Communes
from tests.web.matrix._world import make_records
from web.api import OPENAPI_URL

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Examples per operation: valid requests, then invalid ones (the whole run stays near a minute)
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}
REPORT_LINES = 45  # of each failure: Schemathesis repeats itself after that
USERS = ("admin", "assistant")
KINDS = ("followup", "message", "broadcast", "event", "instalment", "village", "commune", "survey")


@pytest.fixture
def store_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the two-backend fixture for this module)."""
    path = tmp_path / "loa.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def real_value(name: str, known: dict[str, str]) -> str | None:
    """A record of the register for a path parameter, when its name says which kind."""
    lowered = name.lower()
    for kind in KINDS:
        if kind in lowered:
            return known[kind]
    if "household" in lowered or lowered == "code":
        return known["household"]
    return None


def send(client: TestClient, kwargs: dict[str, Any]) -> Any:
    """A request Schemathesis serialised for `requests`, sent through the test client."""
    kwargs = dict(kwargs)
    body = kwargs.pop("data", None)
    if isinstance(body, bytes | str):
        kwargs["content"] = body
    elif body is not None:
        kwargs["data"] = body
    kwargs.pop("auth", None)
    headers = kwargs.pop("headers", None) or {}
    kwargs["headers"] = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    client.cookies.clear()
    client.cookies.update(kwargs.pop("cookies", None) or {})
    return client.request(**kwargs, follow_redirects=False)


def exercise(
    operation: Any, mode: GenerationMode, clients: dict[str, TestClient], known: dict[str, str]
) -> None:
    """Generated requests for one operation; raises the first failure (not shrunk: time)."""

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(USERS), label="user")
        if case.path_parameters and data.draw(st.booleans(), label="a real record"):
            for name in list(case.path_parameters):
                if (value := real_value(name, known)) is not None:
                    case.path_parameters[name] = value
        client = clients[user]
        response = send(client, case.as_transport_kwargs(base_url=str(client.base_url)))
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_api_answers_as_its_openapi_document_says(
    staff: Communes, started: TestClient, api: Callable[[str], TestClient]
) -> None:
    spec = started.get(OPENAPI_URL)
    assert spec.status_code == 200, spec.text
    schema = schemathesis.openapi.from_dict(spec.json())
    sessions = started.app.state.sessions  # type: ignore[attr-defined]
    known = started.portal.call(make_records, sessions, staff.mine)  # type: ignore[union-attr]
    clients = {user: api(user) for user in USERS}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document has no operations"
    failures = []
    for operation in operations:
        for mode in EXAMPLES:
            try:
                exercise(operation, mode, clients, known)
            except Unsatisfiable:  # nothing invalid to send: no parameter and no body
                continue
            except Exception as exc:  # every operation is tried; all failures are reported
                report = "\n".join(str(exc).splitlines()[:REPORT_LINES])
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}):\n{report}")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
