"""Text for SMS: accents stripped (or not), GSM-7 or UCS-2 chosen from the final text, segments.

A GSM-7 message holds 160 characters (153 per part when split); characters of the extension
table (€ [ ] { } ...) take two. A message with any other character goes as UCS-2: 70 UTF-16
code units (67 per part). Vietnamese with its accents is UCS-2, which is why Loa strips them
by default: the same notice costs a third as many segments. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages.text import strip_accents

GSM7 = "GSM-7"
UCS2 = "UCS-2"

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = _GSM7_BASIC | _GSM7_EXTENSION
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsText:
    """A text as it will go out by SMS."""

    text: str
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def encoding_of(text: str) -> str:
    """GSM-7 when every character is in the GSM alphabet, else UCS-2."""
    return GSM7 if _GSM7.issuperset(text) else UCS2


def prepare(text: str, *, strip: bool = True) -> SmsText:
    """The text to send (accents stripped unless STRIP is off), its encoding and segments."""
    final = strip_accents(text) if strip else text
    encoding = encoding_of(final)
    if encoding == GSM7:
        units = len(final)
        if not _GSM7_EXTENSION.isdisjoint(final):
            units += sum(final.count(ch) for ch in _GSM7_EXTENSION)
    else:
        units = len(final.encode("utf-16-le")) // 2
    single, part = _LIMITS[encoding]
    segments = 1 if units <= single else -(-units // part)
    return SmsText(final, encoding, units, segments)
