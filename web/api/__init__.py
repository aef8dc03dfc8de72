"""The JSON API at /api/v1: the console's data for scripts and other systems.

Every route takes `web.api.auth.ApiStaff` (or `api_allowed(...)`), limits its queries to
`staff.scope`, pages its lists with `web.api.pages`, and answers errors as {"detail": "..."}.
"""

from __future__ import annotations

from typing import Any

from web.api.pages import ErrorOut

PREFIX = "/api/v1"
OPENAPI_URL = f"{PREFIX}/openapi.json"

# Declared on every API router, so the OpenAPI document lists the errors clients will see.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The token's role does not allow this"},
    404: {"model": ErrorOut, "description": "Not found, or outside the token's areas"},
}
