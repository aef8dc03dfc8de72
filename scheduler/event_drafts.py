"""An event as staff describe it, and what can be checked of it without the store. Pure.

Details differ by kind (a class has a trade and a fee waiver, a job session employers and a
number of jobs...); a key a kind does not take is refused with the list of those it does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.dialogue.answers import read_yes_no
from messages.render import _, day
from storage.models.events import (
    CONFIRMED,
    DISTRIBUTION,
    EVENT_KINDS,
    JOB_SESSION,
    MEETING,
    PLANNED,
    TRAINING,
    TRANSACTION_DAY,
)

TEXT, YES_NO, COUNT = "text", "yes/no", "number"
# The details each kind takes and what each holds; `bring` (documents to bring) fits every kind.
DETAILS: dict[str, dict[str, str]] = {
    TRAINING: {
        **{"trade": TEXT, "level": TEXT, "fee_waiver": YES_NO, "allowance": TEXT},
        **{"class_days": TEXT, "bring": TEXT},
    },
    JOB_SESSION: {"employers": TEXT, "jobs": COUNT, "bring": TEXT},
    TRANSACTION_DAY: {"bring": TEXT},
    MEETING: {"topic": TEXT, "bring": TEXT},
    DISTRIBUTION: {"items": TEXT, "bring": TEXT},
}
CREATABLE = (PLANNED, CONFIRMED)  # a new event is planned or confirmed, never called off


class EventError(ValueError):
    """An event that cannot be created or changed; one Vietnamese sentence."""


@dataclass(frozen=True)
class EventDraft:
    """An event as staff describe it, before it is checked and stored."""

    kind: str
    title: str
    starts_at: datetime
    place: str
    audience: str
    ends_at: datetime | None = None
    commune_code: str | None = None
    status: str = PLANNED
    register_by: date | None = None
    min_size: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    notice: str | None = None  # None: composed from the kind and details
    feedback_form: str | None = None


def parse_details(kind: str, pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` words into the details of a kind; EventError names the keys it takes."""
    _check_kind(kind)
    known = DETAILS[kind]
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in known:
            raise _unknown_detail(kind, key)
        found[key] = _detail(key, known[key], value)
    return found


def _check_kind(kind: str) -> None:
    if kind not in EVENT_KINDS:
        message = _("The kind of event must be one of: {known}.")
        raise EventError(message.format(known=", ".join(EVENT_KINDS)))


def _unknown_detail(kind: str, key: str) -> EventError:
    message = _("An event of kind {kind} has no detail “{key}”; it takes: {keys}.")
    keys = ", ".join(f"{k}=…" for k in DETAILS[kind])
    return EventError(message.format(kind=kind, key=key, keys=keys))


def _detail(key: str, kind: str, value: str) -> Any:
    if kind == YES_NO:
        reading = read_yes_no(value)
        if reading is None:
            raise EventError(_("The detail {key} must be yes or no.").format(key=key))
        return reading
    if kind == COUNT:
        if not value.isdigit() or int(value) < 1:
            raise EventError(_("The detail {key} must be a whole number above 0.").format(key=key))
        return int(value)
    if not value:
        raise EventError(_("The detail {key} is empty.").format(key=key))
    return value


def check(draft: EventDraft, *, now: datetime, zone: ZoneInfo) -> None:
    """What can be checked without the store: kind, status, times, deadline, size."""
    _check_kind(draft.kind)
    if draft.status not in CREATABLE:
        message = _("A new event is planned or confirmed; its status cannot be {status}.")
        raise EventError(message.format(status=draft.status))
    if not draft.title.strip() or not draft.place.strip():
        raise EventError(_("An event needs a title and a place."))
    if draft.starts_at <= now:
        raise EventError(_("The event's time is already past; give a time from now on."))
    if draft.ends_at is not None and draft.ends_at <= draft.starts_at:
        raise EventError(_("The event must end after it starts."))
    if draft.register_by is not None:
        today, first_day = now.astimezone(zone).date(), draft.starts_at.astimezone(zone).date()
        if draft.register_by < today:
            raise EventError(_("The registration deadline is already past."))
        if draft.register_by > first_day:
            raise EventError(
                _("The registration deadline {deadline} is after the event ({date}).").format(
                    deadline=day(draft.register_by), date=day(first_day)
                )
            )
    if draft.min_size is not None and draft.min_size < 1:
        raise EventError(_("The minimum size must be at least 1."))
    if unknown := [k for k in draft.details if k not in DETAILS[draft.kind]]:
        raise _unknown_detail(draft.kind, unknown[0])
