"""Pacing benchmark: a 20,000-message Telegram broadcast at a limit raised to 1,000/s.

The fake Telegram Bot API runs in another process on a loopback socket
(`python -m tests.fakes.server telegram --rate 1000 --per-chat 1`, wrapped so that it prints
what it received when it stops). Two senders each send the same broadcast to it, one message
to each of 20,000 distinct private chats:

- **Loa**: one sender `Lane` (bot/sender.py) over a temporary SQLite store holding 20,000
  queued bulk notices, as `loa worker` runs it (claim, decide, send paced, write outcomes).
- **PTB + AIORateLimiter**: the loop a developer would write with python-telegram-bot 22:
  `ApplicationBuilder().token(T).base_url(...).rate_limiter(AIORateLimiter(
  overall_max_rate=1000, overall_time_period=1, max_retries=5))`, and `asyncio.gather` over
  chunks of 1,000 `send_message` calls. No store.

For each: achieved rate as a fraction of the limit (messages accepted / wall seconds from the
first claim or call to the last outcome, divided by the limit), 429 answers the fake gave,
duplicates (chats that got the message more than once), and CPU milliseconds per message of
the sending process (`time.process_time`, which counts every thread, aiosqlite's included).

Targets for Loa: at least 95% of the limit, no 429, no duplicate, under 1 ms CPU per message.

    .venv/bin/python benchmarks/pacing.py                     # 20,000 messages at 1,000/s
    .venv/bin/python benchmarks/pacing.py --messages 5000 --rate 500 --only loa --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bot.channels.registry import build_channels  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.workers import lanes, launch, settle  # noqa: E402
from storage import messages  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.messages import Outbound, Party  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Commune, Contact, Household, Message, Province  # noqa: E402
from storage.models.households import BASIS_CONSENT, CONTACT_TELEGRAM  # noqa: E402
from storage.models.messages import BULK, NOTICE, QUEUED, SENDING  # noqa: E402

TOKEN = "123:BENCH"
FIRST_CHAT = 700_000_000  # private chat ids: positive integers
TEXT = "Thông báo của UBND xã: họp thôn tối thứ Bảy lúc 19:00 tại nhà văn hóa thôn."
TARGET_SHARE = 0.95
TARGET_CPU_MS = 1.0
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)

# The fake's own `python -m tests.fakes.server` entry point, run so that it prints what it got
# on stdout when SIGTERM stops it (uvicorn re-raises the signal after a clean shutdown, hence
# the no-op handlers installed first: they are what uvicorn restores and re-raises into).
# The fake stamps each call when its event loop reads it; Python's cyclic garbage collector,
# walking the fake's growing record of calls, would stall that loop now and then, and the
# calls queued meanwhile would look like a burst. So the fake runs with it off.
_FAKE = r"""
import gc, json, os, signal, sys
from collections import Counter
from tests.fakes import server

gc.disable()
signal.signal(signal.SIGTERM, lambda *_: None)
signal.signal(signal.SIGINT, lambda *_: None)
apps = []
build = server._build
server._build = lambda args: apps.append(build(args)) or apps[-1]
server.main(sys.argv[1:])
fake = apps[0].routes[0].endpoint.__self__
sends = [c for c in fake.calls if c.method.lower() == "sendmessage"]
ok = [c for c in sends if c.status == 200]
stats = {
    "statuses": Counter(str(c.status) for c in sends),
    "chats": Counter(str(c.params.get("chat_id")) for c in ok),
    "times": sorted(c.at for c in sends),
}
with open(os.environ["LOA_BENCH_FAKE_STATS"], "w") as out:  # a pipe could be cut short
    json.dump(stats, out)
"""


@dataclass
class FakeProcess:
    """The fake Telegram Bot API in a process of its own."""

    process: subprocess.Popen[str]
    url: str
    stats: Path

    def stop(self) -> FakeStats:
        """Stop it (SIGTERM) and read what it received."""
        self.process.send_signal(signal.SIGTERM)
        out, _err = self.process.communicate(timeout=60)
        if not self.stats.exists():
            raise RuntimeError(f"the fake wrote no stats: {out!r}")
        data = json.loads(self.stats.read_text())
        self.stats.unlink()
        return FakeStats(
            statuses=Counter(data["statuses"]), chats=Counter(data["chats"]), times=data["times"]
        )


@dataclass
class FakeStats:
    """What the fake received: sendMessage answers by status, accepted messages by chat."""

    statuses: Counter[str]
    chats: Counter[str]
    times: list[float]  # when each sendMessage call arrived, refused or not (fake's clock)

    @property
    def accepted(self) -> int:
        return self.statuses.get("200", 0)

    @property
    def refused_429(self) -> int:
        return self.statuses.get("429", 0)

    @property
    def duplicates(self) -> list[str]:
        """Chats that were sent the message more than once."""
        return [chat for chat, n in self.chats.items() if n > 1]

    def peak(self, window: float = 1.0) -> int:
        """The most sendMessage calls that arrived within any `window` seconds."""
        most, first = 0, 0
        for last, at in enumerate(self.times):
            while at - self.times[first] >= window:
                first += 1
            most = max(most, last - first + 1)
        return most

    def gaps(self, longer_than: float = 0.05) -> tuple[int, float]:
        """Pauses between two calls longer than `longer_than` seconds: how many, how long."""
        pauses = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        long = [p for p in pauses if p > longer_than]
        return len(long), sum(long)

    def missing(self, chats: list[int]) -> list[int]:
        """Of these chats, the ones that received nothing."""
        return [c for c in chats if str(c) not in self.chats]


def start_fake(
    *, rate: int, per_chat: int = 1, token: str = TOKEN, log: Path | None = None
) -> FakeProcess:
    """Start the fake Telegram on a free loopback port; wait until it answers.

    Its stderr goes to `log` if given (a client killed mid-request makes uvicorn log a
    traceback there), else to ours."""
    command = [sys.executable, "-c", _FAKE, "telegram", "--port", "0", "--token", token]
    command += ["--rate", str(rate), "--per-chat", str(per_chat)]
    errors = log.open("a") if log else None
    handle, name = tempfile.mkstemp(prefix="loa-fake-", suffix=".json")
    os.close(handle)
    stats = Path(name)
    stats.unlink()
    env = {**os.environ, "LOA_BENCH_FAKE_STATS": str(stats)}
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
    )
    if errors:
        errors.close()  # the child has its own copy
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the fake did not start: {url!r}")
    _wait_listening(url)
    return FakeProcess(process, url, stats)


def _wait_listening(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/bot{TOKEN}/getMe", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the fake does not answer")


def chat_ids(n: int) -> list[int]:
    """The chats of a broadcast to N households."""
    return [FIRST_CHAT + i for i in range(n)]


async def build_store(url: str, n: int, *, now: datetime = NOW) -> list[int]:
    """A migrated store: N households, each with one consenting Telegram chat and one queued
    bulk notice to it (as a broadcast writes them); the chat ids."""
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    chats = chat_ids(n)
    async with sessions() as session, session.begin():
        await session.execute(insert(Province), [{"code": "83", "name": "Bến Tre"}])
        commune = {"code": "28756", "name": "Xã Thử", "name_key": "xa thu", "province_code": "83"}
        await session.execute(insert(Commune), [commune])
        await session.execute(
            insert(Household),
            [
                {
                    "id": i + 1,
                    "code": f"B{i:06d}",
                    "head_name": "Hộ thử",
                    "name_key": "ho thu",
                    "commune_code": "28756",
                    "category": "poor",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )
        await session.execute(
            insert(Contact),
            [
                {
                    "id": i + 1,
                    "household_id": i + 1,
                    "kind": CONTACT_TELEGRAM,
                    "address": str(chat),
                    "position": 0,
                    "shared": False,
                    "created_at": now,
                    "basis": BASIS_CONSENT,
                    "basis_at": now,
                    "consent_channel": "telegram",
                }
                for i, chat in enumerate(chats)
            ],
        )
        await messages.queue(
            session,
            [
                (
                    Party("telegram", str(chat), i + 1, i + 1),
                    Outbound(TEXT, NOTICE, priority=BULK, dedup_key=f"bench:{i}"),
                )
                for i, chat in enumerate(chats)
            ],
            now=now,
        )
    await engine.dispose()
    return chats


def loa_settings(database_url: str, api_base: str, rate: float, **extra: Any) -> Settings:
    """Settings for a Telegram-only sender on the fake, quiet hours off, no daily cap in reach."""
    return Settings(
        database_url=database_url,
        telegram_token=TOKEN,
        telegram_api_base=api_base,
        telegram_per_second=rate,
        telegram_per_chat_per_second=1,
        quiet_hours="",
        daily_cap=1000,
        **extra,
    )


@dataclass
class Result:
    """One sender's figures."""

    name: str
    messages: int
    seconds: float
    cpu_seconds: float
    rate_limit: float
    fake: FakeStats
    lost: int
    notes: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.messages / self.seconds / self.rate_limit

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1e3 / max(1, self.messages)

    def met(self) -> bool:
        return (
            self.share >= TARGET_SHARE
            and self.fake.refused_429 == 0
            and not self.fake.duplicates
            and self.lost == 0
            and self.cpu_ms < TARGET_CPU_MS
        )


async def _unsent(sessions: Any) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "out", Message.status.in_([QUEUED, SENDING]))
            )
            or 0
        )


async def run_loa(
    database_url: str, api_base: str, rate: float, profiler: cProfile.Profile | None
) -> tuple[float, float, int, list[str]]:
    """Drain the outbox with one lane running as in `loa worker`; wall s, CPU s, sent, notes."""
    settings = loa_settings(database_url, api_base, rate)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    channels = build_channels(settings, sessions, SystemClock())
    (lane,) = lanes(settings, sessions, SystemClock(), channels)
    settle()  # what `loa worker` does before it starts: not part of the broadcast
    cpu, started = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    stop = asyncio.Event()
    (worker,) = launch([lane], engine, stop)
    while await _unsent(sessions):  # noqa: ASYNC110  (the lane runs as loa worker runs it)
        await asyncio.sleep(0.05)
    stop.set()
    await worker
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    for channel in channels.values():
        await channel.close()
    await engine.dispose()
    s = lane.stats
    notes = [f"lane stats: sent {s.sent}, rate limited {s.rate_limited}, failed {s.failed}"]
    return seconds, cpu, s.sent, notes


async def run_ptb(
    api_base: str, chats: list[int], rate: float, chunk: int
) -> tuple[float, float, int, list[str]]:
    """The python-telegram-bot loop; wall seconds, CPU seconds, messages sent, notes."""
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, ApplicationBuilder

    limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1, max_retries=5)
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{api_base}/bot")
        .rate_limiter(limiter)
        .updater(None)
        .build()
    )
    sent, errors = 0, Counter[str]()
    async with app:  # initialize(): getMe
        cpu, started = time.process_time(), time.perf_counter()
        for first in range(0, len(chats), chunk):
            results = await asyncio.gather(
                *(app.bot.send_message(chat_id=c, text=TEXT) for c in chats[first : first + chunk]),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, TelegramError | Exception):
                    errors[type(result).__name__] += 1
                else:
                    sent += 1
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    notes = [f"errors raised: {dict(errors)}"] if errors else []
    return seconds, cpu, sent, notes


def bench_loa(n: int, rate: int, *, profile: bool, work: Path) -> Result:
    """Loa's lane against a fresh fake."""
    url = f"sqlite+aiosqlite:///{work / 'pacing.db'}"
    chats = asyncio.run(build_store(url, n))
    fake = start_fake(rate=rate)
    profiler = cProfile.Profile(time.thread_time) if profile else None
    try:
        seconds, cpu, sent, notes = uvloop.run(
            run_loa(url, fake.url, rate, profiler)
        )  # as `loa worker` runs
    finally:
        stats = fake.stop()
    if profiler:
        profiler.dump_stats(work / "pacing-loa.prof")
        report = pstats.Stats(profiler)
        report.sort_stats("cumulative").print_stats(30)
        report.sort_stats("tottime").print_stats(20)
    lost = len(stats.missing(chats))
    return Result("Loa sender (Lane, SQLite)", sent, seconds, cpu, rate, stats, lost, notes)


def bench_ptb(n: int, rate: int, chunk: int) -> Result:
    """The python-telegram-bot loop against a fresh fake."""
    chats = chat_ids(n)
    fake = start_fake(rate=rate)
    try:
        seconds, cpu, sent, notes = asyncio.run(run_ptb(fake.url, chats, rate, chunk))
    finally:
        stats = fake.stop()
    lost = len(stats.missing(chats))
    name = f"PTB 22 + AIORateLimiter, gather x{chunk}"
    return Result(name, sent, seconds, cpu, rate, stats, lost, notes)


def table(results: list[Result]) -> str:
    """The results as a markdown table."""
    lines = [
        "| sender | messages | seconds | msg/s | share of limit | peak calls in 1 s | 429s "
        "| duplicates | lost | CPU ms/msg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.messages:,} | {r.seconds:.2f} | {r.messages / r.seconds:,.0f} "
            f"| {r.share:.1%} | {r.fake.peak():,} | {r.fake.refused_429} "
            f"| {len(r.fake.duplicates)} | {r.lost} | {r.cpu_ms:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=1000, help="the limit, messages/s")
    parser.add_argument("--chunk", type=int, default=1000, help="PTB loop: sends per gather")
    parser.add_argument("--only", choices=["loa", "ptb"], help="run one sender only")
    parser.add_argument("--profile", action="store_true", help="cProfile Loa's sender")
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="loa-pacing-") as tmp:
        if args.only in (None, "loa"):
            results.append(
                bench_loa(args.messages, args.rate, profile=args.profile, work=Path(tmp))
            )
        if args.only in (None, "ptb"):
            results.append(bench_ptb(args.messages, args.rate, args.chunk))
    print(
        f"{args.messages:,} messages to {args.messages:,} chats, limit {args.rate:,}/s overall "
        f"and 1/s per chat (fake Telegram in its own process, loopback)"
    )
    print(table(results))
    for r in results:
        count, seconds = r.fake.gaps()
        span = r.fake.times[-1] - r.fake.times[0] if r.fake.times else 0.0
        seen = len(r.fake.times) / span / args.rate if span else 0.0
        print(
            f"{r.name}: calls arrived over {span:.2f} s ({seen:.1%} of the limit as the "
            f"provider sees it), with {count} pauses over 50 ms ({seconds:.2f} s in all)"
        )
        for note in r.notes:
            print(f"{r.name}: {note}")
    loa = next((r for r in results if r.name.startswith("Loa")), None)
    if loa is not None:
        print(
            f"targets for Loa (>= {TARGET_SHARE:.0%} of the limit, 0 429s, 0 duplicates, "
            f"< {TARGET_CPU_MS:g} ms CPU/msg): {'met' if loa.met() else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
