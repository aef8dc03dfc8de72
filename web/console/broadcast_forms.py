"""The compose form of a broadcast: its fields, the audience builder, the user's scope on the
audience, and each refusal of `scheduler.broadcast_drafts` placed beside its field.

The console and the API fill the same `Compose` value; `draft_of` turns it into the
scheduler's `Draft`, so both refuse exactly what `loa broadcast create` refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from messages import placeholders
from messages.placeholders import PlaceholderError
from messages.render import N_, _
from scheduler.broadcast_drafts import BroadcastError, Draft
from storage import console_broadcasts as places
from storage.audience_query import Audience, AudienceError, parse
from storage.scope import Scope

FLAG_LABELS: dict[str, str] = {
    "ethnic_minority": N_("Ethnic minority head"),
    "woman_head": N_("Woman head of household"),
    "group1": N_("Group 1: land and labour"),
    "group2": N_("Group 2: labour, no land"),
    "group3": N_("Group 3: no labour, social protection"),
    "newly_escaped": N_("Newly escaped, still within 36 months"),
}
MAX_TEXT = 2000  # characters of a text; several SMS parts at most anyway
MAX_TITLE = 120
FIRST_YEAR, LAST_YEAR = 2000, 2999  # a send time outside these years is a typing mistake


class FormError(ValueError):
    """A field the form cannot take as written; `field` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.field = name


# Every refusal a person sees as a sentence beside a field (400), never a crash.
REFUSALS = (BroadcastError, PlaceholderError, AudienceError, FormError)


@dataclass
class Compose:
    """What staff wrote on the compose form (or sent to the API), as text."""

    title: str = ""
    text: str = ""
    sms_text: str = ""
    channel_order: str = ""  # "zalo,sms"; empty: the settings' order
    send_at: str = ""  # datetime-local, Asia/Ho_Chi_Minh; empty: now
    urgent: bool = False
    communes: list[str] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    advanced: str = ""  # the audience language; when given, the builder is not used

    def audience(self) -> str:
        """The audience text: the advanced line, or the one the builder's choices make."""
        if self.advanced.strip():
            return " ".join(self.advanced.split())
        terms = [
            ("commune", self.communes),
            ("village", self.villages),
            ("category", self.categories),
            ("flag", self.flags),
        ]
        return " ".join(f"{key}={','.join(vs)}" for key, vs in terms if vs)


def _clean(value: str) -> str:
    """Without NUL characters (no database stores them) and Windows line ends."""
    return value.replace("\x00", "").replace("\r\n", "\n").strip()


def _texts(form: FormData, name: str) -> list[str]:
    values = [_clean(v) for v in form.getlist(name) if isinstance(v, str)]
    return list(dict.fromkeys(v for v in values if v and "," not in v and " " not in v))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return _clean(value) if isinstance(value, str) else ""


def read_form(form: FormData) -> Compose:
    """The compose form's fields (anything missing is empty)."""
    return Compose(
        title=_text(form, "title"),
        text=_text(form, "text"),
        sms_text=_text(form, "sms_text"),
        channel_order=_text(form, "channel_order"),
        send_at=_text(form, "send_at"),
        urgent=_text(form, "urgent") in ("1", "on", "true"),
        communes=_texts(form, "commune"),
        villages=_texts(form, "village"),
        categories=_texts(form, "category"),
        flags=_texts(form, "flag"),
        advanced=_text(form, "advanced"),
    )


def send_time(text: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local value (local time) or ISO with a zone; None for empty (now)."""
    if not text:
        return None
    message = _("{text} is not a date and time such as 2026-12-01T08:00.")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FormError("send_at", message.format(text=text)) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:  # far years overflow in UTC
        raise FormError("send_at", message.format(text=text))
    return value if value.tzinfo else value.replace(tzinfo=zone)


def channel_list(text: str) -> list[str] | None:
    """`zalo, sms` as a list; None for empty (the settings' order)."""
    if not text.strip():
        return None
    return [name.strip().lower() for name in re.split(r"[,\s]+", text) if name.strip()]


def _lengths(compose: Compose) -> None:
    if len(compose.title) > MAX_TITLE:
        message = _("The title is too long: at most {n} characters.")
        raise FormError("title", message.format(n=MAX_TITLE))
    for name, value in (("text", compose.text), ("sms_text", compose.sms_text)):
        if len(value) > MAX_TEXT:
            message = _("The text is too long: at most {n} characters.")
            raise FormError(name, message.format(n=MAX_TEXT))


async def within_scope(session: AsyncSession, text: str, scope: Scope) -> str:
    """The audience in its standard text, limited to the user's communes: refused when it
    names a commune or village outside them, narrowed to them when it names none. Text that
    cannot be read is returned as it is: the draft's checks refuse it with the CLI's sentence,
    after the text's, in the CLI's order."""
    try:
        audience = parse(text)
    except AudienceError:
        return text
    if scope.communes is None:
        return str(audience)
    if not scope.communes:
        raise AudienceError(_("You cover no commune yet; ask an admin to assign your areas."))
    if outside := [c for c in audience.communes if c not in scope.communes]:
        message = _("These communes are outside your areas: {codes}.")
        raise AudienceError(message.format(codes=", ".join(outside)))
    if far := await places.villages_outside(session, scope=scope, codes=audience.villages):
        message = _("These villages are outside your areas: {codes}.")
        raise AudienceError(message.format(codes=", ".join(far)))
    if not audience.communes:
        mine = tuple(sorted(scope.communes))
        audience = replace(audience, everyone=False, communes=mine)
    return str(audience)


async def draft_of(
    session: AsyncSession, compose: Compose, *, scope: Scope, zone: ZoneInfo
) -> Draft:
    """The scheduler's draft for what was written: the audience limited to the scope. Raises
    FormError, or AudienceError for the audience."""
    _lengths(compose)
    send_at = send_time(compose.send_at, zone)
    audience = await within_scope(session, compose.audience(), scope)
    return Draft(
        text=compose.text,
        audience=audience,
        sms_text=compose.sms_text or None,
        send_at=send_at,
        channel_order=channel_list(compose.channel_order),
        urgent=compose.urgent,
        title=compose.title or None,
    )


def audience_of(text: str) -> Audience:
    """The parsed audience of a stored broadcast (its text was checked when stored)."""
    return parse(text)


# --- which field a refusal belongs to ------------------------------------------------------

_FIELD_SENTENCES: list[tuple[str, str]] = [
    ("text", "The broadcast has no text."),
    ("sms_text", "The SMS text is empty; leave it out to use the main text."),
    ("send_at", "The time to send is already past; give a time from now on."),
    ("channel_order", "Give at least one channel in the order, e.g. zalo,sms."),
    ("channel_order", "Loa has no channel {names}; the channels are: {known}."),
    ("audience", "The audience “{audience}” matches no household."),
    (
        "sms_text",
        "The SMS text takes {n} parts for some households, more than the limit of {limit};"
        " shorten it or give a shorter SMS text.",
    ),
]


def sentence_pattern(template: str) -> re.Pattern[str]:
    """A translated `str.format` template as a regex matching any filled-in values."""
    pieces = re.split(r"(\{\{|\}\}|\{[a-z_]+\})", template)
    out = []
    for piece in pieces:
        if piece in ("{{", "}}"):
            out.append(re.escape(piece[0]))
        elif piece.startswith("{") and piece.endswith("}"):
            out.append(".*")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out), re.DOTALL)


def field_of(error: Exception, draft: Draft | None) -> str:
    """The form field a refusal is about; "form" when it is about the whole broadcast."""
    if isinstance(error, FormError):
        return error.field
    if isinstance(error, AudienceError):
        return "audience"
    if isinstance(error, PlaceholderError):
        if draft is not None:
            try:
                placeholders.check(draft.text, [*placeholders.HOUSEHOLD])
            except PlaceholderError:
                return "text"
        return "sms_text"
    if isinstance(error, BroadcastError):
        message = str(error)
        for name, template in _FIELD_SENTENCES:
            if sentence_pattern(_(template)).fullmatch(message):
                return name
    return "form"
