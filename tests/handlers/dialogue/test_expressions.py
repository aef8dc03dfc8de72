"""The XLSForm expression evaluator: grammar, XPath semantics as in ODK Collect, errors, fuzzing."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dialogue.expressions import (
    MAX_DEPTH,
    Context,
    Expression,
    ExpressionError,
    Value,
    check_references,
    parse,
    render_template,
    template_references,
)

TODAY = date(2026, 3, 15)
DAYS_TODAY = (TODAY - date(1970, 1, 1)).days
NAN = math.nan
INF = math.inf

VALUES: dict[str, Value] = {
    "age": 30,
    "name": "Lan",
    "empty": None,
    "ratio": 2.5,
    "crops": ("rice", "maize"),
    "married": True,
    "born": date(1990, 5, 17),
    "mod": 4,
    "div": 2,
    "and": "x",
    "or": "",
    "digits": "12",
    "pattern": "[",
    "họ_tên": "Nguyễn Thị Lan",
    "x-1": 5,
    "v.2": 7,
}


def context(
    values: dict[str, Value] | None = None, current: Value = None, row: dict[str, str] | None = None
) -> Context:
    return Context(VALUES if values is None else values, current, today=TODAY, row=row)


def evaluate(source: str, **kwargs: Any) -> Value:
    return parse(source).evaluate(context(**kwargs))


def same(actual: Value, expected: Value) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


# --- Values --------------------------------------------------------------------------------

LITERALS = [
    ("3", 3.0),
    ("2.5", 2.5),
    ("007", 7.0),
    (".5", 0.5),
    ("4.", 4.0),
    ("'hi'", "hi"),
    ('"hi"', "hi"),
    ("'say \"x\"'", 'say "x"'),
    ('"it\'s"', "it's"),
    ("''", ""),
    ("'  spaced  '", "  spaced  "),
    ("true()", True),
    ("false()", False),
    ("today()", TODAY),
]

ARITHMETIC = [
    ("1 + 2", 3.0),
    ("5 - 7", -2.0),
    ("5-7", -2.0),
    ("3 * 4", 12.0),
    ("7 div 2", 3.5),
    ("7 mod 3", 1.0),
    ("-7 mod 3", -1.0),  # like math.fmod: the sign of the dividend
    ("7 mod -3", 1.0),
    ("5.5 mod 2", 1.5),
    ("- 3", -3.0),
    ("--3", 3.0),
    ("1 - -1", 2.0),
    ("1 div 0", INF),
    ("-1 div 0", -INF),
    ("1 div -0", -INF),
    ("0 div 0", NAN),
    ("5 mod 0", NAN),
    ("(1 div 0) mod 2", NAN),
    ("(1 div 0) - (1 div 0)", NAN),
    ("'a' + 1", NAN),
    ("${empty} + 1", NAN),
    ("'3' * '4'", 12.0),
    ("true() + true()", 2.0),
    ("today() - ${born}", float((TODAY - date(1990, 5, 17)).days)),
]

PRECEDENCE = [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("10 - 4 - 3", 3.0),
    ("12 div 2 div 3", 2.0),
    ("2 * 3 mod 4", 2.0),
    ("7 mod 4 * 2", 6.0),
    ("-2 * 3", -6.0),
    ("- 2 + 3", 1.0),
    ("-(2 + 3)", -5.0),
    ("1 + 2 = 3", True),
    ("1 < 2 = 2 < 3", True),
    ("2 > 1 != 1 > 2", True),
    ("1 < 2 < 3", True),  # (1 < 2) is true, and true < 3 compares 1 < 3
    ("3 > 2 > 1", False),  # true > 1 compares 1 > 1
    ("1 = 1 and 2 = 3 or 1", True),
    ("1 or 0 and 0", True),
    ("0 and 1 or 1", True),
    ("(1 or 0) and 0", False),
    ("1 = 2 or 3 > 2", True),
    ("not(0) and 1", True),
    ("1 + 1 > 1 and 2 * 2 = 4", True),
    ("((((1))))", 1.0),
]

REFERENCES = [
    ("${age} + 1", 31.0),
    ("${name}", "Lan"),
    ("${empty}", ""),
    ("${missing}", ""),
    ("${ratio} * 2", 5.0),
    ("${crops}", "rice maize"),
    ("${married}", True),
    ("${born}", date(1990, 5, 17)),
    ("${mod} mod ${div}", 0.0),  # keywords only where an operator may stand
    ("${div} div ${div}", 1.0),
    ("${and} = 'x' and ${or} = ''", True),
    ("${họ_tên}", "Nguyễn Thị Lan"),
    ("${x-1} - 1", 4.0),
    ("${v.2}", 7.0),
    (".", ""),
]

COMPARISONS = [
    ("${age} > 18", True),
    ("${age} >= 30", True),
    ("${age} <= 29", False),
    ("${age} = '30'", True),  # a number on one side: the other is read as a number
    ("${age} = '30.0'", True),
    ("${age} = ' 30 '", True),
    ("${age} != ''", True),
    ("${age} = ''", False),
    ("${empty} = ''", True),
    ("${missing} = ''", True),
    ("${empty} != ''", False),
    ("${empty} > 5", False),
    ("${empty} < 5", False),
    ("${empty} = 0", False),
    ("${empty} != 5", True),
    ("'abc' = 'abc'", True),
    ("'abc' != 'abd'", True),
    ("'Abc' = 'abc'", False),
    ("'10' < '9'", False),  # two strings order as numbers
    ("'10' > '9'", True),
    ("'a' < 'b'", False),
    ("'a' >= 'a'", False),
    ("${digits} = 12", True),
    ("${digits} = '12.0'", False),  # two strings: compared as text
    ("${married} = 'false'", True),  # a boolean side: 'false' is a non-empty string, so true
    ("${married} = 1", True),
    ("${married} = 0", False),
    ("true() = 'x'", True),
    ("false() = ''", True),
    ("true() != ''", True),
    ("true() > false()", True),
    ("false() < 0.5", True),
    ("number('abc') = number('abc')", False),
    ("number('abc') != number('abc')", True),
    ("number('abc') < 1", False),
    ("number('abc') >= 1", False),
    ("1 div 0 > 1000000", True),
    ("-1 div 0 < -1000000", True),
    ("${crops} = 'rice maize'", True),
]

DATES = [
    ("${born} < today()", True),
    ("${born} = '1990-05-17'", True),
    ("${born} = ' 1990-05-17 '", True),
    ("${born} = '1990-05-17T08:30:00'", True),
    ("${born} != '1990-05-17'", False),
    ("${born} < '2000-01-01'", True),
    ("'2000-01-01' > ${born}", True),
    ("${born} >= '1990-05-18'", False),
    ("${born} = 'not a date'", False),
    ("${born} != 'not a date'", True),
    ("${born} < 'garbage'", False),
    ("${born} > 'garbage'", False),
    ("${born} = '1990-02-30'", False),
    ("${born} != ''", True),  # the usual "answered" test works on dates
    ("${born} = ''", False),
    ("today() = '2026-03-15'", True),
    ("today() > ${born}", True),
    (f"today() = {DAYS_TODAY}", True),
    (f"today() > {DAYS_TODAY - 1}", True),
    ("today() = true()", True),
    ("number(today())", float(DAYS_TODAY)),
    ("today() - 7 > ${born}", True),
]

FUNCTIONS = [
    ("not(${empty})", True),
    ("not('a')", False),
    ("not(0)", True),
    ("not(not(1))", True),
    ("selected(${crops}, 'rice')", True),
    ("selected(${crops}, 'maize')", True),
    ("selected(${crops}, 'wheat')", False),
    ("selected(${crops}, 'ric')", False),
    ("selected(${crops}, ' maize ')", True),
    ("selected('a b c', 'b')", True),
    ("selected(${empty}, '')", False),
    ("selected(${missing}, 'rice')", False),
    ("count-selected(${crops})", 2.0),
    ("count-selected(${empty})", 0.0),
    ("count-selected('a  b ')", 2.0),
    ("count-selected(${crops}) >= 2", True),
    ("string-length(${name})", 3.0),
    ("string-length('Nguyễn')", 6.0),
    ("string-length(${empty})", 0.0),
    ("string-length(12.50)", 4.0),
    ("if(${age} > 18, 'adult', 'child')", "adult"),
    ("if(${empty}, 1, 2)", 2.0),
    ("if('', 1 div 0, 'x')", "x"),
    ("regex(${name}, '[A-Z][a-z]+')", True),
    ("regex('0912345678', '0[0-9]{9}')", True),
    ("regex('x0912345678', '0[0-9]{9}')", False),  # the whole text must match
    ("regex('abc', 'b')", False),
    ("regex('abc', '.*b.*')", True),
    ("regex('abc', '^abc$')", True),
    ("regex(${empty}, '[0-9]*')", True),
    ("regex('abc', ${pattern})", False),  # a computed bad pattern matches nothing
    ("regex(12, '[0-9]+')", True),
    ("int(2.7)", 2.0),
    ("int(-2.7)", -2.0),
    ("int('7.9')", 7.0),
    ("int('abc')", NAN),
    ("int(1 div 0)", INF),
    ("number('  3.5 ')", 3.5),
    ("number('2,5')", 2.5),  # a decimal comma, as Collect reads it
    ("number('-.5')", -0.5),
    ("number('')", NAN),
    ("number('abc')", NAN),
    ("number('1e3')", NAN),
    ("number('Infinity')", NAN),
    ("number('1 000')", NAN),
    ("number(true())", 1.0),
    ("number(false())", 0.0),
    ("number(${age})", 30.0),
    ("coalesce(${empty}, 'x')", "x"),
    ("coalesce(${name}, 'x')", "Lan"),
    ("coalesce(${missing}, ${empty})", ""),
    ("coalesce(number('a'), 5)", 5.0),
    ("coalesce(${age}, 1 div 0)", 30.0),
    ("concat('a')", "a"),
    ("concat('a', 'b', 'c')", "abc"),
    (
        "concat(${name}, ' ', ${age}, ' ', ${ratio}, ' ', ${married}, ' ', ${born}, ${empty})",
        "Lan 30 2.5 true 1990-05-17",
    ),
    ("concat(${crops}, '!')", "rice maize!"),
]


@pytest.mark.parametrize(
    ("source", "expected"),
    LITERALS + ARITHMETIC + PRECEDENCE + REFERENCES + COMPARISONS + DATES + FUNCTIONS,
)
def test_evaluate(source: str, expected: Value) -> None:
    actual = evaluate(source)
    assert same(actual, expected), f"{source!r} gave {actual!r}, expected {expected!r}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("3.0", "3"),
        ("2.50", "2.5"),
        ("0 * -1", "0"),
        ("1 div 0", "Infinity"),
        ("-1 div 0", "-Infinity"),
        ("0 div 0", "NaN"),
        ("1 div 100000000", "0.00000001"),
        ("10000000000000000000000", "10000000000000000000000"),
        ("true()", "true"),
        ("false()", "false"),
        ("today()", "2026-03-15"),
        ("${born}", "1990-05-17"),
        ("${crops}", "rice maize"),
        ("${empty}", ""),
        ("${age} * 1.5", "45"),
        ("${ratio}", "2.5"),
    ],
)
def test_text(source: str, expected: str) -> None:
    assert parse(source).text(context()) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("''", False),
        ("'0'", True),
        ("'false'", True),
        ("0", False),
        ("0.0001", True),
        ("number('x')", False),
        ("1 div 0", True),
        ("today()", True),
        ("${crops}", True),
        ("${empty}", False),
        ("${name}", True),
    ],
)
def test_truth(source: str, expected: bool) -> None:
    assert parse(source).truth(context()) is expected


def test_current_answer_is_dot() -> None:
    constraint = parse(". >= 0 and . <= 120")
    assert constraint.truth(context(current=45))
    assert not constraint.truth(context(current=150))
    assert not constraint.truth(context(current=None))
    assert parse("regex(., '0[0-9]{9}')").truth(context(current="0912345678"))
    assert parse("count-selected(.) <= 2").truth(context(current=("a", "b")))
    assert not parse(". < today()").truth(context(current=date(2030, 1, 1)))
    assert parse(".").references == frozenset()


def test_unanswered_is_the_same_whether_none_or_missing() -> None:
    for source in ("${q}", "${q} = ''", "${q} > 0", "string-length(${q})", "not(${q})"):
        expression = parse(source)
        missing = expression.evaluate(context(values={}))
        none = expression.evaluate(context(values={"q": None}))
        assert same(missing, none)


def test_select_multiple_as_space_separated_string() -> None:
    expression = parse("selected(${crops}, 'b') and count-selected(${crops}) = 3")
    assert expression.truth(context(values={"crops": ("a", "b", "c")}))
    assert expression.truth(context(values={"crops": "a b c"}))
    assert not expression.truth(context(values={"crops": ()}))


def test_datetimes_count_as_dates() -> None:
    moment = datetime(2026, 3, 15, 23, 59)  # noqa: DTZ001 - what matters is the calendar day
    assert parse("${d} = today()").truth(context(values={"d": moment}))


# --- Choice filters --------------------------------------------------------------------------


def test_choice_filter_reads_bare_names_from_the_choice_row() -> None:
    expression = parse("district = ${district} and name != 'x'", choice_filter=True)
    assert expression.references == frozenset({"district"})
    answers: dict[str, Value] = {"district": "d1"}
    assert expression.truth(context(answers, row={"district": "d1", "name": "y"}))
    assert not expression.truth(context(answers, row={"district": "d2", "name": "y"}))
    assert not expression.truth(context(answers, row={"district": "d1", "name": "x"}))


@pytest.mark.parametrize(
    ("source", "row", "expected"),
    [
        ("admin-level = 2", {"admin-level": "2"}, True),  # hyphens belong to names
        ("mod = 'a'", {"mod": "a"}, True),  # a keyword where a value stands is a name
        ("div div 2 = 3", {"div": "6"}, True),
        ("and or or", {"and": "", "or": "y"}, True),
        ("selected(crops, 'rice')", {"crops": "rice maize"}, True),
        ("missing = ''", {}, True),
        ("name = ''", None, True),  # no row at all
        ("name = ${name}", {"name": "Lan"}, True),
    ],
)
def test_choice_filter_cases(source: str, row: dict[str, str] | None, expected: bool) -> None:
    assert parse(source, choice_filter=True).truth(context(row=row)) is expected


# --- Errors --------------------------------------------------------------------------------

ERRORS = [
    ("", ()),
    ("   ", ()),
    ("x" * 2001, ("2001", "2000")),
    ("(" * 60 + "1" + ")" * 60, (str(MAX_DEPTH),)),
    ("-" * 60 + "1", (str(MAX_DEPTH),)),
    ("not(" * 60 + "1" + ")" * 60, (str(MAX_DEPTH),)),
    ("foo(1)", ("foo()",)),
    ("count_selected(${x})", ("count_selected()",)),
    ("Selected(${x}, 'a')", ("Selected()",)),
    ("and(1)", ("and()",)),
    ("not()", ("not()", "1", "0")),
    ("not(1, 2)", ("not()", "1", "2")),
    ("if(1, 2)", ("if()", "3", "2")),
    ("today(1)", ("today()", "0", "1")),
    ("selected(${a})", ("selected()", "2", "1")),
    ("concat()", ("concat()", "1", "0")),
    ("'abc", ("1",)),
    ('1 + "abc', ("5",)),
    ("(1 + 2", ("1",)),
    ("not(1", ("4",)),
    ("concat('a', 'b'", ("7",)),
    ("${age", ("1",)),
    ("1 + ${", ("5",)),
    ("${}", ('""',)),
    ("${1x}", ("1x",)),
    ("${a b}", ("a b",)),
    ("1 # 2", ("#", "3")),
    ("1 | 2", ("|", "3")),
    ("/data/x", ("/", "1")),
    ("1 == 2", ('"="', "4")),
    ("1 2", ('"2"', "3")),
    ("(1))", ('")"', "4")),
    (",", ('","', "1")),
    ("${a} ${b}", ("${b}", "6")),
    ("1 +", ()),
    ("${a} and", ()),
    ("not(", ()),
    ("..", ('"."', "2")),
    ("regex(., '[')", ("[",)),
    ("regex(., '(a')", ("(a",)),
    ("regex(., 'a{2,1}')", ("a{2,1}",)),
    ("district = ${district}", ("district", "${district}", "1")),
    ("${a} = yes", ("yes", "${yes}", "8")),
]


@pytest.mark.parametrize(("source", "fragments"), ERRORS)
def test_errors_name_what_is_wrong(source: str, fragments: tuple[str, ...]) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_expression_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="foo"):
        parse("foo()")


def test_regex_with_computed_pattern_is_not_checked_at_parse_time() -> None:
    assert not parse("regex(., ${pattern})").truth(context(current="x"))


def test_deep_but_allowed_nesting_and_long_flat_chains() -> None:
    assert parse("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH).evaluate(context()) == 1.0
    chain = "+".join(["1"] * 900)  # flat chains are not nesting
    assert parse(chain).evaluate(context()) == 900.0
    ors = " or ".join(f"${{q}} = '{n}'" for n in range(100))
    assert parse(ors).truth(context(values={"q": "99"}))


# --- References and templates --------------------------------------------------------------


def test_references_are_collected() -> None:
    expression = parse("${a} + ${b} * ${a} + string-length('${c}')")
    assert expression.references == frozenset({"a", "b"})
    assert expression.source == "${a} + ${b} * ${a} + string-length('${c}')"
    assert isinstance(expression, Expression)
    assert expression == parse("${a} + ${b} * ${a} + string-length('${c}')")


def test_check_references_accepts_known_names() -> None:
    check_references(parse("${a} > ${b}"), {"a", "b", "c"})
    check_references(parse("1 + 1"), set())


def test_check_references_names_the_first_unknown() -> None:
    with pytest.raises(ExpressionError) as caught:
        check_references(parse("${a} + ${zz} + ${yy}"), ["a"])
    assert "${zz}" in str(caught.value)
    assert "yy" not in str(caught.value)


def test_template_references() -> None:
    text = "Xin chào ${name}, bạn ${age} tuổi; ${name} ơi! ${họ_tên}"
    assert template_references(text) == frozenset({"name", "age", "họ_tên"})
    assert template_references("no refs: $ {x}, ${ }, ${}, {x}") == frozenset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xin chào ${name}, ${age} tuổi", "Xin chào Lan, 30 tuổi"),
        ("[${empty}][${missing}]", "[][]"),
        ("Cây trồng: ${crops}", "Cây trồng: rice maize"),
        ("Sinh ngày ${born}", "Sinh ngày 17/05/1990"),
        ("${ratio} / ${whole}", "2.5 / 2"),
        ("${married}", "true"),
        ("${big}", str(10**40)),
        ("No references at all.", "No references at all."),
        ("$ {name} ${ name}", "$ {name} ${ name}"),
    ],
)
def test_render_template(text: str, expected: str) -> None:
    values: dict[str, Value] = {**VALUES, "whole": 2.0, "big": 10**40}
    assert render_template(text, values) == expected


# --- Robustness ----------------------------------------------------------------------------


def test_evaluation_survives_bad_contexts() -> None:
    expression = parse("concat(${a}, .) = '' or today() > 1 or count-selected(${a}) > 0")
    filtered = parse("x = 1 and selected(${a}, x)", choice_filter=True)
    weird: list[tuple[Any, Any, Any, Any]] = [  # values, current, today, row
        (None, None, TODAY, None),
        ({"a": object()}, [1, [2]], TODAY, None),
        ({"a": 10**5000}, {"x": 1}, "nope", 5),
        ({"a": (1, None, date(2020, 1, 1))}, None, None, {"x": None}),
        ({"a": float("nan")}, -(10**400), TODAY, {"x": object()}),
    ]
    for values, current, today, row in weird:
        ctx = Context(values, current, today=today, row=row)
        for candidate in (expression, filtered):
            assert isinstance(candidate.evaluate(ctx), str | float | bool | date)
            assert isinstance(candidate.truth(ctx), bool)
            assert isinstance(candidate.text(ctx), str)


# --- Fuzzing -------------------------------------------------------------------------------

NAMES = ["a", "b", "mod", "div", "and", "or", "x-1", "họ_tên"]
COLUMNS = ["district", "name", "mod", "and", "or", "not", "admin-level"]
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "and", "or", "+", "-", "*", "div", "mod"]
PATTERNS = ["[0-9]+", "^a.*$", "0[0-9]{9}", "", "(a|b)*", "\\d{2}-\\w+"]
FIXED_ARITY = {
    "not": 1,
    "selected": 2,
    "count-selected": 1,
    "string-length": 1,
    "if": 3,
    "int": 1,
    "number": 1,
    "coalesce": 2,
}

Generated = tuple[str, int]  # source and nesting depth


def _quoted(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _call(name: str, args: list[Generated]) -> Generated:
    inner = ", ".join(source for source, _depth in args)
    return f"{name}({inner})", max((depth for _source, depth in args), default=0) + 1


def _binary(parts: tuple[Generated, str, Generated]) -> Generated:
    (left, left_depth), op, (right, right_depth) = parts
    return f"({left} {op} {right})", max(left_depth, right_depth) + 1


def _extend(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    calls = [
        st.lists(children, min_size=n, max_size=n).map(partial(_call, name))
        for name, n in FIXED_ARITY.items()
    ]
    pattern = st.one_of(st.sampled_from(PATTERNS).map(lambda p: (_quoted(p), 0)), children)
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(_binary),
        children.map(lambda child: (f"-{child[0]}", child[1] + 1)),
        st.lists(children, min_size=1, max_size=4).map(partial(_call, "concat")),
        st.tuples(children, pattern).map(lambda pair: _call("regex", list(pair))),
        *calls,
    )


LEAVES: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(NAMES).map(lambda name: "${" + name + "}"),
    st.sampled_from(COLUMNS),
    st.just("."),
    st.integers(0, 10**25).map(str),
    st.tuples(st.integers(0, 10**6), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]:03d}"),
    st.text(max_size=6).filter(lambda t: not ("'" in t and '"' in t)).map(_quoted),
    st.sampled_from(["true()", "false()", "today()", "'2026-01-01'", "''", "'a b'"]),
)

EXPRESSIONS: st.SearchStrategy[Generated] = st.recursive(
    LEAVES.map(lambda leaf: (leaf, 0)), _extend, max_leaves=25
).filter(lambda generated: generated[1] < MAX_DEPTH and len(generated[0]) < 1990)

ANY_VALUE: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.sampled_from(["2026-01-01", "abc", "12", "2,5", " 3 ", "[", "(a", "a b", "NaN"]),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 10**5000]),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.tuples(st.sampled_from(["a", "b", "rice", ""])),
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=3),
    st.builds(object),
)

CONTEXTS: st.SearchStrategy[Context] = st.builds(
    Context,
    values=st.dictionaries(st.sampled_from(NAMES), ANY_VALUE, max_size=len(NAMES)),
    current=ANY_VALUE,
    today=st.one_of(st.dates(), st.dates(), ANY_VALUE),
    row=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(COLUMNS), st.text(max_size=5)), ANY_VALUE
    ),
)

# fmt: off
SOUP = [
    "${a}", "${mod}", "${", "}", ".", "..", "(", ")", ",", "'x'", '"y"', "'", '"', "1", "2.5",
    ".5", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", " div ", " mod ", " and ", " or ",
    "not(", "selected(", "count-selected(", "if(", "regex(", "today()", "int(", "concat(",
    "coalesce(", "true()", "false()", "abc", " ", "#", "|", "[", "\\", "\x00", "\u00a0", "đ",
    "${x y}", "'[('",
]
# fmt: on
TOKEN_SOUP = st.lists(st.sampled_from(SOUP), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(source=st.one_of(st.text(max_size=300), TOKEN_SOUP), choice_filter=st.booleans())
def test_parse_returns_an_expression_or_raises_expression_error(
    source: str, choice_filter: bool
) -> None:
    try:
        expression = parse(source, choice_filter=choice_filter)
    except ExpressionError:
        return
    ctx = context(current="x", row={"abc": "1"})
    expression.evaluate(ctx)
    assert isinstance(expression.text(ctx), str)


@settings(max_examples=300, deadline=None)
@given(generated=EXPRESSIONS, ctx=CONTEXTS)
def test_well_formed_expressions_always_evaluate(generated: Generated, ctx: Context) -> None:
    source, _depth = generated
    expression = parse(source, choice_filter=True)
    result = expression.evaluate(ctx)
    assert isinstance(result, str | float | bool | date)
    assert expression.truth(ctx) is expression.truth(ctx)
    assert isinstance(expression.text(ctx), str)
    assert parse(f"not({source})", choice_filter=True).truth(ctx) is not expression.truth(ctx)
    assert parse(f"concat({source})", choice_filter=True).evaluate(ctx) == expression.text(ctx)
