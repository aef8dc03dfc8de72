"""The dialogue engine: one question at a time, pure logic over a conversation's state.

The engine reads a reply, checks it, records it and finds the next question; what it
decides comes back as a `Step` (answers to write, follow-ups to open, messages to send),
which the caller stores. No I/O here, so a conversation can be replayed and tested alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from handlers.dialogue import answers as read
from handlers.dialogue.expressions import Context, Value, render_template
from handlers.dialogue.form import REQUIRED_YES, SELECTS, Choice, Form, QType, Question
from handlers.dialogue.prompts import Button, Prompt, navigation_help, question_prompt
from messages.render import _
from storage.models.surveys import (
    ACTIVE,
    ANSWERED,
    CALCULATED,
    CLEARED,
    COMPLETED,
    SKIPPED,
    UNANSWERED,
)

log = logging.getLogger(__name__)

MAX_MISSES = 3  # replies that do not fit before the question is given up on
NEEDS_HELP = "needs_help"  # the follow-up opened when a household could not answer


@dataclass
class State:
    """Where a conversation stands: the only thing stored between two messages."""

    position: int = -1
    misses: int = 0
    trail: list[int] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)  # name -> JSON value
    status: str = ACTIVE


@dataclass(frozen=True)
class AnswerWrite:
    """An answer row to write (or, with status `cleared`, to delete)."""

    question: str
    value: str | None
    raw: str | None
    status: str


@dataclass(frozen=True)
class FollowUpDraft:
    """A follow-up item to open for the household."""

    kind: str
    priority: str
    note: str
    question: str | None = None


@dataclass
class Step:
    """What one turn of the conversation decided."""

    prompts: list[Prompt] = field(default_factory=list)
    answers: list[AnswerWrite] = field(default_factory=list)
    followups: list[FollowUpDraft] = field(default_factory=list)
    completed: bool = False


class Engine:
    """Runs conversations of one form version."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self._types = {q.name: q.type for q in form.questions}

    def begin(self, state: State, today: date) -> Step:
        """Start a conversation: the opening notes and the first question."""
        step = Step()
        self._advance(state, step, today)
        return step

    def reply(self, state: State, text: str, today: date) -> Step:
        """Take one reply to the question being asked."""
        step = Step()
        if state.status != ACTIVE or not 0 <= state.position < len(self.form.questions):
            return step
        question = self.form.questions[state.position]
        command = read.read_command(text)
        if command is read.Command.HELP:
            step.prompts.append(self._ask(question, state, today, navigation_help(question)))
        elif command is read.Command.BACK:
            self._back(state, step, today)
        elif command is read.Command.SKIP:
            self._skip(question, state, step, text, today)
        else:
            self._answer(question, state, step, text, today)
        return step

    def current(self, state: State, today: date) -> Prompt | None:
        """The question being asked, again (to resume a conversation)."""
        if state.status != ACTIVE or not 0 <= state.position < len(self.form.questions):
            return None
        return self._ask(self.form.questions[state.position], state, today)

    # -- one turn ---------------------------------------------------------------------------

    def _answer(self, q: Question, state: State, step: Step, text: str, today: date) -> None:
        value = self._read(q, text, state, today)
        problem = "" if value is not None else (q.hint or "")
        if value is not None and q.constraint_expression is not None:
            current = self._expr_value(q.type, value)
            if not q.constraint_expression.truth(self._context(state, today, current)):
                value = None
                problem = q.constraint_message or _("That answer does not look right.")
        if value is None:
            self._miss(q, state, step, text, today, problem)
            return
        self._record(q, state, step, value, read.clean(text), ANSWERED)
        self._advance(state, step, today)

    def _miss(
        self, q: Question, state: State, step: Step, text: str, today: date, problem: str
    ) -> None:
        state.misses += 1
        if state.misses < MAX_MISSES:
            reason = problem or _("Sorry, I did not understand that answer.")
            step.prompts.append(self._ask(q, state, today, reason))
            return
        label = render_template(q.label, self._display(state))
        note = _("Could not answer the question: {question}").format(question=label[:200])
        step.followups.append(FollowUpDraft(NEEDS_HELP, "normal", note, q.name))
        self._record(q, state, step, None, read.clean(text) or None, UNANSWERED)
        step.prompts.append(Prompt(_("Never mind, a commune officer will help you with it.")))
        self._advance(state, step, today)

    def _skip(self, q: Question, state: State, step: Step, text: str, today: date) -> None:
        if q.default:
            value = self._read(q, q.default, state, today)
            if value is not None:
                self._record(q, state, step, value, read.clean(text), ANSWERED)
                self._advance(state, step, today)
                return
        if self._required(q, state, today):
            reason = q.required_message or _("This question needs an answer.")
            step.prompts.append(self._ask(q, state, today, reason))
            return
        self._record(q, state, step, None, read.clean(text), SKIPPED)
        self._advance(state, step, today)

    def _back(self, state: State, step: Step, today: date) -> None:
        if len(state.trail) > 1:
            state.trail.pop()
            state.position = state.trail[-1]
            state.misses = 0
            reason = ""
        else:
            reason = _("This is the first question.")
        step.prompts.append(self._ask(self.form.questions[state.position], state, today, reason))

    def _advance(self, state: State, step: Step, today: date) -> None:
        state.misses = 0
        questions = self.form.questions
        for position in range(state.position + 1, len(questions)):
            q = questions[position]
            if not self._relevant(q, state, today):
                if q.name in state.answers:  # changed an earlier answer: this one no longer applies
                    del state.answers[q.name]
                    step.answers.append(AnswerWrite(q.name, None, None, CLEARED))
                continue
            if q.type is QType.CALCULATE:
                value = self._calculate(q, state, today)
                self._record(q, state, step, value, None, CALCULATED)
            elif q.type is QType.NOTE:
                step.prompts.append(Prompt(render_template(q.label, self._display(state))))
            else:
                state.position = position
                state.trail.append(position)
                step.prompts.append(self._ask(q, state, today))
                return
        self._complete(state, step, today)

    def _complete(self, state: State, step: Step, today: date) -> None:
        state.status = COMPLETED
        state.position = len(self.form.questions)
        step.completed = True
        context = self._context(state, today)
        display = self._display(state)
        for rule in self.form.followups:
            if rule.condition_expression.truth(context):
                note = render_template(rule.note, display)
                step.followups.append(FollowUpDraft(rule.kind, rule.priority, note))
        last = self.form.questions[-1] if self.form.questions else None
        if last is None or last.type is not QType.NOTE or not self._relevant(last, state, today):
            step.prompts.append(Prompt(_("Thank you, your answers have been recorded.")))

    # -- values -----------------------------------------------------------------------------

    def _read(self, q: Question, text: str, state: State, today: date) -> Any:
        match q.type:
            case QType.TEXT:
                return read.read_text(text)
            case QType.INTEGER:
                return read.read_integer(text)
            case QType.DECIMAL:
                number = read.read_decimal(text)
                return None if number is None else _decimal_text(number)
            case QType.DATE:
                day = read.read_date(text, today=today)
                return None if day is None else day.isoformat()
            case QType.SELECT_ONE:
                return read.read_choice(text, self._options(q, state, today))
            case QType.SELECT_MULTIPLE:
                names = read.read_choices(text, self._options(q, state, today))
                return None if names is None else list(names)
            case QType.ACKNOWLEDGE:
                return "OK" if read.read_yes_no(text) or text.strip() == "1" else None
        return None

    def _record(
        self, q: Question, state: State, step: Step, value: Any, raw: str | None, status: str
    ) -> None:
        if value is None:
            state.answers.pop(q.name, None)
        else:
            state.answers[q.name] = value
        step.answers.append(AnswerWrite(q.name, export_text(value), raw, status))

    def _calculate(self, q: Question, state: State, today: date) -> str | None:
        expression = q.calculation_expression
        if expression is None:
            return None
        return expression.text(self._context(state, today)) or None

    def _relevant(self, q: Question, state: State, today: date) -> bool:
        if not q.relevant:
            return True
        context = self._context(state, today)
        return all(expression.truth(context) for expression in q.relevant_expressions)

    def _required(self, q: Question, state: State, today: date) -> bool:
        if q.required_expression is not None:
            return q.required_expression.truth(self._context(state, today))
        return q.required.strip().lower() in REQUIRED_YES

    def _options(self, q: Question, state: State, today: date) -> list[read.Option]:
        choices: tuple[Choice, ...] = self.form.choices.get(q.choice_list, ())
        flt = q.filter_expression
        if flt is not None:
            context = self._context(state, today)
            choices = tuple(
                c
                for c in choices
                if flt.truth(Context(context.values, today=today, row={**c.extra, "name": c.name}))
            )
        return [read.Option(c.name, c.label) for c in choices]

    def _ask(self, q: Question, state: State, today: date, before: str = "") -> Prompt:
        label = render_template(q.label, self._display(state))
        options = tuple(
            Button(o.label, str(n)) for n, o in enumerate(self._options(q, state, today), 1)
        )
        prompt = question_prompt(q, label, options)
        if before:
            prompt = Prompt(
                f"{before}\n{prompt.text}", prompt.options, prompt.multiple, prompt.help
            )
        return prompt

    def _context(self, state: State, today: date, current: Value = None) -> Context:
        values = {
            name: self._expr_value(self._types.get(name), v) for name, v in state.answers.items()
        }
        return Context(values, current=current, today=today)

    @staticmethod
    def _expr_value(qtype: QType | None, value: Any) -> Value:
        if qtype is QType.DECIMAL:
            return float(value)
        if qtype is QType.DATE:
            return date.fromisoformat(value)
        if isinstance(value, list):
            return tuple(value)
        return value  # type: ignore[no-any-return]

    def _display(self, state: State) -> Mapping[str, Value]:
        """Answers as a person reads them: choices by their labels."""
        shown: dict[str, Value] = {}
        for name, value in state.answers.items():
            q = self.form.questions[self.form.index[name]]
            if q.type in SELECTS:
                labels = self.form.labels.get(q.choice_list, {})
                names: list[str] = value if isinstance(value, list) else [value]
                shown[name] = ", ".join(labels.get(n) or n for n in names)
            else:
                shown[name] = self._expr_value(q.type, value)
        return shown


def export_text(value: Any) -> str | None:
    """A stored value as ODK exports it: choices separated by spaces, dates ISO."""
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


def _decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"
