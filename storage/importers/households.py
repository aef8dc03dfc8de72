"""`loa import households`: the commune list into the register, all-or-nothing by default."""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, distinct, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from messages.text import fold
from storage import audit
from storage.importers.household_rows import HouseholdRow, RowChecker, read_household_rows
from storage.importers.places import CommuneIndex, VillageBook
from storage.importers.report import ImportReport
from storage.importers.sheets import read_rows
from storage.importers.tx import all_or_nothing
from storage.models import CONTACT_PHONE, Contact, Household, HouseholdDeprivation
from storage.models.households import BASIS_REGISTER

BATCH = 2000
Progress = Callable[[str, int, int | None], None]  # phase, done, total
# Plain tables: executemany without RETURNING. (The ORM's bulk insert with RETURNING falls back
# to one statement per row on SQLite, which made a 400,000-row import take minutes.)
HOUSEHOLDS, CONTACTS = cast(Table, Household.__table__), cast(Table, Contact.__table__)
DEPRIVATIONS = cast(Table, HouseholdDeprivation.__table__)
# The household columns a list row sets, named as on HouseholdRow (village_id is resolved).
_FROM_ROW = (
    "head_name",
    "commune_code",
    "category",
    "recognized_on",
    "ethnicity",
    "ethnic_minority",
    "woman_head",
    "group_no",
    "members",
    "note",
)
_STORED = (*_FROM_ROW, "village_id")


def _values(row: HouseholdRow, village_id: int | None) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _FROM_ROW}
    values["village_id"] = village_id
    return values


def _wanted(row: HouseholdRow, values: dict[str, Any]) -> dict[str, Any]:
    """The full state the row asks for, as the audit compares it."""
    return {**values, "phones": list(row.phones), "deprivations": list(row.deprivations)}


async def _current(session: AsyncSession, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored state of the households with these codes, phones and indicators included."""
    columns = [Household.id, Household.code, *(getattr(Household, k) for k in _STORED)]
    found: dict[str, dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for row in await session.execute(select(*columns).where(Household.code.in_(codes))):
        state = {**row._mapping, "phones": [], "phone_ids": {}, "deprivations": []}
        found[state["code"]] = by_id[state["id"]] = state
    if not by_id:
        return found
    phones = (
        select(Contact.household_id, Contact.address, Contact.id)
        .where(Contact.household_id.in_(by_id), Contact.kind == CONTACT_PHONE)
        .order_by(Contact.household_id, Contact.position)
    )
    for household_id, address, contact_id in await session.execute(phones):
        by_id[household_id]["phones"].append(address)
        by_id[household_id]["phone_ids"][address] = contact_id
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
            old = current.get(row.code)
            if old is None:
                created.append((row, values))
            elif changes := audit.diff(old, _wanted(row, values)):
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
        await self.session.execute(
            insert(HOUSEHOLDS),
            [
                {**values, "code": row.code, "name_key": fold(row.head_name), **stamps}
                for row, values in created
            ],
        )
        codes = [row.code for row, _v in created]
        ids = dict(
            (
                await self.session.execute(
                    select(Household.code, Household.id).where(Household.code.in_(codes))
                )
            ).all()
        )
        await self._insert(
            CONTACTS,
            [phone for row, _v in created for phone in self._phone_rows(ids[row.code], row.phones)],
        )
        await self._add_needs([(ids[row.code], row.deprivations) for row, _v in created])
        # A creation is recorded as the event (who, when, which file); its values are the row
        # itself, and every later change is recorded as a diff.
        await self._audit("create", [(row.code, {}) for row, _v in created])
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
                {**values, "name_key": fold(row.head_name), "updated_at": self.now}
                for row, values, _c in changed
            ],
        )
        with_phones = [(row, values) for row, values, changes in changed if "phones" in changes]
        await self._replace_phones(with_phones, current)
        needs = [(v["id"], row.deprivations) for row, v, c in changed if "deprivations" in c]
        if needs:
            await self.session.execute(
                delete(HouseholdDeprivation).where(
                    HouseholdDeprivation.household_id.in_([hid for hid, _codes in needs])
                )
            )
            await self._add_needs(needs)
        await self._audit("update", [(row.code, changes) for row, _v, changes in changed])
        self.report.counts["updated"] += len(changed)

    async def _replace_phones(
        self, changed: list[tuple[HouseholdRow, dict[str, Any]]], current: dict[str, dict[str, Any]]
    ) -> None:
        """Keep contacts that stay (their ids matter to later history), drop the rest."""
        gone: list[int] = []
        moved: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        for row, values in changed:
            ids: dict[str, int] = current[row.code]["phone_ids"]
            gone += [contact_id for phone, contact_id in ids.items() if phone not in row.phones]
            moved += [
                {"id": ids[phone], "position": position}
                for position, phone in enumerate(row.phones)
                if phone in ids
            ]
            added += self._phone_rows(values["id"], row.phones, skip=ids)
        if gone:
            await self.session.execute(delete(Contact).where(Contact.id.in_(gone)))
        if moved:
            await self.session.execute(update(Contact), moved)
        await self._insert(CONTACTS, added)

    def _phone_rows(
        self, household_id: int, phones: tuple[str, ...], skip: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        return [
            {
                "household_id": household_id,
                "kind": CONTACT_PHONE,
                "address": phone,
                "position": position,
                "shared": False,
                "created_at": self.now,
                "basis": BASIS_REGISTER,
                "basis_at": self.now,
            }
            for position, phone in enumerate(phones)
            if phone not in skip
        ]

    async def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(table), rows)

    async def _add_needs(self, items: list[tuple[int, tuple[str, ...]]]) -> None:
        await self._insert(
            DEPRIVATIONS,
            [{"household_id": hid, "indicator": code} for hid, codes in items for code in codes],
        )

    async def _audit(self, action: str, changes: list[tuple[str, dict[str, Any]]]) -> None:
        await audit.record(
            self.session,
            (
                audit.entry(
                    actor=self.actor,
                    at=self.now,
                    action=action,
                    entity="households",
                    key=code,
                    changes=change,
                )
                for code, change in changes
            ),
        )


async def flag_shared_phones(session: AsyncSession, phones: set[str]) -> int:
    """Set `shared` on these phone contacts where another household has the same number;
    returns how many numbers in the store are shared."""
    # A GROUP BY per chunk and two narrow UPDATEs, rather than a correlated EXISTS: the
    # planner's statistics predate the rows this import just wrote, and PostgreSQL then
    # scanned the table once per contact.
    is_phone = Contact.kind == CONTACT_PHONE
    ordered = sorted(phones)
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start : start + BATCH]
        shared = set(
            await session.scalars(
                select(Contact.address)
                .where(is_phone, Contact.address.in_(chunk))
                .group_by(Contact.address)
                .having(func.count(distinct(Contact.household_id)) > 1)
            )
        )
        alone = [phone for phone in chunk if phone not in shared]
        for numbers, flag in ((sorted(shared), True), (alone, False)):
            if numbers:
                await session.execute(
                    update(Contact)
                    .where(is_phone, Contact.address.in_(numbers), Contact.shared.is_not(flag))
                    .values(shared=flag),
                    execution_options={"synchronize_session": False},
                )
    count = await session.scalar(
        select(func.count(distinct(Contact.address))).where(is_phone, Contact.shared.is_(True))
    )
    return int(count or 0)


def _reading_tick(progress: Progress | None) -> Callable[[int], None]:
    def tick(rows_read: int) -> None:
        if rows_read % 20_000 == 0:
            gc.freeze()
        if progress:
            progress("read", rows_read, None)

    return tick


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
    # The checked rows live until the end: frozen, the cyclic collector stops rescanning them on
    # every collection (without this a 400,000-row import spent most of its time in the GC).
    try:
        rows = read_household_rows(path, checker, read_rows(path), _reading_tick(progress))
        gc.freeze()
        return await _write_all(
            session,
            rows,
            report,
            communes,
            actor=actor,
            now=now,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            progress=progress,
        )
    finally:
        gc.unfreeze()


async def _write_all(
    session: AsyncSession,
    rows: list[HouseholdRow],
    report: ImportReport,
    communes: CommuneIndex,
    *,
    actor: audit.Actor,
    now: datetime,
    dry_run: bool,
    skip_invalid: bool,
    progress: Progress | None,
) -> ImportReport:
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
