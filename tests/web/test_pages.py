"""The first console pages, served by the real app on the test store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import get_settings


@pytest.fixture
def client(demo: Path) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings())) as client:
        yield client


def test_home_lists_the_communes_in_vietnamese(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "2 xã, 200 hộ trong danh sách." in page.text
    assert len(re.findall(r'href="/communes/\d+"', page.text)) == 2
    assert client.get("/static/loa.css").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_commune_page_lists_filters_and_pages_its_households(client: TestClient) -> None:
    code = re.findall(r'href="/communes/(\d+)"', client.get("/").text)[0]
    page = client.get(f"/communes/{code}")
    assert page.status_code == 200
    assert "100 hộ." in page.text
    assert page.text.count('<tr><td class="num">') == 50
    assert "Trang 1/2" in page.text
    second = client.get(f"/communes/{code}", params={"page": 2})
    assert "Trang 2/2" in second.text
    assert ">51<" in second.text
    poor = client.get(f"/communes/{code}", params={"category": "poor"})
    assert "Cận nghèo</td>" not in poor.text
    assert "Nghèo</td>" in poor.text
    assert client.get("/communes/00000").status_code == 404


def test_an_empty_register_says_what_to_do(settings_env: str) -> None:
    with TestClient(create_app(get_settings())) as client:
        assert "Chưa có dữ liệu" in client.get("/").text
