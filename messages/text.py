"""Text keys for matching what people type: accent-, case- and spacing-insensitive. Pure."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_UNTIDY = re.compile(r"^\s|\s$|\s\s|[^\S ]")  # leading, trailing, doubled or non-space blanks


def _accent_table() -> dict[int, int | None]:
    """Every precomposed Latin letter to its base letter; combining marks to nothing."""
    table: dict[int, int | None] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    for code in range(0x00C0, 0x1F00):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = ord(base)
    for code in range(0x0300, 0x0370):  # combining diacritical marks (NFD input)
        table[code] = None
    return table


# đ/Đ carry no combining mark, so NFD would leave them alone: the table maps them by hand.
_ACCENTS = _accent_table()


def strip_accents(text: str) -> str:
    """Vietnamese without diacritics ("không dấu"): Nguyễn Văn Đức -> Nguyen Van Duc."""
    return text.translate(_ACCENTS)


def fold(text: str) -> str:
    """A matching key: no accents, lower case, single spaces, trimmed."""
    return _SPACES.sub(" ", text.translate(_ACCENTS).casefold()).strip()


def nfc(text: str) -> str:
    """Text in composed form with spacing tidied, as it is stored."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _UNTIDY.search(text):
        text = _SPACES.sub(" ", text).strip()
    return text


def lower_first(name: str) -> str:
    """A place name after a title, as in "UBND xã An Hiệp": its first letter in lower case."""
    return name[:1].lower() + name[1:]
