"""What goes wrong with an import file: one Vietnamese sentence naming file, row and column."""

from __future__ import annotations

from dataclasses import dataclass


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One rejected value (or a dropped phone number) at a row the spreadsheet shows."""

    row: int
    column: str
    value: str
    reason: str
