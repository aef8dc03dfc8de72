"""Events for the console and API event tests: a class in the user's commune with
registrants (one of them from the other commune), a meeting elsewhere, and an event with no
commune; written through the started app's own sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.models import Event, EventRegistration, Household
from tests.conftest import NOW
from tests.web.conftest import Communes

Store = Callable[[Callable[..., Any]], Any]


def in_app(started: TestClient) -> Store:
    """Run a coroutine function on the app's loop with a session of its store."""

    def run(work: Callable[..., Any]) -> Any:
        async def call() -> Any:
            async with started.app.state.sessions() as session:  # type: ignore[attr-defined]
                return await work(session)

        assert started.portal is not None
        return started.portal.call(call)

    return run


@dataclass(frozen=True)
class Seeded:
    mine: int  # a class in the assistant's commune, two households registered
    other: int  # a meeting in the other commune
    nowhere: int  # an event with no commune (admins only)
    registered: list[str]  # codes of the households registered for `mine`
    foreign: str  # a household of the other commune registered for `mine`


def _event(commune: str | None, title: str, **extra: Any) -> Event:
    values: dict[str, Any] = {
        "kind": "training",
        "title": title,
        "commune_code": commune,
        "starts_at": NOW + timedelta(days=10),
        "place": "Nhà văn hóa ấp 1",
        "audience": f"commune={commune}" if commune else "all",
        "status": "planned",
        "details": {"trade": "may công nghiệp", "fee_waiver": True},
        "min_size": 3,
        "revision": 0,
        "created_by": "admin",
        "created_at": NOW,
        "updated_at": NOW,
        **extra,
    }
    return Event(**values)


def seed(store: Store, staff: Communes) -> Seeded:
    """The three events and the registrations."""

    async def work(session: Any) -> Seeded:
        events = [
            _event(staff.mine, "Lớp may công nghiệp"),
            _event(staff.other, "Họp đối thoại xã bên", kind="meeting", details={}),
            _event(None, "Phiên giao dịch việc làm tỉnh", kind="job_session", details={}),
        ]
        session.add_all(events)
        await session.flush()
        codes = {}
        for commune in (staff.mine, staff.other):
            query = select(Household.code, Household.id).where(Household.commune_code == commune)
            codes[commune] = (await session.execute(query.order_by(Household.code))).all()
        people = [*codes[staff.mine][:2], codes[staff.other][0]]
        for _code, household_id in people:
            session.add(
                EventRegistration(
                    event_id=events[0].id,
                    household_id=household_id,
                    status="registered",
                    invited_at=NOW,
                    registered_at=NOW,
                    channel="staff",
                )
            )
        await session.commit()
        return Seeded(
            events[0].id, events[1].id, events[2].id, [c for c, _i in people[:2]], people[2][0]
        )

    found: Seeded = store(work)
    return found
