"""`loa import areas`: provinces, legacy districts, communes and the 2025 merger mapping."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from messages.text import fold
from storage import audit
from storage.importers import cells
from storage.importers.errors import Problem
from storage.importers.report import ImportReport
from storage.importers.sheets import Cell, find_header, header_key, is_blank, read_rows
from storage.importers.tx import all_or_nothing
from storage.models import Commune, CommuneAlias, District, Province

FIELDS = {
    "province_code": "Mã tỉnh",
    "province_name": "Tên tỉnh",
    "district_code": "Mã huyện",
    "district_name": "Tên huyện",
    "commune_code": "Mã xã",
    "commune_name": "Tên xã",
    "old_codes": "Mã xã cũ",
    "old_names": "Tên xã cũ",
    "transaction_day": "Ngày giao dịch NHCSXH",
    "transaction_place": "Điểm giao dịch",
}
_EXTRA_TITLES = {
    "transaction_day": ["Ngày giao dịch", "Ngày giao dịch VBSP", "Ngày giao dịch tại xã"],
    "transaction_place": ["Điểm giao dịch xã", "Điểm giao dịch NHCSXH", "Nơi giao dịch"],
}
ALIASES = {header_key(title): name for name, title in FIELDS.items()} | {
    header_key(t): name for name, titles in _EXTRA_TITLES.items() for t in titles
}
REQUIRED = ["province_code", "province_name", "commune_code", "commune_name"]
# Optional commune columns: a file without the column leaves the stored value alone; with
# the column, an empty cell clears it.
TRANSACTION_FIELDS = ("transaction_day", "transaction_place")
PLACE_LIMIT = 200
_DAY_WORDS = re.compile(r"^(?:ngay\s*)?(\d{1,2})(?:\s*thang)?$")  # folded: ngay 15 (hang) thang


@dataclass(slots=True)
class AreaRow:
    """One commune line of the areas file."""

    row: int
    province: tuple[str, str]
    district: tuple[str, str] | None
    commune: tuple[str, str]
    old: list[tuple[str | None, str | None]]
    transaction: dict[str, int | str | None] = field(default_factory=dict)  # columns present


def _old_units(row: int, codes: str, names: str) -> list[tuple[str | None, str | None]]:
    code_list = [c.strip() for c in codes.split(";") if c.strip()]
    name_list = [n.strip() for n in names.split(";") if n.strip()]
    if code_list and name_list and len(code_list) != len(name_list):
        raise cells.CellError(_("The old codes and old names do not pair up one to one."))
    width = max(len(code_list), len(name_list))
    return [
        (code_list[i] if code_list else None, name_list[i] if name_list else None)
        for i in range(width)
    ]


def transaction_day(cell: Cell) -> int | None:
    """VBSP's day of the month at the commune: 15, "15", "ngày 15 hằng tháng"; None if empty."""
    value = cells.text(cell)
    if not value:
        return None
    match = _DAY_WORDS.match(fold(value).replace("hang thang", "thang"))
    if not match or not 1 <= int(match[1]) <= 31:
        raise cells.CellError(
            _("The transaction day is a day of the month: write a whole number from 1 to 31.")
        )
    return int(match[1])


def transaction_place(cell: Cell) -> str | None:
    """The commune's transaction point (điểm giao dịch); None if empty."""
    value = cells.text(cell)
    if len(value) > PLACE_LIMIT:
        raise cells.CellError(_("This text is longer than {n} characters.").format(n=PLACE_LIMIT))
    return value or None


def _transaction(
    number: int, values: dict[str, Cell], present: Collection[str], report: ImportReport
) -> dict[str, int | str | None] | None:
    """The transaction day and place the row sets (only columns the file has); None if bad."""
    found: dict[str, int | str | None] = {}
    parsers = {"transaction_day": transaction_day, "transaction_place": transaction_place}
    for name in TRANSACTION_FIELDS:
        if name not in present:
            continue
        try:
            found[name] = parsers[name](values.get(name))
        except cells.CellError as exc:
            report.rejects.append(
                Problem(number, FIELDS[name], cells.text(values.get(name)), str(exc))
            )
            return None
    return found


def _parse(
    number: int, values: dict[str, Cell], report: ImportReport, present: Collection[str] = ()
) -> AreaRow | None:
    got = {field: cells.text(values.get(field)) for field in FIELDS}
    missing = [FIELDS[f] for f in REQUIRED if not got[f]]
    for title in missing:
        report.rejects.append(Problem(number, title, "", _("This column is required.")))
    district = None
    if got["district_code"]:
        district = (got["district_code"], got["district_name"] or got["district_code"])
    try:
        old = _old_units(number, got["old_codes"], got["old_names"])
    except cells.CellError as exc:
        report.rejects.append(Problem(number, FIELDS["old_codes"], got["old_codes"], str(exc)))
        return None
    transaction = _transaction(number, values, present, report)
    if missing or transaction is None:
        return None
    return AreaRow(
        number,
        (got["province_code"], got["province_name"]),
        district,
        (got["commune_code"], got["commune_name"]),
        old,
        transaction,
    )


def read_area_rows(path: Path, report: ImportReport) -> list[AreaRow]:
    """Parse the areas file; problems go into the report."""
    rows = read_rows(path)
    header, rows = find_header(
        rows,
        path=path,
        aliases=ALIASES,
        required=[{f} for f in REQUIRED],
        required_titles=", ".join(FIELDS[f] for f in REQUIRED),
    )
    report.ignored_columns = header.ignored
    parsed: list[AreaRow] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=header.row_number + 1):
        if is_blank(raw):
            continue
        values = {field: raw[i] for i, field in header.columns.items() if i < len(raw)}
        area = _parse(number, values, report, set(header.titles))
        if area is None:
            continue
        code = area.commune[0]
        if code in seen:
            reason = _("The commune code appears twice in the file (rows {a} and {b}).").format(
                a=seen[code], b=number
            )
            report.rejects.append(Problem(number, FIELDS["commune_code"], code, reason))
            continue
        seen[code] = number
        parsed.append(area)
    return parsed


async def _upsert(
    session: AsyncSession,
    model: Any,
    key: str,
    values: dict[str, Any],
    *,
    actor: audit.Actor,
    now: datetime,
    report: ImportReport,
) -> None:
    current = await session.get(model, key)
    entity = model.__tablename__
    if current is None:
        session.add(model(code=key, **values))
        report.counts[f"{entity}_created"] += 1
        await audit.add(
            session,
            actor=actor,
            at=now,
            action="create",
            entity=entity,
            key=key,
            changes=audit.diff({}, values),
        )
        return
    changes = audit.diff({k: getattr(current, k) for k in values}, values)
    if changes:
        for name, value in values.items():
            setattr(current, name, value)
        report.counts[f"{entity}_updated"] += 1
        await audit.add(
            session, actor=actor, at=now, action="update", entity=entity, key=key, changes=changes
        )


async def _set_aliases(
    session: AsyncSession, area: AreaRow, *, actor: audit.Actor, now: datetime
) -> None:
    code = area.commune[0]
    wanted = {(c, n) for c, n in area.old}
    existing = (
        await session.scalars(select(CommuneAlias).where(CommuneAlias.commune_code == code))
    ).all()
    if {(a.old_code, a.old_name) for a in existing} == wanted:
        return
    await session.execute(delete(CommuneAlias).where(CommuneAlias.commune_code == code))
    old_codes = [c for c, _n in area.old if c]
    if old_codes:  # an old commune can only have merged into one new commune
        await session.execute(delete(CommuneAlias).where(CommuneAlias.old_code.in_(old_codes)))
    await session.flush()
    for old_code, old_name in area.old:
        session.add(
            CommuneAlias(
                commune_code=code,
                old_code=old_code,
                old_name=old_name,
                old_name_key=fold(old_name) if old_name else None,
            )
        )
    before = sorted(f"{a.old_code or ''} {a.old_name or ''}".strip() for a in existing)
    after = sorted(f"{c or ''} {n or ''}".strip() for c, n in area.old)
    await audit.add(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="commune_aliases",
        key=code,
        changes={"old_communes": [before, after]},
    )


async def apply_areas(
    session: AsyncSession,
    areas: list[AreaRow],
    *,
    actor: audit.Actor,
    now: datetime,
    report: ImportReport,
) -> None:
    """Create or update every unit of the parsed file, in the caller's transaction."""
    for area in areas:
        province_code, province_name = area.province
        await _upsert(
            session,
            Province,
            province_code,
            {"name": province_name},
            actor=actor,
            now=now,
            report=report,
        )
        district_code = None
        if area.district:
            district_code = area.district[0]
            await _upsert(
                session,
                District,
                district_code,
                {"name": area.district[1], "province_code": province_code},
                actor=actor,
                now=now,
                report=report,
            )
        await session.flush()
        commune_code, commune_name = area.commune
        await _upsert(
            session,
            Commune,
            commune_code,
            {
                "name": commune_name,
                "name_key": fold(commune_name),
                "province_code": province_code,
                "district_code": district_code,
                **area.transaction,
            },
            actor=actor,
            now=now,
            report=report,
        )
        await session.flush()
        await _set_aliases(session, area, actor=actor, now=now)


async def import_areas(
    session: AsyncSession, path: Path, *, actor: audit.Actor, now: datetime, dry_run: bool = False
) -> ImportReport:
    """Import an areas file all-or-nothing; re-import updates in place."""
    report = ImportReport(path)
    areas = read_area_rows(path, report)
    report.counts["rows"] = len(areas) + report.rejected_rows
    if report.rejects:
        report.write_rejects()
        return report
    async with all_or_nothing(session, report, dry_run=dry_run):
        await apply_areas(session, areas, actor=actor, now=now, report=report)
    report.write_rejects()
    return report
