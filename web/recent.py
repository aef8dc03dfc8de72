"""Figures over a wide area (a province, the nation), counted at most once a minute.

Counting a province's survey answers or its month of messages reads hundreds of thousands of
rows: 0.3 to 1.6 s (docs/benchmarks.md, "Console pages"). An officer reading a province's
figures does not need them to the second, so the overview and the survey results of a view
wider than `storage.console_results.NARROW` communes are kept in this process for a minute,
with the moment they were counted, which the page shows. A commune's figures, or a few
communes', are cheap to count and always live.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from fastapi import Request

from storage.console_results import NARROW
from storage.scope import Scope

T = TypeVar("T")
KEEP = timedelta(minutes=1)
SIZE = 64  # views kept; the least recently read goes first


@dataclass(frozen=True, slots=True)
class Counted(Generic[T]):
    value: T
    at: datetime | None  # when it was counted, if it was kept for a wide view; None: live


class Recent:
    """Figures of wide views by key, each kept for KEEP after it was counted."""

    def __init__(self, keep: timedelta = KEEP, size: int = SIZE) -> None:
        self.keep, self.size = keep, size
        self._kept: OrderedDict[Hashable, Counted[Any]] = OrderedDict()

    async def get(
        self, key: Hashable, now: datetime, count: Callable[[], Awaitable[T]]
    ) -> Counted[T]:
        kept = self._kept.get(key)
        if kept is not None and kept.at is not None and kept.at <= now < kept.at + self.keep:
            self._kept.move_to_end(key)
            return kept
        fresh = Counted(await count(), now)
        self._kept[key] = fresh
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return fresh


async def counted(
    request: Request,
    key: Hashable,
    count: Callable[[], Awaitable[T]],
    *,
    scope: Scope,
    communes: int,
) -> Counted[T]:
    """The figures of a view over `communes` communes of the user's scope: from the last
    minute's count when they are more than NARROW, else counted now."""
    if communes <= NARROW:
        return Counted(await count(), None)
    recent: Recent = request.app.state.recent
    return await recent.get((key, scope), request.app.state.clock.now(), count)
