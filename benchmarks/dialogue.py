"""Dialogue engine benchmark: answers per second through parse, check, store and next question.

10,000 households each answer the built-in needs-assessment survey on the console channel,
in process, on SQLite, pinned to one core. Every reply is handled as in production: its own
session and transaction, the router finding the contact and its conversation, the engine
reading and checking the answer, the answer, the conversation state, the inbound message and
the outbound reply written, the next question rendered. Beside it, on a copy of the same store,
the same rows are written by bare inserts (inbound message, answer, conversation update,
outbound message; one transaction per reply), and the ratio of the two times is reported.

Targets: 2,000 answers per second or more; no more than 3 times the bare-insert time.

    .venv/bin/python benchmarks/dialogue.py                      # 10,000 conversations
    .venv/bin/python benchmarks/dialogue.py --conversations 1000 --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typing import cast  # noqa: E402

from sqlalchemy import Table, bindparam, insert, select, update  # noqa: E402

from bot.clock import FixedClock  # noqa: E402
from bot.demodata import write_areas, write_households  # noqa: E402
from handlers.dialogue.conversations import Turn  # noqa: E402
from handlers.dialogue.xlsform import load_form, save_form  # noqa: E402
from handlers.router import Incoming, Policy, handle_batch, start_survey  # noqa: E402
from storage.audit import Actor  # noqa: E402
from storage.conversations import ContactRef, contacts_for  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.importers.areas import import_areas  # noqa: E402
from storage.importers.households import import_households  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Answer, Contact, Conversation, Message  # noqa: E402

# A household that wants a loan, a local job, training, and help with crops and livestock.
ANSWERS = ["1", "20 triệu", "1", "2", "1", "1", "1", "1", "1,2", "2"]
TARGET_RATE = 2000.0
TARGET_RATIO = 3.0
ACTOR = Actor(name="bench", source="bench")
START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


async def prepare(url: str, work: Path, conversations: int) -> list[str]:
    """A register with enough phones, the needs survey loaded; the phones to play."""
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    areas, households = work / "areas.csv", work / "households.csv"
    write_areas(areas, communes=10, seed=1)
    write_households(households, households=int(conversations * 1.3), communes=10, seed=1)
    async with sessions() as session:
        await import_areas(session, areas, actor=ACTOR, now=START)
    async with sessions() as session:
        await import_households(
            session, households, actor=ACTOR, now=START, today=START.date(), skip_invalid=True
        )
    form = load_form(ROOT / "messages/vi/surveys/needs.csv")
    async with sessions() as session, session.begin():
        await save_form(session, form, source_name="needs.csv", actor=ACTOR, now=START)
        phones = (
            await session.scalars(
                select(Contact.address)
                .where(~Contact.shared, Contact.position == 0)  # one phone per household
                .order_by(Contact.id)
                .limit(conversations)
            )
        ).all()
    if len(phones) < conversations:
        raise SystemExit(f"only {len(phones)} unshared phones in the register")
    started = time.perf_counter()
    for address in phones:
        async with sessions() as session, session.begin():
            contact: ContactRef = (await contacts_for(session, addresses=[address]))[address][0]
            await start_survey(
                session, form_id="needs", contact=contact, channel="console", turn=_turn(START)
            )
    print(f"started {len(phones):,} conversations in {time.perf_counter() - started:.1f} s")
    await engine.dispose()
    return list(phones)


def _turn(now: datetime) -> Turn:
    return Turn(now=now, today=(now + timedelta(hours=7)).date())


async def run_engine(url: str, phones: list[str], batch: int) -> tuple[int, float]:
    """Every phone answers every question, round by round; answers and seconds."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = FixedClock(START + timedelta(minutes=5))
    policy = Policy()
    answered = 0
    started = time.perf_counter()
    for text in ANSWERS:
        for first in range(0, len(phones), batch):
            incoming = [Incoming("console", a, text) for a in phones[first : first + batch]]
            async with sessions() as session, session.begin():
                await handle_batch(session, incoming, turn=_turn(clock.now()), policy=policy)
            answered += len(incoming)
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        done = await session.scalar(
            select(Conversation.id).where(Conversation.status != "completed").limit(1)
        )
    await engine.dispose()
    if done is not None:
        raise SystemExit("some conversations did not complete: the benchmark script is wrong")
    return answered, elapsed


async def run_bare(url: str, phones: list[str], batch: int) -> float:
    """The same rows written by bare statements, one transaction per batch; seconds."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    Conversation.id, Conversation.household_id, Conversation.contact_id
                ).order_by(Conversation.id)
            )
        ).all()
    messages = cast(Table, Message.__table__)
    answers, conversations = cast(Table, Answer.__table__), cast(Table, Conversation.__table__)
    set_state = (
        update(conversations)
        .where(conversations.c.id == bindparam("b_id"))
        .values(
            {
                c: bindparam(f"b_{c}", type_=conversations.c[c].type)
                for c in ("position", "trail", "answers", "updated_at")
            }
        )
    )
    now = START + timedelta(minutes=5)
    pairs = list(zip(rows, phones, strict=True))
    started = time.perf_counter()
    for n, text in enumerate(ANSWERS):
        for first in range(0, len(pairs), batch):
            chunk = pairs[first : first + batch]
            base = [
                {
                    "channel": "console",
                    "address": address,
                    "household_id": hid,
                    "contact_id": kid,
                    "created_at": now,
                    "updated_at": now,
                    "buttons": None,
                    "conversation_id": cid,
                }
                for (cid, hid, kid), address in chunk
            ]
            async with sessions() as session, session.begin():
                await session.execute(
                    insert(messages),
                    [
                        {
                            **b,
                            "direction": "in",
                            "kind": "answer",
                            "text": text,
                            "status": "received",
                        }
                        for b in base
                    ],
                )
                await session.execute(
                    insert(answers),
                    [
                        {
                            "conversation_id": cid,
                            "household_id": hid,
                            "contact_id": kid,
                            "question": f"q{n}",
                            "value": text,
                            "raw": text,
                            "status": "answered",
                            "answered_at": now,
                        }
                        for (cid, hid, kid), _address in chunk
                    ],
                )
                await session.execute(
                    set_state,
                    [
                        {
                            "b_id": cid,
                            "b_position": n,
                            "b_trail": [n],
                            "b_answers": {"q": text},
                            "b_updated_at": now,
                        }
                        for (cid, _h, _k), _address in chunk
                    ],
                )
                await session.execute(
                    insert(messages),
                    [
                        {
                            **b,
                            "direction": "out",
                            "kind": "reply",
                            "text": "Câu hỏi tiếp theo?",
                            "status": "queued",
                        }
                        for b in base
                    ],
                )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200, help="replies per transaction")
    parser.add_argument("--profile", action="store_true", help="profile the engine run")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        work = Path(tmp)
        store, copy = work / "loa.db", work / "bare.db"
        phones = asyncio.run(prepare(f"sqlite+aiosqlite:///{store}", work, args.conversations))
        shutil.copy(store, copy)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        answered, engine_s = asyncio.run(
            run_engine(f"sqlite+aiosqlite:///{store}", phones, args.batch)
        )
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        bare_s = asyncio.run(run_bare(f"sqlite+aiosqlite:///{copy}", phones, args.batch))
    rate, ratio = answered / engine_s, engine_s / bare_s
    print(
        f"conversations        {len(phones):,} x {len(ANSWERS)} answers (needs survey), "
        f"{args.batch} replies per transaction"
    )
    print(
        f"engine               {engine_s:.1f} s  {rate:,.0f} answers/s  "
        f"{engine_s / answered * 1e3:.3f} ms/answer"
    )
    print(f"bare inserts         {bare_s:.1f} s  {answered / bare_s:,.0f} replies/s")
    print(f"ratio engine / bare  {ratio:.2f}")
    ok = rate >= TARGET_RATE and ratio <= TARGET_RATIO
    print(f"targets (>= {TARGET_RATE:,.0f}/s, <= {TARGET_RATIO}x): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
