"""A small town for outreach tests: two communes, households on every kind of channel.

H001 Telegram (agreed) and a phone      H004 no contact at all (relay by hand)
H002 a phone only (the register)       H005 a phone that opted out
H003 Zalo (agreed)                     H006 a phone, in the other commune (29005)
Commune 29002 (Xã An Hiệp) holds its VBSP transaction day on the 10th at its People's
Committee; 29005 (Xã Phú Túc) has none set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Capabilities
from bot.clock import FixedClock
from scheduler.delivery import Routing
from storage.models import Commune, Contact, Household
from storage.models.households import BASIS_CONSENT, CONTACT_PHONE, CONTACT_TELEGRAM, CONTACT_ZALO
from tests.storage.sheets import HEADER, household, load_areas, run_import, write_sheet

TOWN = ("H001", "H002", "H003", "H004", "H005", "H006")


@dataclass(frozen=True)
class StubChannel:
    """Only what routing reads of a channel: its name and capabilities."""

    name: str
    capabilities: Capabilities


def stub_routing(order: tuple[str, ...] = ("zalo", "telegram", "sms")) -> Routing:
    """Telegram, Zalo, SMS and the console, tried in ORDER."""
    channels = {
        "telegram": StubChannel("telegram", Capabilities(CONTACT_TELEGRAM, buttons=True)),
        "zalo": StubChannel("zalo", Capabilities(CONTACT_ZALO)),
        "sms": StubChannel("sms", Capabilities(CONTACT_PHONE, sms=True, max_length=1000)),
        "console": StubChannel("console", Capabilities(CONTACT_PHONE, pull=True)),
    }
    return Routing(channels, list(order))  # type: ignore[arg-type]


@pytest.fixture
def routing() -> Routing:
    """Zalo, then Telegram, then SMS; the console only if nothing else reaches a phone."""
    return stub_routing()


@pytest.fixture
async def town(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, clock: FixedClock
) -> dict[str, int]:
    """The six households above; their ids by code."""
    await load_areas(sessions, tmp_path, clock)
    rows = [
        HEADER,
        household("H001", "Nguyễn Văn An", **{"Số điện thoại": "0912 000 001"}),
        household("H002", "Trần Thị Bình", **{"Số điện thoại": "0912 000 002", "Thôn": "Ấp 2"}),
        household("H003", "Lê Văn Cường", **{"Số điện thoại": "", "Phân loại": "Cận nghèo"}),
        household("H004", "Phạm Thị Dung", **{"Số điện thoại": ""}),
        household("H005", "Hoàng Văn Em", **{"Số điện thoại": "0912 000 005"}),
        household("H006", "Võ Thị Phương", **{"Số điện thoại": "0912 000 006", "Mã xã": "29005"}),
    ]
    report = await run_import(sessions, write_sheet(tmp_path / "town.csv", rows), clock)
    assert report.applied, report.rejects
    now = clock.now()
    async with sessions() as session, session.begin():
        ids = dict((await session.execute(select(Household.code, Household.id))).all())
        for code, kind, address in (
            ("H001", CONTACT_TELEGRAM, "7001"),
            ("H003", CONTACT_ZALO, "z3"),
        ):
            session.add(
                Contact(
                    household_id=ids[code],
                    kind=kind,
                    address=address,
                    position=5,
                    shared=False,
                    created_at=now,
                    basis=BASIS_CONSENT,
                    basis_at=now,
                    consent_channel=kind,
                    last_seen_at=now,
                )
            )
        await session.execute(
            update(Contact).where(Contact.household_id == ids["H005"]).values(opted_out_at=now)
        )
        await session.execute(
            update(Commune)
            .where(Commune.code == "29002")
            .values(transaction_day=10, transaction_place="Trụ sở UBND xã An Hiệp")
        )
    return ids
