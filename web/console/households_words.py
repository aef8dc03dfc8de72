"""The words of the household pages and API: labels of codes, and survey answers made readable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.dialogue.form import Form, QType
from messages.events import KIND_LABELS as EVENT_KINDS
from messages.events import STATUS_LABELS as EVENT_STATUSES
from messages.phones import national_format
from messages.render import N_, _
from storage.console_household_card import AnswerLine, ConversationLine
from storage.models.households import CONTACT_PHONE
from storage.vocab import DEPRIVATIONS

CHANNELS = {"sms": "SMS", "telegram": "Telegram", "zalo": "Zalo", "console": N_("Console")}
DIRECTIONS = {"in": N_("Received"), "out": N_("Sent")}
CONTACT_KINDS = {"phone": N_("Phone"), "telegram": "Telegram", "zalo": "Zalo"}
BASES = {"register": N_("Commune register"), "consent": N_("Agreed by the household")}
MESSAGE_STATUSES = {
    "received": N_("received"),
    "queued": N_("waiting to be sent"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "skipped": N_("not sent"),
}
MESSAGE_KINDS = {
    "reply": N_("reply"),
    "confirm": N_("opt-out confirmation"),
    "survey": N_("survey question"),
    "notice": N_("note from the commune"),
    "broadcast": N_("broadcast"),
    "event_change": N_("event changed"),
    "event_reminder": N_("event reminder"),
    "loan_reminder": N_("loan reminder"),
    "overdue": N_("overdue notice"),
    "survey_reminder": N_("survey reminder"),
    "answer": N_("survey answer"),
    "free_text": N_("message"),
    "unknown": N_("unknown sender"),
    "keyword": N_("keyword"),
    "event": N_("chat event"),
    "event_reply": N_("reply to an event"),
}
FOLLOWUP_STATUSES = {
    "open": N_("open"),
    "assigned": N_("assigned"),
    "done": N_("done"),
    "dismissed": N_("dismissed"),
}
CONVERSATION_STATUSES = {
    "active": N_("answering"),
    "completed": N_("completed"),
    "expired": N_("expired"),
    "stopped": N_("stopped"),
}
ANSWER_STATUSES = {
    "answered": N_("answered"),
    "skipped": N_("skipped"),
    "unanswered": N_("could not answer"),
    "calculated": N_("calculated"),
}
REGISTRATION_STATUSES = {
    "invited": N_("invited"),
    "registered": N_("registered"),
    "withdrawn": N_("withdrawn"),
}
UNREACHABLE_REASONS = {
    "blocked": N_("blocked the bot"),
    "unfollowed": N_("stopped following"),
    "outside_window": N_("no message in 7 days"),
    "invalid_address": N_("unknown to the provider"),
    "not_delivered": N_("not delivered"),
}
LABELS: dict[str, dict[str, str]] = {
    "channel": CHANNELS,
    "direction": DIRECTIONS,
    "contact_kind": CONTACT_KINDS,
    "basis": BASES,
    "message_status": MESSAGE_STATUSES,
    "message_kind": MESSAGE_KINDS,
    "followup_status": FOLLOWUP_STATUSES,
    "conversation_status": CONVERSATION_STATUSES,
    "answer_status": ANSWER_STATUSES,
    "registration_status": REGISTRATION_STATUSES,
    "event_kind": EVENT_KINDS,
    "event_status": EVENT_STATUSES,
    "reason": UNREACHABLE_REASONS,
    "deprivation": {code: label for code, (_n, label, _vi) in DEPRIVATIONS.items()},
}


def label(group: str, code: str | None) -> str:
    """A code as people read it (translated); an unknown code as itself."""
    if code is None:
        return ""
    found = LABELS[group].get(code)
    return _(found) if found else code


def address(kind: str, value: str) -> str:
    """A contact's address as people read it: phones as 0912 345 678."""
    if kind == CONTACT_PHONE and value.startswith("+"):
        return national_format(value)
    return value


def message_address(channel: str, value: str) -> str:
    """A message's address: phones (SMS, console) formatted, chat ids as they are."""
    return national_format(value) if value.startswith("+84") else value


@dataclass(frozen=True, slots=True)
class ReadableAnswer:
    question: str  # the question's label (its name when the form has none)
    name: str
    answer: str  # choice labels for selects; the value otherwise
    raw: str | None
    status: str
    line: AnswerLine


def readable(conversation: ConversationLine) -> list[ReadableAnswer]:
    """The conversation's answers in form order, with question and choice labels."""
    form = _form(conversation.definition)
    if form is None:
        return [
            ReadableAnswer(a.question, a.question, a.value or "", a.raw, a.status, a)
            for a in conversation.answers
        ]
    order = form.index
    found = []
    for line in sorted(conversation.answers, key=lambda a: order.get(a.question, len(order))):
        question = next((q for q in form.questions if q.name == line.question), None)
        text = line.value or ""
        if question is not None and question.type in (QType.SELECT_ONE, QType.SELECT_MULTIPLE):
            names = form.labels.get(question.choice_list, {})
            text = ", ".join(names.get(v, v) for v in text.split())
        title = (question.label if question else "") or line.question
        found.append(ReadableAnswer(title, line.question, text, line.raw, line.status, line))
    return found


def _form(definition: dict[str, Any]) -> Form | None:
    try:
        return Form.from_json(definition)
    except (KeyError, TypeError, ValueError):  # a definition from an older model: names only
        return None
