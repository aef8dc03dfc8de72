"""Working a follow-up: assign it, change its status, set a due date, add a note; each audited.

The console and the API call these; the caller commits (one transaction per action). An item
outside the user's scope is not found (None), the same as one that does not exist.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _, day
from storage import audit
from storage.console_followups import MAX_ID, assignable
from storage.models import FollowUp, Household, StaffUser
from storage.models.followups import ASSIGNED, FOLLOWUP_STATUSES, OPEN
from storage.scope import Scope

ENTITY = "followups"
MAX_NOTE = 2000  # characters in one added note
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


class FollowUpError(ValueError):
    """A change that cannot be made: the form field it concerns and a Vietnamese sentence."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_due(text: str, *, today: date) -> date | None:
    """A due date as typed (2026-12-01 or 01/12/2026); empty clears it; none in the past."""
    text = text.strip()
    if not text:
        return None
    found = _DMY.fullmatch(text)
    try:
        due = (
            date(int(found[3]), int(found[2]), int(found[1])) if found else date.fromisoformat(text)
        )
    except ValueError:
        raise FollowUpError("due_on", _("Enter a real date, e.g. 15/12/2026.")) from None
    if due < today:
        raise FollowUpError("due_on", _("The due date cannot be in the past."))
    return due


def check_status(status: str) -> str:
    """The status, if it is one of open, assigned, done, dismissed."""
    if status not in FOLLOWUP_STATUSES:
        raise FollowUpError("status", _("Choose a status from the list."))
    return status


def check_note(text: str) -> str:
    """A note to add: not empty, not too long, no control characters but line breaks."""
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise FollowUpError("note", _("Write the note first."))
    if len(text) > MAX_NOTE:
        message = _("A note can have at most {n} characters.").format(n=MAX_NOTE)
        raise FollowUpError("note", message)
    return text


def appended(note: str, text: str, *, by: str, on: date) -> str:
    """The notes with one more line, dated and signed; the old ones are kept."""
    line = f"[{day(on)} {by}] {text}"
    return f"{note.rstrip()}\n{line}" if note.strip() else line


async def _row(session: AsyncSession, scope: Scope, followup_id: int) -> FollowUp | None:
    if not 0 < followup_id <= MAX_ID:
        return None
    query = (
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(FollowUp.id == followup_id, scope.households())
    )
    return (await session.scalars(query)).first()


async def _username(session: AsyncSession, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    return await session.scalar(select(StaffUser.username).where(StaffUser.id == staff_id))


async def _apply(
    session: AsyncSession,
    row: FollowUp,
    values: dict[str, Any],
    *,
    actor: audit.Actor,
    now: datetime,
    action: str,
) -> dict[str, list[Any]]:
    """Set the values that change, audit them; the changes (empty when nothing changed)."""
    old = {key: getattr(row, key) for key in values}
    changes = audit.diff(old, values)
    if not changes:
        return changes
    if "assignee_id" in changes:
        before = await _username(session, old["assignee_id"])
        changes["assignee"] = [before, await _username(session, values["assignee_id"])]
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    await session.flush()
    await audit.add(
        session, actor=actor, at=now, action=action, entity=ENTITY, key=str(row.id), changes=changes
    )
    return changes


async def assign(
    session: AsyncSession,
    *,
    scope: Scope,
    followup_id: int,
    assignee_id: int | None,
    actor: audit.Actor,
    now: datetime,
) -> dict[str, list[Any]] | None:
    """Give the item to someone (it becomes assigned) or to nobody (open again)."""
    row = await _row(session, scope, followup_id)
    if row is None:
        return None
    if assignee_id is not None:
        commune = await session.scalar(
            select(Household.commune_code).where(Household.id == row.household_id)
        )
        staff = await assignable(session, commune_code=commune or "")
        if assignee_id not in {i for i, _name in staff}:
            raise FollowUpError("assignee", _("Choose someone who works in this commune."))
    values: dict[str, Any] = {"assignee_id": assignee_id}
    if assignee_id is not None and row.status == OPEN:
        values["status"] = ASSIGNED
    elif assignee_id is None and row.status == ASSIGNED:
        values["status"] = OPEN
    return await _apply(session, row, values, actor=actor, now=now, action="assign")


async def set_status(
    session: AsyncSession,
    *,
    scope: Scope,
    followup_id: int,
    status: str,
    me: int,
    actor: audit.Actor,
    now: datetime,
) -> dict[str, list[Any]] | None:
    """Change the status; "assigned" with nobody assigned takes the user, "open" frees it."""
    row = await _row(session, scope, followup_id)
    if row is None:
        return None
    values: dict[str, Any] = {"status": check_status(status)}
    if status == ASSIGNED and row.assignee_id is None:
        values["assignee_id"] = me
    elif status == OPEN:
        values["assignee_id"] = None
    return await _apply(session, row, values, actor=actor, now=now, action="status")


async def set_due(
    session: AsyncSession,
    *,
    scope: Scope,
    followup_id: int,
    due_on: date | None,
    actor: audit.Actor,
    now: datetime,
) -> dict[str, list[Any]] | None:
    """Set (or clear) the due date; the caller has checked it."""
    row = await _row(session, scope, followup_id)
    if row is None:
        return None
    return await _apply(session, row, {"due_on": due_on}, actor=actor, now=now, action="due")


async def add_note(
    session: AsyncSession,
    *,
    scope: Scope,
    followup_id: int,
    text: str,
    on: date,
    actor: audit.Actor,
    now: datetime,
) -> dict[str, list[Any]] | None:
    """Append a dated, signed note; the old notes stay."""
    row = await _row(session, scope, followup_id)
    if row is None:
        return None
    note = appended(row.note or "", check_note(text), by=actor.name, on=on)
    return await _apply(session, row, {"note": note}, actor=actor, now=now, action="note")
