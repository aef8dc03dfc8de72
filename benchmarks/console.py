"""Console benchmark: server time of the overview, follow-up list, household search and survey
results pages, for a commune of 1,000 households and a province of 100,000 households with
1,000,000 messages, on SQLite and PostgreSQL.

The stores (built once per backend, not timed): the register from `bot.demodata` imported as
`loa import` does (1 commune of 1,000 households; 100 communes of about 1,000 households, with
their phones), 3% of the phones not reachable by SMS and 2% opted out; the built-in needs
survey loaded and asked in one round to every household with a contact (started over the last
20 days: 45% completed with every choice and free-text question answered, 30% expired, 25%
still active); 15% of households with a follow-up (65% of them still open or assigned); and
10 messages per household (85% outbound: delivered, read, sent, failed...) spread evenly over
the last `--days` days (365: about 82,000 of the province's million fall in the overview's
30-day window) and written in the order of time, as the outbox writes them. PostgreSQL is
VACUUM ANALYZEd after loading, as autovacuum would have it; SQLite is measured as Loa leaves it
(no ANALYZE).

Each page is requested in process (FastAPI TestClient, the app started on the store, the clock
fixed) by an admin and by an assistant of one commune of about 1,000 households: 3 warm-up
requests, then `--repeat` timed ones; the median and 95th percentile are reported, with this
process's CPU time (SQLite's work included, PostgreSQL's not). The time is the whole request
as the app serves it: session check, scope, queries, template, response. `--sql` prints each
page's three slowest statements. A view over more than 20 communes (the admin's overview and
results) is counted at most once a minute and kept (web/recent.py): its plain row counts it
on every request, its "(kept)" row reads the kept figures, as every view within the minute
after the first does.

Target: 200 ms or less for each page.

    .venv/bin/python benchmarks/console.py                          # both stores, both backends
    .venv/bin/python benchmarks/console.py --stores commune --backends sqlite --repeat 5
    .venv/bin/python benchmarks/console.py --keep /tmp/loa-bench-console --sql   # reuse stores
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Table, event, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.demodata import write_areas, write_households  # noqa: E402
from handlers.dialogue.xlsform import load_form, save_form  # noqa: E402
from storage.audit import Actor  # noqa: E402
from storage.bulk import insert_many  # noqa: E402
from storage.db import create_engine, run_outside_transaction, session_factory  # noqa: E402
from storage.importers.areas import import_areas  # noqa: E402
from storage.importers.households import import_households  # noqa: E402
from storage.migrate import upgrade_url  # noqa: E402
from storage.models import (  # noqa: E402
    Answer,
    Contact,
    Conversation,
    FollowUp,
    Household,
    Message,
    Survey,
    SurveyRound,
    SurveyVersion,
    Unreachable,
)
from storage.signin import open_session  # noqa: E402
from storage.staff import add_staff  # noqa: E402
from storage.vocab import FOLLOWUP_KINDS  # noqa: E402
from web.console.auth import SESSION_COOKIE  # noqa: E402
from web.recent import Recent  # noqa: E402

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ACTOR = Actor(name="bench", source="bench")
PASSWORD = "mat-khau-do-hieu-nang"
CHUNK = 50_000
SHOW_SQL = False
STORES = {"commune": (1, 1_000), "province": (100, 100_000)}  # communes, households
OUT_STATUSES = {"delivered": 55, "read": 10, "sent": 20, "failed": 5, "skipped": 5, "queued": 5}
FREE_TEXT = ("Nhà dột cần sửa trước mùa mưa", "Con sắp nghỉ học vì thiếu tiền", "Cần vay nuôi bò")


@dataclass(frozen=True)
class Timing:
    backend: str
    store: str
    user: str
    page: str
    path: str
    median_ms: float
    p95_ms: float
    status: int
    cpu_ms: float  # this process's CPU time per request (median): SQLite's work included
    slowest: list[tuple[float, str]]  # the slowest statements of the last request (ms, SQL)


# Building the stores ------------------------------------------------------------------------


async def _put(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows fast: COPY on PostgreSQL, the driver's executemany on SQLite."""
    if not rows:
        return
    tab: Table = table.__table__
    if session.get_bind().dialect.name != "postgresql":
        await insert_many(session, tab.insert(), rows)
        return
    columns = list(rows[0])
    raw = await (await session.connection()).get_raw_connection()
    records = [tuple(_pg(row[c]) for c in columns) for row in rows]
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        tab.name, records=records, columns=columns
    )


def _pg(value: Any) -> Any:
    import json

    return json.dumps(value) if isinstance(value, dict | list) else value


async def build(url: str, work: Path, communes: int, households: int, days: int) -> str:
    """The store described above; returns the commune of the assistant (about 1,000 homes)."""
    rng = random.Random(2026)
    areas, homes = work / f"areas-{communes}.csv", work / f"households-{households}.csv"
    write_areas(areas, communes=communes, seed=2025)
    write_households(homes, households=households, communes=communes, seed=2025)
    engine = create_engine(url)
    sessions = session_factory(engine)
    then = NOW - timedelta(days=days)
    async with sessions() as session:
        await import_areas(session, areas, actor=ACTOR, now=then)
    async with sessions() as session:
        await import_households(
            session, homes, actor=ACTOR, now=then, today=then.date(), skip_invalid=True
        )
    async with sessions() as session:
        ids = (await session.execute(select(Household.id, Household.commune_code))).all()
        first_contact = dict(
            (
                await session.execute(
                    select(Contact.household_id, func.min(Contact.id)).group_by(
                        Contact.household_id
                    )
                )
            ).all()
        )
    sizes: dict[str, int] = {}
    for _hid, code in ids:
        sizes[code] = sizes.get(code, 0) + 1
    mine = min(sizes, key=lambda c: (abs(sizes[c] - 1_000), c))
    await _reachability(sessions, rng, list(first_contact.values()))
    await _survey(sessions, rng, first_contact)
    await _followups(sessions, rng, [hid for hid, _c in ids])
    await _messages(sessions, rng, [hid for hid, _c in ids], days)
    async with sessions() as session, session.begin():
        for username, role, area in (("admin", "admin", []), ("assistant", "assistant", [mine])):
            await add_staff(
                session,
                username=username,
                role=role,
                areas=area,
                password=PASSWORD,
                actor=ACTOR,
                now=NOW,
            )
    if engine.dialect.name == "postgresql":
        await engine.dispose()
        await run_outside_transaction(url, "VACUUM ANALYZE")
    await engine.dispose()
    return mine


async def _reachability(sessions: Any, rng: random.Random, contacts: list[int]) -> None:
    """3% of the contacts not reachable by SMS (not delivered), 2% opted out."""
    blocked = rng.sample(contacts, k=len(contacts) * 3 // 100)
    rows = [
        {"contact_id": c, "channel": "sms", "reason": "not_delivered", "since": NOW}
        for c in blocked
    ]
    async with sessions() as session, session.begin():
        await _put(session, Unreachable, rows)
        out = rng.sample(contacts, k=len(contacts) * 2 // 100)
        for start in range(0, len(out), 5_000):
            await session.execute(
                update(Contact)
                .where(Contact.id.in_(out[start : start + 5_000]))
                .values(opted_out_at=NOW - timedelta(days=10))
            )


async def _survey(sessions: Any, rng: random.Random, contacts: dict[int, int]) -> None:
    """The needs survey loaded, one round asked to every household with a contact."""
    form = load_form(ROOT / "messages/vi/surveys/needs.csv")
    opened = NOW - timedelta(days=20)
    async with sessions() as session, session.begin():
        await save_form(session, form, source_name="needs.csv", actor=ACTOR, now=opened)
        survey = await session.scalar(select(Survey.id).where(Survey.form_id == "needs"))
        version = await session.scalar(
            select(SurveyVersion.id).where(SurveyVersion.survey_id == survey)
        )
        round_ = SurveyRound(survey_id=survey, title="Nhu cầu 2026", opened_at=opened)
        session.add(round_)
        await session.flush()
        round_id = round_.id
    asked = [q for q in form.answerable if q.type.value not in ("calculate", "acknowledge")]
    talks, answers = [], []
    homes = sorted(contacts.items())
    starts = sorted(rng.randrange(5 * 24 * 60) for _h in homes)  # ids follow time
    for n, ((household, contact), minute) in enumerate(zip(homes, starts, strict=True), 1):
        status = rng.choices(("completed", "expired", "active"), (45, 30, 25))[0]
        started = opened + timedelta(minutes=minute)
        talks.append(
            {
                "id": n,
                "round_id": round_id,
                "version_id": version,
                "household_id": household,
                "contact_id": contact,
                "channel": "sms",
                "status": status,
                "position": 0,
                "misses": 0,
                "trail": [],
                "answers": {},
                "started_at": started,
                "updated_at": started,
                "completed_at": started + timedelta(hours=2) if status == "completed" else None,
            }
        )
        for q in asked if status == "completed" else ():
            value = _answer(rng, q, form.choices)
            answers.append(
                {
                    "conversation_id": n,
                    "household_id": household,
                    "contact_id": contact,
                    "question": q.name,
                    "value": value,
                    "raw": value,
                    "status": "answered",
                    "answered_at": started + timedelta(hours=1),
                }
            )
    for table, rows in ((Conversation, talks), (Answer, answers)):
        for start in range(0, len(rows), CHUNK):
            async with sessions() as session, session.begin():
                await _put(session, table, rows[start : start + CHUNK])
    print(f"  {len(talks):,} conversations, {len(answers):,} answers", flush=True)


def _answer(rng: random.Random, question: Any, choices: dict[str, Any]) -> str:
    kind = question.type.value
    if kind == "select_one":
        return str(rng.choice(choices[question.choice_list]).name)
    if kind == "select_multiple":
        picked = rng.sample(choices[question.choice_list], k=2)
        return " ".join(c.name for c in picked)
    if kind in ("integer", "decimal"):
        return str(rng.randrange(1, 5) * (10_000_000 if "amount" in question.name else 1))
    return rng.choice(FREE_TEXT)


async def _followups(sessions: Any, rng: random.Random, households: list[int]) -> None:
    kinds = list(FOLLOWUP_KINDS)
    statuses = (("open", 45), ("assigned", 20), ("done", 25), ("dismissed", 10))
    rows = []
    for household in rng.sample(households, k=len(households) * 15 // 100):
        created = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
        rows.append(
            {
                "household_id": household,
                "kind": rng.choice(kinds),
                "priority": rng.choice(("high", "normal", "normal", "low")),
                "status": rng.choices([s for s, _w in statuses], [w for _s, w in statuses])[0],
                "note": "",
                "due_on": (created + timedelta(days=rng.randrange(5, 30))).date(),
                "created_at": created,
                "updated_at": created,
            }
        )
    async with sessions() as session, session.begin():
        await _put(session, FollowUp, rows)
    print(f"  {len(rows):,} follow-ups", flush=True)


async def _messages(sessions: Any, rng: random.Random, households: list[int], days: int) -> None:
    """Ten messages per household, spread evenly over the last `days` days, written in the
    order of time as the outbox writes them (ids follow time)."""
    total = len(households) * 10
    names, weights = list(OUT_STATUSES), list(OUT_STATUSES.values())
    ages = sorted((rng.randrange(days * 86_400) for _n in range(total)), reverse=True)
    for start in range(0, total, CHUNK):
        rows = []
        for age in ages[start : start + CHUNK]:
            at = NOW - timedelta(seconds=age)
            out = rng.random() < 0.85
            status = rng.choices(names, weights)[0] if out else "received"
            rows.append(
                {
                    "direction": "out" if out else "in",
                    "channel": rng.choice(("zalo", "telegram", "sms", "sms")),
                    "address": f"+8491{rng.randrange(10_000_000):07d}",
                    "household_id": rng.choice(households),
                    "kind": "broadcast" if out else "reply",
                    "text": "Kính gửi ông/bà: UBND xã mời hộ dự họp dân lúc 08:00 ngày 05/12.",
                    "status": status,
                    "priority": 2,
                    "attempts": 1 if out else 0,
                    "errors": 0,
                    "possible_duplicate": False,
                    "sent_at": at if status in ("sent", "delivered", "read") else None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        async with sessions() as session, session.begin():
            await _put(session, Message, rows)
    print(f"  {total:,} messages over {days} days", flush=True)


async def _session_token(url: str, username: str) -> str:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            staff_id = await session.scalar(
                text("SELECT id FROM staff_users WHERE username = :u"), {"u": username}
            )
            return await open_session(session, staff_id=int(staff_id), now=NOW)
    finally:
        await engine.dispose()


# Measuring ----------------------------------------------------------------------------------


async def _probe_values(url: str, commune: str) -> dict[str, str]:
    """A household of the assistant's commune to search for (by name and phone), the survey."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            row = (
                await session.execute(
                    select(Household.head_name, Contact.address)
                    .join(Contact, Contact.household_id == Household.id)
                    .where(Household.commune_code == commune, Contact.kind == "phone")
                    .order_by(Household.code)
                    .limit(1)
                )
            ).one()
            survey = await session.scalar(select(Survey.id))
    finally:
        await engine.dispose()
    name, phone = row
    return {"name": name, "phone": "0" + phone.removeprefix("+84"), "survey": str(survey)}


KEPT = " (kept)"  # a wide view read again within the minute (web/recent.py)


def pages(values: dict[str, str], commune: str) -> list[tuple[str, str]]:
    """(name, path); a name ending in KEPT reads the figures kept from the warm-up."""
    results = f"/surveys/{values['survey']}/results"
    return [
        ("overview", "/"),
        ("overview" + KEPT, "/"),
        ("overview, one commune", f"/?commune={commune}"),
        ("follow-up list", "/followups"),
        ("household search (name)", f"/households?q={values['name']}"),
        ("household search (phone)", f"/households?q={values['phone']}"),
        ("survey results", results),
        ("survey results" + KEPT, results),
    ]


class Statements:
    """The time of each SQL statement the app runs (cursor execute to its return)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []
        self._started: dict[int, float] = {}

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None:
            self.seen.append(((time.perf_counter() - started) * 1000, statement))


def measure(backend: str, store: str, url: str, commune: str, repeat: int) -> list[Timing]:
    settings = Settings(database_url=url)
    values = asyncio.run(_probe_values(url, commune))
    tokens = {u: asyncio.run(_session_token(url, u)) for u in ("admin", "assistant")}
    app = create_app(settings, clock=FixedClock(NOW))
    found = []
    statements = Statements()
    with TestClient(app, base_url="https://testserver") as client:
        statements.attach(app.state.sessions.kw["bind"].sync_engine)
        for user, token in tokens.items():
            client.cookies.set(SESSION_COOKIE, token)
            for page, path in pages(values, commune):
                status = 0
                times, cpu = [], []
                for n in range(3 + repeat):
                    statements.seen.clear()
                    if not page.endswith(KEPT):  # count every time: nothing kept
                        app.state.recent = Recent()
                    started, used = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    status = response.status_code
                    if n >= 3:
                        times.append(elapsed)
                        cpu.append((time.process_time() - used) * 1000)
                p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
                slowest = sorted(statements.seen, reverse=True)[:3]
                found.append(
                    Timing(
                        backend,
                        store,
                        user,
                        page,
                        path,
                        statistics.median(times),
                        p95,
                        status,
                        statistics.median(cpu),
                        slowest,
                    )
                )
                print(_line(found[-1]), flush=True)
                if SHOW_SQL:
                    for ms, sql in slowest:
                        print(f"      {ms:6.1f} ms  {' '.join(sql.split())[:300]}")
    return found


def _line(t: Timing) -> str:
    mark = "" if t.p95_ms <= 200 and t.status == 200 else "  <-- over 200 ms or failed"
    return (
        f"  {t.backend} {t.store} {t.user:9} {t.page:26} median {t.median_ms:6.1f} ms"
        f"  p95 {t.p95_ms:6.1f} ms  cpu {t.cpu_ms:6.1f} ms  [{t.status}]{mark}"
    )


def _store(backend: str, store: str, work: Path, pg_url: str, keep: bool) -> tuple[str, str]:
    """The store's URL, and its database name on PostgreSQL (created if need be)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{work / f'console-{store}.db'}", ""
    name = f"loa_bench_console_{store}" + ("" if keep else f"_{secrets.token_hex(3)}")
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    if not (keep and asyncio.run(_exists(pg_url, name))):
        asyncio.run(run_outside_transaction(pg_url, f'CREATE DATABASE "{name}"'))
    return url, name


async def _exists(pg_url: str, name: str) -> bool:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            return found is not None
    finally:
        await engine.dispose()


async def _built(url: str) -> str | None:
    """The assistant's commune if the store was built before (--keep), else None."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(  # type: ignore[no-any-return]
                text(
                    "SELECT a.code FROM staff_areas a JOIN staff_users u ON u.id = a.staff_id"
                    " WHERE u.username = 'assistant'"
                )
            )
    except DBAPIError:  # no tables yet
        return None
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", default="commune,province")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--days", type=int, default=365, help="the messages' time span")
    parser.add_argument("--sql", action="store_true", help="print each page's slowest SQL")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the stores (SQLite files in DIR, databases loa_bench_console_<store>) "
        "and reuse them on the next run",
    )
    args = parser.parse_args()
    global SHOW_SQL
    SHOW_SQL = args.sql
    results: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for backend in args.backends.split(","):
            for store in args.stores.split(","):
                results += _run(backend, store, work, args)
    print("\n| backend | store | user | page | median ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for t in results:
        flag = "" if t.status == 200 else f" (HTTP {t.status})"
        print(
            f"| {t.backend} | {t.store} | {t.user} | {t.page}{flag} "
            f"| {t.median_ms:.0f} | {t.p95_ms:.0f} |"
        )
    missed = [t for t in results if t.p95_ms > 200 or t.status != 200]
    if missed:
        print(f"\n{len(missed)} of {len(results)} measurements over 200 ms (p95) or failed")


def _run(backend: str, store: str, work: Path, args: argparse.Namespace) -> list[Timing]:
    communes, households = STORES[store]
    url, database = _store(backend, store, work, args.pg_url, keep=bool(args.keep))
    try:
        commune = asyncio.run(_built(url)) if args.keep else None
        if commune is None:
            asyncio.run(upgrade_url(url))
            started = time.perf_counter()
            print(f"{backend} {store}: building {households:,} households", flush=True)
            commune = asyncio.run(build(url, work, communes, households, args.days))
            print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            asyncio.run(upgrade_url(url))  # new indexes since it was built
        return measure(backend, store, url, commune, args.repeat)
    finally:
        if database and not args.keep:
            drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            asyncio.run(run_outside_transaction(args.pg_url, drop))


if __name__ == "__main__":
    main()
