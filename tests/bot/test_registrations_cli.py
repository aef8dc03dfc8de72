"""`loa registrations list|approve|reject`, on both backends."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import common
from bot.clock import FixedClock
from handlers.registration import consent_text
from messages.render import _
from storage import registrations
from storage.models import AuditEntry, Contact, Message, Registration
from storage.models.channels import APPROVED, PENDING, REJECTED
from storage.models.households import CONTACT_PHONE, CONTACT_TELEGRAM
from storage.models.messages import OUTBOUND, QUEUED, REPLY
from tests.conftest import loa
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet

CHAT, STRANGER = "555001", "+84900000009"


@pytest.fixture
async def claims(
    settings_env: str,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> list[int]:
    """H001 and H002 on the register; a Telegram chat claims H001, a stranger's phone H002."""
    monkeypatch.setattr(common, "clock", clock)
    monkeypatch.delenv("LOA_HELP_CONTACT", raising=False)
    await load_areas(sessions, tmp_path, clock)
    rows = [
        HEADER,
        household("H001", "Nguyễn Văn An"),
        household("H002", "Trần Thị Bình", **{"Số điện thoại": "0911 222 333"}),
    ]
    assert (await run_import(sessions, write_sheet(tmp_path / "ho.csv", rows), clock)).applied
    async with sessions() as session, session.begin():
        for code, channel, kind, address, phone in [
            ("H001", "telegram", CONTACT_TELEGRAM, CHAT, "+84912345678"),
            ("H002", "console", CONTACT_PHONE, STRANGER, STRANGER),
        ]:
            owner = await registrations.household(session, code=code)
            assert owner is not None
            await registrations.add_pending(
                session,
                channel=channel,
                kind=kind,
                address=address,
                household_id=owner.id,
                now=clock.now(),
                phone=phone,
                name="An" if code == "H001" else None,
            )
    async with sessions() as session:
        return list(await session.scalars(select(Registration.id).order_by(Registration.id)))


async def _state(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[str, ...]]]:
    async with sessions() as session:
        return {
            "registrations": [
                (r.status, r.decided_by or "")
                for r in await session.scalars(select(Registration).order_by(Registration.id))
            ],
            "contacts": [
                (c.kind, c.address, c.basis or "")
                for c in await session.scalars(select(Contact).where(Contact.address == CHAT))
            ],
            "messages": [
                (m.channel, m.address, m.kind, m.status, m.direction, m.text)
                for m in await session.scalars(select(Message).order_by(Message.id))
            ],
            "audit": [
                (a.action, a.entity_key, str(a.changes["status"]), a.actor)
                for a in await session.scalars(
                    select(AuditEntry).where(AuditEntry.entity == "registrations")
                )
            ],
        }


def test_list_shows_pending_claims_as_table_and_csv(claims: list[int]) -> None:
    code, output = loa("registrations", "list")
    assert code == 0, output
    assert "H001" in output
    assert CHAT in output
    assert "10:00" in output  # local time (03:00 UTC)
    code, output = loa("registrations", "list", "--format", "csv")
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == [
        "id",
        "channel",
        "kind",
        "address",
        "household_code",
        "head_name",
        "commune_code",
        "phone",
        "name",
        "status",
        "created_at",
    ]
    assert [(r[0], r[1], r[3], r[4], r[8], r[9], r[10]) for r in rows[1:]] == [
        (str(claims[0]), "telegram", CHAT, "H001", "An", PENDING, "2026-11-21T10:00:00+07:00"),
        (str(claims[1]), "console", STRANGER, "H002", "", PENDING, "2026-11-21T10:00:00+07:00"),
    ]
    output = loa("registrations", "list", "--status", "approved", "--format", "csv")[1]
    assert list(csv.reader(io.StringIO(output))) == [rows[0]]


def test_an_unknown_status_is_refused(claims: list[int]) -> None:
    code, output = loa("registrations", "list", "--status", "maybe")
    assert code == 1
    assert "pending, approved, rejected" in output


async def test_approve_adds_the_contact_and_queues_the_consent_question(
    claims: list[int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    code, output = await _run("registrations", "approve", str(claims[0]))
    assert code == 0, output
    assert "H001" in output
    state = await _state(sessions)
    assert state["registrations"][0][0] == APPROVED
    assert state["registrations"][0][1].startswith("cli:")
    assert state["registrations"][1] == (PENDING, "")
    assert state["contacts"] == [(CONTACT_TELEGRAM, CHAT, "")]  # not agreed to anything yet
    greeting = _("Registered: household {code}, {name}.").format(code="H001", name="Nguyễn Văn An")
    assert state["messages"] == [
        (
            "telegram",
            CHAT,
            REPLY,
            QUEUED,
            OUTBOUND,
            greeting + "\n" + consent_text("Xã An Hiệp"),
        )
    ]
    assert [a[:3] for a in state["audit"]] == [("update", str(claims[0]), str([PENDING, APPROVED]))]
    code, output = await _run("registrations", "approve", str(claims[0]))
    assert code == 1
    assert _("There is no registration {id} waiting for a decision.").format(id=claims[0]) in (
        output
    )
    assert len((await _state(sessions))["messages"]) == 1  # nothing more was queued


async def test_reject_tells_the_contact_whom_to_ask(
    claims: list[int], sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_HELP_CONTACT", "chị Lan, 0912 000 111")
    common.get_settings.cache_clear()
    code, output = await _run("registrations", "reject", str(claims[1]))
    assert code == 0, output
    state = await _state(sessions)
    assert [r[0] for r in state["registrations"]] == [PENDING, REJECTED]
    assert state["contacts"] == []
    (message,) = state["messages"]
    assert message[:5] == ("console", STRANGER, REPLY, QUEUED, OUTBOUND)
    assert "chị Lan, 0912 000 111" in message[5]
    assert [a[:3] for a in state["audit"]] == [("update", str(claims[1]), str([PENDING, REJECTED]))]
    async with sessions() as session:  # a rejected claim adds no contact and links no household
        assert (await session.scalar(select(Message.household_id))) is None
    assert (await _run("registrations", "reject", "999"))[0] == 1
    code, output = await _run("registrations", "list", "--status", "rejected", "--format", "csv")
    assert STRANGER in output


async def _run(*args: str) -> tuple[int, str]:
    """Run the CLI off the test's event loop (it runs its own)."""
    return await asyncio.to_thread(loa, *args)
