"""Resolving the commune and village a list names: codes, names, and old (merged) communes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.render import _
from messages.text import fold, nfc
from storage.importers.cells import CellError
from storage.models import Commune, CommuneAlias, Village

_UNIT_PREFIXES = ("xa ", "phuong ", "thi tran ", "dac khu ")


def _name_keys(name: str) -> set[str]:
    key = fold(name)
    keys = {key}
    for prefix in _UNIT_PREFIXES:
        if key.startswith(prefix):
            keys.add(key.removeprefix(prefix).strip())
    return keys


@dataclass
class CommuneIndex:
    """Every commune by code, old code and (folded) name, old names included."""

    codes: set[str] = field(default_factory=set)
    old_codes: dict[str, str] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> CommuneIndex:
        """Read the communes and the merger mapping."""
        index = cls()
        for code, name in await session.execute(select(Commune.code, Commune.name)):
            index.codes.add(code)
            index.labels[code] = name
            for key in _name_keys(name):
                index.names[key].add(code)
        aliases = await session.execute(
            select(CommuneAlias.old_code, CommuneAlias.old_name, CommuneAlias.commune_code)
        )
        for old_code, old_name, code in aliases:
            if old_code:
                index.old_codes[old_code] = code
            for key in _name_keys(old_name) if old_name else ():
                index.names[key].add(code)
        return index

    def by_code(self, code: str) -> str:
        """The current commune for a code, old codes followed through the merger."""
        if code in self.codes:
            return code
        if code in self.old_codes:
            return self.old_codes[code]
        raise CellError(_("No commune has the code {code}.").format(code=code))

    def by_name(self, name: str) -> str:
        """The current commune for a name (accents and case ignored), old names included."""
        found: set[str] = set()
        for key in _name_keys(name):
            found |= self.names.get(key, set())
        if not found:
            raise CellError(_("No commune is called {name}.").format(name=name))
        if len(found) > 1:
            choices = ", ".join(f"{self.labels[c]} ({c})" for c in sorted(found))
            raise CellError(
                _(
                    "Several communes are called {name}: {choices}; write the commune code instead."
                ).format(name=name, choices=choices)
            )
        return found.pop()


@dataclass
class VillageBook:
    """The villages known so far, and the ones a file brings that are new."""

    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    created: list[str] = field(default_factory=list)

    @classmethod
    async def load(cls, session: AsyncSession) -> VillageBook:
        """Read the existing villages."""
        book = cls()
        rows = await session.execute(select(Village.id, Village.commune_code, Village.name_key))
        for village_id, commune, key in rows:
            book.ids[(commune, key)] = village_id
        counts = await session.execute(
            select(Village.commune_code, func.count()).group_by(Village.commune_code)
        )
        for commune, count in counts:
            book.counts[commune] = count
        return book

    async def resolve(
        self, session: AsyncSession, commune: str, name: str, commune_name: str
    ) -> int:
        """The id of the village, created under its commune when new."""
        key = fold(name)
        if (commune, key) in self.ids:
            return self.ids[(commune, key)]
        self.counts[commune] += 1
        code = f"{commune}-{self.counts[commune]:03d}"
        village_id = await session.scalar(
            insert(Village)
            .returning(Village.id)
            .values(code=code, commune_code=commune, name=nfc(name), name_key=key)
        )
        assert village_id is not None
        self.ids[(commune, key)] = village_id
        self.created.append(f"{nfc(name)} ({commune_name})")
        return village_id
