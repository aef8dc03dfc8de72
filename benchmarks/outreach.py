"""Outreach benchmark: queuing a broadcast to 100,000 households, and one scheduler pass over
100,000 households with 300,000 loan instalments, on SQLite and PostgreSQL.

The store (built once per backend, not timed): 20 communes of 10 villages, N households
spread over them; contacts as a province has them: about 40% on Zalo, 25% on Telegram, 70%
with a phone, 8% with nothing (a village relay carries their text); every third household
has a loan of three instalments (300,000 in all for 300,000 households... see --instalments),
due over the next two months. Channels: Zalo, Telegram and SMS configured (never called).

Each measurement runs in a fresh child process (spawn) so its peak memory (`ru_maxrss`) is
its own; the outbox is emptied between them (not timed).

- broadcast N: the scheduler pass that queues one broadcast to an audience of N households
  (audience resolution, recipients, routes, placeholders, outbox rows and relays), for
  audiences of a quarter, half and all of the communes: time and peak memory, so memory can
  be seen flat as the audience grows. Preview: the same audience counted without writing.
- tick: one whole scheduler pass (every step) on a day when reminders fall due.

Targets: the 100,000-household broadcast in 10 s or less, under 200 MB.

    .venv/bin/python benchmarks/outreach.py                       # 100,000, both backends
    .venv/bin/python benchmarks/outreach.py --households 20000 --backends sqlite --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import random
import resource
import secrets
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.channels.registry import build_channels  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.inbox import order  # noqa: E402
from scheduler import broadcasts  # noqa: E402
from scheduler.delivery import Routing  # noqa: E402
from scheduler.tick import Context, tick  # noqa: E402
from storage.db import create_engine, run_outside_transaction, session_factory  # noqa: E402
from storage.migrate import upgrade_url  # noqa: E402
from storage.models import (  # noqa: E402
    Broadcast,
    Commune,
    Contact,
    EventRegistration,
    FollowUp,
    Household,
    Instalment,
    Loan,
    Message,
    Province,
    Relay,
    Village,
)
from storage.models.broadcasts import SCHEDULED  # noqa: E402
from storage.models.households import BASIS_CONSENT, BASIS_REGISTER  # noqa: E402

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 on a Tuesday in Vietnam, not a holiday
COMMUNES = 20
VILLAGES = 10
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TEXT = "Kính gửi ông/bà {ho_ten} ({thon}, {xa}): UBND xã mời hộ dự họp dân lúc 08:00 ngày 05/12."
SMS = "UBND xa moi ho {ma_ho} du hop dan 08:00 ngay 05/12 tai nha van hoa thon."


def settings(url: str) -> Settings:
    """Zalo, Telegram and SMS configured (nothing is sent), no approval in the way."""
    return Settings(
        database_url=url,
        telegram_token="1:bench",
        zalo_app_id="1",
        zalo_oa_secret_key="bench",
        kannel_sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms",
        approval_threshold=10_000_000,
    )


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


async def build(url: str, households: int, instalments: int) -> None:
    """The store described above (not timed)."""
    rng = random.Random(2026)
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = NOW - timedelta(days=30)
    async with sessions() as session, session.begin():
        await session.execute(insert(Province), [{"code": "83", "name": "Tỉnh Thử"}])
        communes = [
            {
                "code": f"{28000 + c}",
                "name": f"Xã Thử {c}",
                "name_key": f"xa thu {c}",
                "province_code": "83",
                "transaction_day": 5 + c % 20,
                "transaction_place": f"Trụ sở UBND xã Thử {c}",
            }
            for c in range(COMMUNES)
        ]
        await session.execute(insert(Commune), communes)
        villages = [
            {
                "id": c * VILLAGES + v + 1,
                "code": f"{28000 + c}-{v:03d}",
                "commune_code": f"{28000 + c}",
                "name": f"Thôn {v + 1}",
                "name_key": f"thon {v + 1}",
            }
            for c in range(COMMUNES)
            for v in range(VILLAGES)
        ]
        await session.execute(insert(Village), villages)
    contact_id = 0
    for start in range(0, households, 10_000):
        homes, contacts = [], []
        for i in range(start, min(start + 10_000, households)):
            commune = i % COMMUNES
            homes.append(
                {
                    "id": i + 1,
                    "code": f"B{i:07d}",
                    "head_name": f"Nguyễn Văn Thử {i}",
                    "name_key": f"nguyen van thu {i}",
                    "commune_code": f"{28000 + commune}",
                    "village_id": commune * VILLAGES + rng.randrange(VILLAGES) + 1,
                    "category": rng.choice(("poor", "near_poor", "near_poor", "escaped")),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            draw = rng.random()
            kinds = []
            if draw < 0.92:
                kinds.append(("phone", f"+8491{i:07d}", BASIS_REGISTER) if draw < 0.70 else None)
                if rng.random() < 0.40:
                    kinds.append(("zalo", f"z{i}", BASIS_CONSENT))
                if rng.random() < 0.25:
                    kinds.append(("telegram", str(100000000 + i), BASIS_CONSENT))
            for position, found in enumerate(k for k in kinds if k):
                kind, address, basis = found
                contact_id += 1
                contacts.append(
                    {
                        "id": contact_id,
                        "household_id": i + 1,
                        "kind": kind,
                        "address": address,
                        "position": position,
                        "shared": False,
                        "created_at": now,
                        "basis": basis,
                        "basis_at": now,
                        "last_seen_at": now,
                    }
                )
        async with sessions() as session, session.begin():
            await session.execute(insert(Household), homes)
            for chunk in _chunks(contacts):
                await session.execute(insert(Contact), chunk)
    loans = instalments // 3
    loan_rows, due_rows = [], []
    for n in range(loans):
        household = (n * 3) % households + 1
        loan_rows.append(
            {
                "id": n + 1,
                "household_id": household,
                "programme": "ho_ngheo",
                "amount": 50_000_000,
                "disbursed_on": date(2025, 6, 1),
                "group_name": "Tổ TK&VV thôn 1",
                "group_head_phone": "+84912000111",
                "source_name": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
        first = date(2026, 12, 1) + timedelta(days=rng.randrange(60))
        for k in range(3):
            due_rows.append(
                {
                    "loan_id": n + 1,
                    "due_on": first + timedelta(days=91 * k),
                    "principal": 1_500_000,
                    "interest": 250_000,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    async with sessions() as session, session.begin():
        for chunk in _chunks(loan_rows):
            await session.execute(insert(Loan), chunk)
        for chunk in _chunks(due_rows):
            await session.execute(insert(Instalment), chunk)
    await engine.dispose()


async def reset(url: str) -> None:
    """Empty the outbox and what passes wrote, so each measurement starts alike."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        for table in (Message, Relay, EventRegistration, FollowUp, Broadcast):
            await connection.execute(delete(table))
        await connection.execute(update(Instalment).values(overdue_at=None))
    await engine.dispose()


@dataclass(frozen=True)
class Job:
    """One measurement, as handed to the child process."""

    what: str  # broadcast, preview or tick
    backend: str
    url: str
    communes: int = COMMUNES
    profile: Path | None = None


@dataclass(frozen=True)
class Result:
    job: Job
    households: int
    queued: int
    seconds: float
    peak_mb: float


async def _measure(job: Job) -> Result:
    config = settings(job.url)
    engine = create_engine(job.url)
    sessions = session_factory(engine)
    channels = build_channels(config, sessions, FixedClock(NOW))
    routing = Routing(channels, order(config))
    ctx = Context(sessions, routing, config, NOW)
    audience = "commune=" + ",".join(f"{28000 + c}" for c in range(job.communes))
    draft = broadcasts.Draft(TEXT, audience, sms_text=SMS, send_at=NOW)
    households = queued = 0
    profiler = cProfile.Profile() if job.profile else None
    if job.what == "broadcast":
        async with sessions() as session, session.begin():
            sent, shown = await broadcasts.submit(
                session, draft, routing=routing, settings=config, now=NOW, by="bench"
            )
            # Over several communes it waits for an officer: approved here, as one would.
            await session.execute(
                update(Broadcast).where(Broadcast.id == sent).values(status=SCHEDULED)
            )
        households = shown.households
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    if job.what == "broadcast":
        lines = await broadcasts.run(ctx)
        queued = next(line.count for line in lines if "messages" in line.label)
    elif job.what == "preview":
        async with sessions() as session:
            shown = await broadcasts.preview(
                session, draft, routing=routing, settings=config, now=NOW
            )
        households, queued = shown.households, sum(shown.channels.values())
    else:
        lines = await tick(ctx)
        queued = sum(line.count for line in lines)
    seconds = time.perf_counter() - started
    if profiler and job.profile:
        profiler.disable()
        profiler.dump_stats(job.profile)
    for channel in channels.values():
        await channel.close()
    await engine.dispose()
    return Result(job, households, queued, seconds, _peak_mb())


def _peak_mb() -> float:
    """This process's own peak resident memory. Not ru_maxrss: Linux keeps that across the
    fork and exec that start a child, so the child would report the parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(job: Job) -> Result:
    return asyncio.run(_measure(job))


def measure(job: Job) -> Result:
    """Run one job in a fresh process after emptying the outbox."""
    asyncio.run(reset(job.url))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_child, job).result()


def _store(backend: str, work: Path, pg_url: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{work / 'outreach.db'}", None
    name = f"loa_bench_{secrets.token_hex(4)}"
    asyncio.run(run_outside_transaction(pg_url, f'CREATE DATABASE "{name}"'))
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--instalments", type=int, default=300_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--profile", action="store_true", help="profile the full broadcast")
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for backend in args.backends.split(","):
            url, database = _store(backend, work, args.pg_url)
            try:
                asyncio.run(upgrade_url(url))
                started = time.perf_counter()
                asyncio.run(build(url, args.households, args.instalments))
                print(
                    f"{backend}: store built in {time.perf_counter() - started:.0f} s", flush=True
                )
                for share in (COMMUNES // 4, COMMUNES // 2, COMMUNES):
                    profile = (
                        work / "broadcast.prof" if args.profile and share == COMMUNES else None
                    )
                    results.append(measure(Job("broadcast", backend, url, share, profile)))
                    print(_line(results[-1]), flush=True)
                    if profile:
                        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(25)
                for what in ("preview", "tick"):
                    results.append(measure(Job(what, backend, url)))
                    print(_line(results[-1]), flush=True)
            finally:
                if database:
                    drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                    asyncio.run(run_outside_transaction(args.pg_url, drop))
    print("\n| backend | what | households | rows queued | seconds | peak MB |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.job.backend} | {r.job.what} | {r.households:,} | {r.queued:,} "
            f"| {r.seconds:.1f} | {r.peak_mb:.0f} |"
        )


def _line(r: Result) -> str:
    return (
        f"  {r.job.backend} {r.job.what} ({r.job.communes} communes): {r.households:,} households, "
        f"{r.queued:,} queued, {r.seconds:.2f} s, peak {r.peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
