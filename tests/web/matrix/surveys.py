"""Survey routes for the area-limit matrix.

A survey (a form) and its rounds belong to no area ({survey} and {round} are shared); what
belongs to a commune is its households' answers, so the probes name the commune in the
results' filter and in a round's audience. Another commune answers 404 in a filter, and a
round's audience naming it is refused beside the field (400), storing nothing. The round
probe only counts the audience (no `confirm`), so it writes nothing either.
"""

from __future__ import annotations

from tests.web.matrix import Probe

ROUND = {"audience": "commune={commune}", "deadline": "2026-12-05T17:00", "reminders": "2"}

PROBES = [
    Probe("GET", "/surveys"),
    Probe("GET", "/surveys/{survey}"),
    Probe("GET", "/surveys/{survey}/results?round={round}&commune={commune}"),
    Probe("GET", "/surveys/{survey}/results.csv?commune={commune}", capability="export"),
    Probe("GET", "/surveys/{survey}/results.xlsx?commune={commune}", capability="export"),
    Probe("POST", "/surveys/upload", capability="compose"),
    Probe("GET", "/surveys/{survey}/rounds/new", capability="compose"),
    Probe("POST", "/surveys/{survey}/rounds", capability="compose", data=ROUND),
    Probe("GET", "/api/v1/surveys"),
    Probe("GET", "/api/v1/surveys/{survey}"),
    Probe("GET", "/api/v1/surveys/{survey}/results?round={round}&commune={commune}"),
]
