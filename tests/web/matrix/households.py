"""The household pages' and API routes for the area-limit matrix (all read-only)."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/households/{household}"),
    Probe("GET", "/households/{household}?page=2"),
    Probe("GET", "/households?commune={commune}"),
    Probe("GET", "/households?village={village}"),
    Probe("GET", "/households?commune={commune}&q=a&unreachable=1&opted_out=1"),
    Probe("GET", "/communes/{commune}"),
    Probe("GET", "/api/v1/households?commune={commune}"),
    Probe("GET", "/api/v1/households/{household}"),
    Probe("GET", "/api/v1/households/{household}/messages"),
    Probe("GET", "/api/v1/messages?household={household}"),
]
