"""In a real browser: an assistant composes a broadcast, an officer approves it, and its
progress bar moves while the sender works through the commune (SMS to the fake Kannel)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import DESK, PHONE, TIMEOUT_MS, Screen, World

pytestmark = pytest.mark.chromium
TEXT = "Kính gửi {ho_ten}: thôn họp bàn kế hoạch hỗ trợ sinh kế lúc 19 giờ thứ Bảy tại nhà văn hoá."
BAR = "#progress progress"


def bar(s: Screen) -> tuple[int, int]:
    """The progress bar's value and maximum."""
    found = s.page.locator(BAR)
    return int(float(found.get_attribute("value") or 0)), int(float(found.get_attribute("max")))


def test_a_broadcast_is_composed_approved_and_sent_with_a_moving_progress_bar(
    screen: Callable[..., Screen], world: World
) -> None:
    writer = screen(DESK)
    writer.sign_in("assistant")
    writer.go("/broadcasts/new")
    writer.page.fill("input[name=title]", "Họp thôn tháng 11")
    writer.page.fill("textarea[name=text]", TEXT)
    ticks = writer.page.locator(f"input[name=commune][value='{world.mine}']")
    if ticks.count():
        ticks.check()
    # The live preview arrives by itself (broadcasts.js), with the households it reaches.
    writer.page.wait_for_selector("#preview .bc-preview[data-ok='1']")
    preview = writer.page.inner_text("#preview")
    assert world.mine in preview
    writer.shot("composed-with-preview")
    writer.page.click("button[name=action][value=submit]")
    found = re.search(r"/broadcasts/(\d+)", writer.page.url)
    assert found, writer.page.url
    broadcast = found.group(1)
    assert writer.page.locator("form[action$='/approve']").count() == 0  # never its writer
    writer.shot("submitted-waiting-for-approval")

    officer = screen(PHONE)
    officer.sign_in("officer")
    officer.go(f"/broadcasts/{broadcast}")
    officer.shot("officer-sees-it")
    officer.page.click(f"form[action='/broadcasts/{broadcast}/approve'] button")
    officer.page.wait_for_load_state()
    officer.shot("approved")

    # The scheduler queues it within seconds; then the bar moves on the open page by itself.
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while bar(officer)[0] == 0 or officer.page.locator("[data-running='1']").count() == 0:
        assert time.monotonic() < deadline, "the broadcast did not start sending"
        time.sleep(1)
        officer.go(f"/broadcasts/{broadcast}")
    first, total = bar(officer)
    assert total >= 50  # the commune's households
    officer.shot("sending")
    officer.page.wait_for_function(
        f"document.querySelector('{BAR}').value > {first}", timeout=TIMEOUT_MS
    )
    assert bar(officer)[0] > first
    officer.shot("progress-moved")
    officer.page.wait_for_function(
        f"document.querySelector('{BAR}').value >= {total}", timeout=2 * TIMEOUT_MS
    )
    officer.shot("sent")
