"""Loading XLSForm: every supported type and column, and every refusal named by place."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, csv_to_dict

from handlers.dialogue.form import Form, QType
from handlers.dialogue.xlsform import FormError, load_form
from tests.handlers.dialogue.forms import sheets, write_csv, write_xlsx

BUILT_IN = sorted(Path("messages/vi/surveys").glob("*.csv"))
EVERY_TYPE = [
    ("note", "hello", "Chào bà con", "", "", "", ""),
    ("text", "t", "Tên?", "", "yes", "", ""),
    ("integer", "i", "Mấy người?", "", "", "", ". > 0"),
    ("decimal", "d", "Bao nhiêu sào?", "", "", "", ""),
    ("select_one yn", "s1", "Có vay?", "", "", "", ""),
    ("select_multiple yn", "sm", "Chọn", "", "", "", ""),
    ("date", "dt", "Ngày?", "", "", "", ""),
    ("acknowledge", "ack", "Đã hiểu?", "", "", "", ""),
    ("calculate", "c", "", "", "", "", ""),
    ("begin_group", "g", "", "", "", "${s1} = 'yes'", ""),
    ("text", "inner", "Trong nhóm", "", "", "${i} > 1", ""),
    ("end_group", "", "", "", "", "", ""),
]
HEAD = ("type", "name", "label", "hint", "required", "relevant", "constraint", "calculation")


def _every_type() -> list[tuple[str, ...]]:
    rows = [(*row, "") for row in EVERY_TYPE]
    rows[8] = (*EVERY_TYPE[8], "${i} * 2")
    return rows


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_built_in_surveys_load_cleanly(path: Path) -> None:
    form = load_form(path)
    assert form.form_id == path.stem
    assert form.language == "Tiếng Việt (vi)"
    assert form.followups
    assert all(q.label for q in form.questions if q.type is not QType.CALCULATE)
    book = csv_to_dict(str(path))
    book.pop("loa_followups"), book.pop("loa_followups_header")
    found: list[str] = []
    workbook_to_json(DefinitionData(**book), form_name=path.stem, warnings=found)
    assert found == []


def test_built_in_surveys_are_six() -> None:
    assert {p.stem for p in BUILT_IN} == {
        "needs",
        "escape_poverty",
        "training",
        "loan_use",
        "health_card",
        "feedback",
    }


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_every_supported_type_and_group_flattening(tmp_path: Path, writer: object) -> None:
    book = sheets(_every_type(), survey_head=HEAD, followups=[("visit", "${i} > 3", "high", "")])
    path = writer(tmp_path / f"f.{'csv' if writer is write_csv else 'xlsx'}", book)  # type: ignore[operator]
    form = load_form(path)
    types = {q.name: q.type for q in form.questions}
    assert types == {
        "hello": QType.NOTE,
        "t": QType.TEXT,
        "i": QType.INTEGER,
        "d": QType.DECIMAL,
        "s1": QType.SELECT_ONE,
        "sm": QType.SELECT_MULTIPLE,
        "dt": QType.DATE,
        "ack": QType.ACKNOWLEDGE,
        "c": QType.CALCULATE,
        "inner": QType.TEXT,
    }
    inner = form.questions[form.index["inner"]]
    assert inner.relevant == ("${s1} = 'yes'", "${i} > 1")
    assert inner.row == 12
    assert form.questions[form.index["c"]].calculation == "${i} * 2"
    assert form.followups[0].kind == "visit"
    assert form.followups[0].priority == "high"
    assert form.followups[0].row == 2
    assert Form.from_json(form.to_json()) == form


def test_group_label_is_said_as_a_note_and_languages_are_chosen(tmp_path: Path) -> None:
    head = (
        "type",
        "name",
        "label::English (en)",
        "label::Tiếng Việt (vi)",
        "hint::Tiếng Việt (vi)",
    )
    survey = [
        ("begin_group", "g", "About you", "Về hộ mình", ""),
        ("integer", "n", "How many?", "Mấy người?", "Ví dụ: 4"),
        ("end_group", "", "", "", ""),
    ]
    choices_head = ("list_name", "name", "label::English (en)", "label::Tiếng Việt (vi)")
    book = sheets(
        survey, survey_head=head, choices=[("yn", "yes", "Yes", "Có")], choices_head=choices_head
    )
    form = load_form(write_csv(tmp_path / "f.csv", book))
    assert [(q.name, q.type) for q in form.questions] == [("g", QType.NOTE), ("n", QType.INTEGER)]
    assert form.questions[0].label == "Về hộ mình"
    assert form.questions[1].hint == "Ví dụ: 4"
    assert form.choices["yn"][0].label == "Có"


def test_missing_version_is_taken_from_the_content(tmp_path: Path) -> None:
    book = sheets([("text", "t", "Tên?", "", "", "", "")], settings=("f", "F"))
    book["settings"][0] = ["form_id", "form_title"]
    first = load_form(write_csv(tmp_path / "a.csv", book))
    again = load_form(write_csv(tmp_path / "b.csv", book))
    assert first.version.startswith("sha-")
    assert first.version == again.version


def _problems(
    tmp_path: Path, book: dict[str, list[list[str]]]
) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(FormError) as caught:
        load_form(write_xlsx(tmp_path / "bad.xlsx", book))
    return [(p.sheet, p.row, p.column) for p in caught.value.problems]


def test_unsupported_types_and_columns_are_refused_by_place(tmp_path: Path) -> None:
    survey = [
        ("text", "a", "A", "", "", "", "", "field-list"),
        ("geopoint", "where", "Ở đâu?", "", "", "", "", ""),
        ("begin_repeat", "r", "Lặp", "", "", "", "", ""),
        ("select_one nolist", "b", "B", "", "", "", "", ""),
        ("image", "photo", "Ảnh", "", "", "", "", ""),
    ]
    book = sheets(
        survey,
        survey_head=(*HEAD[:7], "appearance"),
        choices=[("yn", "yes", "Có", "a.jpg")],
        choices_head=("list_name", "name", "label", "media::image"),
        settings=("f", "F", "1", "x"),
        settings_head=("form_id", "form_title", "version", "instance_name"),
        followups=[("Loan!", "${a} = 1", "urgent", "${nobody}")],
    )
    book["notes"] = [["anything"], ["x"]]
    assert _problems(tmp_path, book) == [
        ("notes", None, None),
        ("survey", 2, "appearance"),
        ("survey", 3, "type"),
        ("survey", 4, "type"),
        ("survey", 5, "type"),
        ("survey", 6, "type"),
        ("choices", 2, "media::image"),
        ("settings", 2, "instance_name"),
        ("loa_followups", 2, "kind"),
        ("loa_followups", 2, "priority"),
        ("loa_followups", 2, "note"),
    ]


def test_bad_expressions_name_their_row_and_column(tmp_path: Path) -> None:
    survey = [
        ("integer", "n", "Mấy người?", "", "", "", "frobnicate(.) > 1"),
        ("text", "t", "Tên ${ghost}?", "", "", "${n} > 1", ""),
        ("text", "u", "U", "", "", "${missing} = 'x'", ". >"),
        ("text", "n", "Lặp tên", "", "", "", ""),
    ]
    followups = [("loan", "", "high", ""), ("visit", "${n} >", "low", "")]
    problems = _problems(tmp_path, sheets(survey, followups=followups))
    assert problems == [
        ("survey", 2, "constraint"),
        ("survey", 3, "label"),
        ("survey", 4, "relevant"),
        ("survey", 4, "constraint"),
        ("survey", 5, "name"),
        ("loa_followups", 2, "condition"),
        ("loa_followups", 3, "condition"),
    ]


def test_a_problem_reads_as_one_vietnamese_line(tmp_path: Path) -> None:
    survey = [("integer", "n", "Mấy người?", "", "", "", "frobnicate(.) > 1")]
    with pytest.raises(FormError) as caught:
        load_form(write_csv(tmp_path / "f.csv", sheets(survey)))
    line = str(caught.value.problems[0])
    assert line.startswith("trang survey, dòng 2, cột constraint: ")
    assert "frobnicate" in line


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"not a workbook")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FormError) as caught:
            load_form(path)
    assert len(caught.value.problems) == 1
    with pytest.raises(FormError):
        load_form(tmp_path / "f.ods")


def test_an_old_excel_xls_form_loads_with_its_followup_sheet() -> None:
    # Written once with xlwt (Excel 97-2003), since nothing in the project writes .xls.
    form = load_form(Path(__file__).parent / "fixtures/vay-von.xls")
    assert (form.form_id, form.version, form.title) == ("xls_form", "3", "Biểu mẫu .xls")
    assert [q.name for q in form.questions] == ["loan", "amount"]
    assert form.questions[1].relevant == ("${loan} = 'yes'",)
    assert [(r.kind, r.priority, r.note) for r in form.followups] == [
        ("loan", "high", "Cần vay ${amount} đồng")
    ]
