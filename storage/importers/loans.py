"""`loa import loans` and `loa import repayments`: VBSP's lists into the store, all-or-nothing.

A loan list creates or updates loans (household, programme, disbursement day) and their
instalments (loan, due day). A re-import updates amounts, the group and its head's phone (left
alone when the file has no column for them), and the principal and interest of instalments
already stored; it never touches a payment, and it does not delete instalments (or loans) that
the new file no longer lists.

A repayment list marks instalments paid: each row finds the instalment of its household and
programme due on its day (when two loans of the programme have one that day, the loan disbursed
first takes the first payment). Importing the same list again changes nothing.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from storage import audit
from storage.importers.errors import Problem
from storage.importers.loan_rows import (
    LOAN_TITLES,
    REPAYMENT_TITLES,
    LoanRow,
    LoanRowChecker,
    RepaymentRow,
    RepaymentRowChecker,
    read_loan_rows,
    read_repayment_rows,
)
from storage.importers.report import ImportReport
from storage.importers.sheets import read_rows
from storage.importers.tx import all_or_nothing
from storage.models import Household, Instalment, Loan
from storage.vocab import LOAN_PROGRAMME_NAMES

BATCH = 2000  # households per lookup, instalments per write
LOAN_BATCH = 500  # loans compared against the store at a time
Progress = Callable[[str, int, int | None], None]  # phase, done, total
# Plain tables: executemany without RETURNING (see households.py).
LOANS, INSTALMENTS = cast(Table, Loan.__table__), cast(Table, Instalment.__table__)
_LOAN_FIELDS = ("amount", "group_name", "group_head_phone")
_PAYMENT_COUNTS = ("paid", "corrected", "unchanged")
# Instalment updates by id as a plain executemany (the ORM's bulk update costs twice as much).
_SET_AMOUNTS = (
    update(INSTALMENTS)
    .where(INSTALMENTS.c.id == bindparam("b_id"))
    .values(
        principal=bindparam("b_principal"),
        interest=bindparam("b_interest"),
        updated_at=bindparam("b_at"),
    )
)
_SET_PAID = (
    update(INSTALMENTS)
    .where(INSTALMENTS.c.id == bindparam("b_id"))
    .values(
        paid_on=bindparam("b_paid_on"),
        paid_amount=bindparam("b_paid"),
        updated_at=bindparam("b_at"),
    )
)
R = TypeVar("R", LoanRow, RepaymentRow)


def loan_key(code: str, programme: str, disbursed_on: date) -> str:
    """How the audit names a loan: household code / programme / disbursement day."""
    return f"{code}/{programme}/{disbursed_on.isoformat()}"


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reading_tick(progress: Progress | None) -> Callable[[int], None]:
    def tick(rows_read: int) -> None:
        if rows_read % 20_000 == 0:
            gc.freeze()  # the checked rows live to the end: keep the collector off them
        if progress:
            progress("read", rows_read, None)

    return tick


async def household_ids(session: AsyncSession, codes: Iterable[str]) -> dict[str, int]:
    """The ids of the households with these codes (unknown codes are left out)."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = await session.execute(
            select(Household.code, Household.id).where(Household.code.in_(chunk))
        )
        found.update((code, household_id) for code, household_id in rows)
    return found


def _known(rows: list[R], ids: dict[str, int], report: ImportReport, title: str) -> list[R]:
    """The rows whose household exists; the others are rejected."""
    kept: list[R] = []
    for line in rows:
        if line.household in ids:
            kept.append(line)
        else:
            reason = _("No household has the code {code}.").format(code=line.household)
            report.rejects.append(Problem(line.row, title, line.household, reason))
    return kept


# --- loans -------------------------------------------------------------------------------


@dataclass(slots=True)
class LoanPlan:
    """One loan as the file describes it, with its instalments by due day."""

    household_id: int
    code: str
    programme: str
    disbursed_on: date
    amount: int
    group_name: str | None
    group_head_phone: str | None
    instalments: dict[date, tuple[int, int]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, date]:
        """The loan's unique key in the store."""
        return (self.household_id, self.programme, self.disbursed_on)

    def wanted(self, fields: Sequence[str] = _LOAN_FIELDS) -> dict[str, Any]:
        """The loan's own fields as the file gives them."""
        return {name: getattr(self, name) for name in fields}


def plan_loans(rows: Iterable[LoanRow], ids: dict[str, int]) -> list[LoanPlan]:
    """The checked rows gathered into loans (rows of one loan agree: see read_loan_rows)."""
    plans: dict[tuple[str, str, date], LoanPlan] = {}
    for line in rows:
        plan = plans.get(line.loan_key)
        if plan is None:
            plan = plans[line.loan_key] = LoanPlan(
                ids[line.household],
                line.household,
                line.programme,
                line.disbursed_on,
                line.amount,
                line.group_name,
                line.group_head_phone,
            )
        plan.group_name = plan.group_name or line.group_name
        plan.group_head_phone = plan.group_head_phone or line.group_head_phone
        plan.instalments[line.due_on] = (line.principal, line.interest)
    return list(plans.values())


class LoanWriter:
    """Writes loans and instalments in batches inside the caller's transaction, with the audit."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        actor: audit.Actor,
        now: datetime,
        report: ImportReport,
        source: str,
        fields: Sequence[str] = _LOAN_FIELDS,
    ) -> None:
        self.session, self.actor, self.now, self.report = session, actor, now, report
        self.source = source
        self.fields = fields  # what a re-import compares and updates: the file's columns
        self.new_instalments: list[dict[str, Any]] = []
        self.changed_instalments: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []

    async def write(self, plans: Sequence[LoanPlan]) -> None:
        """Create, update or leave alone each loan of one batch, and its instalments."""
        stored = await self._stored_loans({p.household_id for p in plans})
        created = [p for p in plans if p.key not in stored]
        ids = await self._create(created)
        old = [p for p in plans if p.key in stored]
        schedules = await self._schedules([stored[p.key]["id"] for p in old])
        for plan in created:
            self._add_instalments(ids[plan.key], plan.instalments.items())
        changed: list[dict[str, Any]] = []
        for plan in old:
            state = stored[plan.key]
            changes = audit.diff(state, plan.wanted(self.fields))
            changes |= self._compare(state["id"], plan, schedules.get(state["id"], {}))
            if changes:
                changed.append({**plan.wanted(self.fields), "id": state["id"]})
                self._audit("update", plan, changes)
            else:
                self.report.counts["loans_unchanged"] += 1
        if changed:
            stamps = {"source_name": self.source, "updated_at": self.now}
            await self.session.execute(update(Loan), [{**c, **stamps} for c in changed])
            self.report.counts["loans_updated"] += len(changed)
        await self._flush()

    async def _stored_loans(self, households: set[int]) -> dict[tuple[int, str, date], Any]:
        columns = (Loan.id, Loan.household_id, Loan.programme, Loan.disbursed_on)
        query = select(*columns, *(getattr(Loan, name) for name in _LOAN_FIELDS)).where(
            Loan.household_id.in_(households)
        )
        return {
            (row.household_id, row.programme, row.disbursed_on): dict(row._mapping)
            for row in await self.session.execute(query)
        }

    async def _create(self, created: list[LoanPlan]) -> dict[tuple[int, str, date], int]:
        if not created:
            return {}
        stamps = {"source_name": self.source, "created_at": self.now, "updated_at": self.now}
        await self.session.execute(
            insert(LOANS),
            [
                {
                    "household_id": plan.household_id,
                    "programme": plan.programme,
                    "disbursed_on": plan.disbursed_on,
                    **plan.wanted(),
                    **stamps,
                }
                for plan in created
            ],
        )
        stored = await self._stored_loans({plan.household_id for plan in created})
        for plan in created:
            self._audit("create", plan, {})
        self.report.counts["loans_created"] += len(created)
        return {key: state["id"] for key, state in stored.items()}

    async def _schedules(self, loan_ids: list[int]) -> dict[int, dict[date, tuple[int, int, int]]]:
        """The stored instalments of these loans: loan -> due day -> (id, principal, interest)."""
        found: dict[int, dict[date, tuple[int, int, int]]] = defaultdict(dict)
        for chunk in _chunks(loan_ids):
            rows = await self.session.execute(
                select(
                    Instalment.loan_id,
                    Instalment.due_on,
                    Instalment.id,
                    Instalment.principal,
                    Instalment.interest,
                ).where(Instalment.loan_id.in_(chunk))
            )
            for loan_id, due_on, instalment_id, principal, interest in rows:
                found[loan_id][due_on] = (instalment_id, principal, interest)
        return found

    def _compare(
        self, loan_id: int, plan: LoanPlan, stored: dict[date, tuple[int, int, int]]
    ) -> dict[str, list[Any]]:
        """Queue the instalments that are new or changed; their changes, for the loan's audit."""
        changes: dict[str, list[Any]] = {}
        new: list[tuple[date, tuple[int, int]]] = []
        for due_on, amounts in plan.instalments.items():
            old = stored.get(due_on)
            if old is None:
                new.append((due_on, amounts))
                changes[f"instalment {due_on.isoformat()}"] = [None, list(amounts)]
            elif old[1:] != amounts:
                principal, interest = amounts
                self.changed_instalments.append(
                    {
                        "b_id": old[0],
                        "b_principal": principal,
                        "b_interest": interest,
                        "b_at": self.now,
                    }
                )
                changes[f"instalment {due_on.isoformat()}"] = [list(old[1:]), list(amounts)]
            else:
                self.report.counts["instalments_unchanged"] += 1
        self._add_instalments(loan_id, new)
        return changes

    def _add_instalments(self, loan_id: int, items: Iterable[tuple[date, tuple[int, int]]]) -> None:
        for due_on, (principal, interest) in items:
            self.new_instalments.append(
                {
                    "loan_id": loan_id,
                    "due_on": due_on,
                    "principal": principal,
                    "interest": interest,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )

    def _audit(self, action: str, plan: LoanPlan, changes: dict[str, Any]) -> None:
        # A creation is recorded as the event (who, when, which file); a change as its diff.
        self.audit.append(
            audit.entry(
                actor=self.actor,
                at=self.now,
                action=action,
                entity="loans",
                key=loan_key(plan.code, plan.programme, plan.disbursed_on),
                changes=changes,
            )
        )

    async def _flush(self) -> None:
        for chunk in _chunks(self.new_instalments):
            await self.session.execute(insert(INSTALMENTS), list(chunk))
        for chunk in _chunks(self.changed_instalments):
            await self.session.execute(_SET_AMOUNTS, list(chunk))
        await audit.record(self.session, self.audit)
        self.report.counts["instalments_created"] += len(self.new_instalments)
        self.report.counts["instalments_updated"] += len(self.changed_instalments)
        self.new_instalments, self.changed_instalments, self.audit = [], [], []


async def import_loans(
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
    """Import a VBSP loan list (one row per instalment); one rejected row stops it all unless
    skip_invalid. Counts: rows, loans_created/updated/unchanged,
    instalments_created/updated/unchanged."""
    report = ImportReport(path)
    checker = LoanRowChecker(report, today)
    try:
        rows = read_loan_rows(path, checker, read_rows(path), _reading_tick(progress))
        gc.freeze()
        ids = await household_ids(session, (line.household for line in rows))
        rows = _known(rows, ids, report, LOAN_TITLES["household"])
        await session.rollback()  # end the read-only transaction of the lookups
        report.counts["rows"] = len(rows) + report.rejected_rows
        if report.rejects and not skip_invalid:
            report.write_rejects()
            return report
        plans = plan_loans(rows, ids)
        async with all_or_nothing(session, report, dry_run=dry_run):
            # A file without the group columns leaves the stored group and head alone.
            fields = [f for f in _LOAN_FIELDS if f == "amount" or f in checker.present]
            writer = LoanWriter(
                session, actor=actor, now=now, report=report, source=path.name, fields=fields
            )
            done = 0
            for batch in _chunks(plans, LOAN_BATCH):
                await writer.write(batch)
                done += len(batch)
                if progress:
                    progress("write", done, len(plans))
        report.write_rejects()
        return report
    finally:
        gc.unfreeze()


# --- repayments --------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """A stored instalment a payment row may be for."""

    id: int
    loan: str  # the loan's audit key
    due_on: date
    paid_on: date | None
    paid_amount: int | None
    taken: bool = False


@dataclass(slots=True)
class Payment:
    """A payment matched to its instalment: new, a correction, or already recorded."""

    row: int
    instalment_id: int
    key: str  # the instalment's audit key
    old: tuple[date | None, int | None]
    new: tuple[date, int]


async def _candidates(
    session: AsyncSession, households: Sequence[int]
) -> dict[tuple[int, str, date], list[_Candidate]]:
    """The instalments of these households by (household, programme, due day), earliest
    disbursed loan first."""
    query = (
        select(
            Loan.household_id,
            Loan.programme,
            Loan.disbursed_on,
            Household.code,
            Instalment.id,
            Instalment.due_on,
            Instalment.paid_on,
            Instalment.paid_amount,
        )
        .join(Instalment, Instalment.loan_id == Loan.id)
        .join(Household, Household.id == Loan.household_id)
        .where(Loan.household_id.in_(households))
        .order_by(Loan.disbursed_on, Loan.id)
    )
    found: dict[tuple[int, str, date], list[_Candidate]] = defaultdict(list)
    for hid, programme, disbursed, code, iid, due, paid_on, paid in await session.execute(query):
        found[(hid, programme, due)].append(
            _Candidate(iid, loan_key(code, programme, disbursed), due, paid_on, paid)
        )
    return found


def _settle(
    lines: list[RepaymentRow], candidates: list[_Candidate], report: ImportReport
) -> list[Payment]:
    """Match the rows for one (household, programme, due day) to its instalments: a payment
    already recorded first, then unpaid instalments, then paid ones (a correction)."""
    payments: list[Payment] = []
    waiting: list[RepaymentRow] = []
    for line in lines:
        same = next(
            (
                c
                for c in candidates
                if not c.taken and (c.paid_on, c.paid_amount) == (line.paid_on, line.amount)
            ),
            None,
        )
        if same is None:
            waiting.append(line)
        else:
            same.taken = True
            report.counts["unchanged"] += 1
    for line in waiting:
        free = [c for c in candidates if not c.taken]
        chosen = next((c for c in free if c.paid_on is None), free[0] if free else None)
        if chosen is None:
            report.rejects.append(_no_instalment(line, bool(candidates)))
            continue
        chosen.taken = True
        report.counts["paid" if chosen.paid_on is None else "corrected"] += 1
        payments.append(
            Payment(
                line.row,
                chosen.id,
                f"{chosen.loan}/{chosen.due_on.isoformat()}",
                (chosen.paid_on, chosen.paid_amount),
                (line.paid_on, line.amount),
            )
        )
    return payments


def _no_instalment(line: RepaymentRow, exists: bool) -> Problem:
    names = {"code": line.household, "programme": LOAN_PROGRAMME_NAMES[line.programme]}
    if exists:
        reason = _(
            "Every instalment of household {code} ({programme}) due on this day is already "
            "paid by another row of the file."
        ).format(**names)
    else:
        reason = _(
            "Household {code} has no instalment of the programme {programme} due on this day."
        ).format(**names)
    return Problem(line.row, REPAYMENT_TITLES["due_on"], f"{line.due_on:%d/%m/%Y}", reason)


async def match_repayments(
    session: AsyncSession, rows: list[RepaymentRow], ids: dict[str, int], report: ImportReport
) -> list[Payment]:
    """Find each row's instalment (read only); rows without one are rejected."""
    by_household: dict[int, list[RepaymentRow]] = defaultdict(list)
    for line in rows:
        by_household[ids[line.household]].append(line)
    payments: list[Payment] = []
    for chunk in _chunks(list(by_household)):
        candidates = await _candidates(session, chunk)
        for household in chunk:
            groups: dict[tuple[str, date], list[RepaymentRow]] = defaultdict(list)
            for line in by_household[household]:
                groups[(line.programme, line.due_on)].append(line)
            for (programme, due_on), lines in groups.items():
                found = candidates.get((household, programme, due_on), [])
                payments += _settle(lines, found, report)
    return payments


async def _write_payments(
    session: AsyncSession, payments: list[Payment], *, actor: audit.Actor, now: datetime
) -> None:
    for chunk in _chunks(payments):
        await session.execute(
            _SET_PAID,
            [
                {"b_id": p.instalment_id, "b_paid_on": p.new[0], "b_paid": p.new[1], "b_at": now}
                for p in chunk
            ],
        )
        await audit.record(
            session,
            (
                audit.entry(
                    actor=actor,
                    at=now,
                    action="update",
                    entity="instalments",
                    key=p.key,
                    changes=audit.diff(
                        {"paid_on": p.old[0], "paid_amount": p.old[1]},
                        {"paid_on": p.new[0], "paid_amount": p.new[1]},
                    ),
                )
                for p in chunk
            ),
        )


async def import_repayments(
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
    """Import a VBSP repayment list: each row marks its instalment paid. One rejected row stops
    it all unless skip_invalid. Counts: rows, paid, corrected (a recorded payment with another
    day or amount), unchanged."""
    report = ImportReport(path)
    checker = RepaymentRowChecker(report, today)
    try:
        rows = read_repayment_rows(path, checker, read_rows(path), _reading_tick(progress))
        gc.freeze()
        ids = await household_ids(session, (line.household for line in rows))
        rows = _known(rows, ids, report, REPAYMENT_TITLES["household"])
        payments = await match_repayments(session, rows, ids, report)
        await session.rollback()  # end the read-only transaction of the lookups
        report.counts["rows"] = len({line.row for line in rows} | {p.row for p in report.rejects})
        if report.rejects and not skip_invalid:
            for name in _PAYMENT_COUNTS:  # nothing is written: nothing was paid
                report.counts.pop(name, None)
            report.write_rejects()
            return report
        async with all_or_nothing(session, report, dry_run=dry_run):
            await _write_payments(session, payments, actor=actor, now=now)
            if progress:
                progress("write", len(payments), len(payments))
        report.write_rejects()
        return report
    finally:
        gc.unfreeze()
