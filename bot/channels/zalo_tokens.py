"""Zalo's access token, refreshed ahead of expiry; the rotating refresh token lives in the store.

A refresh token works once. So one refresher at a time: an asyncio lock in this process and a
locked row in the store across processes; whoever gets the lock second finds the new pair and
does not refresh again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import TemporaryError
from bot.clock import Clock
from bot.config import Settings
from storage import tokens
from storage.tokens import Tokens

log = logging.getLogger(__name__)

AHEAD = timedelta(hours=1)  # refresh this long before the access token ends
CHANNEL = "zalo"


class TokenKeeper:
    """Hands out a valid access token."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.http = httpx.AsyncClient(transport=transport, timeout=15)
        self.cached: Tokens | None = None
        self.refused = ""  # an access token Zalo turned down: never handed out again
        self.lock = asyncio.Lock()

    def _fresh(self, pair: Tokens | None) -> bool:
        return pair is not None and pair.expires_at - AHEAD > self.clock.now()

    async def access_token(self) -> str:
        """A token good for at least the next hour."""
        if self._fresh(self.cached):
            assert self.cached is not None
            return self.cached.access_token
        async with self.lock:
            if not self._fresh(self.cached):
                self.cached = await self._refresh()
        assert self.cached is not None
        return self.cached.access_token

    def expire(self) -> None:
        """Zalo refused the token: refresh before the next call."""
        if self.cached is not None:
            self.refused = self.cached.access_token
        self.cached = None

    async def _refresh(self) -> Tokens:
        async with self.sessions() as session, session.begin():
            if await tokens.current(session, channel=CHANNEL) is None:
                first = Tokens(  # the pair from the settings, due for refresh at once
                    self.settings.zalo_access_token,
                    self.settings.zalo_refresh_token,
                    self.clock.now(),
                )
                await tokens.seed(session, channel=CHANNEL, tokens=first, now=self.clock.now())
        async with self.sessions() as session, session.begin():
            stored = await tokens.lock(session, channel=CHANNEL)
            assert stored is not None
            if self._fresh(stored) and stored.access_token != self.refused:
                return stored  # another process refreshed it meanwhile
            fresh = await self._ask(stored.refresh_token)
            await tokens.save(session, channel=CHANNEL, tokens=fresh, now=self.clock.now())
        log.info("Zalo access token refreshed; it ends at %s", fresh.expires_at.isoformat())
        return fresh

    async def _ask(self, refresh_token: str) -> Tokens:
        url = f"{self.settings.zalo_oauth_base.rstrip('/')}/v4/oa/access_token"
        form = {
            "refresh_token": refresh_token,
            "app_id": self.settings.zalo_app_id,
            "grant_type": "refresh_token",
        }
        try:
            response = await self.http.post(
                url, data=form, headers={"secret_key": self.settings.zalo_app_secret}
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TemporaryError(f"Zalo token refresh failed: {exc!r}") from exc
        if "access_token" not in answer:
            raise TemporaryError(f"Zalo token refresh refused: {answer}")
        seconds = int(answer.get("expires_in") or 90000)
        return Tokens(
            str(answer["access_token"]),
            str(answer["refresh_token"]),
            self.clock.now() + timedelta(seconds=seconds),
        )

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()
