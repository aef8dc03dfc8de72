"""`loa import areas|households|loans|repayments`: spreadsheets into the store, with a report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.cli.common import app, cli_actor, err, out, with_store
from bot.config import get_settings
from messages.render import _, number
from storage.audit import Actor
from storage.importers.areas import import_areas
from storage.importers.households import import_households
from storage.importers.loans import import_loans, import_repayments
from storage.importers.report import ImportReport

imports = typer.Typer(help=_("Import spreadsheets (.xlsx or .csv)."), no_args_is_help=True)
app.add_typer(imports, name="import")
SHOW_VILLAGES = 20
DryRun = Annotated[bool, typer.Option("--dry-run", help=_("Check and count; change nothing."))]
SkipInvalid = Annotated[
    bool,
    typer.Option("--skip-invalid", help=_("Import the valid rows even when some are rejected.")),
]
Phase = Callable[[str, int, int | None], None]


class RowImporter(Protocol):
    """The shape of import_households, import_loans and import_repayments."""

    async def __call__(
        self,
        session: AsyncSession,
        path: Path,
        *,
        actor: Actor,
        now: datetime,
        today: date,
        dry_run: bool = False,
        skip_invalid: bool = False,
        progress: Phase | None = None,
    ) -> ImportReport: ...


def _summary(report: ImportReport, labels: list[tuple[str, str]]) -> None:
    table = Table(show_header=False, box=None)
    for key, label in labels:
        table.add_row(label, number(report.counts.get(key, 0)))
    out.print(table)


def _close(report: ImportReport, *, dry_run: bool, skip_invalid: bool) -> None:
    if report.ignored_columns:
        out.print(_("Columns not used: {names}").format(names=", ".join(report.ignored_columns)))
    rejects = report.rejects_path if (report.rejects or report.dropped) else None
    if rejects:
        out.print(_("Problems, row by row: {path}").format(path=rejects))
    if report.rejects and not skip_invalid:
        err.print(
            _(
                "Nothing was imported: correct the rejected rows, or run again with "
                "--skip-invalid to import the valid rows."
            ),
            style="red",
        )
        raise typer.Exit(1)
    if dry_run:
        out.print(_("Dry run: nothing was changed."))


@imports.command("areas")
def areas_command(file: Path, dry_run: DryRun = False) -> None:
    """Import provinces, communes and old (merged) communes."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
        async with sessions() as session:
            return await import_areas(
                session,
                file,
                actor=cli_actor(f"import:{file.name}"),
                now=common.clock.now(),
                dry_run=dry_run,
            )

    report = with_store(work)
    _summary(
        report,
        [
            ("rows", _("Rows read")),
            ("provinces_created", _("Provinces created")),
            ("districts_created", _("Districts created")),
            ("communes_created", _("Communes created")),
            ("communes_updated", _("Communes updated")),
        ],
    )
    _close(report, dry_run=dry_run, skip_invalid=False)


def _run_with_progress(
    importer: RowImporter, file: Path, *, dry_run: bool, skip_invalid: bool
) -> ImportReport:
    """Run one row importer in the store, with a progress bar on a terminal."""
    zone = get_settings().zone

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
            disable=not out.is_terminal,
        ) as bar:
            task = bar.add_task(_("Reading"), total=None)

            def tick(phase: str, done: int, total: int | None) -> None:
                label = _("Reading") if phase == "read" else _("Saving")
                bar.update(task, description=label, completed=done, total=total)

            async with sessions() as session:
                now = common.clock.now()
                return await importer(
                    session,
                    file,
                    actor=cli_actor(f"import:{file.name}"),
                    now=now,
                    today=now.astimezone(zone).date(),
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    progress=tick,
                )

    return with_store(work)


@imports.command("households")
def households_command(
    file: Path, dry_run: DryRun = False, skip_invalid: SkipInvalid = False
) -> None:
    """Import a commune's household list."""
    report = _run_with_progress(import_households, file, dry_run=dry_run, skip_invalid=skip_invalid)
    report.counts["rejected"] = report.rejected_rows
    report.counts["dropped_phones"] = len(report.dropped)
    report.counts["new_villages"] = len(report.new_villages)
    _summary(
        report,
        [
            ("rows", _("Rows read")),
            ("created", _("Households created")),
            ("updated", _("Households updated")),
            ("unchanged", _("Households unchanged")),
            ("rejected", _("Rows rejected")),
            ("new_villages", _("New villages")),
            ("dropped_phones", _("Phone numbers dropped")),
            ("shared_phones", _("Phone numbers shared by several households")),
        ],
    )
    if report.new_villages:
        shown = "; ".join(report.new_villages[:SHOW_VILLAGES])
        rest = len(report.new_villages) - SHOW_VILLAGES
        if rest > 0:
            shown += "; " + _("and {n} more").format(n=number(rest))
        out.print(_("New villages: {names}").format(names=shown))
    _close(report, dry_run=dry_run, skip_invalid=skip_invalid)


@imports.command("loans")
def loans_command(file: Path, dry_run: DryRun = False, skip_invalid: SkipInvalid = False) -> None:
    """Import a VBSP loan list: one row per instalment (instalments missing from the file are
    kept)."""
    report = _run_with_progress(import_loans, file, dry_run=dry_run, skip_invalid=skip_invalid)
    report.counts["rejected"] = report.rejected_rows
    _summary(
        report,
        [
            ("rows", _("Rows read")),
            ("loans_created", _("Loans created")),
            ("loans_updated", _("Loans updated")),
            ("loans_unchanged", _("Loans unchanged")),
            ("instalments_created", _("Instalments created")),
            ("instalments_updated", _("Instalments updated")),
            ("instalments_unchanged", _("Instalments unchanged")),
            ("rejected", _("Rows rejected")),
        ],
    )
    _close(report, dry_run=dry_run, skip_invalid=skip_invalid)


@imports.command("repayments")
def repayments_command(
    file: Path, dry_run: DryRun = False, skip_invalid: SkipInvalid = False
) -> None:
    """Import a VBSP repayment list: each row marks an instalment paid."""
    report = _run_with_progress(import_repayments, file, dry_run=dry_run, skip_invalid=skip_invalid)
    report.counts["rejected"] = report.rejected_rows
    _summary(
        report,
        [
            ("rows", _("Rows read")),
            ("paid", _("Instalments marked paid")),
            ("corrected", _("Payments corrected")),
            ("unchanged", _("Payments already recorded")),
            ("rejected", _("Rows rejected")),
        ],
    )
    _close(report, dry_run=dry_run, skip_invalid=skip_invalid)
