"""Loan reminders and overdue notices: the scheduler pass (the words are in loan_texts).

Each unpaid instalment due on D is recalled at D-7 and D-3 (LOA_LOAN_REMINDER_DAYS) and on the
commune's transaction day before D within that period; only on the day itself, never late.
An instalment still unpaid after D opens one `overdue` follow-up and gets one polite notice
(one per household per pass, naming every instalment that fell overdue). See docs/loans.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from messages.render import N_
from scheduler import loan_texts as texts
from scheduler.delivery import Note, Tally, deliver
from scheduler.tick import Context, Line
from storage import loans
from storage.followups import NewFollowUp, open_followups
from storage.loans import DueInstalment, reminder_key
from storage.models.broadcasts import SOURCE_INSTALMENT
from storage.models.messages import LOAN_REMINDER, NORMAL, OVERDUE

BATCH = 2000  # instalments per reminder batch
OVERDUE_BATCH = 1000  # overdue instalments looked at per batch (their households whole)


async def run(ctx: Context) -> list[Line]:
    """Queue today's loan reminders, then mark newly overdue instalments and tell households."""
    queued = await remind(ctx)
    overdue, notices = await follow_overdue(ctx)
    return [
        Line(N_("Loan reminders queued"), queued),
        Line(N_("Overdue instalments"), overdue),
        Line(N_("Overdue notices queued"), notices),
    ]


async def remind(ctx: Context) -> int:
    """Queue the reminders due today, in batches; how many went on a channel."""
    queued, after = 0, 0
    while True:
        async with ctx.sessions() as session, session.begin():
            due = await loans.due_reminders(
                session,
                today=ctx.today,
                offsets=ctx.settings.reminder_days,
                after=after,
                limit=BATCH,
            )
            notes = [reminder(i, today=ctx.today, sms=_sms(ctx)) for i in due]
            tally = await deliver(session, notes, routing=ctx.routing, now=ctx.now)
        queued += _queued(tally)
        if len(due) < BATCH:
            return queued
        after = due[-1].id


async def follow_overdue(ctx: Context) -> tuple[int, int]:
    """Mark instalments unpaid past their due date overdue: a follow-up each, one notice per
    household; how many instalments, and how many notices went on a channel."""
    instalments, notices = 0, 0
    while True:
        async with ctx.sessions() as session, session.begin():
            households = await loans.overdue_households(
                session, today=ctx.today, limit=OVERDUE_BATCH
            )
            marked = await loans.mark_overdue(
                session, household_ids=households, today=ctx.today, now=ctx.now
            )
            await open_followups(session, [followup(i) for i in marked], now=ctx.now)
            notes = [overdue_notice(group, sms=_sms(ctx)) for group in _by_household(marked)]
            tally = await deliver(session, notes, routing=ctx.routing, now=ctx.now)
        instalments += len(marked)
        notices += _queued(tally)
        if not marked:  # none left, or another scheduler is marking them
            return instalments, notices


def _sms(ctx: Context) -> tuple[int, bool]:
    """At most how many SMS parts, and whether accents are stripped."""
    return ctx.settings.sms_max_segments, ctx.settings.sms_strip_accents


def _queued(tally: Tally) -> int:
    return sum(tally.channels.values())


def _by_household(marked: Sequence[DueInstalment]) -> list[list[DueInstalment]]:
    groups: dict[int, list[DueInstalment]] = {}
    for one in marked:
        groups.setdefault(one.household_id, []).append(one)
    return list(groups.values())


def reminder(i: DueInstalment, *, today: date, sms: tuple[int, bool]) -> Note:
    """The reminder of an instalment today (tx or dN), chat text and a short SMS."""
    kind = i.kind(today)
    return Note(
        i.household_id,
        reminder_key(i.id, kind),
        texts.reminder_text(i, today=today),
        LOAN_REMINDER,
        SOURCE_INSTALMENT,
        i.id,
        sms_text=texts.fit(texts.reminder_sms(i, today=today), *sms),
        priority=NORMAL,
    )


def overdue_notice(group: Sequence[DueInstalment], *, sms: tuple[int, bool]) -> Note:
    """One polite notice naming a household's newly overdue instalments."""
    first = group[0]
    return Note(
        first.household_id,
        reminder_key(first.id, "overdue"),
        texts.overdue_text(group),
        OVERDUE,
        SOURCE_INSTALMENT,
        first.id,
        sms_text=texts.fit(texts.overdue_sms(group), *sms),
        priority=NORMAL,
    )


def followup(i: DueInstalment) -> NewFollowUp:
    """The commune's `overdue` item for one instalment."""
    note = texts.followup_note(i)
    return NewFollowUp(i.household_id, "overdue", "high", note, dedup_key=f"overdue:{i.id}")
