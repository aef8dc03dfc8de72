"""What Loa accepts in an XLSForm, checked row by row with the sheet, row and column named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from handlers.dialogue.expressions import (
    ExpressionError,
    check_references,
    parse,
    template_references,
)
from handlers.dialogue.form import FIXED_REQUIRED
from messages.render import _
from storage.models.followups import PRIORITIES

Sheets = dict[str, Any]  # pyxform's reading: sheet -> rows of column -> text

FOLLOWUPS = "loa_followups"
SHEETS = ("survey", "choices", "settings", FOLLOWUPS)
TRANSLATABLE = ("label", "hint", "required_message", "constraint_message")
SURVEY_COLUMNS = frozenset(
    {"type", "name", "required", "relevant", "constraint", "calculation", "default"}
    | {"choice_filter", *TRANSLATABLE}
)
CHOICE_MEDIA = frozenset({"image", "audio", "video", "big-image", "media"})
SETTINGS_COLUMNS = frozenset({"form_id", "form_title", "version", "default_language"})
FOLLOWUP_COLUMNS = frozenset({"kind", "condition", "priority", "note"})
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculation", "choice_filter")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PLAIN_TYPES = {
    "text": "text",
    "string": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "note": "note",
    "acknowledge": "acknowledge",
    "calculate": "calculate",
    "begin group": "begin_group",
    "begin_group": "begin_group",
    "end group": "end_group",
    "end_group": "end_group",
}
_SELECTS = ("select_one", "select one", "select_multiple", "select all that apply")


@dataclass(frozen=True)
class FormProblem:
    """One thing wrong with a form, and where."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [_("sheet {sheet}").format(sheet=self.sheet)] if self.sheet else []
        if self.row is not None:
            where.append(_("row {row}").format(row=self.row))
        if self.column:
            where.append(_("column {column}").format(column=self.column))
        return f"{', '.join(where)}: {self.message}" if where else self.message


def check_workbook(sheets: Sheets) -> list[FormProblem]:
    """Every problem in the workbook, in sheet and row order; empty when it can be loaded."""
    problems = list(_sheet_problems(sheets))
    if not sheets.get("survey"):
        return [*problems, FormProblem("survey", None, None, _("The form has no questions."))]
    names = _question_names(sheets["survey"])
    problems += _survey_problems(sheets, names)
    problems += _choice_problems(sheets)
    problems += _unknown_columns("settings", sheets.get("settings", []), SETTINGS_COLUMNS)
    problems += _followup_problems(sheets.get(FOLLOWUPS, []), names)
    return problems


def language_of(sheets: Sheets) -> str:
    """The label language Loa speaks: the form's default, a Vietnamese one, else the first."""
    header = (sheets.get("survey_header") or [{}])[0]
    languages = [str(c).split("::", 1)[1].strip() for c in header if c.startswith("label::")]
    default = str(((sheets.get("settings") or [{}])[0]).get("default_language", ""))
    if default in languages:
        return default
    for language in languages:
        if "(vi)" in language.lower() or language.lower().startswith(("tiếng việt", "vi")):
            return language
    if "label" in header or not languages:
        return "default"
    return languages[0]


def _sheet_problems(sheets: Sheets) -> Iterator[FormProblem]:
    names = sheets.get("sheet_names") or []
    if len(names) == 1:
        return  # a one-sheet workbook is the survey sheet, whatever it is called
    for name in names:
        if name.lower() not in SHEETS:
            message = _("Loa does not use this sheet; remove it or rename it to one of: {known}.")
            yield FormProblem(name, None, None, message.format(known=", ".join(SHEETS)))


def _rows(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    # pyxform keeps blank rows, so the position gives the spreadsheet row (header is row 1).
    for n, row in enumerate(rows, start=2):
        if row:
            yield n, row


def _column_base(column: str) -> str:
    return column.split("::", 1)[0].strip()


def _unknown_columns(
    sheet: str, rows: list[dict[str, str]], allowed: frozenset[str]
) -> Iterator[FormProblem]:
    seen: set[str] = set()
    for n, row in _rows(rows):
        for column in row:
            base = _column_base(column)
            if base in allowed and (base in TRANSLATABLE or "::" not in column):
                continue
            if column not in seen:
                seen.add(column)
                message = _("Loa does not support this column; remove it or leave it empty.")
                yield FormProblem(sheet, n, column, message)


def _question_names(rows: list[dict[str, str]]) -> set[str]:
    return {row["name"].strip() for _n, row in _rows(rows) if row.get("name")}


def _survey_problems(sheets: Sheets, names: set[str]) -> Iterator[FormProblem]:
    rows = sheets["survey"]
    yield from _unknown_columns("survey", rows, SURVEY_COLUMNS)
    lists = {row.get("list_name") for _n, row in _rows(sheets.get("choices", []))}
    seen: set[str] = set()
    depth = 0
    for n, row in _rows(rows):
        kind, problem = _type_of(row.get("type", ""), lists)
        if problem:
            yield FormProblem("survey", n, "type", problem)
            continue
        depth += {"begin_group": 1, "end_group": -1}.get(kind, 0)
        if depth < 0:
            yield FormProblem("survey", n, "type", _("end_group without a begin_group above it."))
            depth = 0
        if kind == "end_group":
            continue
        yield from _name_problems(n, row.get("name", "").strip(), seen)
        yield from _expression_problems("survey", n, row, names)
    if depth > 0:
        yield FormProblem("survey", None, "type", _("A begin_group has no end_group."))


def _type_of(text: str, lists: set[str | None]) -> tuple[str, str | None]:
    words = text.strip().lower().split()
    if not words:
        return "", _("Every row needs a type.")
    plain = _PLAIN_TYPES.get(" ".join(words))
    if plain:
        return plain, None
    for prefix in _SELECTS:
        size = len(prefix.split())
        if " ".join(words[:size]) != prefix:
            continue
        rest = text.strip().split()[size:]
        if len(rest) != 1:
            return "", _("Write the choice list after the select type, e.g. select_one yes_no.")
        if rest[0] not in lists:
            message = _("The choice list {name} is not on the choices sheet.")
            return "", message.format(name=rest[0])
        return "select", None
    message = _("Loa cannot ask questions of type {type} in a chat; use one of: {known}.")
    known = "text, integer, decimal, select_one, select_multiple, date, note, acknowledge, "
    return "", message.format(type=text.strip(), known=known + "calculate, begin_group")


def _name_problems(n: int, name: str, seen: set[str]) -> Iterator[FormProblem]:
    if not _NAME.match(name):
        message = _("A name must start with a letter and hold only letters, digits and _.")
        yield FormProblem("survey", n, "name", message)
    elif name in seen:
        message = _("The name {name} is used twice; every question needs its own name.")
        yield FormProblem("survey", n, "name", message.format(name=name))
    seen.add(name)


def _expression_problems(
    sheet: str, n: int, row: dict[str, str], names: set[str]
) -> Iterator[FormProblem]:
    for column in EXPRESSION_COLUMNS:
        if row.get(column):
            yield from _one_expression(sheet, n, column, row[column], names)
    required = row.get("required", "").strip()
    if required.lower() not in FIXED_REQUIRED:
        yield from _one_expression(sheet, n, "required", required, names)
    for column, text in row.items():
        if _column_base(column) in TRANSLATABLE:
            unknown = sorted(template_references(text) - names)
            if unknown:
                message = _("${{{name}}} does not name a question of this form.")
                yield FormProblem(sheet, n, column, message.format(name=unknown[0]))


def _one_expression(
    sheet: str, n: int, column: str, source: str, names: set[str]
) -> Iterator[FormProblem]:
    try:
        check_references(parse(source, choice_filter=column == "choice_filter"), names)
    except ExpressionError as error:
        yield FormProblem(sheet, n, column, str(error))


def _choice_problems(sheets: Sheets) -> Iterator[FormProblem]:
    seen: set[tuple[str, str]] = set()
    for n, row in _rows(sheets.get("choices", [])):
        for column in row:
            if _column_base(column) in CHOICE_MEDIA:
                message = _("Loa sends text only; remove pictures and sounds from the choices.")
                yield FormProblem("choices", n, column, message)
        key = (row.get("list_name", ""), row.get("name", ""))
        if not all(key):
            message = _("Every choice needs a list_name and a name.")
            yield FormProblem("choices", n, "name" if key[0] else "list_name", message)
        elif key in seen:
            message = _("The choice {name} appears twice in the list {list}.")
            yield FormProblem("choices", n, "name", message.format(name=key[1], list=key[0]))
        seen.add(key)


def _followup_problems(rows: list[dict[str, str]], names: set[str]) -> Iterator[FormProblem]:
    yield from _unknown_columns(FOLLOWUPS, rows, FOLLOWUP_COLUMNS)
    for n, row in _rows(rows):
        if not _KIND.match(row.get("kind", "").strip()):
            message = _("A kind is a short code in small letters, e.g. loan or visit.")
            yield FormProblem(FOLLOWUPS, n, "kind", message)
        priority = (row.get("priority") or "normal").strip().lower()
        if priority not in PRIORITIES:
            message = _("The priority must be one of: {known}.")
            yield FormProblem(FOLLOWUPS, n, "priority", message.format(known=", ".join(PRIORITIES)))
        if not row.get("condition", "").strip():
            yield FormProblem(FOLLOWUPS, n, "condition", _("Every rule needs a condition."))
        else:
            yield from _one_expression(FOLLOWUPS, n, "condition", row["condition"], names)
        unknown = sorted(template_references(row.get("note", "")) - names)
        if unknown:
            message = _("${{{name}}} does not name a question of this form.")
            yield FormProblem(FOLLOWUPS, n, "note", message.format(name=unknown[0]))
