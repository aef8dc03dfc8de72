"""The area-limit matrix: every console page, export and API route, for every role.

Each area of the console lists its routes in `tests/web/matrix/<area>.py` as `PROBES`. A path
names the record it reaches with a placeholder; the harness (tests/web/test_matrix.py) fills it
once with a record of the user's own commune (the probe must then work: no 403/404) and once
with a record of the other commune (it must answer 404 and change nothing in the store).

Placeholders: {household} (a household code), {followup} (a follow-up id), {message} (an
inbound message id), {broadcast} (a broadcast id), {event} (an event id), {commune} (a commune
code), {village} (a village id), {instalment} (a loan instalment id), {staff} (the id of a
staff user, not an admin, of that commune). Shared by every commune (so never "another
commune's"): {survey} (a survey id) and {round} (a round of it, started for every household).
Placeholders may stand in the path, its query, or the values of `data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Probe:
    """One route to try."""

    method: Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
    path: str  # e.g. "/households/{household}" or "/api/v1/households/{household}"
    capability: str = "read"  # what the role needs: read, export, work, compose, approve, admin
    data: dict[str, str] = field(default_factory=dict)  # form fields (CSRF is added) or JSON
    json: bool = False  # an API call with a JSON body instead of a form
