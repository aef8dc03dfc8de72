"""Words: the gettext catalog and Vietnamese formatting of money, dates and numbers. Pure."""

from __future__ import annotations

import gettext
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_currency, format_decimal

DOMAIN = "loa"
LOCALE_DIR = Path(__file__).resolve().parent
DEFAULT_LOCALE = "vi"
VN_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@lru_cache(maxsize=8)
def translations(locale: str = DEFAULT_LOCALE) -> gettext.NullTranslations:
    """The compiled catalog for a locale; English source strings if there is none."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale], fallback=True)


def _(message: str) -> str:
    """Translate into the default language (Vietnamese)."""
    return translations().gettext(message)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it yet."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form (Vietnamese has one form)."""
    return translations().ngettext(singular, plural, n)


def money(amount: int | Decimal, *, unit: str = "symbol") -> str:
    """Format đồng the Vietnamese way: 1.500.000 ₫, or 1.500.000 đồng with unit='word'."""
    if unit == "word":
        return f"{format_decimal(amount, format='#,##0', locale=DEFAULT_LOCALE)} đồng"
    return str(format_currency(amount, "VND", locale=DEFAULT_LOCALE))


def number(value: int | float | Decimal) -> str:
    """Format a number with Vietnamese grouping: 400.496."""
    if isinstance(value, int):  # the same text as Babel's, ~300 times faster (pages show many)
        return f"{value:,}".replace(",", ".")
    return str(format_decimal(value, locale=DEFAULT_LOCALE))


def day(value: date) -> str:
    """Format a date as people write it: 15/12/2026."""
    return str(_babel_date(value, "dd/MM/yyyy", locale=DEFAULT_LOCALE))


def moment(value: datetime, zone: ZoneInfo = VN_ZONE) -> str:
    """Format an aware datetime in local time: 07:30 15/12/2026."""
    return str(_babel_datetime(value, "HH:mm dd/MM/yyyy", tzinfo=zone, locale=DEFAULT_LOCALE))
