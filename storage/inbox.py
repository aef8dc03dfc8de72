"""The commune's inbox: what households wrote outside any survey, newest first, and whether
someone has handled it.

The router logs such a message as an inbound row of kind `free_text` (handlers.router); survey
answers, keywords, registration and event replies have kinds of their own. Handling needs no
column of its own: the inbound row's `data` (always empty for inbound rows) records who handled
it, when and how (a reply, a follow-up, or marked handled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, reach
from storage.console_followups import MAX_ID
from storage.followups import NewFollowUp, open_followups
from storage.models import Contact, FollowUp, Household, Message, Village
from storage.models.messages import INBOUND
from storage.scope import Scope

FREE_TEXT = "free_text"  # handlers.router.FREE_TEXT: storage does not import the handlers
HANDLED = "handled"  # the key in the inbound row's data
WAITING = "waiting"  # filter: not handled yet
DONE = "done"  # filter: handled
EVERY = "all"  # filter: both
STATES = (WAITING, DONE, EVERY)
REPLIED = "reply"  # how: an answer went out
TURNED = "followup"  # how: it became a follow-up
MARKED = "marked"  # how: read, nothing more to do


@dataclass(frozen=True, slots=True)
class InboxLine:
    """An inbound message as the inbox lists it."""

    id: int
    household_code: str
    head_name: str
    commune_code: str
    village: str
    channel: str
    text: str
    created_at: datetime
    handled: dict[str, Any] | None  # {"at", "by", "how", ...}; None while waiting


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """One inbound message with what a reply needs."""

    line: InboxLine
    household_id: int
    contact_id: int | None
    address: str


_COLUMNS = (
    Message.id,
    Household.code,
    Household.head_name,
    Household.commune_code,
    Village.name,
    Message.channel,
    Message.text,
    Message.created_at,
    Message.data,
)


def _line(row: Any) -> InboxLine:
    data = row[8] or {}
    code, head, commune, village, channel, text, at = row[1:8]
    return InboxLine(
        row[0], code, head, commune, village or "", channel, text, at, data.get(HANDLED)
    )


def _where(query: Select[Any], scope: Scope, state: str, commune: str | None) -> Select[Any]:
    query = query.where(Message.direction == INBOUND, Message.kind == FREE_TEXT, scope.households())
    if state == WAITING:
        query = query.where(Message.data.is_(None))
    elif state == DONE:
        query = query.where(Message.data.is_not(None))
    if commune:
        query = query.where(Household.commune_code == commune)
    return query


async def inbox_page(
    session: AsyncSession,
    *,
    scope: Scope,
    state: str = WAITING,
    commune: str | None = None,
    offset: int,
    limit: int,
) -> tuple[list[InboxLine], bool]:
    """One page of the inbox, newest first, and whether older messages follow.

    No total: counting a province's free text would read its whole message log, while the
    newest page of an admin's inbox is found walking the log backwards."""
    query = (
        select(*_COLUMNS)
        .join(Household, Household.id == Message.household_id)
        .outerjoin(Village, Village.id == Household.village_id)
    )
    query = _where(query, scope, state, commune).order_by(Message.id.desc())
    rows = (await session.execute(query.offset(offset).limit(limit + 1))).all()
    return [_line(row) for row in rows[:limit]], len(rows) > limit


async def inbound(session: AsyncSession, *, scope: Scope, message_id: int) -> InboxMessage | None:
    """One inbox message, or None when it does not exist, is no inbox message or lies outside
    the scope."""
    if not 0 < message_id <= MAX_ID:
        return None
    query = (
        select(*_COLUMNS, Message.household_id, Message.contact_id, Message.address)
        .join(Household, Household.id == Message.household_id)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(Message.id == message_id)
    )
    row = (await session.execute(_where(query, scope, EVERY, None))).first()
    if row is None:
        return None
    n = len(_COLUMNS)
    return InboxMessage(_line(row), row[n], row[n + 1], row[n + 2])


@dataclass(frozen=True, slots=True)
class Exchanged:
    """A message in the household's recent conversation."""

    id: int
    direction: str
    channel: str
    kind: str
    status: str
    text: str
    created_at: datetime


async def recent(session: AsyncSession, *, household_id: int, limit: int = 20) -> list[Exchanged]:
    """The household's latest messages in and out, oldest first."""
    query = (
        select(
            Message.id,
            Message.direction,
            Message.channel,
            Message.kind,
            Message.status,
            Message.text,
            Message.created_at,
        )
        .where(Message.household_id == household_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return [Exchanged(*row) for row in reversed((await session.execute(query)).all())]


async def can_answer_on(session: AsyncSession, *, contact_id: int | None, channel: str) -> bool:
    """Whether a reply can go back to the contact on the channel it wrote from: it has not
    asked Loa to stop and the channel has not found it unreachable."""
    if contact_id is None:
        return False
    opted_out = await session.scalar(
        select(Contact.opted_out_at.is_not(None)).where(Contact.id == contact_id)
    )
    if opted_out is None or opted_out:
        return False
    blocked = await reach.unreachable_channels(session, contact_ids=[contact_id])
    return channel not in blocked.get(contact_id, set())


async def mark_handled(
    session: AsyncSession,
    *,
    message_id: int,
    how: str,
    actor: audit.Actor,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record who handled the message, when and how; audited. The caller commits."""
    handled = {"at": now.isoformat(), "by": actor.name, "how": how, **(extra or {})}
    row = await session.get(Message, message_id)
    assert row is not None
    old = (row.data or {}).get(HANDLED)
    row.data = {**(row.data or {}), HANDLED: handled}
    row.updated_at = now
    await session.flush()
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="handle",
        entity="messages",
        key=str(message_id),
        changes={HANDLED: [old, handled]},
    )
    return handled


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Typed text without control characters (line breaks kept) or surrounding space."""
    return _CONTROL.sub("", text).strip()


async def to_followup(
    session: AsyncSession,
    *,
    found: InboxMessage,
    kind: str,
    note: str,
    actor: audit.Actor,
    now: datetime,
) -> int:
    """Open a follow-up from the message (once: a second time finds the first); its id. The
    message is marked handled, the new item audited; the caller commits."""
    key = f"inbox:{found.line.id}"
    existing = await session.scalar(select(FollowUp.id).where(FollowUp.dedup_key == key))
    if existing is not None:
        return existing
    item = NewFollowUp(found.household_id, kind, "normal", note, dedup_key=key)
    await open_followups(session, [item], now=now)
    followup_id = await session.scalar(select(FollowUp.id).where(FollowUp.dedup_key == key))
    assert followup_id is not None
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="followups",
        key=str(followup_id),
        changes={"kind": [None, kind], "message": [None, found.line.id]},
    )
    await mark_handled(
        session,
        message_id=found.line.id,
        how=TURNED,
        actor=actor,
        now=now,
        extra={"followup": followup_id},
    )
    return followup_id
