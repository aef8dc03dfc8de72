"""In a real browser: signing in, and another commune's household refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from messages.render import _
from tests.e2e.conftest import DESK, PHONE, Screen, World

pytestmark = pytest.mark.chromium


def test_an_assistant_signs_in_on_a_phone_and_sees_the_overview(
    screen: Callable[..., Screen], world: World
) -> None:
    s = screen(PHONE)
    s.go("/households")
    assert "/login" in s.page.url  # no session: the sign-in page, then back here
    s.shot("sign-in")
    s.page.fill("input[name=username]", "assistant")
    s.page.fill("input[name=password]", "not the password")
    s.page.click("form[action='/login'] button[type=submit]")
    assert _("Wrong username or password.") in s.page.inner_text("main")
    s.shot("wrong-password")
    s.sign_in("assistant")
    s.go("/households")
    assert s.page.url.endswith("/households")
    assert world.records["household"] in s.page.inner_text("main")
    assert world.foreign["household"] not in s.page.inner_text("main")
    # The page fits the phone: nothing wider than the screen but the scrolling tables.
    width = s.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page is {width}px wide on a 360px phone"
    s.shot("households")


def test_another_communes_household_is_refused_as_not_found(
    screen: Callable[..., Screen], world: World
) -> None:
    s = screen(DESK)
    s.sign_in("assistant")
    own = s.go(f"/households/{world.records['household']}")
    assert own.status == 200
    assert world.records["household"] in s.page.inner_text("h1")
    s.shot("own-household")
    refused = s.go(f"/households/{world.foreign['household']}")
    assert refused.status == 404
    assert _("Not found, or outside your areas.") in s.page.inner_text("main")
    assert world.foreign["household"] not in s.page.inner_text("body")
    s.shot("other-commune-refused")
