"""Keywords that work on every channel, whatever the conversation: stop, start, help. Pure.

Matched without regard to case, accents, slashes or spaces: "/stop", "Dừng", "tro giup".
"""

from __future__ import annotations

from handlers.dialogue.answers import compact_key, read_yes_no
from messages.text import fold

STOP = "stop"  # opt out of everything but the confirmation
START = "start"  # opt back in; with an argument, a registration (DK <code>)
HELP = "help"  # who to call
YES = "yes"  # agree (to the consent question)
NO = "no"  # refuse

_WORDS = {
    **dict.fromkeys(("huy", "dung", "stop", "unsubscribe"), STOP),
    **dict.fromkeys(("dk", "dangky", "batdau", "start"), START),
    **dict.fromkeys(("help", "trogiup"), HELP),
}
_OPTIONS = {"1": YES, "2": NO, "tuchoi": NO}  # besides what read_yes_no takes


def keyword(text: str) -> tuple[str, str] | None:
    """The keyword a message starts with and the rest of it, or None.

    "DK AB12CD34" gives (START, "AB12CD34"); STOP and HELP must be the whole message, so a
    sentence that merely begins with "dừng" is not taken for an opt-out.
    """
    words = fold(text).lstrip("/").split(maxsplit=1)
    if not words:
        return None
    found = _WORDS.get(compact_key(words[0]))
    rest = text.strip().lstrip("/").split(maxsplit=1)[1] if len(words) > 1 else ""
    whole = _WORDS.get(compact_key(text))
    if whole is not None:
        return whole, ""
    if found == START and rest:
        return START, rest.strip()
    return None


def answer(text: str) -> str | None:
    """YES or NO for a reply to a yes/no question, else None."""
    option = _OPTIONS.get(compact_key(text))
    if option is not None:
        return option
    reading = read_yes_no(text)
    return None if reading is None else (YES if reading else NO)
