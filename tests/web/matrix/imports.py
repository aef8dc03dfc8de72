"""Imports' routes for the area-limit matrix: the page and the two uploads (forms without a
file: reached and refused; files of another commune are tested in tests/web/test_imports.py)."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/imports", capability="compose"),
    Probe("POST", "/imports/households", capability="compose", data={"dry_run": "1"}),
    Probe("POST", "/imports/areas", capability="admin", data={"dry_run": "1"}),
]
