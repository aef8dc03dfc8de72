"""Broadcasts' routes for the area-limit matrix: list, compose, preview, a broadcast's page
and progress, draft editing, approve, cancel, and the API."""

from __future__ import annotations

from tests.web.matrix import Probe

_TEXT = "Kính gửi bà con: họp thôn tối thứ Bảy."  # no {placeholder}: the harness fills those
_FORM = {"text": _TEXT, "commune": "{commune}", "category": "poor", "action": "preview"}
_JSON = {"text": _TEXT, "audience": "commune={commune} category=poor", "submit": "false"}

PROBES = [
    Probe("GET", "/broadcasts"),
    Probe("GET", "/broadcasts?status=pending_approval"),
    Probe("GET", "/broadcasts/new", capability="compose"),
    Probe("POST", "/broadcasts/new", capability="compose", data=_FORM),
    Probe("POST", "/broadcasts/new", capability="compose", data={**_FORM, "action": "draft"}),
    Probe("POST", "/broadcasts/new", capability="compose", data={**_FORM, "action": "submit"}),
    Probe(
        "POST",
        "/broadcasts/new",
        capability="compose",
        data={"text": _TEXT, "advanced": "commune={commune}", "action": "submit"},
    ),
    Probe("POST", "/broadcasts/preview", capability="compose", data=_FORM),
    Probe("GET", "/broadcasts/{broadcast}"),
    Probe("GET", "/broadcasts/{broadcast}/progress"),
    Probe("GET", "/broadcasts/{broadcast}/progress?format=json"),
    # The matrix's broadcast is pending approval, so these answer with the broadcast's page.
    Probe("GET", "/broadcasts/{broadcast}/edit", capability="compose"),
    Probe("POST", "/broadcasts/{broadcast}/edit", capability="compose", data=_FORM),
    Probe("POST", "/broadcasts/{broadcast}/approve", capability="approve"),
    # An assistant who did not write it is refused with a sentence (400), not by role.
    Probe("POST", "/broadcasts/{broadcast}/cancel"),
    Probe("GET", "/api/v1/broadcasts"),
    Probe("GET", "/api/v1/broadcasts", data={"status": "pending_approval"}),
    Probe("GET", "/api/v1/broadcasts/{broadcast}"),
    Probe("POST", "/api/v1/broadcasts/preview", capability="compose", data=_JSON, json=True),
    Probe("POST", "/api/v1/broadcasts", capability="compose", data=_JSON, json=True),
    Probe("POST", "/api/v1/broadcasts/{broadcast}/approve", capability="approve"),
    Probe("POST", "/api/v1/broadcasts/{broadcast}/cancel"),
]
