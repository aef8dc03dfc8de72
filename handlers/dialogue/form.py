"""Loa's own survey model: what an XLSForm becomes once loaded, stored as JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from handlers.dialogue.expressions import Expression, parse


class QType(StrEnum):
    """The question types Loa can ask in a chat."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    DATE = "date"
    NOTE = "note"  # said, not asked
    ACKNOWLEDGE = "acknowledge"  # asked for an OK
    CALCULATE = "calculate"  # worked out, never shown


ASKED = frozenset({t for t in QType if t not in (QType.NOTE, QType.CALCULATE)})
SELECTS = frozenset({QType.SELECT_ONE, QType.SELECT_MULTIPLE})


@dataclass(frozen=True)
class Choice:
    """One option of a choice list; `extra` holds the other columns, for choice_filter."""

    name: str
    label: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """One row of the survey sheet, groups flattened into it."""

    name: str
    type: QType
    row: int  # row of the survey sheet, for messages about it
    label: str = ""
    hint: str = ""
    required: str = ""  # "" (optional), "yes", or an expression
    required_message: str = ""
    relevant: tuple[str, ...] = ()  # the enclosing groups' conditions, then its own
    constraint: str = ""
    constraint_message: str = ""
    calculation: str = ""
    default: str = ""
    choice_list: str = ""
    choice_filter: str = ""

    @cached_property
    def relevant_expressions(self) -> tuple[Expression, ...]:
        """The conditions under which the question is asked, parsed once."""
        return tuple(parse(source) for source in self.relevant)

    @cached_property
    def constraint_expression(self) -> Expression | None:
        """The constraint, parsed once."""
        return parse(self.constraint) if self.constraint else None

    @cached_property
    def calculation_expression(self) -> Expression | None:
        """The calculation, parsed once."""
        return parse(self.calculation) if self.calculation else None

    @cached_property
    def required_expression(self) -> Expression | None:
        """A `required` that is an expression rather than yes/no, parsed once."""
        if self.required.strip().lower() in FIXED_REQUIRED:
            return None
        return parse(self.required)

    @cached_property
    def filter_expression(self) -> Expression | None:
        """The choice filter, parsed once."""
        return parse(self.choice_filter, choice_filter=True) if self.choice_filter else None


FIXED_REQUIRED = {"", "yes", "true", "true()", "no", "false", "false()"}
REQUIRED_YES = {"yes", "true", "true()"}


@dataclass(frozen=True)
class FollowUpRule:
    """A row of the `loa_followups` sheet."""

    kind: str
    condition: str
    priority: str
    note: str
    row: int

    @cached_property
    def condition_expression(self) -> Expression:
        """The condition, parsed once."""
        return parse(self.condition)


@dataclass(frozen=True)
class Form:
    """A loaded form: questions in order, choice lists, follow-up rules."""

    form_id: str
    title: str
    version: str
    language: str
    questions: tuple[Question, ...]
    choices: dict[str, tuple[Choice, ...]]
    followups: tuple[FollowUpRule, ...] = ()

    @cached_property
    def index(self) -> dict[str, int]:
        """Question name -> position."""
        return {q.name: i for i, q in enumerate(self.questions)}

    @cached_property
    def labels(self) -> dict[str, dict[str, str]]:
        """Choice list -> choice name -> label, for showing answers."""
        return {k: {c.name: c.label for c in v} for k, v in self.choices.items()}

    @property
    def answerable(self) -> tuple[Question, ...]:
        """The questions that hold a value (everything but notes), in form order."""
        return tuple(q for q in self.questions if q.type is not QType.NOTE)

    def to_json(self) -> dict[str, Any]:
        """The form as stored in the database."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Form:
        """The form back from the database."""
        questions = tuple(
            Question(**{**q, "type": QType(q["type"]), "relevant": tuple(q["relevant"])})
            for q in data["questions"]
        )
        choices = {k: tuple(Choice(**c) for c in v) for k, v in data["choices"].items()}
        followups = tuple(FollowUpRule(**f) for f in data["followups"])
        scalars = {k: data[k] for k in ("form_id", "title", "version", "language")}
        return cls(**scalars, questions=questions, choices=choices, followups=followups)

    def content_hash(self) -> str:
        """A digest of the content, to tell a re-import of the same version from a change."""
        body = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()
