"""Finding households for the console and the API: search, filters, pages, in the user's scope.

A search matches the household code (from its start), the head's name (accent- and
case-insensitive, from the start of the name or of any later word) or a phone number
(normalised to E.164, exact). The code, the name's start and the phone come from B-tree
indexes (a prefix is the range `key >= q AND key < q + U+10FFFF`, which SQLite and PostgreSQL
both serve whatever the collation). A later word of the name cannot use an index: it is one
literal `instr`/`strpos` pass over the households the scope and filters leave, and only for a
text with letters (codes and phones have none). Filters over contacts are computed once as a
set, not probed household by household.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    String,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from messages.phones import InvalidPhone, normalize_phone
from messages.text import fold
from storage.audience_query import CHANNEL_KINDS
from storage.models import Commune, Contact, Household, Unreachable, Village
from storage.models.households import CONTACT_PHONE
from storage.scope import Scope, communes_in

Condition = ColumnElement[bool]
LAST = "\U0010ffff"  # the greatest code point: `q + LAST` bounds every string starting with q
FEW_COMMUNES = 30  # above this, contact filters read the contacts once instead of probing
_PHONE_LIKE = re.compile(r"[\d\s+().\-]{8,}")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the household list asks for; empty values do not filter."""

    q: str = ""
    commune: str | None = None
    village_id: int | None = None
    category: str | None = None
    unreachable: bool = False  # no contact any channel can use
    opted_out: bool = False  # a contact asked Loa to stop


@dataclass(frozen=True, slots=True)
class Row:
    """A household as the list shows it."""

    id: int
    code: str
    head_name: str
    commune_code: str
    commune_name: str
    village_id: int | None
    village: str | None
    category: str
    phones: list[str] = field(default_factory=list)  # E.164, in the household's order
    unreachable: bool = False
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """A commune or village offered as a filter."""

    key: str  # commune code, or village id as text
    name: str


class _Position(FunctionElement[int]):
    """Where a text first occurs in a column (1-based; 0: nowhere), literally: no wildcards."""

    inherit_cache = True
    type = Integer()


@compiles(_Position)
def _instr(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_Position, "postgresql")
def _strpos(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def contains(column: SQLColumnExpression[str], text: str) -> Condition:
    """`column` contains `text` (a scan: keep it to rows the other conditions leave)."""
    return _Position(column, literal(text, String)) > 0


def starts_with(column: SQLColumnExpression[str], text: str) -> Condition:
    """`column` starts with `text`: a B-tree range, checked exactly (whatever the collation)."""
    return and_(column >= text, column < text + LAST, func.substr(column, 1, len(text)) == text)


def phone_of(text: str) -> str | None:
    """The E.164 number a search text spells, if it looks like one and is valid."""
    if not _PHONE_LIKE.fullmatch(text.strip()):
        return None
    try:
        return normalize_phone(text)
    except InvalidPhone:
        return None


def text_condition(q: str) -> Condition | None:
    """Households whose code, head's name or phone matches the search text.

    The code's start, the name's start and the phone come from indexes; a name's later word
    (only for a text with letters: codes and phones have none worth a scan) is a scan.
    """
    q = q.strip()
    if not q:
        return None
    indexed = [select(Household.id).where(starts_with(Household.code, q))]
    if q.upper() != q:
        indexed.append(select(Household.id).where(starts_with(Household.code, q.upper())))
    key = fold(q)
    words = any(c.isalpha() for c in key)
    if words:
        indexed.append(select(Household.id).where(starts_with(Household.name_key, key)))
    if phone := phone_of(q):
        indexed.append(
            select(Contact.household_id).where(
                Contact.kind == CONTACT_PHONE, Contact.address == phone
            )
        )
    found = Household.id.in_(union_all(*indexed))
    return or_(found, contains(Household.name_key, " " + key)) if words else found


def _channels_by_kind() -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for name, kind in CHANNEL_KINDS.items():
        by_kind.setdefault(kind, []).append(name)
    return by_kind


def _usable() -> Condition:
    """A contact some channel can use, as broadcasts decide (`storage.audiences`): not opted
    out, not shared, and not unreachable on every channel of its kind.

    The unreachable contacts of each kind are a small set read from `unreachable` alone; an
    OR of `kind = ...` terms here would tempt SQLite into reading every contact by index.
    """
    dead = [
        and_(
            Contact.kind == kind,
            Contact.id.in_(
                select(Unreachable.contact_id)
                .where(Unreachable.channel.in_(names))
                .group_by(Unreachable.contact_id)
                .having(func.count() == len(names))
            ),
        )
        for kind, names in _channels_by_kind().items()
    ]
    return and_(Contact.opted_out_at.is_(None), Contact.shared.is_(False), ~or_(*dead))


def reachable() -> Condition:
    """The household has a usable contact (one index probe a household)."""
    return exists().where(Contact.household_id == Household.id, _usable())


def unreachable(*, wide: bool = False) -> Condition:
    """No contact of the household is usable. In a few communes, probed household by
    household; over a province or more, the usable contacts' households read once."""
    if wide:
        return Household.id.not_in(select(Contact.household_id).where(_usable()))
    return ~reachable()


def opted_out(*, wide: bool = False) -> Condition:
    """A contact of the household has opted out (probed, or read once over a wide scope)."""
    if wide:
        out = select(Contact.household_id).where(Contact.opted_out_at.is_not(None))
        return Household.id.in_(out)
    return exists().where(Contact.household_id == Household.id, Contact.opted_out_at.is_not(None))


def conditions(scope: Scope, filters: Filters) -> list[Condition]:
    """The WHERE conditions on `households` for a scope and filters."""
    found: list[Condition] = [scope.households()]
    wide = not filters.commune and (scope.communes is None or len(scope.communes) > FEW_COMMUNES)
    if filters.commune:
        found.append(Household.commune_code == filters.commune)
    if filters.village_id is not None:
        found.append(Household.village_id == filters.village_id)
    if filters.category:
        found.append(Household.category == filters.category)
    if filters.unreachable:
        found.append(unreachable(wide=wide))
    if filters.opted_out:
        found.append(opted_out(wide=wide))
    if (text := text_condition(filters.q)) is not None:
        found.append(text)
    return found


async def search(
    session: AsyncSession, *, scope: Scope, filters: Filters, limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of the households matching, by code, and how many match in all."""
    where = conditions(scope, filters)
    total = await session.scalar(select(func.count()).select_from(Household).where(*where))
    query = (
        select(
            Household.id,
            Household.code,
            Household.head_name,
            Household.commune_code,
            Commune.name,
            Household.village_id,
            Village.name,
            Household.category,
        )
        .join(Commune, Commune.code == Household.commune_code)
        .outerjoin(Village, Village.id == Household.village_id)
        .where(*where)
        .order_by(Household.code)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    contacts = await _contacts(session, [r[0] for r in rows])
    found = []
    for i, code, name, commune_code, commune, village_id, village, category in rows:
        phones, usable, out = contacts.get(i, ([], False, False))
        place = (commune_code, commune, village_id, village)
        found.append(Row(i, code, name, *place, category, phones, not usable, out))
    return found, int(total or 0)


async def _contacts(
    session: AsyncSession, ids: list[int]
) -> dict[int, tuple[list[str], bool, bool]]:
    """For a page of households: phones (in order), whether any contact is usable, whether
    any opted out. Asked once for the page: a flag column per row would lead PostgreSQL to
    hash every contact of the register."""
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Contact.household_id,
            Contact.kind,
            Contact.address,
            _usable(),
            Contact.opted_out_at.is_not(None),
        )
        .where(Contact.household_id.in_(ids))
        .order_by(Contact.household_id, Contact.position, Contact.id)
    )
    found: dict[int, tuple[list[str], bool, bool]] = {}
    for household_id, kind, address, usable, out in rows:
        phones, any_usable, any_out = found.get(household_id, ([], False, False))
        if kind == CONTACT_PHONE:
            phones.append(address)
        found[household_id] = (phones, any_usable or bool(usable), any_out or bool(out))
    return found


async def communes(session: AsyncSession, *, scope: Scope) -> list[Place]:
    """The communes in the scope, by name."""
    return [Place(code, name) for code, name in await communes_in(session, scope=scope)]


async def commune_name(session: AsyncSession, *, scope: Scope, code: str) -> str | None:
    """A commune's name if it exists and lies in the scope."""
    if not scope.allows(code):
        return None
    name = await session.scalar(select(Commune.name).where(Commune.code == code))
    return str(name) if name is not None else None


async def villages(session: AsyncSession, *, scope: Scope, commune: str) -> list[Place]:
    """The villages of a commune in the scope, by name."""
    if not scope.allows(commune):
        return []
    rows = await session.execute(
        select(Village.id, Village.name)
        .where(Village.commune_code == commune)
        .order_by(Village.name_key)
    )
    return [Place(str(i), name) for i, name in rows]


async def village_commune(session: AsyncSession, *, scope: Scope, village_id: int) -> str | None:
    """The commune of a village in the scope, or None (unknown or outside the scope)."""
    code = await session.scalar(select(Village.commune_code).where(Village.id == village_id))
    return str(code) if code is not None and scope.allows(code) else None


async def household_id(session: AsyncSession, *, scope: Scope, code: str) -> int | None:
    """The id of the household with this code, if it lies in the scope."""
    found = await session.scalar(
        select(Household.id).where(Household.code == code, scope.households())
    )
    return int(found) if found is not None else None
