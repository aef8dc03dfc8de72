"""What the sender decides before a claimed message goes: skip, wait, fail or send (and how)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from messages.render import _
from messages.text import lower_first
from scheduler.windows import Windows
from storage.models.households import BASIS_REGISTER
from storage.models.messages import BULK, CONFIRM, FAILED, QUEUED, REPLY, SENT, SKIPPED, URGENT
from storage.outbox import Claimed, Outcome, outcome

LOOP_LIMIT = 5  # the same text to the same address more often than this ...
LOOP_WINDOW = timedelta(minutes=10)  # ... within this time is a loop: fail it
OPTED_OUT = "opted out"
NO_CONSENT = "registered but has not agreed yet"
UNREACHABLE = "unreachable on this channel"
LOOP = "loop breaker: the same text more than 5 times in 10 minutes"


@dataclass
class Plan:
    """Claimed rows sorted: those to send now and what became of the others."""

    send: list[Claimed] = field(default_factory=list)
    done: list[Outcome] = field(default_factory=list)
    introduced: list[int] = field(default_factory=list)  # contacts told who writes


def exempt(row: Claimed) -> bool:
    """Replies to a household's own message and opt-out confirmations go at any hour."""
    return row.priority <= URGENT or row.kind in (REPLY, CONFIRM)


def introduction(commune: str | None) -> str:
    """The first line to a number from the register: who writes, and how to stop."""
    return _("People's Committee of {commune}, through Loa. Text HUY to stop.").format(
        commune=lower_first(commune) if commune else _("your commune")
    )


def plan(
    rows: list[Claimed],
    *,
    now: datetime,
    windows: Windows,
    sent_today: dict[int, int],
    repeats: dict[tuple[str, str], int],
) -> Plan:
    """Decide each claimed row, in claim order (the most urgent first)."""
    result = Plan()
    today = Counter(sent_today)
    seen = Counter(repeats)
    for row in rows:
        held = _hold(row, now=now, windows=windows, today=today)
        if held is None and seen[(row.address, row.text)] >= LOOP_LIMIT:
            held = outcome(row, FAILED, last_error=LOOP)
        if held is not None:
            result.done.append(held)
            continue
        seen[(row.address, row.text)] += 1
        if row.household_id is not None and not exempt(row):
            today[row.household_id] += 1
        first = row.contact_id is not None and row.contact_id not in result.introduced
        if row.basis == BASIS_REGISTER and not row.introduced and first:
            assert row.contact_id is not None
            row.text = f"{introduction(row.commune_name)}\n{row.text}"
            result.introduced.append(row.contact_id)
        result.send.append(row)
    return result


def _hold(row: Claimed, *, now: datetime, windows: Windows, today: Counter[int]) -> Outcome | None:
    """Why this row does not go now, or None."""
    if row.opted_out and row.kind != CONFIRM:
        return outcome(row, SKIPPED, last_error=OPTED_OUT)
    if row.stale:
        return outcome(row, SKIPPED, last_error=row.stale)
    if row.blocked:  # known unreachable here: straight to the next channel
        return outcome(row, FAILED, last_error=UNREACHABLE, unreachable=row.blocked)
    if row.contact_id is not None and row.basis is None and row.kind not in (REPLY, CONFIRM):
        return outcome(row, SKIPPED, last_error=NO_CONSENT)
    if exempt(row):
        return None
    later: datetime | None = None
    if windows.quiet(now):
        later = windows.quiet_ends(now)
    elif row.priority >= BULK and windows.holiday(now):
        later = windows.after_holidays(now)
    elif row.household_id is not None and today[row.household_id] >= windows.daily_cap:
        later = windows.next_day(now)
    if later is None:
        return None
    return outcome(row, QUEUED, not_before=later)


def introduced(
    rows: list[Claimed], outcomes: list[Outcome], original: Mapping[int, str]
) -> list[int]:
    """Contacts whose introduction went out; a row that did not go gets its own text back.

    Else a retried or handed-over row would carry the introduction, and get a second one.
    """
    sent = {o.id for o in outcomes if o.status == SENT}
    for o in outcomes:
        if o.id not in sent:
            o.text = original[o.id]
    told: list[int] = []
    for row in rows:
        if row.id not in sent:
            row.text = original[row.id]
        elif row.text != original[row.id] and row.contact_id is not None:
            told.append(row.contact_id)
    return told


def sent_to(rows: list[Claimed], sent: set[int], contact_id: int) -> bool:
    """Whether one of the rows sent went to this contact."""
    return any(r.contact_id == contact_id and r.id in sent for r in rows)
