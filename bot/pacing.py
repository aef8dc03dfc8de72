"""Pacing for one channel account: a token bucket overall and a minimum gap per recipient."""

from __future__ import annotations

import time
from collections.abc import Callable

MARGIN = 0.97  # send a little under the provider's limit: its window and ours never align


class Pace:
    """How many messages may go now, and when one recipient may get the next."""

    def __init__(
        self,
        per_second: float,
        per_chat_per_second: float | None = None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_second * MARGIN
        self.full_rate = self.rate
        # A bucket lets `capacity + rate` messages through in one second: keep that under the
        # provider's limit, with half the margin left for requests that arrive late.
        headroom = (per_second - self.rate) / 2
        self.capacity = burst if burst is not None else max(1.0, min(self.rate / 20, headroom))
        self.gap = 1.0 / (per_chat_per_second * MARGIN) if per_chat_per_second else 0.0
        self.clock = clock
        self.tokens = self.capacity
        self.stamp = clock()
        self.paused_until = 0.0
        self.chat_next: dict[str, float] = {}

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = now
        if self.rate < self.full_rate:  # recover from a slow-down over about a minute
            self.rate = min(self.full_rate, self.rate * (1 + elapsed / 60))

    def available(self) -> int:
        """Messages that may start now."""
        now = self.clock()
        if now < self.paused_until:
            return 0
        self._refill(now)
        return int(self.tokens)

    def take(self, n: int = 1) -> None:
        """Spend tokens for messages that start now."""
        self.tokens -= n

    def wait(self) -> float:
        """Seconds until the next token (or the end of a pause)."""
        now = self.clock()
        if now < self.paused_until:
            return self.paused_until - now
        self._refill(now)
        return max(0.0, (1 - self.tokens) / self.rate)

    def chat_ready(self, address: str) -> float:
        """When this recipient may get its next message (clock seconds)."""
        return self.chat_next.get(address, 0.0)

    def chat_sent(self, address: str) -> None:
        """A message to this recipient starts now."""
        if self.gap:
            now = self.clock()
            self.chat_next[address] = max(now, self.chat_next.get(address, 0.0)) + self.gap
            if len(self.chat_next) > 100_000:  # forget recipients long idle
                self.chat_next = {a: t for a, t in self.chat_next.items() if t > now}

    def slow_down(self, retry_after: float) -> None:
        """The provider said 429: stop for `retry_after` and come back slower."""
        self.paused_until = max(self.paused_until, self.clock() + retry_after)
        self.rate = max(self.full_rate * 0.5, self.rate * 0.8)
        self.tokens = 0.0
