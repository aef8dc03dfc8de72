"""A survey's results as tables: per question, households per answer choice, overall, by
village (or commune) and by category; free answers with their count and the latest ones.

Pure: it shapes what `storage.console_results.tally` counted, with the form's own questions,
labels and choice order (Loa's JSON form model, as stored).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from storage.console_results import Counts, LatestAnswer, Tally

SELECTS = frozenset({"select_one", "select_multiple"})
UNCOUNTED = frozenset({"note", "calculate"})  # said or worked out, never answered


@dataclass(frozen=True, slots=True)
class ChoiceCount:
    """How many households chose an answer."""

    name: str
    label: str
    count: int
    percent: float  # of the households that answered the question


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: a village, commune or category."""

    key: str  # village id, commune code or category code ("" when the household has none)
    label: str
    answered: int
    counts: tuple[int, ...]  # one per choice of the question, in its order

    def percents(self) -> list[int]:
        """Each count as a whole percentage of the line's households."""
        return [round(100 * n / self.answered) if self.answered else 0 for n in self.counts]


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """A question's results: choices (with breakdowns) or free answers."""

    name: str
    label: str
    type: str
    answered: int
    choices: tuple[ChoiceCount, ...] = ()
    places: tuple[Row, ...] = ()
    categories: tuple[Row, ...] = ()
    latest: tuple[LatestAnswer, ...] = ()

    @property
    def is_choice(self) -> bool:
        return self.type in SELECTS


def questions_of(form: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The names of the form's choice questions and of its other answered questions."""
    asked = [q for q in form["questions"] if q["type"] not in UNCOUNTED]
    choices = [q["name"] for q in asked if q["type"] in SELECTS]
    return choices, [q["name"] for q in asked if q["type"] not in SELECTS]


def results(
    form: dict[str, Any], found: Tally, *, categories: tuple[str, ...]
) -> list[QuestionResult]:
    """Every answered question of the form, in form order, with its counts from FOUND."""
    out = []
    for q in form["questions"]:
        if q["type"] in UNCOUNTED:
            continue
        if q["type"] not in SELECTS:
            latest = tuple(found.latest.get(q["name"], ()))
            out.append(
                QuestionResult(
                    q["name"],
                    q["label"],
                    q["type"],
                    found.open_counts.get(q["name"], 0),
                    latest=latest,
                )
            )
            continue
        options = [(c["name"], c["label"]) for c in form["choices"].get(q["choice_list"], [])]
        out.append(_choice_result(q, options, found, categories))
    return out


def _choice_result(
    q: dict[str, Any], options: list[tuple[str, str]], found: Tally, categories: tuple[str, ...]
) -> QuestionResult:
    multiple = q["type"] == "select_multiple"
    by_place = found.by_place.get(q["name"], {})
    by_category = found.by_category.get(q["name"], {})
    total: Counts = defaultdict(int)
    for counts in by_place.values():
        for value, n in counts.items():
            total[value] += n
    known = {name for name, _label in options}
    extra = sorted({w for v in total for w in _words(v, multiple)} - known)
    options = [*options, *((name, name) for name in extra)]
    overall = _row("", "", total, options, multiple)
    places = [*found.places, *sorted(set(by_place) - set(found.places))]
    place_rows = tuple(
        _row(k, found.places.get(k, k), by_place[k], options, multiple)
        for k in places
        if k in by_place
    )
    order = [*categories, *sorted(set(by_category) - set(categories))]
    category_rows = tuple(
        _row(k, k, by_category[k], options, multiple) for k in order if k in by_category
    )
    choices = tuple(
        ChoiceCount(name, label, n, 100 * n / overall.answered if overall.answered else 0.0)
        for (name, label), n in zip(options, overall.counts, strict=True)
    )
    return QuestionResult(
        q["name"], q["label"], q["type"], overall.answered, choices, place_rows, category_rows
    )


def _words(value: str, multiple: bool) -> set[str]:
    return set(value.split()) if multiple else {value}


def _row(
    key: str, label: str, counts: Counts, options: list[tuple[str, str]], multiple: bool
) -> Row:
    chosen: Counts = defaultdict(int)
    for value, n in counts.items():
        for word in _words(value, multiple):
            chosen[word] += n
    return Row(key, label, sum(counts.values()), tuple(chosen.get(name, 0) for name, _l in options))
