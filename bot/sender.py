"""The outbox worker: claims due rows, paces each channel account, sends, writes what happened.

One `Lane` per channel. A lane claims a batch of due rows under a lease, decides each
(`bot.rules`), sends the rest paced by a token bucket and a gap per recipient, and writes the
outcomes in one transaction: sent, retried later, failed, or handed to the household's next
channel. On PostgreSQL a lane works only while it holds its channel's advisory lock, so several
`loa worker` processes share one outbox and each account is paced by one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import (
    Channel,
    Outgoing,
    RateLimited,
    SendError,
    TemporaryError,
    TooLong,
    Unreachable,
    render,
)
from bot.clock import Clock
from bot.fallback import handover
from bot.pacing import Pace
from bot.rules import LOOP_WINDOW, Plan, introduced, plan, sent_to
from scheduler.windows import Windows
from storage import locks, outbox
from storage.models.messages import FAILED, QUEUED, SENT, URGENT
from storage.outbox import Claimed, Outcome, outcome

log = logging.getLogger(__name__)

MAX_ERRORS = 3  # a temporary failure this many times fails the message
RETRY_MINUTES = 5  # retried after 5 x (errors + 1) minutes
IN_FLIGHT = 16  # concurrent requests to one provider (more only costs CPU)


@dataclass
class Stats:
    """What a lane did since it started."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    handed_over: int = 0
    rate_limited: int = 0
    held: int = 0


@dataclass
class SenderConfig:
    """The sender's settings."""

    windows: Windows
    channel_order: Sequence[str]
    lease: timedelta = timedelta(seconds=120)
    poll: float = 0.5  # seconds between looks at an empty outbox
    batch: int = 500  # most rows claimed at once


@dataclass
class _Batch:
    """Claimed rows, what the rules decided, their texts before any introduction."""

    rows: list[Claimed]
    decided: Plan
    original: dict[int, str]
    deadline: float  # pace-clock time after which waiting rows go back to the queue


@dataclass
class Lane:
    """Sends one channel's outbox."""

    channel: Channel
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    config: SenderConfig
    channels: Mapping[str, Channel]
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        caps = self.channel.capabilities
        self.pace = Pace(caps.per_second, caps.per_chat_per_second)

    async def run(self, stop: asyncio.Event, engine: AsyncEngine | None = None) -> None:
        """Work until `stop` is set; on PostgreSQL only while holding the channel's lock."""
        if engine is not None and locks.supports_locks(engine):
            async with engine.connect() as connection:
                await self._run_locked(stop, connection)
        else:
            await self._loop(stop)

    async def _run_locked(self, stop: asyncio.Event, connection: AsyncConnection) -> None:
        name = f"channel:{self.channel.name}"
        while not stop.is_set():
            if await locks.try_lock(connection, name):
                try:
                    await self._loop(stop)
                finally:
                    await locks.unlock(connection, name)
                return
            await _sleep(stop, 1.0)  # another worker holds it; take over if it dies

    async def _loop(self, stop: asyncio.Event) -> None:
        """Send batch after batch; the next one is claimed, and the last one written, while
        this one goes out, so the provider never waits for the store."""
        await self.recover()
        recovered = self.pace.clock()
        ahead: asyncio.Task[_Batch | None] | None = None
        writing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                batch = await (ahead or self._claim_safely())
                ahead = None
                busy = batch is not None
                if not busy:
                    await _sleep(stop, self.config.poll)
                # A crashed worker's rows come back when idle, and once a lease under a backlog.
                if not busy or self.pace.clock() - recovered >= self._lease_seconds():
                    await self._recover_safely()
                    recovered = self.pace.clock()
                if batch is None:
                    continue
                ahead = asyncio.create_task(self._claim_safely())
                outcomes = batch.decided.done + await self._send_all(
                    batch.decided.send, batch.deadline
                )
                if writing is not None:
                    await writing
                writing = asyncio.create_task(self._finish_safely(batch, outcomes))
        finally:
            if writing is not None:
                await writing
            if ahead is not None and (left := await ahead) is not None:
                await self._release(left)

    async def _claim_safely(self) -> _Batch | None:
        try:
            return await self._claim()
        except Exception:  # a store hiccup must not end the lane
            log.exception("sender lane %s could not claim", self.channel.name)
            return None

    async def _finish_safely(self, batch: _Batch, outcomes: list[Outcome]) -> None:
        try:
            await self._finish(batch, outcomes)
        except Exception:  # the rows stay `sending`; their lease brings them back
            log.exception("sender lane %s could not write outcomes", self.channel.name)

    async def _recover_safely(self) -> None:
        try:
            await self.recover()
        except Exception:
            log.exception("sender lane %s could not recover leases", self.channel.name)

    async def _release(self, batch: _Batch) -> None:
        async with self.sessions() as session, session.begin():
            await outbox.release(session, ids=[r.id for r in batch.rows], now=self.clock.now())

    async def recover(self) -> None:
        """Rows left `sending` by a crashed worker go once more, flagged possible_duplicate."""
        async with self.sessions() as session, session.begin():
            again, lost = await outbox.recover(
                session, channel=self.channel.name, now=self.clock.now()
            )
        if again or lost:
            log.warning(
                "%s: %d rows re-queued after a crash, %d failed", self.channel.name, again, lost
            )

    async def step(self) -> int:
        """Claim one batch, send it, write the outcomes; the number of rows claimed."""
        batch = await self._claim()
        if batch is None:
            return 0
        outcomes = batch.decided.done + await self._send_all(batch.decided.send, batch.deadline)
        await self._finish(batch, outcomes)
        return len(batch.rows)

    async def _claim(self) -> _Batch | None:
        """Claim due rows and decide each: a batch, or None when nothing is due."""
        now = self.clock.now()
        limit = max(1, min(self.config.batch, int(self.pace.full_rate * 2)))
        async with self.sessions() as session, session.begin():
            rows = await outbox.claim(
                session,
                channel=self.channel.name,
                now=now,
                limit=limit,
                lease_until=now + self.config.lease,
            )
            if not rows:
                return None
            ids = [r.id for r in rows]
            original = {r.id: r.text for r in rows}  # before the rules add an introduction
            decided = plan(
                rows,
                now=now,
                windows=self.config.windows,
                sent_today=await outbox.sent_today(
                    session,
                    household_ids=[r.household_id for r in rows if r.household_id],
                    since=self.config.windows.day_start(now),
                    max_priority=URGENT,
                    besides=ids,
                ),
                repeats=self._as_queued(
                    rows,
                    await outbox.repeats(
                        session,
                        addresses=[r.address for r in rows],
                        since=now - LOOP_WINDOW,
                        besides=ids,
                    ),
                ),
            )
        return _Batch(rows, decided, original, deadline=self.pace.clock() + self._patience())

    def _lease_seconds(self) -> float:
        return self.config.lease.total_seconds()

    def _patience(self) -> float:
        """How long a claimed row may wait for its turn before it goes back to the queue."""
        return self._lease_seconds() / 2

    async def _finish(self, batch: _Batch, outcomes: list[Outcome]) -> None:
        await self._write(batch.rows, outcomes, introduced(batch.rows, outcomes, batch.original))

    def _as_queued(
        self, rows: list[Claimed], sent: Mapping[tuple[str, str], int]
    ) -> dict[tuple[str, str], int]:
        """Repeats under the queued text too: the store has it as sent (SMS: without accents)."""
        found = dict(sent)
        if not sent:  # nothing went to these addresses lately: nothing to add up
            return found
        for row in rows:
            try:
                shown = render(self.channel.capabilities, row.text, row.buttons).text
            except TooLong:
                continue
            key = (row.address, row.text)
            if shown != row.text:
                found[key] = sent.get(key, 0) + sent.get((row.address, shown), 0)
        return found

    async def _send_all(self, rows: list[Claimed], deadline: float = float("inf")) -> list[Outcome]:
        """Send rows paced: overall tokens, and a gap between two messages to one recipient.

        Rows still waiting at `deadline` (a long pause after a 429, a busy chat) go back to the
        queue untouched rather than outlive their lease.
        """
        results: list[Outcome] = []
        queue = [(self.pace.chat_ready(r.address), i, r) for i, r in enumerate(rows)]
        heapq.heapify(queue)
        limit = asyncio.Semaphore(IN_FLIGHT)
        tasks: list[asyncio.Task[None]] = []

        async def one(row: Claimed) -> None:
            try:
                results.append(await self._send(row))
            finally:
                limit.release()

        while queue:
            ready_at, order, row = queue[0]
            now = self.pace.clock()
            if self.pace.chat_ready(row.address) > ready_at:  # a later row to the same chat
                heapq.heapreplace(queue, (self.pace.chat_ready(row.address), order, row))
                continue
            wait = ready_at - now if ready_at > now else 0.0
            if not wait and self.pace.available() < 1:
                wait = self.pace.wait()
            if wait and now + wait > deadline:
                results += [outcome(r, QUEUED) for _t, _o, r in queue]
                break
            if wait:
                await asyncio.sleep(wait)
                continue
            if limit.locked():  # every slot busy: a token taken now would go out late, bunched
                await limit.acquire()
                limit.release()
                continue
            await limit.acquire()  # free: returns at once
            heapq.heappop(queue)
            self.pace.take()
            self.pace.chat_sent(row.address)
            tasks.append(asyncio.create_task(one(row)))
        if tasks:
            await asyncio.gather(*tasks)
        return results

    async def _send(self, row: Claimed) -> Outcome:
        """Send one row; what became of it."""
        caps = self.channel.capabilities
        try:
            shown = render(caps, row.text, row.buttons)
        except TooLong as exc:
            return outcome(row, FAILED, last_error=str(exc))
        message = Outgoing(
            id=row.id,
            address=row.address,
            text=shown.text,
            kind=row.kind,
            buttons=shown.buttons,
            data=row.data,
            phone=row.phone,
            last_seen_at=row.last_seen_at,
        )
        now = self.clock.now()
        try:
            sent = await self.channel.send(message)
        except RateLimited as exc:
            self.pace.slow_down(exc.retry_after)
            self.stats.rate_limited += 1
            later = now + timedelta(seconds=exc.retry_after)
            return outcome(row, QUEUED, not_before=later, last_error=exc.detail)
        except Unreachable as exc:
            return outcome(row, FAILED, last_error=exc.detail, unreachable=exc.reason)
        except TemporaryError as exc:
            return self._retry(row, exc, now)
        except SendError as exc:
            return outcome(row, FAILED, last_error=exc.detail)
        except Exception as exc:  # a bug in a channel must not lose the row
            log.exception("%s: sending message %d failed", self.channel.name, row.id)
            return self._retry(row, SendError(repr(exc)), now)
        data = {**(row.data or {}), "via": sent.via} if sent.via else row.data
        segments = sent.segments or shown.segments
        return outcome(
            row,
            SENT,
            text=shown.text,
            provider_id=sent.provider_id,
            segments=segments,
            sent_at=now,
            data=data,
        )

    def _retry(self, row: Claimed, exc: SendError, now: Any) -> Outcome:
        errors = row.errors + 1
        if errors >= MAX_ERRORS:
            return outcome(row, FAILED, errors=errors, last_error=exc.detail)
        later = now + timedelta(minutes=RETRY_MINUTES * errors)
        return outcome(row, QUEUED, errors=errors, not_before=later, last_error=exc.detail)

    async def _write(
        self, rows: list[Claimed], outcomes: list[Outcome], introduced: list[int]
    ) -> None:
        """Write the outcomes, mark the unreachable and hand their messages over, at once."""
        now = self.clock.now()
        by_id = {r.id: r for r in rows}
        lost = [(by_id[o.id], o.unreachable) for o in outcomes if o.unreachable]
        async with self.sessions() as session, session.begin():
            await outbox.finish(session, outcomes, now=now)
            sent = {o.id for o in outcomes if o.status == SENT}
            await outbox.mark_introduced(
                session,
                contact_ids=[c for c in introduced if sent_to(rows, sent, c)],
                now=now,
            )
            moved = await handover(
                session,
                lost,
                channel=self.channel.name,
                order=self.config.channel_order,
                channels=self.channels,
                now=now,
            )
        self._count(outcomes, moved)

    def _count(self, outcomes: list[Outcome], moved: int) -> None:
        for o in outcomes:
            if o.status == SENT:
                self.stats.sent += 1
            elif o.status == FAILED:
                self.stats.failed += 1
            elif o.errors:
                self.stats.retried += 1
            else:
                self.stats.held += 1
        self.stats.handed_over += moved


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
