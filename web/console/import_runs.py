"""Import files uploaded in the console: the CLI's importers, its report, its all-or-nothing.

`loa import households|areas|loans|repayments` and these pages run the same importer and count
the same things under the same words. A user who does not see every commune is refused, with
the rows, before anything is written, when the file reaches outside their communes. A checked
file (a dry run) is kept for an hour so that "import it now" needs no second upload.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import N_, _, number
from storage.audit import Actor
from storage.importers import scope as outside
from storage.importers.areas import import_areas
from storage.importers.errors import ImportFileError
from storage.importers.households import import_households
from storage.importers.loans import import_loans, import_repayments
from storage.importers.report import ImportReport
from web.console.auth import Staff
from web.console.uploads import UploadError

STAGE_DIR = Path(tempfile.gettempdir()) / "loa-staged"
KEEP = timedelta(hours=1)
SHOW_PROBLEMS = 1000  # problems listed on the page; the count says how many more
SHOW_ROWS = 20  # rows named in a refusal
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Kind:
    """One kind of import file: its importer and the counts its report shows."""

    name: str
    title: str
    labels: tuple[tuple[str, str], ...]
    skip_invalid: bool = True  # the importer can import the valid rows alone
    repayments: bool = False


KINDS = {
    "households": Kind(
        "households",
        N_("Household list"),
        (
            ("rows", N_("Rows read")),
            ("created", N_("Households created")),
            ("updated", N_("Households updated")),
            ("unchanged", N_("Households unchanged")),
            ("rejected", N_("Rows rejected")),
            ("new_villages", N_("New villages")),
            ("dropped_phones", N_("Phone numbers dropped")),
            ("shared_phones", N_("Phone numbers shared by several households")),
        ),
    ),
    "areas": Kind(
        "areas",
        N_("Areas (provinces and communes)"),
        (
            ("rows", N_("Rows read")),
            ("provinces_created", N_("Provinces created")),
            ("districts_created", N_("Districts created")),
            ("communes_created", N_("Communes created")),
            ("communes_updated", N_("Communes updated")),
        ),
        skip_invalid=False,
    ),
    "loans": Kind(
        "loans",
        N_("Loan list (VBSP)"),
        (
            ("rows", N_("Rows read")),
            ("loans_created", N_("Loans created")),
            ("loans_updated", N_("Loans updated")),
            ("loans_unchanged", N_("Loans unchanged")),
            ("instalments_created", N_("Instalments created")),
            ("instalments_updated", N_("Instalments updated")),
            ("instalments_unchanged", N_("Instalments unchanged")),
            ("rejected", N_("Rows rejected")),
        ),
    ),
    "repayments": Kind(
        "repayments",
        N_("Repayment list (VBSP)"),
        (
            ("rows", N_("Rows read")),
            ("paid", N_("Instalments marked paid")),
            ("corrected", N_("Payments corrected")),
            ("unchanged", N_("Payments already recorded")),
            ("rejected", N_("Rows rejected")),
        ),
        repayments=True,
    ),
}


class Refused(Exception):
    """The file cannot be imported at all; one sentence for beside the file field."""


@dataclass(frozen=True)
class ProblemLine:
    """One problem as the report table shows it."""

    sheet: str
    row: int
    column: str
    value: str
    reason: str
    dropped: bool  # the value was dropped and the row imported


@dataclass
class Outcome:
    """What an upload did, for the report page."""

    kind: Kind
    file_name: str
    dry_run: bool
    skip_invalid: bool
    counts: list[tuple[str, int]]
    rejected_rows: int
    applied: bool
    problems: list[ProblemLine] = field(default_factory=list)
    more_problems: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    new_villages: list[str] = field(default_factory=list)
    token: str | None = None  # the staged file, when the check may be confirmed

    @property
    def blocked(self) -> bool:
        """Rows were rejected and the valid ones were not to be imported alone."""
        return self.rejected_rows > 0 and not self.skip_invalid


def _sheet(path: Path) -> str:
    """The sheet the importers read: the first of a workbook; a .csv is its own sheet."""
    if path.suffix.lower() != ".xlsx":
        return path.name
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # the importer says what is wrong with the file
        return path.name
    try:
        return str(book.sheetnames[0]) if book.sheetnames else path.name
    finally:
        book.close()


def _refusal(rows: list[int]) -> Refused:
    shown = ", ".join(str(r) for r in rows[:SHOW_ROWS])
    if len(rows) > SHOW_ROWS:
        shown += " " + _("and {n} more").format(n=number(len(rows) - SHOW_ROWS))
    message = _(
        "This file has households outside your communes (rows {rows}); nothing was imported."
    )
    return Refused(message.format(rows=shown))


async def _rows_outside(
    session: AsyncSession, kind: Kind, path: Path, staff: Staff, now: datetime, zone: Any
) -> list[int]:
    today = now.astimezone(zone).date()
    if kind.name == "households":
        return await outside.household_rows_outside(session, path, scope=staff.scope, today=today)
    if kind.name in ("loans", "repayments"):
        return await outside.loan_rows_outside(
            session, path, scope=staff.scope, today=today, repayments=kind.repayments
        )
    return []


def _importer(kind: Kind, now: datetime, zone: Any) -> Callable[..., Any]:
    today = now.astimezone(zone).date()
    rows = {"households": import_households, "loans": import_loans, "repayments": import_repayments}
    if kind.name == "areas":
        return import_areas
    return partial(rows[kind.name], today=today)


async def run(
    session: AsyncSession,
    kind: Kind,
    path: Path,
    *,
    staff: Staff,
    now: datetime,
    zone: Any,
    dry_run: bool,
    skip_invalid: bool,
) -> Outcome:
    """Check the file against the user's communes, then import it (or try it) as the CLI does;
    Refused when it cannot be imported at all."""
    skip_invalid = skip_invalid and kind.skip_invalid
    actor = Actor(name=staff.username, source=f"console:import:{path.name}"[:255])
    options: dict[str, Any] = {"actor": actor, "now": now, "dry_run": dry_run}
    if kind.skip_invalid:
        options["skip_invalid"] = skip_invalid
    try:
        if rows := await _rows_outside(session, kind, path, staff, now, zone):
            raise _refusal(rows)
        report: ImportReport = await _importer(kind, now, zone)(session, path, **options)
    except ImportFileError as error:
        await session.rollback()
        raise Refused(str(error)) from error
    return _outcome(kind, path, report, dry_run=dry_run, skip_invalid=skip_invalid)


def _outcome(
    kind: Kind, path: Path, report: ImportReport, *, dry_run: bool, skip_invalid: bool
) -> Outcome:
    report.counts["rejected"] = report.rejected_rows
    report.counts["dropped_phones"] = len(report.dropped)
    report.counts["new_villages"] = len(report.new_villages)
    sheet = _sheet(path)
    problems = sorted(
        [(p, False) for p in report.rejects] + [(p, True) for p in report.dropped],
        key=lambda item: (item[0].row, item[0].column),
    )
    return Outcome(
        kind=kind,
        file_name=path.name,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        counts=[(label, report.counts.get(key, 0)) for key, label in kind.labels],
        rejected_rows=report.rejected_rows,
        applied=report.applied,
        problems=[
            ProblemLine(sheet, p.row, p.column, p.value, p.reason, dropped)
            for p, dropped in problems[:SHOW_PROBLEMS]
        ],
        more_problems=max(0, len(problems) - SHOW_PROBLEMS),
        ignored_columns=list(report.ignored_columns),
        new_villages=list(report.new_villages),
    )


# --- the checked file, kept until it is confirmed ----------------------------------------


def stage(path: Path, *, staff_id: int, kind: str, skip_invalid: bool, now: datetime) -> str:
    """Keep a checked file for its confirmation; the token the confirmation sends."""
    _sweep(now)
    token = secrets.token_urlsafe(24)
    folder = STAGE_DIR / token
    folder.mkdir(parents=True, mode=0o700)
    shutil.copyfile(path, folder / path.name)
    meta = {"staff": staff_id, "kind": kind, "skip_invalid": skip_invalid, "at": now.isoformat()}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _sweep(now: datetime) -> None:
    """Remove checked files nobody confirmed within the hour."""
    if not STAGE_DIR.is_dir():
        return
    for folder in STAGE_DIR.iterdir():
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if now - datetime.fromisoformat(meta["at"]) <= KEEP:
                continue
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def staged(token: str, *, staff_id: int, kind: str, now: datetime) -> Iterator[tuple[Path, bool]]:
    """The checked file (and its skip-invalid choice), removed afterwards; UploadError when it
    is gone, expired or another user's."""
    gone = UploadError(_("The checked file is no longer kept; upload it again."))
    folder = STAGE_DIR / token
    if not _TOKEN.match(token) or not folder.is_dir():
        raise gone
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        fresh = now - datetime.fromisoformat(meta["at"]) <= KEEP
        files = [p for p in folder.iterdir() if p.name != "meta.json"]
    except (OSError, ValueError, KeyError):
        raise gone from None
    if meta.get("staff") != staff_id or meta.get("kind") != kind or not fresh or len(files) != 1:
        raise gone
    try:
        yield files[0], bool(meta.get("skip_invalid"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
