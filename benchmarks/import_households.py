"""Import benchmark: a province's household register from .csv and .xlsx, on SQLite and PostgreSQL.

The default size, 400,000 households, is Bến Tre's register. For each format x backend the script
generates the synthetic files (`bot.demodata`, or reuses them with --keep-data), then, in a fresh
child process started with the "spawn" method, creates an empty store (a new SQLite file, or a
new PostgreSQL database `loa_bench_<random>` dropped afterwards), migrates it, imports the areas
and times only the household import (`skip_invalid=True`: the synthetic list has a few invalid
phone numbers, which are dropped from their rows, not rejected). Peak memory is the child's
`ru_maxrss`, so each figure is that import's own.

Target: the .csv import of 400,000 rows on SQLite in 60 s or less, peak memory under 500 MB.

    .venv/bin/python benchmarks/import_households.py                 # everything (make bench)
    .venv/bin/python benchmarks/import_households.py --households 20000 --backends sqlite
    .venv/bin/python benchmarks/import_households.py --profile       # csv + SQLite, cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import re
import resource
import secrets
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("csv", "xlsx")
BACKENDS = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = 60.0
TARGET_MB = 500.0
TARGET_ROWS = 400_000
PROFILE_TOP = 25
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROJECT_CODE = re.escape(str(ROOT)) + r"/(storage|messages|bot)/"


@dataclass(frozen=True, slots=True)
class Job:
    """One measured import, as handed to the child process."""

    fmt: str
    backend: str
    households_file: Path
    areas_file: Path
    url: str
    profile_file: Path | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """What one child process measured."""

    fmt: str
    backend: str
    code: str = "unknown"  # the commit the child's code came from, see _code_version
    rows_read: int = 0
    created: int = 0
    stored: int = 0  # households in the store afterwards, counted outside the timing
    rejected: int = 0
    dropped: int = 0  # phone numbers dropped from otherwise valid rows
    new_villages: int = 0
    shared_phones: int = 0
    seconds: float = 0.0
    read_seconds: float = 0.0  # reading and checking the file (to the last progress tick)
    write_seconds: float = 0.0  # inserting the batches
    base_mb: float = 0.0  # the child's peak before the household import began
    peak_mb: float = 0.0
    store_mb: float | None = None  # SQLite file size (with its WAL) after the import
    profiled: bool = False  # run under cProfile: its time is not the import's
    error: str | None = None

    @property
    def rows_per_second(self) -> float:
        """Households created per second of import."""
        return self.created / self.seconds if self.seconds else 0.0

    @property
    def finish_seconds(self) -> float:
        """After the last batch: flagging shared phones, the commit, the rejects file."""
        return self.seconds - self.read_seconds - self.write_seconds


# --- the child process --------------------------------------------------------------------


def _code_version() -> str:
    """The commit of the project's code, with "+changes" when storage/, messages/ or bot/ differ.

    Others may change the importer while a long benchmark runs: each run records what it ran.
    Read-only git calls (no optional locks, so the index is never rewritten).
    """
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            [*git, "status", "--porcelain", "--", "storage", "messages", "bot"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if changes else head


def _peak_mb() -> float:
    """This process's peak resident memory; Linux reports ru_maxrss in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _measure(job: Job) -> Result:
    code = _code_version()  # just before the project's modules are imported
    from sqlalchemy import func, select

    from storage.audit import Actor
    from storage.db import create_engine, session_factory
    from storage.importers.areas import import_areas
    from storage.importers.households import import_households
    from storage.migrate import upgrade
    from storage.models import Household

    engine = create_engine(job.url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        async with sessions() as session:
            areas = await import_areas(
                session,
                job.areas_file,
                now=now,
                actor=Actor("benchmark", f"import:{job.areas_file.name}"),
            )
        if not areas.applied:
            raise RuntimeError(f"the areas import was refused: {areas.rejects[:3]}")

        marks: dict[str, float] = {}

        def tick(phase: str, _done: int, _total: int | None) -> None:
            marks[phase] = time.perf_counter()

        profiler = cProfile.Profile() if job.profile_file else None
        base_mb = _peak_mb()
        start = time.perf_counter()
        async with sessions() as session:
            actor = Actor("benchmark", f"import:{job.households_file.name}")
            if profiler:
                profiler.enable()
            report = await import_households(
                session,
                job.households_file,
                actor=actor,
                now=now,
                today=now.astimezone(ZONE).date(),
                skip_invalid=True,
                progress=tick,
            )
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
        peak_mb = _peak_mb()
        if profiler and job.profile_file:
            profiler.dump_stats(job.profile_file)
        async with sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(Household))
    finally:
        await engine.dispose()

    read_end = marks.get("read", start)
    return Result(
        fmt=job.fmt,
        backend=job.backend,
        code=code,
        rows_read=report.counts["rows"],
        created=report.counts["created"],
        stored=int(stored or 0),
        rejected=report.rejected_rows,
        dropped=len(report.dropped),
        new_villages=len(report.new_villages),
        shared_phones=report.counts["shared_phones"],
        seconds=seconds,
        read_seconds=read_end - start,
        write_seconds=marks.get("write", read_end) - read_end,
        base_mb=base_mb,
        peak_mb=peak_mb,
        store_mb=_sqlite_mb(job.url),
        profiled=profiler is not None,
        error=None if report.applied else "the import was not applied",
    )


def _sqlite_mb(url: str) -> float | None:
    if not url.startswith("sqlite"):
        return None
    path = Path(url.split("///", 1)[1])
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


def _child(job: Job) -> Result:
    """The child process's entry point: one import, measured."""
    try:
        return asyncio.run(_measure(job))
    except Exception as exc:  # the parent reports it and carries on with the other runs
        traceback.print_exc()
        return Result(
            job.fmt, job.backend, peak_mb=_peak_mb(), error=f"{type(exc).__name__}: {exc}"
        )


def _in_child(job: Job) -> Result:
    """Run `_child` in a process of its own, so its peak memory is this import's alone."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_child, job).result()


# --- stores -------------------------------------------------------------------------------


def _run(job: Job, workdir: Path, pg_url: str) -> Result:
    """One import into a fresh store, which is removed afterwards."""
    from sqlalchemy.engine import make_url

    from storage.db import run_outside_transaction

    token = secrets.token_hex(5)
    if job.backend == "sqlite":
        path = workdir / f"loa-bench-{token}.db"
        try:
            return _in_child(replace(job, url=f"sqlite+aiosqlite:///{path}"))
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    name = f"loa_bench_{token}"
    try:
        asyncio.run(run_outside_transaction(pg_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        return Result(job.fmt, job.backend, error=f"cannot create the database: {exc}")
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        return _in_child(replace(job, url=url))
    finally:
        asyncio.run(
            run_outside_transaction(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )


# --- data ---------------------------------------------------------------------------------


@dataclass(slots=True)
class DataFiles:
    """The generated lists, made once per run of this script (or kept from an earlier one)."""

    workdir: Path
    households: int
    communes: int
    seed: int
    keep: bool
    made: list[Path]

    def areas(self) -> Path:
        """The areas file (always .csv: its import is not timed)."""
        from bot.demodata import write_areas

        path = self.workdir / f"areas-c{self.communes}-s{self.seed}.csv"
        return self._ensure(path, lambda p: write_areas(p, communes=self.communes, seed=self.seed))

    def households_file(self, fmt: str) -> Path:
        """The household list in this format."""
        from bot.demodata import write_households

        name = f"households-{self.households}-c{self.communes}-s{self.seed}.{fmt}"
        return self._ensure(
            self.workdir / name,
            lambda p: write_households(
                p, households=self.households, communes=self.communes, seed=self.seed
            ),
        )

    def _ensure(self, path: Path, write: Callable[[Path], object]) -> Path:
        if path in self.made or (self.keep and path.is_file()):
            return path
        partial = path.with_name(f"partial-{path.name}")
        start = time.perf_counter()
        write(partial)
        partial.replace(path)
        self.made.append(path)
        size = path.stat().st_size / 2**20
        print(
            f"generated {path.name} ({size:,.1f} MB) in {time.perf_counter() - start:,.1f} s",
            flush=True,
        )
        return path

    def clean(self) -> None:
        """Remove what this run generated (and the rejects files beside it), unless kept."""
        if self.keep:
            return
        for path in self.made:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".rejects.csv").unlink(missing_ok=True)


# --- reporting ----------------------------------------------------------------------------


def _meets(result: Result) -> bool:
    return result.error is None and result.seconds <= TARGET_SECONDS and result.peak_mb < TARGET_MB


def _target(result: Result, households: int) -> str:
    if result.fmt != "csv" or result.backend != "sqlite":
        return ""
    if result.profiled:
        return "n/a (under cProfile)"
    verdict = "yes" if _meets(result) else "**no**"
    return verdict if households == TARGET_ROWS else f"{verdict} (at {households:,} rows)"


def _line(result: Result) -> str:
    head = f"{result.fmt:<4} {result.backend:<10}"
    if result.error:
        return f"{head} FAILED: {result.error}"
    store = f", store {result.store_mb:,.0f} MB" if result.store_mb is not None else ""
    return (
        f"{head} {result.created:>9,} created of {result.rows_read:,} rows in "
        f"{result.seconds:,.1f} s = {result.rows_per_second:,.0f} rows/s; peak "
        f"{result.peak_mb:,.0f} MB ({result.base_mb:,.0f} MB before the import); read+check "
        f"{result.read_seconds:,.1f} s, write {result.write_seconds:,.1f} s, shared phones + "
        f"commit {result.finish_seconds:,.1f} s; stored {result.stored:,}, rejected "
        f"{result.rejected:,}, phones dropped {result.dropped:,}, new villages "
        f"{result.new_villages:,}, shared phones {result.shared_phones:,}{store}; "
        f"code {result.code}"
    )


def _warnings(result: Result, households: int) -> list[str]:
    if result.error:
        return []
    found = []
    if result.rows_read != households:
        found.append(f"{result.rows_read:,} rows read, {households:,} generated")
    if result.created != households:
        found.append(f"{result.created:,} households created, {households:,} generated")
    if result.stored != result.created:
        found.append(f"{result.stored:,} households stored, {result.created:,} created")
    if result.rejected:
        found.append(f"{result.rejected:,} rows rejected")
    return [f"{result.fmt} {result.backend}: {w}" for w in found]


def _table(results: Sequence[Result], households: int) -> str:
    lines = [
        "| format | backend | rows | seconds | rows/s | peak MB | 60 s / 500 MB target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.error:
            lines.append(f"| {r.fmt} | {r.backend} | failed | | | | {_target(r, households)} |")
            continue
        lines.append(
            f"| {r.fmt} | {r.backend} | {r.created:,} | {r.seconds:,.1f} | "
            f"{r.rows_per_second:,.0f} | {r.peak_mb:,.0f} | {_target(r, households)} |"
        )
    return "\n".join(lines)


def _print_profile(path: Path) -> None:
    """The top entries by cumulative time (all code, then the project's), then by own time.

    Coroutines are counted once per resumption, so an `async def` can show more cumulative
    time than the whole run; cProfile also slows many small Python calls (reading, checking)
    more than time spent waiting on the database.
    """
    listings = (
        ("cumulative time, all code", pstats.SortKey.CUMULATIVE, None, PROFILE_TOP),
        ("cumulative time, the project's code", pstats.SortKey.CUMULATIVE, PROJECT_CODE, 25),
        ("own time, all code", pstats.SortKey.TIME, None, 15),
    )
    for title, key, restriction, top in listings:
        print(f"\nTop {top} by {title}  ({path})", flush=True)
        stats = pstats.Stats(str(path), stream=sys.stdout)
        if restriction is None:
            stats.strip_dirs().sort_stats(key).print_stats(top)
        else:  # full paths, so that the restriction can tell the project from its libraries
            stats.sort_stats(key).print_stats(restriction, top)
        sys.stdout.flush()


# --- command line -------------------------------------------------------------------------


def _choices(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        picked = [part.strip() for part in text.split(",") if part.strip()]
        wrong = [p for p in picked if p not in allowed]
        if wrong or not picked:
            raise argparse.ArgumentTypeError(
                f"choose from {', '.join(allowed)} (comma separated), not {text!r}"
            )
        return picked

    return parse


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--households",
        type=int,
        default=TARGET_ROWS,
        help="households in the generated list (default: %(default)s)",
    )
    parser.add_argument(
        "--communes", type=int, default=157, help="communes they live in (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=2025, help="demo data seed")
    parser.add_argument(
        "--formats",
        type=_choices(FORMATS),
        default=list(FORMATS),
        help="comma separated: csv,xlsx (default: both)",
    )
    parser.add_argument(
        "--backends",
        type=_choices(BACKENDS),
        default=list(BACKENDS),
        help="comma separated: sqlite,postgresql (default: both)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LOA_TEST_PG_URL") or DEFAULT_PG_URL,
        help="a PostgreSQL server where a scratch database can be created "
        "(default: $LOA_TEST_PG_URL or %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/tmp/loa-bench"),
        help="where data files and SQLite stores go (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="reuse data files already in --workdir, and keep them afterwards",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each format x backend, each in a fresh store (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="only the csv + SQLite import, under cProfile; print the top entries",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.households < 1:
        parser.error("--repeat and --households must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 when a run failed."""
    args = _arguments(argv)
    # Stopped with SIGTERM, still drop the scratch database and remove the generated files.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    data = DataFiles(workdir, args.households, args.communes, args.seed, args.keep_data, [])
    runs = (
        [("csv", "sqlite")]
        if args.profile
        else [
            (fmt, backend)
            for fmt in args.formats
            for backend in args.backends
            for _ in range(args.repeat)
        ]
    )
    print(
        f"Importing {args.households:,} households in {args.communes} communes; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; code {_code_version()}; "
        f"work in {workdir}",
        flush=True,
    )
    results: list[Result] = []
    try:
        areas = data.areas()
        for fmt, backend in runs:
            profile = (
                workdir / f"profile-csv-sqlite-{args.households}.prof" if args.profile else None
            )
            job = Job(fmt, backend, data.households_file(fmt), areas, url="", profile_file=profile)
            result = _run(job, workdir, args.pg_url)
            results.append(result)
            print(_line(result), flush=True)
            if profile and result.error is None:
                _print_profile(profile)
    finally:
        data.clean()

    print()
    print(_table(results, args.households))
    warnings = [w for r in results for w in _warnings(r, args.households)]
    versions = sorted({r.code for r in results if not r.error})
    if len(versions) > 1:
        warnings.append(f"the runs measured different code: {', '.join(versions)}")
    for warning in warnings:
        print(f"WARNING: {warning}")
    target_runs = [r for r in results if r.fmt == "csv" and r.backend == "sqlite" and not r.error]
    if target_runs and not args.profile:
        met = sum(_meets(r) for r in target_runs)
        seconds = sorted(r.seconds for r in target_runs)
        print(
            f"\nTarget (csv on SQLite, <= {TARGET_SECONDS:.0f} s and < {TARGET_MB:.0f} MB) at "
            f"{args.households:,} rows: {'met' if met == len(target_runs) else 'MISSED'} in "
            f"{met} of {len(target_runs)} run(s); {seconds[0]:,.1f} to {seconds[-1]:,.1f} s, "
            f"peak up to {max(r.peak_mb for r in target_runs):,.0f} MB."
        )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
