"""Crash benchmark: `kill -9` a `loa worker` in the middle of a broadcast; nothing is lost.

Each run: a 5,000-message Telegram broadcast (one message to each of 5,000 chats) queued in a
fresh SQLite store; the fake Telegram Bot API in a process of its own on a loopback socket
(limit 1,000/s overall, 1/s per chat); one `loa worker` subprocess sending it
(LOA_TELEGRAM_PER_SECOND=1000, LOA_SENDER_LEASE_SECONDS=5, the smallest the settings allow).
At a random moment (seeded: after a random share of the rows is written as sent, plus a random
0-0.4 s, so always before the end) the worker gets SIGKILL. The rows then `sending` are "in
flight". A new worker starts and sends the rest; its lease recovery sends the in-flight rows
once more, flagged `possible_duplicate`. When no row is queued or sending, the new worker gets
SIGTERM.

Per run: rows never sent, chats the fake never got a message for (target 0 for both), and
chats that got it twice (target: no more than the rows in flight, each of them flagged).

    .venv/bin/python benchmarks/crash.py                    # ten runs, seed 2026
    .venv/bin/python benchmarks/crash.py --runs 3 --messages 2000 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pacing import ROOT, TOKEN, FakeStats, build_store, start_fake

LOA = Path(sys.executable).with_name("loa")
LEASE_SECONDS = 5  # LOA_SENDER_LEASE_SECONDS may not be less
DEADLINE = 300.0  # seconds for one run's broadcast, at most


@dataclass
class Worker:
    """A `loa worker` process; a thread keeps what it prints."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, env: dict[str, str], cwd: Path) -> Worker:
        process = subprocess.Popen(
            [str(LOA), "worker"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        worker = cls(process)
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: worker.output.extend(stream), daemon=True).start()
        return worker

    def wait_ready(self, timeout: float = 60) -> None:
        """Until it says which channels it works on."""
        deadline = time.monotonic() + timeout
        while "telegram" not in "".join(self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{''.join(self.output)}")
            time.sleep(0.02)


@dataclass
class Run:
    """One run's figures."""

    number: int
    killed_after: float  # seconds after the first worker was ready
    sent_at_kill: int  # rows the store had as sent when the worker died
    in_flight: int  # rows `sending` at the kill
    rows_lost: int  # rows not `sent` at the end
    chats_missed: int  # chats the fake never got the message for
    duplicates: int  # chats the fake got it for twice or more
    duplicates_in_flight: bool  # every such chat's row was in flight
    duplicates_flagged: bool  # ... and is flagged possible_duplicate
    flagged: int  # rows flagged possible_duplicate
    refused_429: int
    recovery_seconds: float  # from the new worker's start to the last row sent
    recovered_logged: bool  # the new worker said it re-queued rows after a crash

    def met(self) -> bool:
        return (
            self.rows_lost == 0
            and self.chats_missed == 0
            and self.duplicates <= self.in_flight
            and self.duplicates_in_flight
            and self.duplicates_flagged
        )


def worker_env(database_url: str, api_base: str, rate: int) -> dict[str, str]:
    """A Telegram-only worker on the fake: quiet hours off, a daily cap out of reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env |= {
        "LOA_DATABASE_URL": database_url,
        "LOA_TELEGRAM_TOKEN": TOKEN,
        "LOA_TELEGRAM_API_BASE": api_base,
        "LOA_TELEGRAM_PER_SECOND": str(rate),
        "LOA_TELEGRAM_PER_CHAT_PER_SECOND": "1",
        "LOA_QUIET_HOURS": "",
        "LOA_DAILY_CAP": "1000",
        "LOA_SENDER_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOA_CHANNEL_ORDER": "telegram",
    }
    return env


def _count(db: Path, where: str) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        query = f"SELECT count(*) FROM messages WHERE direction = 'out' AND {where}"
        return int(connection.execute(query).fetchone()[0])


def _column(db: Path, column: str, where: str) -> set[str]:
    with sqlite3.connect(db, timeout=30) as connection:
        query = f"SELECT {column} FROM messages WHERE direction = 'out' AND {where}"
        return {str(row[0]) for row in connection.execute(query)}


def _wait(predicate: Callable[[], bool], timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}:\n{''.join(worker.output)[-3000:]}")
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker died:\n{''.join(worker.output)[-3000:]}")
        time.sleep(0.05)


def one_run(number: int, template: Path, work: Path, n: int, rate: int, rng: random.Random) -> Run:
    """Kill a worker mid-broadcast, let a new one finish; what reached the fake."""
    db = work / f"run{number}.db"
    shutil.copy(template, db)
    url = f"sqlite+aiosqlite:///{db}"
    share, extra = rng.uniform(0.0, 0.85), rng.uniform(0.0, 0.4)  # always before the end
    fake = start_fake(rate=rate, log=work / "fake.log")
    stats: FakeStats | None = None
    workers: list[Worker] = []
    try:
        env = worker_env(url, fake.url, rate)
        first = Worker.start(env, work)
        workers.append(first)
        first.wait_ready()
        ready = time.monotonic()
        _wait(
            lambda: _count(db, "status = 'sent'") >= share * n,
            DEADLINE,
            "the first rows",
            first,
        )
        time.sleep(extra)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        killed_after = time.monotonic() - ready
        in_flight = _column(db, "address", "status = 'sending'")
        sent_at_kill = _count(db, "status = 'sent'")
        second = Worker.start(env, work)
        workers.append(second)
        second.wait_ready()
        started = time.monotonic()
        _wait(
            lambda: _count(db, "status IN ('queued', 'sending')") == 0,
            DEADLINE,
            "the new worker to finish",
            second,
        )
        recovery = time.monotonic() - started
        second.process.send_signal(signal.SIGTERM)
        if second.process.wait(timeout=30) != 0:
            raise RuntimeError(f"the new worker did not stop cleanly:\n{''.join(second.output)}")
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        stats = fake.stop()
    chats = _column(db, "address", "1 = 1")
    flagged = _column(db, "address", "possible_duplicate = 1")
    twice = set(stats.duplicates)
    return Run(
        number=number,
        killed_after=killed_after,
        sent_at_kill=sent_at_kill,
        in_flight=len(in_flight),
        rows_lost=_count(db, "status != 'sent'"),
        chats_missed=len(chats - set(stats.chats)),
        duplicates=len(twice),
        duplicates_in_flight=twice <= in_flight,
        duplicates_flagged=twice <= flagged,
        flagged=len(flagged),
        refused_429=stats.refused_429,
        recovery_seconds=recovery,
        recovered_logged="re-queued after a crash" in "".join(second.output),
    )


def table(runs: list[Run]) -> str:
    """The runs as a markdown table."""
    lines = [
        "| run | killed after (s) | sent at kill | in flight | rows lost | chats missed "
        "| duplicates | all in flight & flagged | flagged | 429s | new worker finished in (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in runs:
        both = "yes" if r.duplicates_in_flight and r.duplicates_flagged else "NO"
        lines.append(
            f"| {r.number} | {r.killed_after:.1f} | {r.sent_at_kill:,} | {r.in_flight} "
            f"| {r.rows_lost} | {r.chats_missed} | {r.duplicates} | {both} | {r.flagged} "
            f"| {r.refused_429} | {r.recovery_seconds:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000, help="the limit, messages/s")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not LOA.exists():
        raise SystemExit(f"{LOA} not found: run this with the project's virtualenv python")
    rng = random.Random(args.seed)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="loa-crash-") as tmp:
        work = Path(tmp)
        template = work / "template.db"
        asyncio.run(build_store(f"sqlite+aiosqlite:///{template}", args.messages))
        for number in range(1, args.runs + 1):
            run = one_run(number, template, work, args.messages, args.rate, rng)
            runs.append(run)
            print(table([run]).splitlines()[-1], flush=True)
            (work / f"run{number}.db").unlink()
    print(
        f"\n{args.messages:,} messages per run, limit {args.rate:,}/s, lease {LEASE_SECONDS} s, "
        f"seed {args.seed}, code in {ROOT}"
    )
    print(table(runs))
    lost = sum(r.rows_lost + r.chats_missed for r in runs)
    print(
        f"lost: {lost}; duplicates {sum(r.duplicates for r in runs)} "
        f"(in flight at the kills: {sum(r.in_flight for r in runs)}); "
        f"new worker logged the recovery in {sum(r.recovered_logged for r in runs)} of "
        f"{len(runs)} runs"
    )
    print(
        f"targets (nothing lost; duplicates only in flight, flagged): "
        f"{'met' if all(r.met() for r in runs) else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
