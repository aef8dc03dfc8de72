"""Writing the audit log: every change, with who, when and from where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry

_AUDIT_TABLE = cast(Table, AuditEntry.__table__)

# Exact types, looked up in a set: isinstance() with `X | Y` builds a union on every call, and
# the audit of a 400,000-household import calls this millions of times.
_PLAIN = frozenset({str, int, float, bool})
_DATES = frozenset({date, datetime})
_SEQUENCES = frozenset({list, tuple, set, frozenset})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change and through what: a staff user, the CLI, an import file."""

    name: str  # staff username, "cli:<os user>" or "system"
    source: str  # "user", "cli", "import:<file name>"


def jsonable(value: Any) -> Any:
    """A value as the JSON column stores it (dates as ISO text)."""
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    if kind in _DATES:
        return value.isoformat()
    if kind in _SEQUENCES:
        return [jsonable(v) for v in value]
    return value


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as field -> [old, new]."""
    return {
        key: [jsonable(old.get(key)), jsonable(value)]
        for key, value in new.items()
        if old.get(key) != value
    }


def entry(
    *, actor: Actor, at: datetime, action: str, entity: str, key: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """One audit row, ready for a bulk insert."""
    return {
        "at": at,
        "actor": actor.name,
        "source": actor.source,
        "action": action,
        "entity": entity,
        "entity_key": key,
        "changes": changes,
    }


async def add(
    session: AsyncSession,
    *,
    actor: Actor,
    at: datetime,
    action: str,
    entity: str,
    key: str,
    changes: dict[str, Any],
) -> None:
    """Add one audit row."""
    await record(
        session, [entry(actor=actor, at=at, action=action, entity=entity, key=key, changes=changes)]
    )


async def record(session: AsyncSession, entries: Iterable[dict[str, Any]]) -> None:
    """Add audit rows in one statement (a plain executemany: imports add hundreds of thousands)."""
    rows = list(entries)
    if rows:
        await session.execute(insert(_AUDIT_TABLE), rows)
