"""The event form: what staff typed, checked field by field with the CLI's own sentences.

`loa event create` and this form refuse the same things in the same words: the checks here
only put each sentence beside its field, and `scheduler.events.create` checks everything again
before anything is stored. The audience is kept inside the user's communes: an audience that
names no place is limited to the event's commune, and one naming a province, or a commune or
village outside the user's areas, is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import N_, _, day
from scheduler.event_drafts import CREATABLE, DETAILS, YES_NO, EventDraft, EventError, parse_details
from storage import audiences
from storage import console_events as queries
from storage.audience_query import Audience, AudienceError
from storage.models.events import EVENT_KINDS, TRAINING
from storage.scope import Scope

TEXT_LIMIT = 200  # the title and place columns
DETAIL_LIMIT = 500
YEARS = range(2000, 2101)  # a date outside these is a typing slip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_SIZE = 100_000
DETAIL_LABELS = {
    "trade": N_("Trade"),
    "level": N_("Level"),
    "fee_waiver": N_("Fee waived"),
    "allowance": N_("Support for learners"),
    "class_days": N_("Length of the class"),
    "employers": N_("Employers"),
    "jobs": N_("Number of jobs"),
    "items": N_("Handed out"),
    "topic": N_("Topic"),
    "bring": N_("Please bring"),
}


def clean(value: object) -> str:
    """A form field as text: trimmed, without control characters (PostgreSQL refuses NUL)."""
    return _CONTROL.sub("", value).strip() if isinstance(value, str) else ""


@dataclass
class EventForm:
    """The fields as typed, kept to show the form again."""

    kind: str = TRAINING
    title: str = ""
    commune: str = ""
    starts_at: str = ""
    ends_at: str = ""
    place: str = ""
    audience: str = ""
    status: str = "planned"
    register_by: str = ""
    min_size: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> EventForm:
        """The form's fields (unknown ones ignored; the details of the chosen kind only)."""

        def text(name: str) -> str:
            return clean(data.get(name))

        kind = text("kind")
        keys = DETAILS.get(kind, {})
        return cls(
            kind=kind,
            title=text("title"),
            commune=text("commune"),
            starts_at=text("starts_at"),
            ends_at=text("ends_at"),
            place=text("place"),
            audience=text("audience"),
            status=text("status") or "planned",
            register_by=text("register_by"),
            min_size=text("min_size"),
            details={key: text(f"detail_{key}") for key in keys},
        )


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """A date and time as the browser sends it (2026-12-01T08:00), local unless it says."""
    try:
        value = datetime.fromisoformat(text)
        if value.year not in YEARS:
            raise ValueError(text)
    except ValueError:
        raise EventError(
            _("{text} is not a date and time such as 2026-12-01T08:00.").format(text=text)
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_day(text: str) -> date:
    """A date as 2026-12-01 or 01/12/2026."""
    value = text
    parts = text.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        value = f"{parts[2]}-{int(parts[1]):02d}-{int(parts[0]):02d}"
    try:
        found = date.fromisoformat(value)
        if found.year not in YEARS:
            raise ValueError(text)
        return found
    except ValueError:
        raise EventError(_("{text} is not a date such as 2026-12-01.").format(text=text)) from None


class _Checker:
    """Collects one sentence per field."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def _texts(form: EventForm, errors: _Checker) -> None:
    if form.kind not in EVENT_KINDS:
        try:
            parse_details(form.kind, [])
        except EventError as error:
            errors.fail("kind", str(error))
    if form.status not in CREATABLE:
        message = _("A new event is planned or confirmed; its status cannot be {status}.")
        errors.fail("status", message.format(status=form.status))
    for name in ("title", "place"):
        value = getattr(form, name)
        if not value:
            errors.fail(name, _("An event needs a title and a place."))
        elif len(value) > TEXT_LIMIT:
            errors.fail(name, _("This text is longer than {n} characters.").format(n=TEXT_LIMIT))


def _details(form: EventForm, errors: _Checker) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if form.kind not in EVENT_KINDS:
        return found
    for key, value in form.details.items():
        if not value:
            continue
        if len(value) > DETAIL_LIMIT:
            message = _("This text is longer than {n} characters.").format(n=DETAIL_LIMIT)
            errors.fail(f"detail_{key}", message)
            continue
        try:
            found.update(parse_details(form.kind, [f"{key}={value}"]))
        except EventError as error:
            errors.fail(f"detail_{key}", str(error))
    return found


def _times(
    form: EventForm, errors: _Checker, *, now: datetime, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None, date | None]:
    starts = ends = None
    deadline = None
    try:
        if not form.starts_at:
            raise EventError(_("Give the day and time the event starts."))
        starts = parse_moment(form.starts_at, zone)
        if starts <= now:
            raise EventError(_("The event's time is already past; give a time from now on."))
    except EventError as error:
        errors.fail("starts_at", str(error))
    try:
        ends = parse_moment(form.ends_at, zone) if form.ends_at else None
        if ends is not None and starts is not None and ends <= starts:
            raise EventError(_("The event must end after it starts."))
    except EventError as error:
        errors.fail("ends_at", str(error))
    try:
        deadline = parse_day(form.register_by) if form.register_by else None
        _check_deadline(deadline, starts, now=now, zone=zone)
    except EventError as error:
        errors.fail("register_by", str(error))
    return starts, ends, deadline


def _check_deadline(
    deadline: date | None, starts: datetime | None, *, now: datetime, zone: ZoneInfo
) -> None:
    if deadline is None:
        return
    if deadline < now.astimezone(zone).date():
        raise EventError(_("The registration deadline is already past."))
    first_day = starts.astimezone(zone).date() if starts else None
    if first_day is not None and deadline > first_day:
        raise EventError(
            _("The registration deadline {deadline} is after the event ({date}).").format(
                deadline=day(deadline), date=day(first_day)
            )
        )


def _min_size(form: EventForm, errors: _Checker) -> int | None:
    if not form.min_size:
        return None
    text = form.min_size.lstrip("-")
    if not text.isdigit() or int(form.min_size) > MAX_SIZE:
        message = _("The minimum size must be a whole number from 1 to {n}.")
        errors.fail("min_size", message.format(n=f"{MAX_SIZE:,}".replace(",", ".")))
        return None
    if int(form.min_size) < 1:
        errors.fail("min_size", _("The minimum size must be at least 1."))
        return None
    return int(form.min_size)


async def scoped_audience(
    session: AsyncSession, text: str, *, commune: str | None, scope: Scope
) -> str:
    """The audience as stored: limited to the event's commune when it names no place, and
    refused (AudienceError) when it reaches outside the user's communes."""
    audience = audiences.parse(text) if text else Audience()
    named = audience.provinces or audience.communes or audience.villages
    if not named and commune:
        audience = replace(audience, everyone=False, communes=(commune,))
    elif not named and not scope.everything:
        raise AudienceError(_("Choose the commune of the event."))
    if not scope.everything:
        if audience.provinces:
            raise AudienceError(
                _("Choose households by commune or village of your areas, not by province.")
            )
        outside = [c for c in audience.communes if not scope.allows(c)]
        villages = await queries.village_communes(session, codes=audience.villages)
        if outside or any(not scope.allows(c) for c in villages):
            names = ", ".join(outside) or ", ".join(audience.villages)
            message = _("The audience reaches outside your areas: {codes}.")
            raise AudienceError(message.format(codes=names))
    resolved = await audiences.resolve(session, str(audience))
    return str(resolved)


async def checked(
    session: AsyncSession,
    form: EventForm,
    *,
    scope: Scope,
    communes: Mapping[str, str],
    now: datetime,
    zone: ZoneInfo,
) -> tuple[EventDraft | None, dict[str, str]]:
    """The draft, or the sentence for each field that is wrong."""
    errors = _Checker()
    _texts(form, errors)
    details = _details(form, errors)
    starts, ends, deadline = _times(form, errors, now=now, zone=zone)
    size = _min_size(form, errors)
    if form.commune and form.commune not in communes:
        errors.fail("commune", _("Choose one of the communes in the list."))
    elif not form.commune and not scope.everything:
        errors.fail("commune", _("Choose the commune of the event."))
    audience = ""
    try:
        if "commune" not in errors.errors:
            audience = await scoped_audience(
                session, form.audience, commune=form.commune or None, scope=scope
            )
    except AudienceError as error:
        errors.fail("audience", str(error))
    if errors.errors or starts is None:
        return None, errors.errors
    draft = EventDraft(
        kind=form.kind,
        title=form.title,
        starts_at=starts,
        ends_at=ends,
        place=form.place,
        audience=audience,
        commune_code=form.commune or None,
        status=form.status,
        register_by=deadline,
        min_size=size,
        details=details,
    )
    return draft, {}


def detail_fields(kind: str) -> list[tuple[str, str, bool]]:
    """The detail fields of a kind: (key, label, is yes/no)."""
    return [
        (key, DETAIL_LABELS[key], what == YES_NO) for key, what in DETAILS.get(kind, {}).items()
    ]


def audit_fields(draft: EventDraft) -> dict[str, Any]:
    """The event's fields as its audit row records them."""
    return {
        "kind": draft.kind,
        "title": draft.title,
        "commune_code": draft.commune_code,
        "starts_at": draft.starts_at,
        "ends_at": draft.ends_at,
        "place": draft.place,
        "audience": draft.audience,
        "status": draft.status,
        "register_by": draft.register_by,
        "min_size": draft.min_size,
        "details": dict(draft.details),
    }
