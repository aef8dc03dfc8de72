"""The audit log page: admins only; who, when, what, old → new; filters; keyset pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from bot.cli import common
from bot.clock import FixedClock
from tests.conftest import NOW
from tests.web.conftest import Communes, csrf_of


@pytest.fixture(autouse=True)
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's imports an hour before the console's clock: ids follow time, as in real use
    (with the system clock, the demo's import could come after the app's fixed moment)."""
    monkeypatch.setattr(common, "clock", FixedClock(NOW - timedelta(hours=1)))


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_only_admins_read_the_log(signed_in: Callable[[str], TestClient]) -> None:
    for username in ("assistant", "officer"):
        assert signed_in(username).get("/audit").status_code == 403
    page = signed_in("admin").get("/audit")
    assert page.status_code == 200
    assert "households" in page.text  # the import's creations


def test_changes_read_old_to_new_and_filters_narrow_them(
    signed_in: Callable[[str], TestClient], staff: Communes
) -> None:
    admin = signed_in("admin")
    page = admin.get("/staff").text
    officer = re.search(r'href="/staff/(\d+)">officer<', page)
    assert officer
    done = admin.post(
        f"/staff/{officer.group(1)}",
        data={"csrf": csrf_of(page), "role": "assistant", "areas": staff.other},
        follow_redirects=False,
    )
    assert done.status_code == 303
    mine = admin.get("/audit?actor=admin").text
    rows = _rows(mine)
    assert len(rows) == 1
    assert "<del>officer</del> → <ins>assistant</ins>" in rows[0]
    assert f"<del>{staff.mine}</del> → <ins>{staff.other}</ins>" in rows[0]
    assert "staff_users" in rows[0]
    only_staff = _rows(admin.get("/audit?entity=staff_users").text)
    assert len(only_staff) >= 5  # four added by the CLI, one changed here
    assert all("staff_users" in row for row in only_staff)
    day = admin.get("/audit?actor=admin&since=2026-11-21&until=21/11/2026").text
    assert len(_rows(day)) == 1
    assert _rows(admin.get("/audit?actor=admin&since=2026-11-22").text) == []
    assert _rows(admin.get("/audit?actor=admin&until=2026-11-20").text) == []


def test_a_bad_day_is_told_beside_its_field(signed_in: Callable[[str], TestClient]) -> None:
    admin = signed_in("admin")
    response = admin.get("/audit?since=hom-qua")
    assert response.status_code == 400
    assert 'id="since-error"' in response.text
    reversed_range = admin.get("/audit?since=2026-11-21&until=2026-11-01")
    assert reversed_range.status_code == 400
    assert 'id="until-error"' in reversed_range.text
    assert admin.get("/audit?before=abc").status_code == 400


def test_pages_go_older_and_back_newer_by_key(signed_in: Callable[[str], TestClient]) -> None:
    admin = signed_in("admin")
    first = admin.get("/audit?entity=households").text
    rows = _rows(first)
    assert len(rows) == 50
    older = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', first)
    assert older, "no link to older changes"
    second_html = admin.get("/audit" + older.group(1).replace("&amp;", "&")).text
    second = _rows(second_html)
    assert second
    assert not set(second) & set(rows)
    newer = re.search(r'href="(\?[^"]*after=\d+[^"]*)"', second_html)
    assert newer, "no link back to newer changes"
    back = _rows(admin.get("/audit" + newer.group(1).replace("&amp;", "&")).text)
    assert back == rows
