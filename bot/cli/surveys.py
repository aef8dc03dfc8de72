"""`loa survey import|list|show|start` and `loa results export`: dialogue surveys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import (
    app,
    cli_actor,
    err,
    fail,
    household_or_fail,
    out,
    unreachable,
    with_store,
)
from bot.cli.scheduler import parse_moment
from bot.config import Settings, get_settings
from bot.inbox import order
from bot.outreach import start_for
from handlers.dialogue.conversations import Turn
from handlers.dialogue.form import ASKED, Form
from handlers.dialogue.xlsform import FormError, load_form, save_form
from messages.render import _, moment, number
from scheduler import rounds
from scheduler.delivery import Routing, Tally
from storage import surveys as store
from storage.audiences import AudienceError
from storage.conversations import expire_idle
from storage.exports.results import FIXED, result_rows
from storage.exports.tables import write_table
from storage.messages import Outbound
from storage.vocab import followup_label

survey = typer.Typer(help=_("Dialogue surveys (XLSForm)."), no_args_is_help=True)
results = typer.Typer(help=_("Survey results."), no_args_is_help=True)
app.add_typer(survey, name="survey")
app.add_typer(results, name="results")


def turn() -> Turn:
    """This moment, for a command: UTC now and the local day."""
    return Turn.at(common.clock.now(), get_settings().zone)


@survey.command("import")
def import_command(files: list[Path]) -> None:
    """Load XLSForm files (.xlsx, .xls, .csv); a new version is added, the same one kept."""
    forms: list[tuple[Path, Form]] = []
    for path in files:
        if not path.is_file():
            fail(_("The file {path} does not exist.").format(path=path))
        try:
            forms.append((path, load_form(path)))
        except FormError as error:
            err.print(_("{path}: the form was not loaded:").format(path=path), style="red")
            for problem in error.problems:
                err.print(f"  - {problem}", highlight=False)
            raise typer.Exit(1) from None

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        outcomes = []
        async with sessions() as session, session.begin():
            for path, form in forms:
                actor = cli_actor(f"import:{path.name}")
                outcomes.append(
                    await save_form(
                        session, form, source_name=path.name, actor=actor, now=common.clock.now()
                    )
                )
        return outcomes

    try:
        outcomes = with_store(work)
    except store.SurveyError as error:
        fail(str(error))
    said = {
        store.CREATED: _("Loaded the survey {form_id}, version {version} ({n} questions)."),
        store.ADDED: _("Added version {version} of the survey {form_id} ({n} questions)."),
        store.UNCHANGED: _("The survey {form_id}, version {version}, is already loaded."),
    }
    for (_path, form), outcome in zip(forms, outcomes, strict=True):
        asked = sum(1 for q in form.questions if q.type in ASKED)
        out.print(said[outcome].format(form_id=form.form_id, version=form.version, n=asked))


@survey.command("list")
def list_command() -> None:
    """List the surveys, their newest version and how many conversations they had."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[store.SurveySummary]:
        async with sessions() as session:
            return await store.list_surveys(session)

    table = Table(_("Form"), _("Title"), _("Version"), _("Versions"), _("In progress"), _("Done"))
    for line in with_store(work):
        table.add_row(
            line.form_id,
            line.title,
            line.latest,
            str(line.versions),
            number(line.conversations.get("active", 0)),
            number(line.conversations.get("completed", 0)),
        )
    out.print(table)


@survey.command("show")
def show_command(form_id: str) -> None:
    """Show a survey's questions, in order, and its follow-up rules."""
    form = _latest_form(form_id)
    out.print(f"{form.title} ({form.form_id}, {_('version')} {form.version})")
    table = Table("#", _("Name"), _("Type"), _("Question"), _("Asked when"))
    for n, q in enumerate(form.questions, 1):
        kind = f"{q.type.value} {q.choice_list}".strip()
        table.add_row(str(n), q.name, kind, q.label, " and ".join(q.relevant))
    out.print(table)
    if form.followups:
        rules = Table(_("Follow-up"), _("Priority"), _("When"), _("Note"))
        for rule in form.followups:
            rules.add_row(followup_label(rule.kind), rule.priority, rule.condition, rule.note)
        out.print(rules)


def _latest_form(form_id: str) -> Form:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> store.FormVersion | None:
        async with sessions() as session:
            return await store.latest_version(session, form_id=form_id)

    version = with_store(work)
    if version is None:
        fail(_("There is no survey {form_id}.").format(form_id=form_id))
    return Form.from_json(version.definition)


@survey.command("start")
def start_command(
    form_id: str,
    household: Annotated[str | None, typer.Option(help=_("Household code"))] = None,
    audience: Annotated[
        str | None, typer.Option(help=_("Who to ask, e.g. commune=29002 category=poor"))
    ] = None,
    deadline: Annotated[
        str | None, typer.Option(help=_("When answers close (ISO), e.g. 2026-12-05T17:00"))
    ] = None,
    title: Annotated[str | None, typer.Option(help=_("The round's title"))] = None,
    reminders: Annotated[
        int, typer.Option(help=_("Reminders to households that have not answered (0-2)"))
    ] = 2,
    yes: Annotated[bool, typer.Option("--yes", help=_("Open the round, not just count"))] = False,
) -> None:
    """Ask a survey: one household now (--household), or an audience until a deadline."""
    if (household is None) == (audience is None):
        fail(_("Give either --household CODE or --audience QUERY."))
    if household is not None:
        if deadline is not None or title is not None or reminders != 2 or yes:
            fail(_("--deadline, --title, --reminders and --yes go with --audience."))
        _start_household(form_id, household)
        return
    assert audience is not None
    if deadline is None:
        fail(_("A round for an audience needs a deadline, e.g. --deadline 2026-12-05T17:00."))
    _start_round(form_id, audience, deadline, title, reminders, yes=yes)


def _start_household(form_id: str, household: str) -> None:
    """Send a survey's first question to a household, on its most preferred channel."""
    settings = get_settings()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, list[Outbound]]:
        async with (
            opened(settings, sessions, common.clock) as channels,
            sessions() as session,
            session.begin(),
        ):
            owner = await household_or_fail(session, household)
            started = await start_for(
                session,
                household_id=owner.id,
                form_id=form_id,
                channels=channels,
                order=order(settings),
                turn=turn(),
            )
        if started is None:
            fail(unreachable(household))
        name, contact, sent = started
        return f"{contact.address} ({name})", sent

    address, sent = with_store(work)
    out.print(_("Queued for {phone}:").format(phone=address))
    for message in sent:
        out.print(message.text)


def _start_round(
    form_id: str, audience: str, deadline: str, title: str | None, reminders: int, *, yes: bool
) -> None:
    """Count where a round's first questions would go; with YES open it and ask at once."""
    settings = get_settings()
    now, until = common.clock.now(), parse_moment(deadline, settings)

    async def work(
        sessions: async_sessionmaker[AsyncSession],
    ) -> tuple[rounds.Plan, Tally, tuple[int, rounds.Progress] | None]:
        async with opened(settings, sessions, common.clock) as channels:
            routing = Routing(channels, order(settings))
            async with sessions() as session, session.begin():
                planned = await rounds.plan(
                    session,
                    form_id=form_id,
                    audience=audience,
                    deadline=until,
                    reminders=reminders,
                    title=title,
                    now=now,
                    zone=settings.zone,
                )
                tally = await rounds.preview(
                    session, planned, routing=routing, now=now, zone=settings.zone
                )
                if not yes:
                    return planned, tally, None
                one = await rounds.open_round(session, planned, actor=cli_actor(), now=now)
            progress = rounds.Progress()
            await rounds.start_round(
                sessions, one, routing=routing, now=now, zone=settings.zone, into=progress
            )
            return planned, tally, (one.id, progress)

    try:
        planned, tally, started = with_store(work)
    except (rounds.RoundError, AudienceError) as error:
        fail(str(error))
    _print_plan(planned, tally, settings)
    if started is None:
        out.print(_("Nothing was stored; add --yes to open the round."))
        return
    round_id, progress = started
    said = _(
        "Round {id} opened: {questions} first questions queued, {relayed} households on the "
        "relay list, {busy} answering another survey (the scheduler asks them later)."
    )
    out.print(
        said.format(
            id=round_id,
            questions=number(progress.questions),
            relayed=number(progress.relayed),
            busy=number(progress.busy),
        )
    )


def _print_plan(planned: rounds.Plan, tally: Tally, settings: Settings) -> None:
    """Who a round asks, and on which channel."""
    head = _("Survey {form_id} “{title}” for {audience}, answers close at {deadline}:")
    deadline = moment(planned.deadline, settings.zone)
    out.print(
        head.format(
            form_id=planned.form_id,
            title=planned.title,
            audience=planned.audience,
            deadline=deadline,
        )
    )
    out.print("  " + _("Households: {n}").format(n=number(tally.households)))
    for name, count in sorted(tally.channels.items()):
        out.print("  " + _("On {channel}: {n}").format(channel=name, n=number(count)))
    out.print(
        "  " + _("On the relay list (no channel reaches them): {n}").format(n=number(tally.relayed))
    )
    out.print("  " + _("Opted out (not asked): {n}").format(n=number(tally.opted_out)))
    reminders = _("Reminders to those who have not answered: at most {n}, {hours} hours apart.")
    out.print("  " + reminders.format(n=planned.reminders, hours=settings.survey_reminder_hours))


@survey.command("expire")
def expire_command() -> None:
    """Close the conversations that have waited longer than LOA_SURVEY_EXPIRY_HOURS."""
    now = common.clock.now()
    idle_since = now - timedelta(hours=get_settings().survey_expiry_hours)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session, session.begin():
            return await expire_idle(session, idle_since=idle_since, now=now)

    count = with_store(work)
    out.print(_("{n} silent conversations closed.").format(n=number(count)))


@results.command("export")
def export_command(
    form_id: str,
    out_file: Annotated[Path, typer.Option("--out", help=_("File to write"))],
    fmt: Annotated[str, typer.Option("--format", help=_("csv or xlsx"))] = "csv",
) -> None:
    """Export a survey's answers: one row per conversation, one column per question."""
    if fmt not in ("csv", "xlsx"):
        fail(_("The format must be csv or xlsx."))
    questions = [q.name for q in _latest_form(form_id).answerable]
    zone = get_settings().zone

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session:
            rows = await result_rows(session, form_id=form_id, questions=questions, zone=zone)
        return write_table(out_file, [*FIXED, *questions], rows, fmt=fmt)

    count = with_store(work)
    out.print(_("{n} rows written to {path}.").format(n=number(count), path=out_file))
