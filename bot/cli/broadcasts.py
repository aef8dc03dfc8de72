"""`loa broadcast create|approve|cancel|status|list`: one text to an audience, with a preview."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import opened
from bot.cli import common
from bot.cli.common import app, cli_actor, fail, out, with_store
from bot.cli.scheduler import parse_moment
from bot.config import Settings, get_settings
from bot.inbox import order
from messages.placeholders import PlaceholderError
from messages.render import _, moment, money, number
from scheduler.broadcasts import (
    BroadcastError,
    Draft,
    Preview,
    approve,
    cancel,
    preview,
    status_label,
    submit,
)
from scheduler.delivery import Routing
from storage import broadcasts as store
from storage.audience_query import AudienceError
from storage.broadcasts import BroadcastRow, Progress
from storage.models.broadcasts import BROADCAST_STATUSES
from storage.models.messages import (
    CANCELLED,
    DELIVERED,
    FAILED,
    QUEUED,
    READ,
    SENDING,
    SENT,
    SKIPPED,
)

T = TypeVar("T")
ERRORS = (BroadcastError, PlaceholderError, AudienceError)
broadcast_app = typer.Typer(
    help=_("Broadcasts: one text to an audience, previewed, approved when large."),
    no_args_is_help=True,
)
app.add_typer(broadcast_app, name="broadcast")


def run(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """with_store, a broadcast's refusal printed as its one sentence."""
    try:
        return with_store(work)
    except ERRORS as exc:
        fail(str(exc))


def _order(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


@broadcast_app.command("create")
def create_command(
    text: Annotated[str, typer.Option(help=_("The text, with {ho_ten}, {thon}, {xa}..."))],
    audience: Annotated[str, typer.Option(help=_("Who gets it, e.g. commune=29002"))],
    sms_text: Annotated[
        str | None, typer.Option(help=_("A shorter text for SMS (else the main text)"))
    ] = None,
    at: Annotated[str | None, typer.Option(help=_("When to send (ISO, local time)"))] = None,
    channel_order: Annotated[
        str | None, typer.Option("--order", help=_("Channels to try, e.g. zalo,sms"))
    ] = None,
    urgent: Annotated[bool, typer.Option("--urgent", help=_("Send on holidays too"))] = False,
    title: Annotated[str | None, typer.Option(help=_("A short title for lists"))] = None,
    event: Annotated[int | None, typer.Option(help=_("The event it announces"))] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=_("Staff username"))] = None,
    yes: Annotated[bool, typer.Option("--yes", help=_("Submit it (else: preview only)"))] = False,
) -> None:
    """Preview a broadcast; with --yes, submit it."""
    settings = get_settings()
    now = common.clock.now()
    draft = Draft(
        text=text,
        audience=audience,
        sms_text=sms_text,
        send_at=parse_moment(at, settings) if at else None,
        channel_order=_order(channel_order),
        urgent=urgent,
        event_id=event,
        title=title,
    )
    by = as_user or cli_actor().name

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[Preview, int | None]:
        async with opened(settings, sessions, common.clock) as channels:
            routing = Routing(channels, order(settings))
            async with sessions() as session, session.begin():
                if not yes:
                    return await preview(
                        session, draft, routing=routing, settings=settings, now=now
                    ), None
                found, seen = await submit(
                    session, draft, routing=routing, settings=settings, now=now, by=by
                )
                return seen, found

    seen, stored = run(work)
    _print_preview(seen, settings, draft.send_at or now)
    if stored is None:
        out.print(_("Nothing was sent; run again with --yes to submit."))
        return
    _print_submitted(stored, seen)


def _print_preview(seen: Preview, settings: Settings, send_at: datetime) -> None:
    table = Table(_("Preview"), "", show_header=True)
    table.add_row(_("Households"), number(seen.households))
    for name, count in seen.channels.items():
        cost = money(round(seen.cost.get(name, 0.0)))
        table.add_row(_("Channel {name}").format(name=name), f"{number(count)} ({cost})")
    table.add_row(_("No reachable contact: by a village relay"), number(seen.relayed))
    table.add_row(_("Opted out"), number(seen.opted_out))
    table.add_row(
        _("SMS parts: longest / in all"), f"{number(seen.longest)} / {number(seen.segments)}"
    )
    table.add_row(_("Estimated cost"), money(round(seen.total_cost)))
    table.add_row(_("Communes"), ", ".join(seen.communes))
    approval = _("needed: {reason}").format(reason=seen.reason) if seen.needs_approval else ""
    table.add_row(_("Officer's approval"), approval or _("not needed"))
    table.add_row(_("Goes at"), moment(send_at, settings.zone))
    out.print(table)
    out.print(_("The first household gets:"))
    out.print(f"  {seen.sample}")
    if seen.sms_sample is not None:
        out.print(_("By SMS:"))
        out.print(f"  {seen.sms_sample}")


def _print_submitted(stored: int, seen: Preview) -> None:
    if seen.needs_approval:
        out.print(_("Broadcast {id} stored, waiting for an officer's approval.").format(id=stored))
        out.print(
            _("An officer approves it with: loa broadcast approve {id} --as USERNAME").format(
                id=stored
            )
        )
    else:
        out.print(_("Broadcast {id} stored and scheduled.").format(id=stored))


@broadcast_app.command("approve")
def approve_command(
    broadcast_id: Annotated[int, typer.Argument(metavar="ID")],
    as_user: Annotated[str, typer.Option("--as", help=_("The approving officer's username"))],
) -> None:
    """Approve a broadcast waiting for an officer."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> BroadcastRow | None:
        async with sessions() as session, session.begin():
            await approve(session, broadcast_id, by=as_user, now=common.clock.now())
            return await store.get(session, broadcast_id=broadcast_id)

    found = run(work)
    assert found is not None
    when = moment(found.send_at, get_settings().zone)
    out.print(_("Broadcast {id} approved; it goes at {at}.").format(id=broadcast_id, at=when))


@broadcast_app.command("cancel")
def cancel_command(
    broadcast_id: Annotated[int, typer.Argument(metavar="ID")],
    as_user: Annotated[str | None, typer.Option("--as", help=_("Staff username"))] = None,
) -> None:
    """Cancel a broadcast; messages not yet sent stay unsent."""
    by = as_user or cli_actor().name

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session, session.begin():
            return await cancel(session, broadcast_id, by=by, now=common.clock.now())

    withdrawn = run(work)
    message = _("Broadcast {id} cancelled; {n} messages not yet sent were withdrawn.")
    out.print(message.format(id=broadcast_id, n=withdrawn))


@broadcast_app.command("status")
def status_command(broadcast_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """A broadcast's status, times, audience and progress."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[BroadcastRow, Progress]:
        async with sessions() as session:
            found = await store.get(session, broadcast_id=broadcast_id)
            if found is None:
                raise BroadcastError(_("No broadcast has the number {id}.").format(id=broadcast_id))
            return found, await store.progress(session, broadcast_id=broadcast_id)

    found, progress = run(work)
    zone = get_settings().zone
    table = Table(_("Broadcast {id}").format(id=found.id), found.title)
    table.add_row(_("Status"), status_label(found.status))
    table.add_row(_("Audience"), found.audience)
    table.add_row(_("Households at submission"), number(found.households))
    table.add_row(_("Communes"), ", ".join(found.communes))
    for label, by, at in (
        (_("Created at"), found.created_by, found.created_at),
        (_("Approved at"), found.approved_by, found.approved_at),
        (_("Cancelled at"), found.cancelled_by, found.cancelled_at),
    ):
        if at is not None:
            table.add_row(label, f"{moment(at, zone)} ({by})")
    table.add_row(_("Goes at"), moment(found.send_at, zone))
    for label, at in ((_("Queued at"), found.queued_at), (_("Done at"), found.done_at)):
        if at is not None:
            table.add_row(label, moment(at, zone))
    _progress_rows(table, progress)
    out.print(table)


def _progress_rows(table: Table, progress: Progress) -> None:
    waiting = progress.count(QUEUED) + progress.count(SENDING)
    for label, count in (
        (_("Messages waiting"), waiting),
        (_("Sent"), progress.count(SENT)),
        (_("Delivered"), progress.count(DELIVERED)),
        (_("Read"), progress.count(READ)),
        (_("Failed"), progress.count(FAILED)),
        (_("Skipped"), progress.count(SKIPPED)),
        (_("Cancelled messages"), progress.count(CANCELLED)),
        (_("To tell by hand"), progress.relayed),
        (_("Told by hand"), progress.relays_delivered),
    ):
        table.add_row(label, number(count))


@broadcast_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help=_("Only broadcasts in this status"))] = None,
) -> None:
    """Broadcasts, the newest first."""
    if status is not None and status not in BROADCAST_STATUSES:
        message = _("The status must be one of: {known}.")
        fail(message.format(known=", ".join(BROADCAST_STATUSES)))

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[BroadcastRow]:
        async with sessions() as session:
            return await store.list_broadcasts(session, status=status)

    found = run(work)
    zone = get_settings().zone
    table = Table("ID", _("Title"), _("Status"), _("Goes at"), _("Households"), _("Created by"))
    for row in found:
        table.add_row(
            str(row.id),
            row.title,
            status_label(row.status),
            moment(row.send_at, zone),
            number(row.households),
            row.created_by,
        )
    out.print(table)
