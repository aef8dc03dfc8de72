"""Loans' routes for the area-limit matrix: the due and overdue lists, filters, the uploads.

The upload probes carry no file: the harness posts forms only, so they prove the route is
reached and refuses (a sentence beside the file field) without writing; the scope check of the
files themselves is tested in tests/web/test_loans.py.
"""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/loans"),
    Probe("GET", "/loans?view=overdue"),
    Probe("GET", "/loans?commune={commune}"),
    Probe("GET", "/loans?view=overdue&village={village}"),
    Probe("GET", "/loans/import", capability="compose"),
    Probe("POST", "/loans/import", capability="compose"),
    Probe("POST", "/loans/repayments", capability="compose"),
]
