"""In a real browser: an assistant works a follow-up on a phone and exports the list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from messages.render import _
from tests.e2e.conftest import PHONE, Screen, World

pytestmark = pytest.mark.chromium
NOTE = "Đã gọi điện, hẹn thăm hộ sáng thứ Hai."


def test_an_assistant_assigns_notes_and_closes_a_follow_up_then_exports_the_list(
    screen: Callable[..., Screen], world: World, tmp_path: Path
) -> None:
    s = screen(PHONE, accept_downloads=True)
    s.sign_in("assistant")
    followup = world.records["followup"]
    s.go("/followups")
    s.shot("work-queue")
    s.page.click(f"a[href='/followups/{followup}']")
    assert s.page.url.endswith(f"/followups/{followup}")
    s.shot("follow-up")

    s.page.select_option(f"form[action='/followups/{followup}/assign'] select", "me")
    s.page.click(f"form[action='/followups/{followup}/assign'] button[type=submit]")
    assert "assistant" in s.page.inner_text("main")
    s.page.fill(f"form[action='/followups/{followup}/note'] textarea", NOTE)
    s.page.click(f"form[action='/followups/{followup}/note'] button[type=submit]")
    assert NOTE in s.page.inner_text("main")
    s.shot("assigned-and-noted")
    s.page.select_option(f"form[action='/followups/{followup}/status'] select", "done")
    s.page.click(f"form[action='/followups/{followup}/status'] button[type=submit]")
    assert _("Done") in s.page.inner_text("main .badge, main dd")
    s.shot("done")

    s.go("/followups?status=all")
    with s.page.expect_download() as download:
        s.page.click("a[href^='/followups/export.xlsx']")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    rows = list(load_workbook(saved, read_only=True).worksheets[0].iter_rows(values_only=True))
    title = next(str(c) for row in rows[:6] for c in row if c and str(c).startswith("DANH SÁCH"))
    assert "DANH SÁCH" in title
    cells = {str(c) for row in rows for c in row if c is not None}
    assert world.records["household"] in cells
    assert world.foreign["household"] not in cells
    s.shot("exported")
