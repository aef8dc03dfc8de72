"""The inbox's routes for the area-limit matrix."""

from __future__ import annotations

from tests.web.matrix import Probe

PROBES = [
    Probe("GET", "/inbox"),
    Probe("GET", "/inbox?state=all&commune={commune}"),
    Probe("GET", "/inbox/{message}"),
    Probe("POST", "/inbox/{message}/reply", capability="work", data={"text": "Dạ, xã đã nhận."}),
    Probe("POST", "/inbox/{message}/followup", capability="work", data={"kind": "feedback"}),
    Probe("POST", "/inbox/{message}/handled", capability="work"),
]
