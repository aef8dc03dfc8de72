"""In a real browser: "Thử như người dân" (try as a household) on a phone. A survey question
arrives on the household's phone and is answered there, through Loa's real inbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import PHONE, TIMEOUT_MS, Screen, World

pytestmark = pytest.mark.chromium
FROM_LOA = "#phone-screen .msg.from-loa"
FROM_ME = "#phone-screen .msg.from-me"


def test_a_newcomer_plays_a_household_and_answers_a_survey_question(
    screen: Callable[..., Screen], world: World
) -> None:
    s = screen(PHONE)
    s.sign_in("assistant")
    s.go("/try")
    s.shot("choose-a-household")
    s.page.click("a[href='/try?choose=1']")
    assert "/try/" in s.page.url
    s.shot("the-phone")
    arrived = s.page.locator(FROM_LOA).count()

    s.page.click("form[action$='/survey'] button[type=submit]")
    s.page.wait_for_function(
        f"document.querySelectorAll('{FROM_LOA}').length > {arrived}", timeout=TIMEOUT_MS
    )
    question = s.page.locator(FROM_LOA).last.inner_text()
    assert question.strip()
    s.shot("a-question-arrives")
    asked = s.page.locator(FROM_LOA).count()

    s.page.fill("#phone-send input[name=text]", "1")
    s.page.click("#phone-send button[type=submit]")
    s.page.wait_for_function(
        f"document.querySelectorAll('{FROM_LOA}').length > {asked}", timeout=TIMEOUT_MS
    )
    assert s.page.locator(FROM_ME).last.inner_text().startswith("1")
    assert s.page.locator(FROM_LOA).last.inner_text() != question  # the next step of the survey
    s.shot("answered")
