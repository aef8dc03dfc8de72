"""`loa import households`: the commune list into the register, all-or-nothing by default."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, distinct, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from messages.text import fold
from storage import audit
from storage.importers.household_rows import HouseholdRow, RowChecker, read_household_rows
from storage.importers.places import CommuneIndex, VillageBook
from storage.importers.report import ImportReport
from storage.importers.sheets import read_rows
from storage.importers.tx import all_or_nothing
from storage.models import CONTACT_PHONE, Contact, Household, HouseholdDeprivation

BATCH = 2000
Progress = Callable[[str, int, int | None], None]  # phase, done, total
_STORED = (
    "head_name",
    "commune_code",
    "village_id",
    "category",
    "recognized_on",
    "ethnicity",
    "ethnic_minority",
    "woman_head",
    "group_no",
    "members",
    "note",
)


def _values(row: HouseholdRow, village_id: int | None) -> dict[str, Any]:
    data = asdict(row)
    data["village_id"] = village_id
    return {key: data[key] for key in _STORED}


async def _current(session: AsyncSession, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored state of the households with these codes, phones and indicators included."""
    columns = [Household.id, Household.code, *(getattr(Household, k) for k in _STORED)]
    found: dict[str, dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for row in await session.execute(select(*columns).where(Household.code.in_(codes))):
        state = dict(row._mapping)
        state["phones"], state["deprivations"] = [], []
        found[state["code"]] = by_id[state["id"]] = state
    if by_id:
        phones = (
            select(Contact.household_id, Contact.address)
            .where(Contact.household_id.in_(by_id), Contact.kind == CONTACT_PHONE)
            .order_by(Contact.household_id, Contact.position)
        )
        for household_id, address in await session.execute(phones):
            by_id[household_id]["phones"].append(address)
        needs = select(HouseholdDeprivation.household_id, HouseholdDeprivation.indicator).where(
            HouseholdDeprivation.household_id.in_(by_id)
        )
        for household_id, indicator in await session.execute(needs):
            by_id[household_id]["deprivations"].append(indicator)
        for state in by_id.values():
            state["deprivations"].sort()
    return found


class HouseholdWriter:
    """Writes checked rows in batches inside the caller's transaction, with the audit trail."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        actor: audit.Actor,
        now: datetime,
        report: ImportReport,
        villages: VillageBook,
        labels: dict[str, str],
    ) -> None:
        self.session, self.actor, self.now, self.report = session, actor, now, report
        self.villages, self.labels = villages, labels
        self.touched_phones: set[str] = set()

    async def _village(self, row: HouseholdRow) -> int | None:
        if not row.village:
            return None
        return await self.villages.resolve(
            self.session, row.commune_code, row.village, self.labels[row.commune_code]
        )

    async def write(self, rows: Sequence[HouseholdRow]) -> None:
        """Create, update or leave alone each household of one batch."""
        current = await _current(self.session, [r.code for r in rows])
        created: list[tuple[HouseholdRow, dict[str, Any]]] = []
        changed: list[tuple[HouseholdRow, dict[str, Any], dict[str, Any]]] = []
        for row in rows:
            values = _values(row, await self._village(row))
            wanted = {**values, "phones": list(row.phones), "deprivations": list(row.deprivations)}
            old = current.get(row.code)
            if old is None:
                created.append((row, values))
            elif changes := audit.diff(old, wanted):
                changed.append((row, {**values, "id": old["id"]}, changes))
                self.touched_phones.update(old["phones"])
            else:
                self.report.counts["unchanged"] += 1
            self.touched_phones.update(row.phones)
        await self._create(created)
        await self._update(changed, current)

    async def _create(self, created: list[tuple[HouseholdRow, dict[str, Any]]]) -> None:
        if not created:
            return
        stamps = {"created_at": self.now, "updated_at": self.now}
        rows = [
            {**values, "code": row.code, "name_key": _key(row), **stamps} for row, values in created
        ]
        result = await self.session.execute(
            insert(Household).returning(Household.id, Household.code, sort_by_parameter_order=True),
            rows,
        )
        ids = {code: household_id for household_id, code in result}
        await self._add_phones([(ids[r.code], r.phones, 0) for r, _v in created])
        await self._add_needs([(ids[r.code], r.deprivations) for r, _v in created])
        await audit.record(
            self.session,
            (
                audit.entry(
                    actor=self.actor,
                    at=self.now,
                    action="create",
                    entity="households",
                    key=row.code,
                    changes=audit.diff(
                        {},
                        {
                            **values,
                            "phones": list(row.phones),
                            "deprivations": list(row.deprivations),
                        },
                    ),
                )
                for row, values in created
            ),
        )
        self.report.counts["created"] += len(created)

    async def _update(
        self,
        changed: list[tuple[HouseholdRow, dict[str, Any], dict[str, Any]]],
        current: dict[str, dict[str, Any]],
    ) -> None:
        if not changed:
            return
        await self.session.execute(
            update(Household),
            [
                {**values, "name_key": _key(row), "updated_at": self.now}
                for row, values, _c in changed
            ],
        )
        for row, values, changes in changed:
            if "phones" in changes:
                await self._replace_phones(values["id"], current[row.code]["phones"], row.phones)
            if "deprivations" in changes:
                await self.session.execute(
                    delete(HouseholdDeprivation).where(
                        HouseholdDeprivation.household_id == values["id"]
                    )
                )
                await self._add_needs([(values["id"], row.deprivations)])
        await audit.record(
            self.session,
            (
                audit.entry(
                    actor=self.actor,
                    at=self.now,
                    action="update",
                    entity="households",
                    key=row.code,
                    changes=changes,
                )
                for row, _v, changes in changed
            ),
        )
        self.report.counts["updated"] += len(changed)

    async def _replace_phones(
        self, household_id: int, old: list[str], new: tuple[str, ...]
    ) -> None:
        """Keep contacts that stay (their ids matter to later history), drop the rest."""
        gone = [p for p in old if p not in new]
        if gone:
            await self.session.execute(
                delete(Contact).where(
                    Contact.household_id == household_id,
                    Contact.kind == CONTACT_PHONE,
                    Contact.address.in_(gone),
                )
            )
        for position, phone in enumerate(new):
            if phone in old:
                await self.session.execute(
                    update(Contact)
                    .where(
                        Contact.household_id == household_id,
                        Contact.kind == CONTACT_PHONE,
                        Contact.address == phone,
                    )
                    .values(position=position)
                )
        await self._add_phones(
            [(household_id, tuple(p for p in new if p not in old), 0)],
            positions={p: i for i, p in enumerate(new)},
        )

    async def _add_phones(
        self, items: list[tuple[int, tuple[str, ...], int]], positions: dict[str, int] | None = None
    ) -> None:
        rows = [
            {
                "household_id": hid,
                "kind": CONTACT_PHONE,
                "address": phone,
                "position": positions[phone] if positions else start + i,
                "shared": False,
                "created_at": self.now,
            }
            for hid, phones, start in items
            for i, phone in enumerate(phones)
        ]
        if rows:
            await self.session.execute(insert(Contact), rows)

    async def _add_needs(self, items: list[tuple[int, tuple[str, ...]]]) -> None:
        rows = [{"household_id": hid, "indicator": code} for hid, codes in items for code in codes]
        if rows:
            await self.session.execute(insert(HouseholdDeprivation), rows)


def _key(row: HouseholdRow) -> str:
    return fold(row.head_name)


async def flag_shared_phones(session: AsyncSession, phones: set[str] | None = None) -> int:
    """Mark phone contacts that another household also has; returns how many are shared."""
    other = aliased(Contact)
    shared = exists().where(
        and_(
            other.kind == Contact.kind,
            other.address == Contact.address,
            other.household_id != Contact.household_id,
        )
    )
    statement = update(Contact).where(Contact.kind == CONTACT_PHONE).values(shared=shared)
    if phones is not None:
        ordered = sorted(phones)
        for start in range(0, len(ordered), 5000):
            await session.execute(
                statement.where(Contact.address.in_(ordered[start : start + 5000])),
                execution_options={"synchronize_session": False},
            )
    else:
        await session.execute(statement, execution_options={"synchronize_session": False})
    count = await session.scalar(
        select(func.count(distinct(Contact.address))).where(
            Contact.kind == CONTACT_PHONE, Contact.shared.is_(True)
        )
    )
    return int(count or 0)


async def import_households(
    session: AsyncSession,
    path: Path,
    *,
    actor: audit.Actor,
    now: datetime,
    today: date,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a household list; one rejected row stops it all unless skip_invalid."""
    report = ImportReport(path)
    communes = await CommuneIndex.load(session)
    checker = RowChecker(communes, report, today)
    tick = (lambda n: progress("read", n, None)) if progress else None
    rows = read_household_rows(path, checker, read_rows(path), tick)
    await session.rollback()  # end the read-only transaction the index opened
    report.counts["rows"] = len(rows) + report.rejected_rows
    if report.rejects and not skip_invalid:
        report.write_rejects()
        return report
    async with all_or_nothing(session, report, dry_run=dry_run):
        villages = await VillageBook.load(session)
        writer = HouseholdWriter(
            session, actor=actor, now=now, report=report, villages=villages, labels=communes.labels
        )
        for start in range(0, len(rows), BATCH):
            await writer.write(rows[start : start + BATCH])
            if progress:
                progress("write", min(start + BATCH, len(rows)), len(rows))
        report.counts["shared_phones"] = await flag_shared_phones(session, writer.touched_phones)
        report.new_villages = villages.created
    report.write_rejects()
    return report
