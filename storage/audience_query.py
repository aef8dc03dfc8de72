"""The audience language: one line of `key=value[,value...]` terms that picks households.

Pure (no I/O): parsing and the canonical text. The query over the store is in
`storage.audiences`. Vocabularies are read from `storage.vocab` at call time, so kinds and
programmes added there are understood at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from messages.render import _
from storage import vocab
from storage.models.households import CONTACT_PHONE, CONTACT_TELEGRAM, CONTACT_ZALO

ANSWER_EXAMPLE = "answer:needs.want_training=yes"
EXAMPLE = f"commune=28756,28759 category=poor,near_poor flag=ethnic_minority {ANSWER_EXAMPLE}"
ALL = "all"
ANSWER_PREFIX = "answer:"
ANY_LOAN = "any"
YES, NO = "yes", "no"

GROUP_FLAGS = {"group1": 1, "group2": 2, "group3": 3}  # Household.group_no: Nhóm 1, 2, 3
HOUSEHOLD_FLAGS = ("ethnic_minority", "woman_head", *GROUP_FLAGS, "newly_escaped")
# channel name -> the contact kind it writes to (a phone serves SMS and the console)
CHANNEL_KINDS = {
    "telegram": CONTACT_TELEGRAM,
    "zalo": CONTACT_ZALO,
    "sms": CONTACT_PHONE,
    "console": CONTACT_PHONE,
}

Kind = Literal["unit", "code", "yesno"]


class AudienceError(ValueError):
    """An audience that cannot be read or does not fit the store; one Vietnamese sentence."""


@dataclass(frozen=True)
class _Key:
    field: str  # the Audience field it fills
    kind: Kind  # unit codes (any text), codes of a vocabulary, or yes/no
    values: Callable[[], Iterable[str]] = tuple  # a vocabulary's codes, read at call time


def _flags() -> tuple[str, ...]:
    return (*HOUSEHOLD_FLAGS, *vocab.DEPRIVATIONS)


def _loans() -> tuple[str, ...]:
    return (ANY_LOAN, *vocab.LOAN_PROGRAMMES)


# The keys, in canonical order (answer: terms come last).
KEYS: dict[str, _Key] = {
    "province": _Key("provinces", "unit"),
    "commune": _Key("communes", "unit"),
    "village": _Key("villages", "unit"),
    "category": _Key("categories", "code", lambda: vocab.CATEGORIES),
    "flag": _Key("flags", "code", _flags),
    "registered": _Key("registered", "yesno"),
    "followup": _Key("followups", "code", lambda: vocab.FOLLOWUP_KINDS),
    "loan": _Key("loans", "code", _loans),
    "overdue": _Key("overdue", "yesno"),
    "channel": _Key("channels", "code", lambda: CHANNEL_KINDS),
    "consent": _Key("consent", "yesno"),
}


@dataclass(frozen=True)
class AnswerTerm:
    """`answer:FORM.QUESTION=v1,v2`: the household answered the question with one of the values."""

    form_id: str
    question: str
    values: tuple[str, ...]  # lower case; matched as whole words, case-insensitively

    def __str__(self) -> str:
        return f"{ANSWER_PREFIX}{self.form_id}.{self.question}={','.join(self.values)}"


@dataclass(frozen=True)
class Audience:
    """The parsed terms: AND across fields, OR within one; empty fields do not filter."""

    everyone: bool = False  # `all`
    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    registered: bool | None = None
    followups: tuple[str, ...] = ()
    loans: tuple[str, ...] = ()
    overdue: bool | None = None
    channels: tuple[str, ...] = ()
    consent: bool | None = None
    answers: tuple[AnswerTerm, ...] = ()

    def __str__(self) -> str:
        if self.everyone:
            return ALL
        terms = [f"{key}={_text(getattr(self, k.field))}" for key, k in KEYS.items()]
        kept = [t for t in terms if not t.endswith("=")]
        return " ".join([*kept, *map(str, self.answers)])


def _text(value: tuple[str, ...] | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return ",".join(value)


def key_names() -> str:
    """Every key as a person writes it, for error messages and help."""
    return ", ".join([*KEYS, f"{ANSWER_PREFIX}FORM.QUESTION", ALL])


def parse(text: str) -> Audience:
    """The audience one line describes; AudienceError says what is wrong with it."""
    words = text.split()
    if not words:
        message = _("No households are chosen; write for example {example}, or all for every one.")
        raise AudienceError(message.format(example=EXAMPLE))
    if len(words) == 1 and words[0].lower() == ALL:
        return Audience(everyone=True)
    found: dict[str, Any] = {}
    answers: dict[tuple[str, str], AnswerTerm] = {}
    for word in words:
        if word.lower() == ALL:
            raise AudienceError(_("“all” must stand alone; remove it or remove the other terms."))
        if word.lower().startswith(ANSWER_PREFIX):
            term = _answer_term(word)
            _once(answers, (term.form_id, term.question), term, str(term).partition("=")[0])
        else:
            key, value = _term(word)
            _once(found, KEYS[key].field, value, key)
    ordered = tuple(answers[k] for k in sorted(answers))
    return Audience(**found, answers=ordered)


def _once(found: dict[Any, Any], slot: Any, value: Any, key: str) -> None:
    if slot in found:
        message = _("{key} is written twice; put its values in one term, separated by commas.")
        raise AudienceError(message.format(key=key))
    found[slot] = value


def _split(word: str) -> tuple[str, list[str]]:
    key, sep, rest = word.partition("=")
    values = rest.split(",")
    if not sep or not key or not all(values):
        message = _(
            "Cannot read “{term}”; write key=value, several values separated by commas, "
            "for example category=poor,near_poor."
        )
        raise AudienceError(message.format(term=word))
    return key, values


def _term(word: str) -> tuple[str, tuple[str, ...] | bool]:
    key, values = _split(word)
    key = key.lower()
    spec = KEYS.get(key)
    if spec is None:
        message = _("Unknown key “{key}”; the keys are: {keys}.")
        raise AudienceError(message.format(key=key, keys=key_names()))
    if spec.kind == "unit":
        return key, tuple(sorted(set(values)))
    if spec.kind == "yesno":
        return key, _yes_no(key, values)
    return key, _codes(key, values, tuple(spec.values()))


def _bad_value(key: str, value: str, valid: Iterable[str]) -> AudienceError:
    message = _("{key} cannot be “{value}”; use one of: {values}.")
    return AudienceError(message.format(key=key, value=value, values=", ".join(valid)))


def _yes_no(key: str, values: list[str]) -> bool:
    if len(values) != 1 or values[0].lower() not in (YES, NO):
        raise _bad_value(key, ",".join(values), (YES, NO))
    return values[0].lower() == YES


def _codes(key: str, values: list[str], valid: tuple[str, ...]) -> tuple[str, ...]:
    given = {v.lower() for v in values}
    for value in values:
        if value.lower() not in valid:
            raise _bad_value(key, value, valid)
    return tuple(code for code in valid if code in given)  # the vocabulary's order


def _answer_term(word: str) -> AnswerTerm:
    key, values = _split(word)
    form_id, dot, question = key[len(ANSWER_PREFIX) :].partition(".")
    if not (form_id and dot and question):
        message = _(
            "Cannot read “{term}”; write answer:FORM.QUESTION=value, for example {example}."
        )
        raise AudienceError(message.format(term=word, example=ANSWER_EXAMPLE))
    return AnswerTerm(form_id, question, tuple(sorted({v.lower() for v in values})))
