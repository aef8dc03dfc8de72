"""The staff pages, the audit log and "try as a household" for the area-limit matrix.

Staff and the audit log are admins' only (everyone else: 403). The try-as-a-household
routes exist only in the demo: the harness's app must be built with LOA_DEMO=1 for them
(outside the demo every /try route answers 404, which tests/web/test_tryout.py checks).
Order matters for the admin's posts on {staff}: deactivate comes before activate, so the
colleague is active again afterwards.
"""

from __future__ import annotations

from tests.web.matrix import Probe

NEW_PASSWORD = "mat-khau-ma-tran-dai"

PROBES = [
    # staff (admin)
    Probe("GET", "/staff", capability="admin"),
    Probe("GET", "/staff/{staff}", capability="admin"),
    Probe(
        "POST",
        "/staff",
        capability="admin",
        data={
            "username": "matrix.new",
            "role": "assistant",
            "areas": "{commune}",
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    ),
    Probe(
        "POST",
        "/staff/{staff}",
        capability="admin",
        data={"role": "officer", "areas": "{commune}"},
    ),
    Probe(
        "POST",
        "/staff/{staff}/password",
        capability="admin",
        data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    ),
    Probe("POST", "/staff/{staff}/deactivate", capability="admin"),
    Probe("POST", "/staff/{staff}/activate", capability="admin"),
    Probe("POST", "/staff/{staff}/unlock", capability="admin"),
    Probe("POST", "/staff/{staff}/token", capability="admin"),
    # the audit log (admin)
    Probe("GET", "/audit", capability="admin"),
    Probe("GET", "/audit?entity=households&since=2026-11-01", capability="admin"),
    # try as a household (demo only; every role)
    Probe("GET", "/try"),
    Probe("GET", "/try?household={household}"),
    Probe("GET", "/try/{household}"),
    Probe("GET", "/try/{household}/messages"),
    Probe("POST", "/try/{household}/send", data={"text": "1"}),
    Probe("POST", "/try/{household}/survey", data={"form_id": "training"}),
]
