"""Three `loa worker` processes on one PostgreSQL outbox and the fake Telegram Bot API.

The workers share the outbox (rows claimed with FOR UPDATE SKIP LOCKED) and pace the bot
account from one process at a time (the advisory lock `channel:telegram`). While they run,
the test watches pg_locks and each worker's TCP connections (Linux /proc): which worker holds
the lock, and which one talks to the fake.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import locks, messages
from storage.db import create_engine, run_outside_transaction, session_factory
from storage.messages import Outbound, Party
from storage.migrate import upgrade_url
from storage.models import Commune, Contact, Household, Message, Province
from storage.models.households import BASIS_CONSENT, CONTACT_TELEGRAM
from storage.models.messages import BULK, NOTICE, SENDING, SENT, SURVEY
from tests.conftest import PG_URL
from tests.fakes.server import serve
from tests.fakes.telegram import FakeTelegram

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

TOKEN = "123:WORKERS"
ROWS = 600
FIRST_CHAT = 800_000_000
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
LOA = Path(sys.executable).with_name("loa")
LOCK_KEY = locks._key("channel:telegram")
DEADLINE = 40.0  # seconds for the workers to send everything


@pytest.fixture
def worker_db() -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set LOA_TEST_PG_URL)")
    if not make_url(PG_URL).host:
        pytest.skip("the workers' PostgreSQL connections are told apart by TCP port")
    name = f"loa_workers_{uuid.uuid4().hex[:10]}"
    asyncio.run(run_outside_transaction(PG_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade_url(url))
        yield url
    finally:
        asyncio.run(
            run_outside_transaction(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )


@pytest.fixture
async def store(worker_db: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database."""
    engine = create_engine(worker_db)
    yield engine
    await engine.dispose()


@pytest.fixture
def fake() -> Iterator[tuple[FakeTelegram, str]]:
    """The fake Bot API on a loopback port, its limits raised well above the workers' pace."""
    telegram = FakeTelegram(TOKEN, overall_per_second=500, per_chat_per_second=1)
    with serve(telegram.app) as url:
        yield telegram, url


def text_for(i: int) -> str:
    """The broadcast text of household i (told apart, so each message is recognisable)."""
    return f"Thông báo #{i}: họp thôn tối thứ Bảy lúc 19:00 tại nhà văn hóa."


async def queue_broadcast(engine: AsyncEngine, n: int) -> list[str]:
    """N households with a consenting Telegram chat each, and a bulk message queued to each."""
    sessions = session_factory(engine)
    chats = [str(FIRST_CHAT + i) for i in range(n)]
    async with sessions() as session, session.begin():
        await session.execute(insert(Province), [{"code": "83", "name": "Bến Tre"}])
        commune = {"code": "28756", "name": "Xã Thử", "name_key": "xa thu", "province_code": "83"}
        await session.execute(insert(Commune), [commune])
        households = [
            {
                "id": i + 1,
                "code": f"W{i:05d}",
                "head_name": "Hộ thử",
                "name_key": "ho thu",
                "commune_code": "28756",
                "category": "poor",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(n)
        ]
        await session.execute(insert(Household), households)
        contacts = [
            {
                "id": i + 1,
                "household_id": i + 1,
                "kind": CONTACT_TELEGRAM,
                "address": chat,
                "position": 0,
                "shared": False,
                "created_at": NOW,
                "basis": BASIS_CONSENT,
                "basis_at": NOW,
                "consent_channel": "telegram",
            }
            for i, chat in enumerate(chats)
        ]
        await session.execute(insert(Contact), contacts)
        outgoing = [
            (
                Party("telegram", chat, i + 1, i + 1),
                Outbound(text_for(i), SURVEY if i % 2 else NOTICE, priority=BULK),
            )
            for i, chat in enumerate(chats)
        ]
        await messages.queue(session, outgoing, now=datetime.now(UTC))
    return chats


async def statuses(engine: AsyncEngine) -> Counter[str]:
    """Outbound rows by status."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Message.status, func.count())
            .where(Message.direction == "out")
            .group_by(Message.status)
        )
        return Counter({status: int(n) for status, n in rows.all()})


async def lock_holders(engine: AsyncEngine) -> list[int]:
    """Client TCP ports of the sessions holding `channel:telegram` in this database."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
                "AND l.objid = :key AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LOCK_KEY},
        )
        return [int(port) for (port,) in rows.all()]


def tcp_connections(pid: int) -> list[tuple[int, int]]:
    """(local port, remote port) of a process's established IPv4 TCP connections."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
        with open(f"/proc/{pid}/net/tcp", encoding="ascii") as table:
            lines = table.read().splitlines()[1:]
    except OSError:  # the process is gone
        return []
    found = []
    for line in lines:
        parts = line.split()
        if parts[3] == "01" and parts[9] in inodes:  # 01: ESTABLISHED
            local, remote = parts[1], parts[2]
            found.append((int(local.split(":")[1], 16), int(remote.split(":")[1], 16)))
    return found


@dataclass
class Worker:
    """One `loa worker` process and what it printed."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def printed(self) -> str:
        return "".join(self.output)


def start_worker(env: dict[str, str], cwd: Path) -> Worker:
    """Start `loa worker`; a thread collects what it prints."""
    process = subprocess.Popen(
        [str(LOA), "worker"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = Worker(process)
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: worker.output.extend(stream), daemon=True).start()
    return worker


def worker_env(database_url: str, api_base: str, *, lease: int = 120) -> dict[str, str]:
    """The environment of a Telegram-only worker on the fake, quiet hours off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env.update(
        {
            "LOA_DATABASE_URL": database_url,
            "LOA_TELEGRAM_TOKEN": TOKEN,
            "LOA_TELEGRAM_API_BASE": api_base,
            "LOA_TELEGRAM_PER_SECOND": "200",
            "LOA_TELEGRAM_PER_CHAT_PER_SECOND": "1",
            "LOA_QUIET_HOURS": "",
            "LOA_DAILY_CAP": "1000",
            "LOA_SENDER_LEASE_SECONDS": str(lease),
            "LOA_CHANNEL_ORDER": "telegram",
        }
    )
    return env


@dataclass
class Watch:
    """What the test saw of the workers while they ran."""

    engine: AsyncEngine
    workers: list[Worker]
    pg_port: int
    fake_port: int
    most_holders: int = 0  # sessions holding the lock at once, at most
    most_senders: int = 0  # worker processes connected to the fake at once, at most
    holders_seen: list[int] = field(default_factory=list)  # worker index, in order of change
    senders_seen: set[int] = field(default_factory=set)

    def holder_of(self, ports: list[int]) -> int | None:
        """Which worker owns the PostgreSQL connection with one of these client ports."""
        for index, worker in enumerate(self.workers):
            mine = {
                local for local, remote in tcp_connections(worker.pid) if remote == self.pg_port
            }
            if mine & set(ports):
                return index
        return None

    async def look(self) -> int | None:
        """One look: the lock's holder (worker index) and who talks to the fake."""
        ports = await lock_holders(self.engine)
        self.most_holders = max(self.most_holders, len(ports))
        holder = self.holder_of(ports) if ports else None
        if holder is not None and (not self.holders_seen or self.holders_seen[-1] != holder):
            self.holders_seen.append(holder)
        senders = {
            index
            for index, worker in enumerate(self.workers)
            if any(remote == self.fake_port for _l, remote in tcp_connections(worker.pid))
        }
        self.most_senders = max(self.most_senders, len(senders))
        self.senders_seen |= senders
        return holder

    async def until(
        self, done: Callable[[], Awaitable[bool]], what: str, within: float = DEADLINE
    ) -> None:
        """Look every 50 ms until `done()` is true, for at most `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            await self.look()
            if await done():
                return
            if time.monotonic() > deadline:
                outputs = "\n".join(w.printed()[-2000:] for w in self.workers)
                raise AssertionError(f"timed out waiting for {what}\n{outputs}")
            for worker in self.workers:
                if not worker.alive() and worker.process.returncode != -signal.SIGKILL:
                    raise AssertionError(f"a worker died:\n{worker.printed()}")
            await asyncio.sleep(0.05)


def start_workers(
    url: str, api_base: str, tmp_path: Path, engine: AsyncEngine, **env: int
) -> Watch:
    """Three workers, and a watch over them."""
    environment = worker_env(url, api_base, **env)
    workers = [start_worker(environment, tmp_path) for _ in range(3)]
    return Watch(
        engine,
        workers,
        pg_port=make_url(url).port or 5432,
        fake_port=int(api_base.rsplit(":", 1)[1]),
    )


async def ready(watch: Watch) -> None:
    """Wait until every worker is working (its lane waits for or holds the lock)."""

    async def all_ready() -> bool:
        said = all("telegram" in w.printed() for w in watch.workers)
        return said and bool(await lock_holders(watch.engine))

    await watch.until(all_ready, "the workers to start", within=30)


async def stop(watch: Watch) -> None:
    """SIGTERM the workers still alive; each must stop cleanly, giving the lock back."""
    live = [w for w in watch.workers if w.alive()]
    for worker in live:
        worker.process.send_signal(signal.SIGTERM)
    for worker in live:
        code = await asyncio.to_thread(worker.process.wait, 20)
        assert code == 0, worker.printed()
    assert await lock_holders(watch.engine) == []


def kill_all(watch: Watch) -> None:
    for worker in watch.workers:
        if worker.alive():
            worker.process.kill()
            worker.process.wait()


async def test_three_workers_send_each_message_once_from_one_process(
    store: AsyncEngine, worker_db: str, fake: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    telegram, api_base = fake
    watch = start_workers(worker_db, api_base, tmp_path, store)
    try:
        await ready(watch)
        chats = await queue_broadcast(store, ROWS)

        async def all_sent() -> bool:
            return (await statuses(store)).get(SENT, 0) == ROWS

        await watch.until(all_sent, "every row to be sent")
        await watch.look()
        await stop(watch)
    finally:
        kill_all(watch)

    sent = Counter((str(p["chat_id"]), p["text"]) for p in telegram.sent())
    assert sent == Counter({(chat, text_for(i)): 1 for i, chat in enumerate(chats)})
    assert telegram.count_429 == 0
    assert await statuses(store) == Counter({SENT: ROWS})
    async with store.connect() as connection:
        flagged = await connection.scalar(
            select(func.count()).where(Message.possible_duplicate.is_(True))
        )
    assert flagged == 0
    # One lock holder at any moment, never replaced; only it ever spoke to the fake.
    assert watch.most_holders == 1
    assert len(watch.holders_seen) == 1, watch.holders_seen
    assert watch.most_senders == 1
    assert watch.senders_seen == {watch.holders_seen[0]}


async def test_a_killed_worker_is_replaced_and_its_rows_go_at_most_twice(
    store: AsyncEngine, worker_db: str, fake: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    telegram, api_base = fake
    watch = start_workers(worker_db, api_base, tmp_path, store, lease=5)
    try:
        await ready(watch)
        chats = await queue_broadcast(store, ROWS)

        async def some_sent() -> bool:
            return len(telegram.sent()) >= ROWS // 4

        await watch.until(some_sent, "the first messages")
        first = await watch.look()
        assert first is not None
        victim = watch.workers[first]
        victim.process.kill()  # SIGKILL: no clean-up, its connections simply die
        victim.process.wait()
        async with store.connect() as connection:
            in_flight = set(
                (
                    await connection.scalars(
                        select(Message.address).where(Message.status == SENDING)
                    )
                ).all()
            )
        assert in_flight, "the worker was killed between two batches"
        assert len(telegram.sent()) < ROWS

        async def all_sent() -> bool:
            return (await statuses(store)).get(SENT, 0) == ROWS

        await watch.until(all_sent, "the survivors to send everything")
        await watch.look()
        await stop(watch)
    finally:
        kill_all(watch)

    # Another worker took the lock over and did the rest; one sender at a time throughout.
    assert watch.most_holders == 1
    assert len(watch.holders_seen) == 2
    assert watch.holders_seen[0] == first
    successor = watch.holders_seen[1]
    assert watch.senders_seen == {first, successor}
    assert watch.most_senders == 1
    assert "re-queued after a crash" in watch.workers[successor].printed()
    # Nothing lost; a chat got its message twice only if its row was in flight at the kill.
    got = Counter(str(p["chat_id"]) for p in telegram.sent())
    assert set(got) == set(chats)
    twice = {chat for chat, n in got.items() if n > 1}
    assert max(got.values()) <= 2
    assert twice <= in_flight
    assert telegram.count_429 == 0
    assert await statuses(store) == Counter({SENT: ROWS})
    async with store.connect() as connection:
        flagged = set(
            (
                await connection.scalars(
                    select(Message.address).where(Message.possible_duplicate.is_(True))
                )
            ).all()
        )
    assert flagged == in_flight  # every row in flight went once more, flagged
