"""`GET /api/v1/me` (the foundation's) for the area-limit matrix: every role reads itself."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [Probe("GET", "/api/v1/me")]
