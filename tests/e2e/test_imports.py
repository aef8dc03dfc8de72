"""In a real browser: an assistant uploads a household list with errors on a phone, reads the
report row by row, then imports the valid rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from messages.render import _
from tests.e2e.conftest import PHONE, Screen, World

pytestmark = pytest.mark.chromium
HEADER = ["STT", "Mã hộ", "Họ và tên chủ hộ", "Mã xã", "Phân loại", "Số điện thoại"]


def household_list(path: Path, commune: str) -> Path:
    """A list as communes keep them: title rows, a header, two good rows and a bad one."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    for row in [
        ["DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2026"],
        [],
        HEADER,
        [1, "E2E-0001", "Trần Thị Mai", commune, "Nghèo", "0912 345 678"],
        [2, "E2E-0002", "Lò Văn Sáng", commune, "Cận nghèo", ""],
        [3, "E2E-0003", "Nguyễn Văn Giàu", commune, "Giàu", ""],
    ]:
        sheet.append(row)
    book.save(path)
    return path


def test_an_upload_with_errors_gets_a_report_by_row_and_the_valid_rows_import(
    screen: Callable[..., Screen], world: World, tmp_path: Path
) -> None:
    upload = household_list(tmp_path / "danh-sach-ho.xlsx", world.mine)
    s = screen(PHONE)
    s.sign_in("assistant")
    s.go("/imports")
    s.shot("upload-form")
    form = "form[action='/imports/households']"
    s.page.set_input_files(f"{form} input[name=file]", str(upload))
    s.page.click(f"{form} button[type=submit]")
    report = s.page.inner_text("main")
    assert _("Import report") in report
    rejected = s.page.locator("table.problems tr.rejected")
    assert rejected.count() >= 1
    line = rejected.first.inner_text()
    assert "6" in line  # the spreadsheet's own row number, title rows counted
    assert "Phân loại" in line
    assert "Giàu" in line
    s.shot("report-with-errors")

    s.go("/imports")
    s.page.set_input_files(f"{form} input[name=file]", str(upload))
    s.page.uncheck(f"{form} input[name=dry_run]")
    s.page.check(f"{form} input[name=skip_invalid]")
    s.page.click(f"{form} button[type=submit]")
    assert _("The file is imported; the changes are saved.") in s.page.inner_text("main")
    s.shot("valid-rows-imported")
    s.go("/households?q=E2E-0001")
    assert "Trần Thị Mai" in s.page.inner_text("main")
    s.go("/households?q=E2E-0003")
    assert "Nguyễn Văn Giàu" not in s.page.inner_text("main")
    s.shot("household-found")
