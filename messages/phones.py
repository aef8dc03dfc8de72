"""Vietnamese phone numbers as people type them, normalised to E.164. Pure."""

from __future__ import annotations

import re

import phonenumbers

# The 2018 move of 11-digit mobile numbers to 10 digits: old prefix (after the 0) -> new.
OLD_PREFIXES: dict[str, str] = {
    **{f"16{d}": f"3{d}" for d in "23456789"},  # Viettel 0162-0169 -> 032-039
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",  # MobiFone
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",  # VinaPhone
    "186": "56",
    "188": "58",  # Vietnamobile
    "199": "59",  # Gmobile
}
SEPARATORS = re.compile(r"[,;/\n\r]+")
_NOT_DIGIT = re.compile(r"[^\d]")


class InvalidPhone(ValueError):
    """The text is not a Vietnamese phone number that can be reached."""


def _national_digits(text: str) -> str:
    """The number as national digits without the leading 0 (9 or 10 digits), or raise."""
    digits = _NOT_DIGIT.sub("", text)
    if text.strip().startswith("+") or (digits.startswith("84") and len(digits) in (11, 12)):
        if not digits.startswith("84"):
            raise InvalidPhone(text)
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits


def normalize_phone(text: str) -> str:
    """E.164 (+84...) for a Vietnamese number in any usual spelling; old prefixes converted."""
    national = _national_digits(text)
    if len(national) == 10 and national[:3] in OLD_PREFIXES:
        national = OLD_PREFIXES[national[:3]] + national[3:]
    if len(national) not in (9, 10):  # mobiles have 9 digits after the 0, landlines 10
        raise InvalidPhone(text)
    # The digits are already isolated, so the number is built directly (phonenumbers.parse
    # would scan the text again, at four times the cost) and validated by the library.
    number = phonenumbers.PhoneNumber(country_code=84, national_number=int(national))
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(text)
    return "+84" + national


def split_phones(text: str) -> list[str]:
    """The pieces of a cell that holds several numbers (`,` `;` `/` or line breaks)."""
    return [piece.strip() for piece in SEPARATORS.split(text) if piece.strip()]


def national_format(e164: str) -> str:
    """How a Vietnamese reads a number: 0912 345 678."""
    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
