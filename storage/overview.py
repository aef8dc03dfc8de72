"""The console's overview: reach, messages, survey answers and open follow-ups per commune
(or per village of one commune), over the last 30 days, counted in SQL.

Every figure is a GROUP BY query limited to the user's scope; no household or message row is
loaded into Python. Messages and conversations are counted from the households in view, each
one's window read from a covering index that starts with the household and the time
(`ix_messages_household_window`, `ix_conversations_household_window`): the households are read
in order and each window is a short range of index entries, which SQLite serves several times
faster than looking up the window's rows in the tables at random. The queries run in two lanes
on two connections at once. Measured in docs/benchmarks.md ("Console pages").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages.render import VN_ZONE
from storage.models import Contact, Conversation, FollowUp, Household, Message, Village
from storage.models.channels import Unreachable
from storage.models.followups import ASSIGNED, OPEN
from storage.models.households import CONTACT_PHONE, CONTACT_TELEGRAM, CONTACT_ZALO
from storage.models.messages import DELIVERED, OUTBOUND, READ, SENT
from storage.models.surveys import COMPLETED
from storage.scope import Scope, communes_in

WINDOW_DAYS = 30
# channel -> the contact kind it writes to, in the order the page shows them
CHANNELS = {"zalo": CONTACT_ZALO, "telegram": CONTACT_TELEGRAM, "sms": CONTACT_PHONE}
NO_VILLAGE = ""  # the unit of a commune's households that have no village
_SENT = (SENT, DELIVERED, READ)  # the provider took it
_DELIVERED = (DELIVERED, READ)  # the phone has it


@dataclass(slots=True)
class Unit:
    """One commune (or one village of the chosen commune) and its figures."""

    key: str  # commune code, or village id as text (NO_VILLAGE for none)
    name: str
    households: int = 0
    reachable: int = 0  # households with a usable contact on at least one channel
    reach: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    first: dict[str, int] = field(  # households by the channel a message takes first
        default_factory=lambda: dict.fromkeys(CHANNELS, 0)
    )
    sent: int = 0
    delivered: int = 0
    asked: int = 0  # survey conversations started in the window
    answered: int = 0  # ... and completed
    followups: dict[str, int] = field(default_factory=dict)  # kind -> open items

    @property
    def open_followups(self) -> int:
        return sum(self.followups.values())

    @property
    def response_rate(self) -> float | None:
        """Answered / asked, or None when nothing was asked."""
        return self.answered / self.asked if self.asked else None


@dataclass(slots=True)
class Overview:
    """The figures of the units in view, their total, and the daily message counts."""

    units: list[Unit]
    total: Unit
    days: list[date]
    daily_sent: list[int]
    daily_delivered: list[int]

    @property
    def kinds(self) -> list[str]:
        """Follow-up kinds with open items, the most frequent first."""
        return sorted(self.total.followups, key=lambda k: (-self.total.followups[k], k))


def window(now: datetime) -> tuple[datetime, list[date]]:
    """The first moment of the window (midnight, Vietnam time, 29 days before today) and its
    30 days."""
    today = now.astimezone(VN_ZONE).date()
    days = [today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1)]
    return datetime.combine(days[0], time(0), tzinfo=VN_ZONE), days


async def overview(
    sessions: async_sessionmaker[AsyncSession],
    *,
    scope: Scope,
    now: datetime,
    commune: str | None = None,
    order: Sequence[str] = tuple(CHANNELS),
) -> Overview:
    """Per commune in the scope, or per village of `commune` (which the caller has checked is
    in the scope), the figures of the last 30 days; `order` is the channel order (a household
    counts in `first` under the first channel of it that reaches the household).

    The counts run in two lanes, each on its own connection, at the same time: a province's
    figures take two cores' worth of work (SQLite's driver lets go of the GIL while it runs)."""
    since, days = window(now)
    async with sessions() as session:
        if commune is None:
            group: Any = Household.commune_code
            where = scope.households()
            communes = await communes_in(session, scope=scope, by_code=True)
            units = [Unit(code, name) for code, name in communes]
        else:
            group = Household.village_id
            where = and_(Household.commune_code == commune, scope.households())
            units = await _villages(session, commune)
    found = {u.key: u for u in units}

    def unit(key: Any) -> Unit:
        code = NO_VILLAGE if key is None else str(key)
        if code not in found:  # households of a village or commune not on the area list
            found[code] = Unit(code, code)
            units.append(found[code])
        return found[code]

    scoped = commune is not None or not scope.everything

    async def register() -> None:
        async with sessions() as session, _sorting_in_files(session):
            query = select(group, func.count()).where(where).group_by(group)
            for key, n in await session.execute(query):
                unit(key).households = n
            channels = [n for n in order if n in CHANNELS]
            await _reach(session, group, where, unit, channels, scoped)
            await _followups(session, group, where, unit)

    async def outreach() -> dict[date, tuple[int, int]]:
        async with sessions() as session, _sorting_in_files(session):
            daily = await _messages(session, group, where, since, unit)
            await _surveys(session, group, where, since, unit)
        return daily

    _done, daily = await asyncio.gather(register(), outreach())
    units = [u for u in units if u.key != NO_VILLAGE or u.households]
    return Overview(
        units,
        _total(units),
        days,
        [daily.get(d, (0, 0))[0] for d in days],
        [daily.get(d, (0, 0))[1] for d in days],
    )


@asynccontextmanager
async def _sorting_in_files(session: AsyncSession) -> AsyncIterator[None]:
    """On SQLite, the GROUP BY sorts of these counts in temporary files (SQLite's default,
    served from the page cache) rather than in memory as the store's connections are set
    (`temp_store=MEMORY`, for imports): two connections sorting in memory at once wait on
    SQLite's allocator, and a province's overview took 360 ms instead of 230 ms."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = await session.scalar(text("PRAGMA temp_store"))
    await session.execute(text("PRAGMA temp_store=DEFAULT"))
    try:
        yield
    finally:
        await session.execute(text(f"PRAGMA temp_store={int(before or 0)}"))


async def _villages(session: AsyncSession, commune: str) -> list[Unit]:
    rows = await session.execute(
        select(Village.id, Village.name)
        .where(Village.commune_code == commune)
        .order_by(Village.name_key, Village.id)
    )
    return [Unit(str(vid), name) for vid, name in rows.all()] + [Unit(NO_VILLAGE, "")]


def _usable(channel: ColumnElement[str]) -> ColumnElement[bool]:
    """A contact Loa may write to on its channel: not opted out, not shared, not unreachable."""
    return and_(
        Contact.opted_out_at.is_(None),
        Contact.shared.is_(False),
        ~exists().where(Unreachable.contact_id == Contact.id, Unreachable.channel == channel),
    )


_BITS = {name: 1 << i for i, name in enumerate(CHANNELS)}  # channel -> its bit in a mask


async def _reach(
    session: AsyncSession,
    group: Any,
    where: Any,
    unit: Any,
    order: Sequence[str],
    scoped: bool,
) -> None:
    """Households reachable per channel, and by the channel a message would take first.

    Each household's usable channels become a bit mask (one pass over the contacts, in
    household order); the database counts households per unit and mask (at most 8 masks), and
    the figures are read from those counts."""
    channel = case(
        *((Contact.kind == kind, name) for name, kind in CHANNELS.items()), else_=Contact.kind
    )
    mask = sum(  # max() per kind, not sum(DISTINCT): PostgreSQL sorts for a DISTINCT
        (func.max(case((Contact.kind == CHANNELS[n], b), else_=0)) for n, b in _BITS.items()),
        start=literal(0),
    )
    masks = select(Contact.household_id, mask.label("mask")).where(_usable(channel))
    if scoped:  # only the contacts of the households in view
        masks = masks.where(Contact.household_id.in_(select(Household.id).where(where)))
    homes = masks.group_by(Contact.household_id).subquery()
    rows = await session.execute(
        select(group, homes.c.mask, func.count())
        .select_from(homes)
        .join(Household, Household.id == homes.c.household_id)
        .where(where)
        .group_by(group, homes.c.mask)
    )
    for key, mask, n in rows.all():
        target = unit(key)
        bits = int(mask or 0)
        if bits:
            target.reachable += n
        for name, b in _BITS.items():
            if bits & b:
                target.reach[name] = target.reach.get(name, 0) + n
        first = next((name for name in order if bits & _BITS[name]), None)
        if first is not None:
            target.first[first] = target.first.get(first, 0) + n


def _local_day(session: AsyncSession, column: Any) -> Any:
    """The calendar day in Vietnam (UTC+7, no summer time) of a stored UTC moment."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(str(VN_ZONE), column))
    return func.date(column, "+7 hours")


async def _messages(
    session: AsyncSession, group: Any, where: Any, since: datetime, unit: Any
) -> dict[date, tuple[int, int]]:
    """Outbound messages sent and delivered since `since`: per unit, and per day.

    One count per unit and day, from the households in view, each one's messages read from the
    covering index `ix_messages_household_window` (no table row is visited)."""
    day = _local_day(session, Message.created_at)
    sent = func.sum(case((Message.status.in_(_SENT), 1), else_=0))
    delivered = func.sum(case((Message.status.in_(_DELIVERED), 1), else_=0))
    rows = await session.execute(
        select(group, day, sent, delivered)
        .select_from(Household)
        .join(Message, Message.household_id == Household.id)
        .where(Message.created_at >= since, Message.direction == OUTBOUND, where)
        .group_by(group, day)
    )
    daily: dict[date, tuple[int, int]] = {}
    for key, when, s, d in rows.all():
        target = unit(key)
        target.sent += int(s or 0)
        target.delivered += int(d or 0)
        on = when if isinstance(when, date) else date.fromisoformat(when)
        before = daily.get(on, (0, 0))
        daily[on] = (before[0] + int(s or 0), before[1] + int(d or 0))
    return daily


async def _surveys(
    session: AsyncSession, group: Any, where: Any, since: datetime, unit: Any
) -> None:
    """Survey conversations started since `since`, and how many were completed, per unit."""
    done = func.sum(case((Conversation.status == COMPLETED, 1), else_=0))
    rows = await session.execute(  # from ix_conversations_household_window, household first
        select(group, func.count(), done)
        .select_from(Household)
        .join(Conversation, Conversation.household_id == Household.id)
        .where(Conversation.started_at >= since, where)
        .group_by(group)
    )
    for key, asked, answered in rows.all():
        target = unit(key)
        target.asked, target.answered = asked, int(answered or 0)


async def _followups(session: AsyncSession, group: Any, where: Any, unit: Any) -> None:
    """Follow-ups still open or assigned (whenever opened), per unit and kind."""
    rows = await session.execute(
        select(group, FollowUp.kind, func.count())
        .select_from(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(FollowUp.status.in_((OPEN, ASSIGNED)), where)
        .group_by(group, FollowUp.kind)
    )
    for key, kind, n in rows.all():
        unit(key).followups[kind] = n


def _total(units: Sequence[Unit]) -> Unit:
    total = Unit("", "")
    for u in units:
        total.households += u.households
        total.reachable += u.reachable
        for name, n in u.reach.items():
            total.reach[name] = total.reach.get(name, 0) + n
        for name, n in u.first.items():
            total.first[name] = total.first.get(name, 0) + n
        total.sent += u.sent
        total.delivered += u.delivered
        total.asked += u.asked
        total.answered += u.answered
        for kind, n in u.followups.items():
            total.followups[kind] = total.followups.get(kind, 0) + n
    return total
