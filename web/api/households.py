"""API: households of the token's areas: search, one household's record, its messages.

Phone numbers are in the answers (staff call households) but never in a log line: searches
travel in the query string, which the access log leaves out (web.logs).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from messages.render import VN_ZONE
from storage import console_household_card as card
from storage import console_households as households
from storage import console_messages
from storage.vocab import CATEGORIES
from web.api.auth import ApiStaff
from web.api.messages import MessageOut, message_out
from web.api.pages import Page, PagingDep
from web.console.auth import not_found
from web.deps import SessionDep

router = APIRouter(tags=["households"])

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL)
CATEGORY = "^(" + "|".join(CATEGORIES) + ")$"
HouseholdCode = Annotated[
    str, Path(min_length=1, max_length=40, pattern=NO_CONTROL, description="Household code")
]


class HouseholdOut(BaseModel):
    """A household as lists show it."""

    code: str
    head_name: str
    commune_code: str
    commune_name: str
    village_id: int | None
    village: str | None
    category: str
    phones: list[str]  # E.164
    unreachable: bool  # no contact any channel can use
    opted_out: bool  # a contact asked Loa to stop


class ContactOut(BaseModel):
    kind: str  # phone, telegram, zalo
    address: str  # E.164 for a phone, the chat id otherwise
    phone: str | None  # a chat contact's proven phone
    name: str | None
    shared: bool  # another household has this phone: Loa does not write to it
    basis: str | None  # register, consent; None: not agreed yet
    basis_at: datetime | None
    consent_channel: str | None
    opted_out_at: datetime | None
    last_seen_at: datetime | None
    unreachable: dict[str, str]  # channel -> reason


class FollowUpOut(BaseModel):
    id: int
    kind: str
    priority: str
    status: str
    assignee: str | None
    due_on: date | None
    note: str
    created_at: datetime


class LoanOut(BaseModel):
    """A loan and where its repayment stands."""

    id: int
    programme: str
    amount: int  # VND
    disbursed_on: date
    group_name: str | None
    instalments: int
    outstanding: int  # VND of principal and interest not paid yet
    overdue_instalments: int
    next_due: date | None


class HouseholdDetailOut(BaseModel):
    """One household's record: register, contacts, follow-ups and loans."""

    code: str
    head_name: str
    commune_code: str
    commune_name: str
    village: str | None
    category: str
    recognized_on: date | None
    members: int | None
    group_no: int | None
    ethnicity: str | None
    ethnic_minority: bool
    woman_head: bool
    deprivations: list[str]
    contacts: list[ContactOut]
    followups: list[FollowUpOut]
    loans: list[LoanOut]


@router.get("/households", response_model=Page[HouseholdOut])
async def list_households(
    session: SessionDep,
    staff: ApiStaff,
    paging: PagingDep,
    q: Annotated[
        str,
        Query(max_length=100, pattern=NO_CONTROL, description="Name, household code or phone"),
    ] = "",
    commune: Annotated[str | None, Query(min_length=1, max_length=10, pattern=NO_CONTROL)] = None,
    category: Annotated[str | None, Query(pattern=CATEGORY, description="Category code")] = None,
    unreachable: bool = False,
    opted_out: bool = False,
) -> Page[HouseholdOut]:
    """The households of the token's areas matching the search, by code."""
    if commune and await households.commune_name(session, scope=staff.scope, code=commune) is None:
        raise not_found()
    filters = households.Filters(
        q=q.strip(),
        commune=commune,
        category=category if category in CATEGORIES else None,
        unreachable=unreachable,
        opted_out=opted_out,
    )
    rows, total = await households.search(
        session, scope=staff.scope, filters=filters, limit=paging.per_page, offset=paging.offset
    )
    items = [
        HouseholdOut(
            code=r.code,
            head_name=r.head_name,
            commune_code=r.commune_code,
            commune_name=r.commune_name,
            village_id=r.village_id,
            village=r.village,
            category=r.category,
            phones=r.phones,
            unreachable=r.unreachable,
            opted_out=r.opted_out,
        )
        for r in rows
    ]
    return Page(items=items, page=paging.page, per_page=paging.per_page, total=total)


@router.get("/households/{code}", response_model=HouseholdDetailOut)
async def get_household(
    request: Request, session: SessionDep, staff: ApiStaff, code: HouseholdCode
) -> HouseholdDetailOut:
    """One household of the token's areas (404 outside them)."""
    household_id = await households.household_id(session, scope=staff.scope, code=code)
    if household_id is None:
        raise not_found()
    today = request.app.state.clock.now().astimezone(VN_ZONE).date()
    found = await card.register(session, household_id=household_id)
    h = found.household
    return HouseholdDetailOut(
        code=h.code,
        head_name=h.head_name,
        commune_code=h.commune_code,
        commune_name=found.commune_name,
        village=found.village_name,
        category=h.category,
        recognized_on=h.recognized_on,
        members=h.members,
        group_no=h.group_no,
        ethnicity=h.ethnicity,
        ethnic_minority=h.ethnic_minority,
        woman_head=h.woman_head,
        deprivations=found.deprivations,
        contacts=[_contact(c) for c in await card.contacts(session, household_id=household_id)],
        followups=[_followup(f) for f in await card.followups(session, household_id=household_id)],
        loans=[_loan(x, today) for x in await card.loans(session, household_id=household_id)],
    )


@router.get("/households/{code}/messages", response_model=Page[MessageOut])
async def household_messages(
    session: SessionDep, staff: ApiStaff, paging: PagingDep, code: HouseholdCode
) -> Page[MessageOut]:
    """The household's messages in and out, newest first."""
    household_id = await households.household_id(session, scope=staff.scope, code=code)
    if household_id is None:
        raise not_found()
    lines, total = await console_messages.timeline(
        session, household_id=household_id, limit=paging.per_page, offset=paging.offset
    )
    items = [message_out(m) for m in lines]
    return Page(items=items, page=paging.page, per_page=paging.per_page, total=total)


def _followup(f: card.FollowUpLine) -> FollowUpOut:
    return FollowUpOut(
        id=f.id,
        kind=f.kind,
        priority=f.priority,
        status=f.status,
        assignee=f.assignee,
        due_on=f.due_on,
        note=f.note,
        created_at=f.created_at,
    )


def _contact(line: card.ContactLine) -> ContactOut:
    c = line.contact
    return ContactOut(
        kind=c.kind,
        address=c.address,
        phone=c.phone,
        name=c.name,
        shared=c.shared,
        basis=c.basis,
        basis_at=c.basis_at,
        consent_channel=c.consent_channel,
        opted_out_at=c.opted_out_at,
        last_seen_at=c.last_seen_at,
        unreachable=line.unreachable,
    )


def _loan(line: card.LoanLine, today: date) -> LoanOut:
    loan = line.loan
    return LoanOut(
        id=loan.id,
        programme=loan.programme,
        amount=loan.amount,
        disbursed_on=loan.disbursed_on,
        group_name=loan.group_name,
        instalments=len(line.instalments),
        outstanding=line.outstanding(),
        overdue_instalments=line.overdue(today),
        next_due=line.next_due(),
    )
