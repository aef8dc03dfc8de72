"""The words of loan reminders and overdue notices: chat text, short SMS, follow-up notes.

Money as 1.500.000 đồng, dates as dd/mm/yyyy, the group head's number as 0912 345 678. An SMS
is built from ranked pieces and loses the least needed ones until it fits the settings' parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import phonenumbers

from messages.phones import national_format
from messages.render import _, day, money
from messages.sms import prepare
from storage.loans import DueInstalment, transaction_before
from storage.vocab import programme_label

SMS_DATES = 3  # due dates an overdue SMS names at most


def followup_note(i: DueInstalment) -> str:
    """The note of the commune's `overdue` item for one instalment."""
    return _("{programme}: instalment due on {due} unpaid ({amounts})").format(
        programme=programme_label(i.programme), due=day(i.due_on), amounts=amounts(i)
    )


def amounts(i: DueInstalment) -> str:
    """Principal, interest and total, in words of money."""
    return _("principal {principal}, interest {interest}, total {total}").format(**_figures(i))


@lru_cache(maxsize=4096)
def dong(amount: int) -> str:
    """An amount the Vietnamese way, 1.500.000 đồng (cached: a pass writes thousands)."""
    return money(amount, unit="word")


def _figures(i: DueInstalment) -> dict[str, str]:
    return {
        "principal": dong(i.principal),
        "interest": dong(i.interest),
        "total": dong(i.principal + i.interest),
    }


@lru_cache(maxsize=4096)
def phone(e164: str) -> str:
    """A group head's number as people dial it (0912 345 678); as stored if it is odd."""
    try:
        return national_format(e164)
    except phonenumbers.NumberParseException:
        return e164


def _pay_on(i: DueInstalment, today: date) -> date | None:
    """The transaction day to pay on: the last one up to the due date, if not yet past."""
    if i.transaction_day is None:
        return None
    when = transaction_before(i.transaction_day, i.due_on, inclusive=True)
    return when if when >= today else None


def _where(i: DueInstalment, today: date) -> str | None:
    """Where and when to pay, as far as the commune's transaction day and place are known."""
    place, when = i.transaction_place, _pay_on(i, today)
    if when is not None:
        if place:
            text = _("Pay at the commune transaction point: {place}, on {date}.")
            return text.format(place=place, date=day(when))
        return _("Pay at the commune transaction point on {date}.").format(date=day(when))
    if i.transaction_day is not None:
        if place:
            text = _("Commune transaction point: {place}, on day {day} of each month.")
            return text.format(place=place, day=i.transaction_day)
        text = _("The commune transaction point opens on day {day} of each month.")
        return text.format(day=i.transaction_day)
    return _("Commune transaction point: {place}.").format(place=place) if place else None


def _call(i: DueInstalment) -> str | None:
    """Whom to call: the savings group head."""
    if i.group_head_phone and i.group_name:
        text = _("Questions: call the head of your savings group ({group}) on {phone}.")
        return text.format(group=i.group_name, phone=phone(i.group_head_phone))
    if i.group_head_phone:
        text = _("Questions: call the head of your savings group on {phone}.")
        return text.format(phone=phone(i.group_head_phone))
    if i.group_name:
        return _("Your savings group: {group}.").format(group=i.group_name)
    return None


def reminder_text(i: DueInstalment, *, today: date) -> str:
    """The chat text of a reminder: what, how much, when and where, whom to call."""
    programme, due = programme_label(i.programme), day(i.due_on)
    if i.on_transaction_day:
        head = _(
            "Today is the Bank for Social Policies' transaction day in the commune. "
            "Your loan ({programme}) has an instalment due on {due}."
        ).format(programme=programme, due=due)
    else:
        head = _(
            "Loan reminder from the Bank for Social Policies ({programme}): "
            "an instalment falls due on {due}, in {days} days."
        ).format(programme=programme, due=due, days=(i.due_on - today).days)
    amounts = _("Principal {principal}, interest {interest}, total {total}.").format(**_figures(i))
    advice = _(
        "Please use the loan for its stated purpose. Beware of loan sharks (tín dụng đen): "
        "never borrow at high interest or hand your papers to strangers."
    )
    parts = (head, amounts, _where(i, today), _call(i), advice)
    return "\n".join(p for p in parts if p)


def reminder_sms(i: DueInstalment, *, today: date) -> list[tuple[str, int]]:
    """The SMS pieces of a reminder, each with its rank (0 must stay; higher drops first)."""
    values = {
        "programme": programme_label(i.programme),
        "due": day(i.due_on),
        **_figures(i),
    }
    if i.on_transaction_day:
        head = _(
            "VBSP: today is the transaction day. Instalment ({programme}) due {due}: "
            "principal {principal}, interest {interest}, total {total}."
        )
    else:
        head = _(
            "VBSP reminder ({programme}): instalment due {due}: "
            "principal {principal}, interest {interest}, total {total}."
        )
    pieces = [(head.format(**values), 0), (_sms_where(i, today), 2)]
    if i.group_head_phone:
        pieces.append((_("Group head: {phone}.").format(phone=phone(i.group_head_phone)), 1))
    pieces.append((_("Use the loan as intended; beware of loan sharks."), 3))
    return [(text, rank) for text, rank in pieces if text]


def _sms_where(i: DueInstalment, today: date) -> str:
    place = i.transaction_place or _("the commune transaction point")
    when = _pay_on(i, today)
    if when is not None:
        return _("Pay at {place}, {date}.").format(place=place, date=day(when))
    if i.transaction_day is not None:
        return _("Pay at {place}, day {day} monthly.").format(place=place, day=i.transaction_day)
    return _("Pay at {place}.").format(place=place) if i.transaction_place else ""


def overdue_text(group: Sequence[DueInstalment]) -> str:
    """The chat text of the overdue notice: polite, what is unpaid, where to turn."""
    lines = [_("Dear household, the Bank for Social Policies has not yet recorded this payment:")]
    lines += [
        _("- {programme}: due on {due}, {amounts}").format(
            programme=programme_label(i.programme), due=day(i.due_on), amounts=amounts(i)
        )
        for i in group
    ]
    lines.append(
        _(
            "If you have already paid, please ignore this message. If you are having "
            "difficulties, please talk to your savings group head or the commune officer."
        )
    )
    call = next((c for c in map(_call, group) if c), None)
    if call:
        lines.append(call)
    lines.append(_("Please do not borrow from loan sharks (tín dụng đen) to repay."))
    return "\n".join(lines)


def overdue_sms(group: Sequence[DueInstalment]) -> list[tuple[str, int]]:
    """The SMS pieces of the overdue notice, ranked as in `reminder_sms`."""
    total = sum(i.principal + i.interest for i in group)
    dates = ", ".join(day(i.due_on) for i in group[:SMS_DATES])
    if len(group) > SMS_DATES:
        dates += "..."  # the chat text and the follow-ups list them all
    head = _("VBSP: instalment due {dates} ({total}) not yet recorded as paid.").format(
        dates=dates, total=dong(total)
    )
    pieces = [(head, 0), (_("If you have paid, please ignore this."), 2)]
    head_phone = next((i.group_head_phone for i in group if i.group_head_phone), None)
    if head_phone:
        text = _("Difficulties? Call your group head: {phone}.")
        pieces.append((text.format(phone=phone(head_phone)), 1))
    pieces.append((_("Do not borrow from loan sharks to repay."), 3))
    return pieces


def fit(pieces: Sequence[tuple[str, int]], max_segments: int, strip: bool) -> str:
    """The pieces joined, dropping the least needed (highest rank) until the SMS fits."""
    kept = list(pieces)
    while True:
        text = " ".join(t for t, _rank in kept)
        worst = max((rank for _t, rank in kept), default=0)
        if worst == 0 or prepare(text, strip=strip).segments <= max_segments:
            return text
        kept = [(t, rank) for t, rank in kept if rank != worst]
