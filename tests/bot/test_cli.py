"""The `loa` command end to end: demo data, imports, lists, staff, and errors as one sentence."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import loa
from tests.storage.sheets import HEADER, household, write_sheet


def test_demo_register_imports_and_lists(demo: Path) -> None:
    code, output = loa("households", "list", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["code", "head_name", "commune_code", "village", "category", "phones"]
    assert len(rows) == 201
    assert any(" +84" in row[5] for row in rows[1:])  # two phones, space separated
    assert all(p.startswith("+84") for row in rows[1:] for p in row[5].split())
    code, output = loa("households", "list", "--category", "poor", "--format", "csv")
    assert {row[4] for row in list(csv.reader(io.StringIO(output)))[1:]} == {"poor"}
    code, output = loa("areas", "list", "--format", "csv")
    assert code == 0
    assert len(output.strip().splitlines()) == 3


def test_reimport_is_unchanged_and_show_prints_a_household(demo: Path) -> None:
    code, output = loa("import", "households", str(demo), "--skip-invalid")
    assert code == 0
    assert "Hộ không thay đổi" in output
    assert "200" in output
    first = list(csv.reader(io.StringIO(loa("households", "list", "--format", "csv")[1])))[1]
    code, output = loa("households", "show", first[0])
    assert code == 0
    assert first[1] in output
    assert loa("households", "show", "NOPE")[1].strip() == "Không có hộ nào mang mã NOPE."


def test_rejected_rows_stop_the_import_with_exit_code_1(demo: Path, tmp_path: Path) -> None:
    commune = list(csv.reader(io.StringIO(loa("areas", "list", "--format", "csv")[1])))[1][4]
    path = write_sheet(
        tmp_path / "bad.csv",
        [
            HEADER,
            household("X1", **{"Mã xã": commune}),
            household("X2", **{"Mã xã": commune, "Ngày công nhận": "32/01/2024"}),
        ],
    )
    code, output = loa("import", "households", str(path))
    assert code == 1
    assert "Chưa nhập gì" in output
    assert path.with_name("bad.csv.rejects.csv").exists()
    code, output = loa("households", "show", "X1")
    assert code == 1
    code, output = loa("import", "households", str(path), "--skip-invalid", "--dry-run")
    assert code == 0
    assert "Chạy thử" in output


def test_staff_add_reads_the_password_from_stdin(demo: Path) -> None:
    commune = list(csv.reader(io.StringIO(loa("areas", "list", "--format", "csv")[1])))[1][4]
    add_lan = ("staff", "add", "lan", "--role", "assistant", "--area", commune, "--password-stdin")
    code, output = loa(*add_lan, stdin="mat-khau-that-dai\n")
    assert code == 0, output
    code, output = loa(*add_lan, stdin="mat-khau-that-dai\n")
    assert code == 1
    assert "đã có người dùng" in output
    code, output = loa(
        "staff",
        "add",
        "binh",
        "--role",
        "officer",
        "--area",
        "00000",
        "--password-stdin",
        stdin="mat-khau-that-dai\n",
    )
    assert code == 1
    assert "00000" in output


def test_a_missing_file_is_one_sentence(settings_env: str, tmp_path: Path) -> None:
    code, output = loa("import", "households", str(tmp_path / "khong-co.xlsx"))
    assert code == 1
    assert "không có" in output
    assert "Traceback" not in output


def test_an_unexpected_error_is_one_sentence_and_a_log_file(
    settings_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import bot.cli.registry

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.cli.registry, "list_communes", broken)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["loa", "areas", "list"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    printed = capsys.readouterr().err
    assert "Loa dừng vì một lỗi không lường trước" in printed
    assert "Traceback" not in printed
    assert "RuntimeError: disk on fire" in (tmp_path / "var/log/loa-errors.log").read_text()


def test_a_wrong_setting_stops_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.config import get_settings

    monkeypatch.setenv("LOA_TIMEZONE", "Hanoi")
    monkeypatch.setattr("sys.argv", ["loa", "run"])
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as stopped:
        main()
    get_settings.cache_clear()
    assert stopped.value.code == 1
    assert "Thiết lập LOA_TIMEZONE không đúng" in capsys.readouterr().err
