"""The outcome of an import: counts, problems, and the FILE.rejects.csv beside the file."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from messages.render import _
from storage.importers.errors import Problem


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or a refusal, would have done)."""

    path: Path
    counts: Counter[str] = field(default_factory=Counter)
    rejects: list[Problem] = field(default_factory=list)  # rows not imported
    dropped: list[Problem] = field(default_factory=list)  # values dropped, row imported
    new_villages: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    applied: bool = False  # the changes are in the store

    @property
    def rejected_rows(self) -> int:
        """How many rows were refused."""
        return len({problem.row for problem in self.rejects})

    @property
    def rejects_path(self) -> Path:
        """Where the rejected rows are written: FILE.rejects.csv."""
        return self.path.with_name(self.path.name + ".rejects.csv")

    def write_rejects(self) -> Path | None:
        """Write FILE.rejects.csv (row, column, value, reason), or remove a stale one."""
        problems = sorted(self.rejects + self.dropped, key=lambda p: (p.row, p.column))
        target = self.rejects_path
        if not problems:
            target.unlink(missing_ok=True)
            return None
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([_("Row"), _("Column"), _("Value"), _("Reason")])
            for problem in problems:
                writer.writerow([problem.row, problem.column, problem.value, problem.reason])
        return target
