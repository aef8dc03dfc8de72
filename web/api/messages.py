"""API: the message log of the token's areas, newest first.

A message from a number the register does not hold has no household: only admins see it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from storage import console_households as households
from storage import console_messages
from storage.console_messages import MessageLine
from web.api.auth import ApiStaff
from web.api.pages import Page, PagingDep
from web.console.auth import not_found
from web.deps import SessionDep

router = APIRouter(tags=["messages"])


class MessageOut(BaseModel):
    """One message in or out."""

    id: int
    household_code: str | None
    direction: Literal["in", "out"]
    channel: str
    address: str  # E.164 phone or chat id
    kind: str
    status: str
    text: str
    created_at: datetime
    not_before: datetime | None  # a queued message waits until then
    sent_at: datetime | None


def message_out(line: MessageLine) -> MessageOut:
    """The API's shape of a message."""
    return MessageOut(
        id=line.id,
        household_code=line.household_code,
        direction="in" if line.direction == "in" else "out",
        channel=line.channel,
        address=line.address,
        kind=line.kind,
        status=line.status,
        text=line.text,
        created_at=line.created_at,
        not_before=line.not_before,
        sent_at=line.sent_at,
    )


def _utc(moment: datetime) -> datetime | None:
    """An aware UTC moment (a naive one is taken as UTC); None when it is out of range."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


@router.get("/messages", response_model=Page[MessageOut])
async def list_messages(
    session: SessionDep,
    staff: ApiStaff,
    paging: PagingDep,
    direction: Annotated[Literal["in", "out"] | None, Query(description="in or out")] = None,
    since: Annotated[datetime | None, Query(description="ISO datetime; a naive one is UTC")] = None,
    household: Annotated[
        str | None,
        Query(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$", description="Code"),
    ] = None,
) -> Page[MessageOut]:
    """Messages of the households in the token's areas, newest first."""
    household_id = None
    if household is not None:
        household_id = await households.household_id(session, scope=staff.scope, code=household)
        if household_id is None:
            raise not_found()
    start = None
    if since is not None:
        start = _utc(since)
        # beyond what a datetime holds: the far past (no limit) or the far future (nothing)
        if start is None and since.year > 1:
            return Page(items=[], page=paging.page, per_page=paging.per_page, total=0)
    lines, total = await console_messages.in_scope(
        session,
        scope=staff.scope,
        direction=direction,
        since=start,
        household_id=household_id,
        limit=paging.per_page,
        offset=paging.offset,
    )
    items = [message_out(m) for m in lines]
    return Page(items=items, page=paging.page, per_page=paging.per_page, total=total)
