"""Loading an XLSForm (.xlsx, .xls or .csv) through pyxform into Loa's form model.

Every problem is collected with its sheet, row and column before anything is built, so a
commune officer sees the whole list at once; pyxform then checks what Loa does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pyxform import xls2json_backends as backends
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dialogue.form import SELECTS, Choice, FollowUpRule, Form, QType, Question
from handlers.dialogue.xlsform_checks import (
    FOLLOWUPS,
    FormProblem,
    Sheets,
    check_workbook,
    language_of,
)
from messages.render import _
from messages.text import nfc
from storage import surveys
from storage.audit import Actor

SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".csv": "csv"}


class FormError(Exception):
    """A form that cannot be loaded; `problems` says where and why, one line each."""

    def __init__(self, problems: list[FormProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_form(path: Path) -> Form:
    """Read, check and build the form in PATH; FormError lists every problem found."""
    sheets = read_workbook(path)
    problems = check_workbook(sheets)
    if problems:
        raise FormError(problems)
    definition = {k: v for k, v in sheets.items() if not k.startswith(FOLLOWUPS)}
    try:
        built = workbook_to_json(backends.DefinitionData(**definition), form_name=path.stem)
    except PyXFormError as error:
        message = _("The form checker (pyxform) refused the form: {detail}")
        raise FormError([FormProblem("survey", None, None, message.format(detail=error))]) from None
    return build_form(built, sheets, fallback_id=path.stem)


async def save_form(
    session: AsyncSession, form: Form, *, source_name: str, actor: Actor, now: datetime
) -> str:
    """Store a loaded form as a version: created, added or unchanged (SurveyError if changed)."""
    return await surveys.save_version(
        session,
        form_id=form.form_id,
        title=form.title,
        version=form.version,
        definition=form.to_json(),
        content_hash=form.content_hash(),
        source_name=source_name,
        actor=actor,
        now=now,
    )


def read_workbook(path: Path) -> Sheets:
    """Every sheet as pyxform reads it (rows of column -> text), `loa_followups` included."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        message = _("Loa reads forms from .xlsx, .xls or .csv files, not {suffix}.")
        raise FormError([FormProblem("", None, None, message.format(suffix=path.suffix or "?"))])
    try:
        if kind == "csv":
            sheets: Sheets = backends.csv_to_dict(str(path))
        else:
            reader = backends.xlsx_to_dict if kind == "xlsx" else backends.xls_to_dict
            sheets = reader(str(path))
            sheets.update(_followup_sheet(path, kind))
    except (PyXFormError, OSError, ValueError) as error:
        message = _("The file could not be read as a form: {detail}")
        raise FormError([FormProblem("", None, None, message.format(detail=error))]) from None
    return sheets


def _followup_sheet(path: Path, kind: str) -> Sheets:
    """pyxform reads only the sheets it knows; Loa's own sheet is read with its helpers."""
    rows: list[tuple[Any, ...]]
    if kind == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            name = next((n for n in book.sheetnames if n.lower() == FOLLOWUPS), None)
            if name is None:
                return {}
            rows = [tuple(_Cell(c) for c in row) for row in book[name].iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        import xlrd

        xls = xlrd.open_workbook(str(path))
        name = next((n for n in xls.sheet_names() if n.lower() == FOLLOWUPS), None)
        if name is None:
            return {}
        sheet = xls.sheet_by_name(name)
        rows = [tuple(_Cell(c.value) for c in sheet.row(i)) for i in range(sheet.nrows)]
    if not rows:
        return {FOLLOWUPS: [], f"{FOLLOWUPS}_header": []}
    headers = backends.get_excel_column_headers(c.value for c in rows[0])
    body = backends.get_excel_rows(headers, rows[1:], _cell_text)
    columns = [h for h in headers if h is not None]
    return {FOLLOWUPS: body, f"{FOLLOWUPS}_header": [dict.fromkeys(columns)]}


@dataclass(frozen=True)
class _Cell:
    value: Any


def _cell_text(cell: _Cell, row_n: int, key: str) -> str:
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def build_form(built: dict[str, Any], sheets: Sheets, *, fallback_id: str) -> Form:
    """Loa's form from pyxform's JSON, groups flattened and rows kept for messages."""
    language = language_of(sheets)
    rows = {row.get("name"): n for n, row in enumerate(sheets.get("survey", []), start=2)}
    pick = _picker(language)
    questions: list[Question] = []
    _flatten(built.get("children", []), (), questions, rows, pick)
    choices = {
        list_name: tuple(_choice(option, pick) for option in options)
        for list_name, options in (built.get("choices") or {}).items()
    }
    settings = (sheets.get("settings") or [{}])[0]
    form = Form(
        form_id=settings.get("form_id") or fallback_id,
        title=nfc(settings.get("form_title") or built.get("title") or fallback_id),
        version=settings.get("version", ""),
        language=language,
        questions=tuple(questions),
        choices=choices,
        followups=_followups(sheets),
    )
    if not form.version:  # no version given: the content decides, so a re-import is a no-op
        form = replace(form, version="sha-" + form.content_hash()[:12])
    return form


def _picker(language: str) -> Callable[[Any], str]:
    def pick(value: Any) -> str:
        if isinstance(value, dict):
            value = value.get(language) or value.get("default") or next(iter(value.values()), "")
        return nfc(str(value or ""))

    return pick


_TYPES = {
    "text": QType.TEXT,
    "integer": QType.INTEGER,
    "decimal": QType.DECIMAL,
    "select one": QType.SELECT_ONE,
    "select all that apply": QType.SELECT_MULTIPLE,
    "date": QType.DATE,
    "note": QType.NOTE,
    "acknowledge": QType.ACKNOWLEDGE,
    "trigger": QType.ACKNOWLEDGE,  # pyxform's internal name for acknowledge
    "calculate": QType.CALCULATE,
}


def _flatten(
    children: list[dict[str, Any]],
    relevant: tuple[str, ...],
    out: list[Question],
    rows: dict[Any, int],
    pick: Callable[[Any], str],
) -> None:
    for child in children:
        bind = child.get("bind") or {}
        own = (*relevant, bind["relevant"]) if bind.get("relevant") else relevant
        if child.get("type") == "group":
            if child.get("control", {}).get("bodyless"):
                continue  # pyxform's own meta group (instanceID)
            if child.get("label"):  # a group's heading is said as a note when it applies
                out.append(_question(child, QType.NOTE, own, rows, pick))
            _flatten(child.get("children", []), own, out, rows, pick)
            continue
        out.append(_question(child, _TYPES[child["type"]], own, rows, pick))


def _question(
    child: dict[str, Any],
    qtype: QType,
    relevant: tuple[str, ...],
    rows: dict[Any, int],
    pick: Callable[[Any], str],
) -> Question:
    bind = child.get("bind") or {}
    return Question(
        name=child["name"],
        type=qtype,
        row=rows.get(child["name"], 0),
        label=pick(child.get("label")),
        hint=pick(child.get("hint")),
        required=str(bind.get("required", "")),
        required_message=pick(bind.get("jr:requiredMsg")),
        relevant=relevant,
        constraint=bind.get("constraint", ""),
        constraint_message=pick(bind.get("jr:constraintMsg")),
        calculation=bind.get("calculate", ""),
        default=str(child.get("default", "")),
        choice_list=child.get("list_name", "") if qtype in SELECTS else "",
        choice_filter=child.get("choice_filter", ""),
    )


def _choice(option: dict[str, Any], pick: Callable[[Any], str]) -> Choice:
    extra = {k: str(v) for k, v in option.items() if k not in ("name", "label", "media")}
    return Choice(name=str(option["name"]), label=pick(option.get("label")), extra=extra)


def _followups(sheets: Sheets) -> tuple[FollowUpRule, ...]:
    return tuple(
        FollowUpRule(
            kind=row["kind"].strip(),
            condition=row["condition"],
            priority=(row.get("priority") or "normal").strip().lower(),
            note=nfc(row.get("note", "")),
            row=n,
        )
        for n, row in enumerate(sheets.get(FOLLOWUPS, []), start=2)
        if row
    )
