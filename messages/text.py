"""Text keys for matching what people type: accent-, case- and spacing-insensitive. Pure."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ carry no combining mark, so NFD leaves them alone: map them by hand.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def strip_accents(text: str) -> str:
    """Vietnamese without diacritics ("không dấu"): Nguyễn Văn Đức -> Nguyen Van Duc."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """A matching key: no accents, lower case, single spaces, trimmed."""
    return _SPACES.sub(" ", strip_accents(text).casefold()).strip()


def nfc(text: str) -> str:
    """Text in composed form with spacing tidied, as it is stored."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
