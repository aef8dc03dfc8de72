"""The Vietnamese catalog covers every string the code and templates mark for translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["bot", "handlers", "messages", "storage", "scheduler", "web"]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}|%\((\w+)\)s")


def _extracted() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package,
            METHODS,
            keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            for text in message if isinstance(message, tuple) else (message,):
                if text:
                    found.setdefault(text, f"{package}/{filename}:{lineno}")
    return found


def _catalog() -> dict[str, str]:
    with (ROOT / "messages/vi/LC_MESSAGES/loa.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    return {str(m.id): str(m.string) for m in catalog if m.id and "fuzzy" not in m.flags}


def test_every_marked_string_has_a_vietnamese_translation() -> None:
    extracted, catalog = _extracted(), _catalog()
    assert len(extracted) > 50  # the extraction itself works
    missing = {text: where for text, where in extracted.items() if not catalog.get(text)}
    assert missing == {}, "add these to messages/vi/LC_MESSAGES/loa.po (make messages)"


def test_translations_keep_their_placeholders() -> None:
    wrong = {
        source: target
        for source, target in _catalog().items()
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target))
    }
    assert wrong == {}
