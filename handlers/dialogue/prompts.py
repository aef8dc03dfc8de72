"""How a question is put to a household: its words, its numbered options or its buttons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from handlers.dialogue.form import QType, Question
from messages.render import _


@dataclass(frozen=True)
class Button:
    """One option as a chat button; `value` is what a tap sends back (the option's number)."""

    label: str
    value: str


@dataclass(frozen=True)
class Prompt:
    """One message from the engine; a question's options travel beside its words."""

    text: str
    options: tuple[Button, ...] = ()
    multiple: bool = False
    help: str = field(default="", compare=False)  # how to answer, for plain-text channels

    def render(self, *, buttons: bool) -> tuple[str, list[dict[str, Any]] | None]:
        """The text to send and the buttons, if the channel shows them."""
        if not self.options:
            return self.text, None
        if buttons and not self.multiple:
            return self.text, [{"label": b.label, "value": b.value} for b in self.options]
        numbered = options_line((b.value, b.label) for b in self.options)
        return "\n".join(part for part in (self.text, numbered, self.help) if part), None


def options_line(options: Iterable[tuple[str, str]]) -> str:
    """Options as a plain-text channel shows them: "1. Có  2. Không"."""
    return "  ".join(f"{value}. {label}" for value, label in options)


def question_prompt(question: Question, label: str, options: tuple[Button, ...]) -> Prompt:
    """A question as a message: label, hint, and for a choice its options and how to reply."""
    text = label if not question.hint else f"{label}\n({question.hint})"
    if question.type is QType.SELECT_MULTIPLE:
        return Prompt(text, options, multiple=True, help=answer_help(question))
    if question.type is QType.SELECT_ONE:
        return Prompt(text, options, help=answer_help(question))
    if question.type is QType.ACKNOWLEDGE:
        return Prompt(f"{text}\n{answer_help(question)}")
    return Prompt(text)


def answer_help(question: Question) -> str:
    """One line on how to answer a question of this type."""
    match question.type:
        case QType.SELECT_ONE:
            return _("Reply with the number of your answer, e.g. 1.")
        case QType.SELECT_MULTIPLE:
            return _("Reply with one or more numbers separated by commas, e.g. 1,3.")
        case QType.INTEGER:
            return _("Reply with a number, e.g. 3 or 1.500.000.")
        case QType.DECIMAL:
            return _("Reply with a number, e.g. 2,5 or 1,5 triệu.")
        case QType.DATE:
            return _("Reply with a date as day/month/year, e.g. 15/12/2026.")
        case QType.ACKNOWLEDGE:
            return _("Reply OK when you have read this.")
        case _:
            return _("Reply in a few words.")


def navigation_help(question: Question) -> str:
    """What "trợ giúp" says: how to answer this question, skip it or go back."""
    lines = [answer_help(question)]
    if not question.required or question.default:
        lines.append(_('Reply "bỏ qua" to skip this question.'))
    lines.append(_('Reply "quay lại" to change your previous answer.'))
    return "\n".join(lines)
