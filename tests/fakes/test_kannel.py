"""The Kannel harness against the real bearerbox, smsbox and fakesmsc, on loopback only."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.kannel import (
    DLR_PARAMS,
    KannelGateway,
    kannel_url,
    needs_kannel,
    parse_inbound,
)
from tests.fakes.server import aserve, serve

PHONE = "84912345678"
SHORTCODE = "8085"
# "%C3" in the URL would be Kannel's %C (charset) without the harness's escaping.
SECRET = "a/b é"
VIETNAMESE = "Đăng ký"


@dataclass(frozen=True)
class Call:
    """One request smsbox made to the test's HTTP server."""

    path: str
    query: str

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, as UTF-8."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


class Recorder:
    """An HTTP endpoint for smsbox's calls (inbound SMS and delivery reports); answers 200."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._changed = threading.Condition()
        self.app = Starlette(routes=[Route("/{path:path}", self._record)])

    async def _record(self, request: Request) -> PlainTextResponse:
        with self._changed:
            self._calls.append(Call(request.url.path, request.url.query))
            self._changed.notify_all()
        return PlainTextResponse("")

    def wait(self, path: str, count: int, timeout: float = 10.0) -> list[Call]:
        """The first `count` calls to `path`, waiting for them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._to(path)) >= count, timeout)
            calls = self._to(path)
        assert len(calls) >= count, f"{len(calls)} calls to {path}: {calls}"
        return calls[:count]

    def _to(self, path: str) -> list[Call]:
        return [call for call in self._calls if call.path == path]


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[Recorder, str]]:
    """The recording server and its base URL."""
    rec = Recorder()
    with serve(rec.app) as base:
        yield rec, base


@pytest.fixture(scope="module")
def kannel(
    recorder: tuple[Recorder, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KannelGateway]:
    """One gateway for the module: its start and stop take a second or two."""
    _, base = recorder
    inbound = f"{base}/in?{urlencode({'secret': SECRET})}"
    with KannelGateway(tmp_path_factory.mktemp("kannel"), inbound, "loa", "pw") as gateway:
        yield gateway


def sendsms(kannel: KannelGateway, text: str, **extra: str) -> httpx.Response:
    """Send `text` to PHONE from the shortcode through smsbox."""
    params = {
        "username": kannel.username,
        "password": kannel.password,
        "from": SHORTCODE,
        "to": PHONE,
        "text": text,
        **extra,
    }
    return httpx.get(kannel.sendsms_url, params=params, timeout=5.0)


def ucs2(kannel: KannelGateway, text: str, **extra: str) -> httpx.Response:
    """Send `text` as UCS-2, given in UTF-8."""
    return sendsms(kannel, text, coding="2", charset="UTF-8", **extra)


@needs_kannel
def test_phone_texts_reach_the_inbound_url(
    kannel: KannelGateway, recorder: tuple[Recorder, str]
) -> None:
    rec, _ = recorder
    kannel.send_from_phone(PHONE, "Xin chao")
    kannel.send_from_phone(PHONE, VIETNAMESE)

    first, second = (parse_inbound(call.query) for call in rec.wait("/in", 2))
    assert (first.sender, first.receiver, first.text) == (PHONE, SHORTCODE, "Xin chao")
    assert (second.sender, second.receiver, second.text) == (PHONE, SHORTCODE, VIETNAMESE)
    assert (second.coding, second.charset) == (0, "UTF-8")  # mo-recode made UTF-8 of UCS-2
    assert first.params["secret"] == second.params["secret"] == SECRET
    assert uuid.UUID(first.id) != uuid.UUID(second.id)
    assert first.ts > 1_700_000_000


@needs_kannel
def test_the_apps_answer_is_not_texted_back(
    kannel: KannelGateway, recorder: tuple[Recorder, str]
) -> None:
    rec, _ = recorder
    before = len(kannel.received())
    kannel.send_from_phone(PHONE, "any reply?")
    rec.wait("/in", 3)
    # Kannel would send a reply on getting the answer: before a message sent after the call.
    assert sendsms(kannel, "marker").status_code == 202
    kannel.wait_for(lambda sms: sms.text == "marker")
    assert [sms.text for sms in kannel.received()[before:]] == ["marker"]


@needs_kannel
def test_sendsms_reaches_the_phone_in_gsm_and_ucs2(kannel: KannelGateway) -> None:
    response = sendsms(kannel, "Hello Loa @ 10:00")
    assert (response.status_code, response.text) == (202, "0: Accepted for delivery")
    assert ucs2(kannel, "Đăng ký thành công").status_code == 202

    gsm = kannel.wait_for(lambda sms: sms.text == "Hello Loa @ 10:00")
    vietnamese = kannel.wait_for(lambda sms: sms.text == "Đăng ký thành công")
    assert (gsm.sender, gsm.receiver, gsm.kind) == (SHORTCODE, PHONE, "text")
    assert (vietnamese.sender, vietnamese.receiver, vietnamese.kind) == (SHORTCODE, PHONE, "ucs-2")


@needs_kannel
def test_long_text_arrives_in_parts_joined(kannel: KannelGateway) -> None:
    text = "Thông báo họp tổ dân phố số 7 lúc 19 giờ. " * 3  # 129 characters: 2 UCS-2 parts
    assert ucs2(kannel, text).status_code == 202
    sms = kannel.wait_for(lambda sms: sms.text == text)
    assert (sms.kind, sms.parts) == ("udh", 2)


@needs_kannel
def test_sendsms_refuses_a_wrong_password(kannel: KannelGateway) -> None:
    response = sendsms(kannel, "x", password="wrong")
    assert response.status_code == 403


@needs_kannel
def test_delivery_reports_call_the_dlr_url(
    kannel: KannelGateway, recorder: tuple[Recorder, str]
) -> None:
    rec, base = recorder
    dlr_url = kannel_url(f"{base}/dlr?ref=42", DLR_PARAMS)
    assert sendsms(kannel, "with report", **{"dlr-mask": "31", "dlr-url": dlr_url}).is_success

    reports = [call.params for call in rec.wait("/dlr", 2)]
    assert [report["type"] for report in reports] == ["8", "1"]  # SMSC ack, then delivered
    assert all(report["ref"] == "42" and report["phone"] == PHONE for report in reports)
    assert reports[0]["reply"] == "ACK/"


@needs_kannel
async def test_an_app_in_the_event_loop_gets_raw_utf16_without_mo_recode(tmp_path: Path) -> None:
    queries: asyncio.Queue[str] = asyncio.Queue()

    async def inbound(request: Request) -> PlainTextResponse:
        await queries.put(request.url.query)
        return PlainTextResponse("")

    async with aserve(Starlette(routes=[Route("/in", inbound)])) as base:
        with KannelGateway(tmp_path, f"{base}/in", mo_recode=False) as gateway:
            await gateway.asend_from_phone(PHONE, VIETNAMESE)
            query = await asyncio.wait_for(queries.get(), 10)
            async with httpx.AsyncClient() as client:
                params = {"username": gateway.username, "password": gateway.password}
                params |= {"from": SHORTCODE, "to": PHONE, "text": "Đã nhận", "coding": "2"}
                await client.get(gateway.sendsms_url, params=params | {"charset": "UTF-8"})
            reply = await gateway.await_for(lambda sms: sms.receiver == PHONE)

    sms = parse_inbound(query)
    assert (sms.text, sms.coding, sms.charset) == (VIETNAMESE, 2, "UTF-16BE")
    assert "text=%01%10%01%03%00n%00g" in query  # raw UTF-16BE bytes, URL-encoded
    assert reply.text == "Đã nhận"
