"""The words of events: the notice, its SMS, reminders, changes and replies to registrations.

Pure. Notices never promise what has no money behind it: a planned event says so. The
notice is a template whose {su_kien} {ngay} {gio} {dia_diem} {han_dang_ky} the broadcast
fills from the event; what staff typed (trades, allowances...) goes in with its braces
doubled, so a stray brace cannot break it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from messages.render import N_, _, day, number
from messages.sms import prepare

# The kinds and statuses, as storage.models.events names them (messages stays pure).
TRAINING, JOB_SESSION, TRANSACTION_DAY = "training", "job_session", "transaction_day"
MEETING, DISTRIBUTION = "meeting", "distribution"
PLANNED, CONFIRMED, POSTPONED, CANCELLED = "planned", "confirmed", "postponed", "cancelled"
REGISTERING = (TRAINING, JOB_SESSION, MEETING)  # take registrations even without a deadline

KIND_LABELS = {
    TRAINING: N_("vocational class"),
    JOB_SESSION: N_("job session"),
    TRANSACTION_DAY: N_("transaction day"),
    MEETING: N_("meeting"),
    DISTRIBUTION: N_("support handed out"),
}
HEADERS = {
    TRAINING: N_("Vocational class: {title}"),
    JOB_SESSION: N_("Job session: {title}"),
    TRANSACTION_DAY: N_("Social Policy Bank transaction day: {title}"),
    MEETING: N_("Commune meeting: {title}"),
    DISTRIBUTION: N_("Support handed out: {title}"),
}
_DETAIL_LINES = (  # in the order a notice gives them
    ("trade", N_("Trade: {value}.")),
    ("level", N_("Level: {value}.")),
    ("class_days", N_("Length of the class: {value}.")),
    ("fee_waiver", ""),
    ("allowance", N_("Support for learners: {value}.")),
    ("employers", N_("Employers: {value}.")),
    ("jobs", ""),
    ("items", N_("Handed out: {value}.")),
    ("bring", N_("Please bring: {value}.")),
    ("topic", N_("Topic: {value}.")),
)
STATUS_LABELS = {
    PLANNED: N_("planned"),
    CONFIRMED: N_("confirmed"),
    POSTPONED: N_("postponed"),
    CANCELLED: N_("cancelled"),
}


class EventLike(Protocol):
    """What the words need of an event (a storage row or a draft)."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def place(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def register_by(self) -> date | None: ...
    @property
    def min_size(self) -> int | None: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


def takes_registrations(event: EventLike) -> bool:
    """Whether households register for it (a deadline was set, or a class, session, meeting)."""
    return event.register_by is not None or event.kind in REGISTERING


class Placeable(Protocol):
    """What an event's placeholders are filled from (a stored event or a draft)."""

    @property
    def title(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def place(self) -> str: ...
    @property
    def register_by(self) -> date | None: ...


def values(event: Placeable, zone: ZoneInfo) -> dict[str, str]:
    """The event's placeholder values: title, date, time, place, deadline."""
    local = event.starts_at.astimezone(zone)
    return {
        "su_kien": event.title,
        "ngay": day(local.date()),
        "gio": local.strftime("%H:%M"),
        "dia_diem": event.place,
        "han_dang_ky": day(event.register_by) if event.register_by else "",
    }


def _esc(text: Any) -> str:
    return str(text).replace("{", "{{").replace("}", "}}")


def _header(event: EventLike, title: str) -> str:
    text = _(HEADERS[event.kind]).format(title=title)
    if event.status != CONFIRMED:
        text += f" ({_(STATUS_LABELS[event.status])})"
    return text


def _until(event: EventLike, zone: ZoneInfo) -> str:
    if event.ends_at is None:
        return ""
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    same_day = start.date() == end.date()
    return end.strftime("%H:%M") if same_day else f"{end:%H:%M} {day(end.date())}"


def _details(event: EventLike) -> list[str]:
    lines: list[str] = []
    for key, msgid in _DETAIL_LINES:
        value = event.details.get(key)
        if value is None or value == "":
            continue
        if key == "fee_waiver":
            free = value is True
            lines.append(
                _("Tuition is free.") if free else _("Tuition is charged; ask the commune.")
            )
        elif key == "jobs":
            lines.append(_("{n} jobs on offer.").format(n=number(int(value))))
        else:
            lines.append(_(msgid).format(value=_esc(value)))
    return lines


def _how_to_register(event: EventLike) -> list[str]:
    if not takes_registrations(event):
        return []
    if event.register_by is None:
        return [_("Reply 1 to register.")]
    return [_("Reply 1 to register before {date}.").format(date="{han_dang_ky}")]


def notice(event: EventLike, zone: ZoneInfo, *, who: str = "") -> str:
    """The default notice: what, when, where, for whom, details, status, how to register."""
    end = _until(event, zone)
    when = _("Time: {time}, {date}").format(time="{gio}", date="{ngay}")
    if end:
        when += " " + _("until {end}").format(end=end)
    lines = [
        _header(event, "{su_kien}"),
        when + ".",
        _("Place: {place}.").format(place="{dia_diem}"),
    ]
    if who:
        lines.append(_("For {who} households.").format(who=_esc(who)))
    lines += _details(event)
    if event.status == PLANNED:
        lines.append(_("This is a plan; the commune will confirm it when it is certain."))
    if event.min_size and event.kind == TRAINING:
        lines.append(_("The class opens with at least {n} learners.").format(n=event.min_size))
    lines += _how_to_register(event)
    return "\n".join(lines)


def sms(event: EventLike, zone: ZoneInfo, *, strip: bool, max_segments: int) -> str:
    """A shorter notice for SMS: the essentials, then details while it fits MAX_SEGMENTS."""
    head = [
        _header(event, "{su_kien}") + ".",
        _("{time} {date}, at {place}.").format(time="{gio}", date="{ngay}", place="{dia_diem}"),
    ]
    tail = _how_to_register(event)
    filled = values(event, zone)
    extras: list[str] = []
    for extra in _details(event):
        longer = " ".join([*head, *extras, extra, *tail])
        if prepare(longer.format_map(filled), strip=strip).segments > max_segments:
            break
        extras.append(extra)
    return " ".join([*head, *extras, *tail])


def reminder(event: EventLike, zone: ZoneInfo) -> str:
    """The day before: what, when, where, what to bring."""
    v = values(event, zone)
    text = _("Reminder: {title} is tomorrow at {time}, at {place}.").format(
        title=v["su_kien"], time=v["gio"], place=v["dia_diem"]
    )
    if event.status == PLANNED:
        text += f" ({_(STATUS_LABELS[PLANNED])})"
    if event.details.get("bring"):
        text += " " + _("Please bring: {value}.").format(value=event.details["bring"])
    return text


def change(event: EventLike, zone: ZoneInfo, *, changed: Sequence[str]) -> str:
    """A change of status, date or place, told politely."""
    v = values(event, zone)
    facts = {"title": v["su_kien"], "time": v["gio"], "date": v["ngay"], "place": v["dia_diem"]}
    if event.status == CANCELLED:
        return _("We are sorry: {title} on {date} is cancelled.").format(**facts)
    if event.status == POSTPONED and "starts_at" in changed:
        return _("We are sorry: {title} is postponed to {time} on {date}, at {place}.").format(
            **facts
        )
    if event.status == POSTPONED:
        return _(
            "We are sorry: {title} on {date} is postponed. The commune will tell you the new date."
        ).format(**facts)
    if changed == ["status"] and event.status == CONFIRMED:
        return _("Good news: {title} is confirmed, at {time} on {date}, at {place}.").format(
            **facts
        )
    text = _("Please note a change: {title} is now at {time} on {date}, at {place}.").format(
        **facts
    )
    if event.status == PLANNED:
        text += f" ({_(STATUS_LABELS[PLANNED])})"
    return text


def registered(event: EventLike, zone: ZoneInfo) -> str:
    """The confirmation of a registration."""
    v = values(event, zone)
    text = _("Your household is registered for {title}, at {time} on {date}, at {place}.").format(
        title=v["su_kien"], time=v["gio"], date=v["ngay"], place=v["dia_diem"]
    )
    if event.status == PLANNED:
        text += " " + _("This is a plan; the commune will confirm it when it is certain.")
    return text


def already_registered(event: EventLike, zone: ZoneInfo) -> str:
    """A second registration."""
    v = values(event, zone)
    return _("Your household is already registered for {title} on {date}. Thank you.").format(
        title=v["su_kien"], date=v["ngay"]
    )


def closed(event: EventLike, *, contact: str) -> str:
    """Registration is not open (deadline passed, postponed or cancelled)."""
    if event.status in (POSTPONED, CANCELLED):
        return _(
            "{title} is {status}, so registration is not open. Please contact {contact}."
        ).format(title=event.title, status=_(STATUS_LABELS[event.status]), contact=contact)
    return _("Registration for {title} has closed. Please contact {contact}.").format(
        title=event.title, contact=contact
    )


def declined(event: EventLike, *, withdrawn: bool) -> str:
    """A household says it will not come."""
    if withdrawn:
        return _("Thank you. Your household's registration for {title} is withdrawn.").format(
            title=event.title
        )
    return _("Thank you, the commune has noted that your household will not come.")
