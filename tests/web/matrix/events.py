"""Events' routes for the area-limit matrix: list, compose, page, status change, export, API."""

from __future__ import annotations

from tests.web.matrix import Probe

_NEW = {
    "kind": "meeting",
    "title": "Họp đối thoại với hộ nghèo",
    "commune": "{commune}",
    "starts_at": "2026-12-05T08:00",
    "place": "Nhà văn hóa thôn",
    "audience": "category=poor",
    "status": "planned",
    "action": "preview",
}

PROBES = [
    Probe("GET", "/events"),
    Probe("GET", "/events?show=all"),
    Probe("GET", "/events/new", capability="compose"),
    Probe("POST", "/events/new", capability="compose", data=_NEW),
    Probe("POST", "/events/new", capability="compose", data={**_NEW, "action": "create"}),
    Probe(
        "POST",
        "/events/new",
        capability="compose",
        data={**_NEW, "commune": "", "audience": "commune={commune}"},
    ),
    Probe("GET", "/events/{event}"),
    Probe("POST", "/events/{event}/status", capability="compose", data={"status": "confirmed"}),
    Probe(
        "POST",
        "/events/{event}/status",
        capability="compose",
        data={"status": "postponed", "starts_at": "2026-12-20T08:00"},
    ),
    Probe("GET", "/events/{event}/registrants.xlsx", capability="export"),
    Probe("GET", "/api/v1/events"),
    Probe("GET", "/api/v1/events", data={"upcoming": "true"}),
    Probe("GET", "/api/v1/events/{event}"),
    Probe("GET", "/api/v1/events/{event}/registrants"),
]
