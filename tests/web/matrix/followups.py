"""The follow-up queue's routes for the area-limit matrix: pages, export, print, forms, API."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/followups"),
    Probe("GET", "/followups?commune={commune}"),
    Probe("GET", "/followups?village={village}&status=all"),
    Probe("GET", "/followups/export.xlsx", capability="export"),
    Probe("GET", "/followups/export.xlsx?commune={commune}", capability="export"),
    Probe("GET", "/followups/print"),
    Probe("GET", "/followups/print?village={village}"),
    Probe("GET", "/followups/{followup}"),
    Probe("POST", "/followups/{followup}/assign", capability="work", data={"assignee": "me"}),
    Probe("POST", "/followups/{followup}/status", capability="work", data={"status": "done"}),
    Probe("POST", "/followups/{followup}/due", capability="work", data={"due_on": "2026-12-31"}),
    Probe(
        "POST", "/followups/{followup}/note", capability="work", data={"note": "Đã gọi điện hỏi."}
    ),
    Probe("GET", "/api/v1/followups"),
    Probe("GET", "/api/v1/followups", data={"commune": "{commune}"}),
    Probe("GET", "/api/v1/followups", data={"village": "{village}", "status": "all"}),
    Probe("GET", "/api/v1/followups/{followup}"),
    Probe(
        "POST",
        "/api/v1/followups/{followup}",
        capability="work",
        data={"status": "done"},
        json=True,
    ),
    Probe(
        "PATCH",
        "/api/v1/followups/{followup}",
        capability="work",
        data={"note": "Đã hẹn thăm hộ."},
        json=True,
    ),
]
