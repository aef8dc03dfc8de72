"""Follow-ups and inbox messages for the follow-up and inbox tests, written before the app
starts: three items and two free-text messages in the user's commune, one of each elsewhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, session_factory
from storage.models import Contact, FollowUp, Household, Message, StaffUser
from tests.conftest import NOW


@dataclass(frozen=True)
class Seeded:
    loan: int  # mine, high priority, open
    visit: int  # mine, assigned to the assistant, due 01/12/2026
    training: int  # mine, done
    foreign: int  # the other commune's
    household: str  # the code of the household of `loan`
    message: int  # a free-text message of the user's commune
    answer: int  # a survey answer of the same household: not in the inbox
    foreign_message: int
    phone: str  # the phone the message came from


async def _home(session: AsyncSession, commune: str) -> tuple[int, str, int, str]:
    row = (
        await session.execute(
            select(Household.id, Household.code, Contact.id, Contact.address)
            .join(Contact, Contact.household_id == Household.id)
            .where(Household.commune_code == commune, Contact.kind == "phone")
            .order_by(Household.code)
            .limit(1)
        )
    ).one()
    return row[0], row[1], row[2], row[3]


def _followup(household_id: int, kind: str, priority: str, status: str, **more: object) -> FollowUp:
    return FollowUp(
        household_id=household_id,
        kind=kind,
        priority=priority,
        status=status,
        note=more.pop("note", "Cần liên hệ lại."),
        created_at=NOW,
        updated_at=NOW,
        **more,
    )


def _message(household_id: int, contact_id: int, phone: str, kind: str, text: str) -> Message:
    return Message(
        direction="in",
        channel="console",
        address=phone,
        household_id=household_id,
        contact_id=contact_id,
        kind=kind,
        text=text,
        status="received",
        created_at=NOW,
        updated_at=NOW,
    )


async def _seed(url: str, mine: str, other: str) -> Seeded:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            hh, code, contact, phone = await _home(session, mine)
            far, _code, far_contact, far_phone = await _home(session, other)
            assistant = await session.scalar(
                select(StaffUser.id).where(StaffUser.username == "assistant")
            )
            rows: list[FollowUp | Message] = [
                _followup(hh, "loan", "high", "open", note="Muốn vay vốn hộ nghèo."),
                _followup(
                    hh,
                    "visit",
                    "normal",
                    "assigned",
                    assignee_id=assistant,
                    due_on=date(2026, 12, 1),
                ),
                _followup(hh, "training", "low", "done"),
                _followup(far, "loan", "high", "open"),
                _message(hh, contact, phone, "free_text", "Cho hỏi khi nào phát gạo ạ?"),
                _message(hh, contact, phone, "answer", "2"),
                _message(far, far_contact, far_phone, "free_text", "Nhà tôi bị dột mái."),
            ]
            session.add_all(rows)
            await session.commit()
            ids = [row.id for row in rows]
            loan, visit, training, foreign, message, answer, far_message = ids
            return Seeded(loan, visit, training, foreign, code, message, answer, far_message, phone)
    finally:
        await engine.dispose()


def seed(url: str, mine: str, other: str) -> Seeded:
    """Write the rows (the app must not be started yet)."""
    return asyncio.run(_seed(url, mine, other))
