"""python-telegram-bot's HTTP layer on aiohttp.

PTB's default (httpx) costs about 3.6 ms of CPU per request here, aiohttp about 0.5 ms
(docs/benchmarks.md): at a paid-broadcast 1,000 messages/s that is the difference between one
core keeping up and not. PTB lets the request class be replaced; this one does only what Loa
needs (JSON posts and answers, no file uploads).
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

HEADERS = {"User-Agent": BaseRequest.USER_AGENT, "Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of `connections`, opened by `initialize()`."""

    def __init__(
        self, *, connections: int = 64, read_timeout: float = 15.0, connect_timeout: float = 10.0
    ) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """Seconds to wait for Telegram's answer."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (it needs the running loop, so not in __init__)."""
        if self.session is None or self.session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300)
            self.session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one Bot API call; Telegram's status and body, or PTB's network errors."""
        await self.initialize()
        assert self.session is not None
        if request_data is not None and request_data.contains_files:
            raise NetworkError("Loa's Telegram client sends no files")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.connect_timeout, sock_read=read
        )
        # A JSON body (the Bot API takes one): a third of the CPU of form encoding.
        body = json.dumps(request_data.parameters).encode() if request_data else None
        try:
            async with self.session.request(
                method, url, data=body, timeout=timeout, headers=HEADERS
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
