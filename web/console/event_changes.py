"""Changing an event from its page: the new status, start and place, checked as far as the
form can before `scheduler.events.update` checks the rest (as `loa event update` does)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from messages.render import _
from scheduler.event_drafts import EventError
from storage.models.events import CANCELLED, CONFIRMED, PLANNED, POSTPONED
from web.console.event_forms import TEXT_LIMIT, parse_moment

CHANGES = (CONFIRMED, POSTPONED, CANCELLED)  # what staff change an event to


class ChangeRefused(Exception):
    """A change refused: the field and the sentence."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def wanted_change(values: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The status, start and place asked for, checked as far as the form can."""
    status = values["status"] or None
    if status is not None and status not in (PLANNED, *CHANGES):
        message = _("The status must be one of: {known}.")
        raise ChangeRefused("status", message.format(known=", ".join((PLANNED, *CHANGES))))
    starts_at = None
    if values["starts_at"]:
        try:
            starts_at = parse_moment(values["starts_at"], zone)
        except EventError as error:
            raise ChangeRefused("starts_at", str(error)) from None
    if len(values["place"]) > TEXT_LIMIT:
        message = _("This text is longer than {n} characters.").format(n=TEXT_LIMIT)
        raise ChangeRefused("place", message)
    return {"status": status, "starts_at": starts_at, "place": values["place"] or None}
