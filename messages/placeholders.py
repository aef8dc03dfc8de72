"""Placeholders in texts staff write: `{ho_ten}`, `{thon}` and event fields. Pure.

Names are Vietnamese without accents, so an assistant can type them on any keyboard.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

from messages.render import _

HOUSEHOLD = ("ho_ten", "ma_ho", "thon", "xa")  # head's name, household code, village, commune
EVENT = ("su_kien", "ngay", "gio", "dia_diem", "han_dang_ky")  # title, date, time, place, deadline


class PlaceholderError(ValueError):
    """A text whose placeholders Loa cannot fill; the message is one sentence for a person."""


def names(template: str) -> list[str]:
    """The placeholders a text uses, in order; `{{` and `}}` are literal braces."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PlaceholderError(
            _("A brace { or } in the text is not closed; write {{ or }} for a brace itself.")
        ) from exc
    found: list[str] = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name or not name.isidentifier() or spec or conversion:
            raise _badly_written(name + (f":{spec}" if spec else ""))
        found.append(name)
    return found


def _badly_written(name: str) -> PlaceholderError:
    return PlaceholderError(
        _("The placeholder {{{name}}} is not written right: use a name such as {{ho_ten}}.").format(
            name=name
        )
    )


def check(template: str, allowed: Iterable[str]) -> None:
    """Raise PlaceholderError naming a placeholder the text may not use, and those it may."""
    known = list(allowed)
    unknown = [n for n in dict.fromkeys(names(template)) if n not in known]
    if unknown:
        raise PlaceholderError(
            _("Loa does not know {unknown} in this text; you can use: {known}.").format(
                unknown=", ".join(f"{{{n}}}" for n in unknown),
                known=", ".join(f"{{{n}}}" for n in known),
            )
        )


def fill(template: str, values: Mapping[str, str]) -> str:
    """The text with its placeholders filled (checked beforehand with `check`)."""
    return template.format_map(values)


def household_values(*, head_name: str, code: str, village: str, commune: str) -> dict[str, str]:
    """A household's placeholder values."""
    return {"ho_ten": head_name, "ma_ho": code, "thon": village, "xa": commune}
