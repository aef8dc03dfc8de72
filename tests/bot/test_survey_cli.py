"""`loa survey`, `loa chat`, `loa results export` and `loa followups list` end to end."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import common
from bot.clock import FixedClock
from tests.conftest import loa
from tests.handlers.dialogue.forms import sheets, write_csv

BUILT_IN = sorted(str(p) for p in Path("messages/vi/surveys").glob("*.csv"))


def _phone_of_first_household() -> tuple[str, str]:
    rows = list(csv.reader(io.StringIO(loa("households", "list", "--format", "csv")[1])))
    first = next(row for row in rows[1:] if row[5])
    return first[0], first[5].split()[0]


def test_import_list_show_and_reimport(demo: Path, tmp_path: Path) -> None:
    code, output = loa("survey", "import", *BUILT_IN)
    assert code == 0, output
    assert output.count("Đã nạp khảo sát") == 6
    code, output = loa("survey", "import", BUILT_IN[0])
    assert "đã được nạp rồi" in output
    code, output = loa("survey", "list")
    assert "needs" in output
    assert "2026112101" in output
    code, output = loa("survey", "show", "needs")
    assert code == 0
    assert "want_loan" in output
    assert "Muốn vay vốn" in output  # the follow-up rules, by their labels
    assert loa("survey", "show", "nope")[1].strip() == "Không có khảo sát nope."


def test_a_changed_form_needs_a_new_version(demo: Path, tmp_path: Path) -> None:
    first = sheets([("text", "a", "Hỏi?", "", "", "", "")], settings=("f", "F", "1"))
    assert loa("survey", "import", str(write_csv(tmp_path / "a.csv", first)))[0] == 0
    changed = sheets([("text", "a", "Hỏi khác?", "", "", "", "")], settings=("f", "F", "1"))
    code, output = loa("survey", "import", str(write_csv(tmp_path / "b.csv", changed)))
    assert code == 1
    assert "tăng số phiên bản" in output
    bumped = sheets([("text", "a", "Hỏi khác?", "", "", "", "")], settings=("f", "F", "2"))
    code, output = loa("survey", "import", str(write_csv(tmp_path / "c.csv", bumped)))
    assert "Đã thêm phiên bản 2" in output


def test_a_broken_form_lists_every_problem_and_stores_nothing(demo: Path, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", sheets([("text", "a", "A", "", "", "", "")]))
    survey = [("geopoint", "g", "Ở đâu", "", "", "", ""), ("text", "b", "B", "", "", "${x}", "")]
    bad = write_csv(tmp_path / "bad.csv", sheets(survey))
    code, output = loa("survey", "import", str(good), str(bad))
    assert code == 1
    assert "trang survey, dòng 2, cột type" in output
    assert "trang survey, dòng 3, cột relevant" in output
    assert "test" not in loa("survey", "list")[1]  # the good file was not stored either


def test_chat_plays_a_household_through_a_survey_and_results_come_out(
    demo: Path, tmp_path: Path
) -> None:
    loa("survey", "import", *BUILT_IN)
    code, phone = _phone_of_first_household()
    answers = "\n".join(["1", "20 triệu", "1", "2", "1", "1", "1", "1", "1,2", "2"]) + "\n"
    status, output = loa("chat", "--phone", phone, "--start", "needs", stdin=answers)
    assert status == 0, output
    assert "Hộ mình có cần vay vốn" in output
    assert "1. Có  2. Không" in output
    assert output.strip().splitlines()[-1].startswith("Cảm ơn")
    out_file = tmp_path / "needs.csv"
    status, output = loa("results", "export", "needs", "--format", "csv", "--out", str(out_file))
    assert status == 0, output
    with out_file.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert rows[0]["household_code"] == code
    assert rows[0]["status"] == "completed"
    assert rows[0]["want_loan"] == "yes"
    assert rows[0]["loan_amount"] == "20000000"
    assert rows[0]["production"] == "crops livestock"
    assert rows[0]["wish_text"] == ""
    xlsx = tmp_path / "needs.xlsx"
    assert loa("results", "export", "needs", "--format", "xlsx", "--out", str(xlsx))[0] == 0
    sheet = load_workbook(xlsx, read_only=True).active
    assert sheet is not None
    header = next(sheet.iter_rows(values_only=True))
    assert header[:7] == (
        "household_code",
        "commune_code",
        "village",
        "channel",
        "started_at",
        "completed_at",
        "status",
    )
    status, output = loa("followups", "list", "--format", "csv", "--kind", "loan")
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == [
        "id",
        "household_code",
        "head_name",
        "commune_code",
        "village",
        "kind",
        "priority",
        "status",
        "note",
        "created_at",
    ]
    assert [(r[1], r[5], r[6], r[7]) for r in rows[1:]] == [(code, "loan", "high", "open")]
    assert loa("followups", "list")[0] == 0
    xlsx = tmp_path / "f.xlsx"
    assert loa("followups", "list", "--format", "xlsx", "--out", str(xlsx))[0] == 0
    assert xlsx.exists()


def test_survey_start_queues_for_the_console_and_chat_shows_it(demo: Path) -> None:
    loa("survey", "import", *BUILT_IN)
    code, phone = _phone_of_first_household()
    status, output = loa("survey", "start", "training", "--household", code)
    assert status == 0, output
    assert "Trong hộ có ai muốn học nghề không?" in output
    status, output = loa("chat", "--phone", phone, stdin="")
    assert "học nghề" in output  # the queued question is shown when the phone is played
    status, output = loa("chat", "--phone", phone, stdin="")
    assert output.strip() == ""  # and only once
    status, output = loa("survey", "start", "training", "--household", "NOPE")
    assert status == 1


def test_chat_with_an_unknown_number(demo: Path) -> None:
    status, output = loa("chat", "--phone", "0900000001", stdin="xin chào\n")
    assert status == 0
    assert "chưa có trong danh sách của xã" in output
    status, output = loa("chat", "--phone", "12", stdin="")
    assert status == 1


def test_expire_closes_silent_conversations(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loa("survey", "import", *BUILT_IN)
    code, _phone = _phone_of_first_household()
    assert loa("survey", "start", "training", "--household", code)[0] == 0
    assert loa("survey", "expire")[1].strip() == "Đã đóng 0 cuộc hỏi đáp lâu không trả lời."
    later = FixedClock(datetime.now(UTC) + timedelta(hours=73))
    monkeypatch.setattr(common, "clock", later)
    assert loa("survey", "expire")[1].strip() == "Đã đóng 1 cuộc hỏi đáp lâu không trả lời."
    out_file = Path(str(demo) + ".results.csv")
    loa("results", "export", "training", "--out", str(out_file))
    with out_file.open(encoding="utf-8-sig") as handle:
        assert [row["status"] for row in csv.DictReader(handle)] == ["expired"]
