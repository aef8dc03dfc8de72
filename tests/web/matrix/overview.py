"""The overview's routes for the area-limit matrix."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/"),
    Probe("GET", "/?commune={commune}"),
]
