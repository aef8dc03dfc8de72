"""XLSForm expressions: the ODK XPath subset of relevant, constraint, calculation and choice_filter.

A small tokenizer and recursive-descent parser build an immutable tree; evaluation follows
XPath 1.0 as ODK Collect (JavaRosa) does it. Nothing here uses eval, exec or Python's ast.
Pure: `today()` is whatever date the caller puts in the Context.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from messages.render import _

__all__ = [
    "Context",
    "Expression",
    "ExpressionError",
    "Value",
    "check_references",
    "parse",
    "render_template",
    "template_references",
]

Value: TypeAlias = str | int | float | bool | date | tuple[str, ...] | None
_X: TypeAlias = str | float | bool | date  # an XPath value once evaluated

MAX_LENGTH = 2000
MAX_DEPTH = 50
_EPOCH = date(1970, 1, 1)
_NAME = r"[^\W\d][\w.\-]*"  # XML-style names as pyxform allows them, hyphens and dots included
_NAME_RE = re.compile(_NAME)
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_NUMERIC_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T.*)?", re.DOTALL)
_TEMPLATE_RE = re.compile(r"\$\{(" + _NAME + r")\}")
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
# Loosest first; `or`/`and`/`div`/`mod` are operators only where an operator may stand.
_LEVELS = (
    frozenset({"or"}),
    frozenset({"and"}),
    frozenset({"=", "!="}),
    frozenset({"<", "<=", ">", ">="}),
    frozenset({"+", "-"}),
    frozenset({"*", "div", "mod"}),
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITY: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(("true", "false", "today"), (0, 0)),
    **dict.fromkeys(("not", "count-selected", "string-length", "int", "number"), (1, 1)),
    **dict.fromkeys(("selected", "regex", "coalesce"), (2, 2)),
    "if": (3, 3),
    "concat": (1, None),
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed or checked; the text is one sentence for an officer."""


@dataclass(frozen=True)
class Context:
    """What an expression is evaluated against: the answers so far, `.`, today and a choice row."""

    values: Mapping[str, Value]
    current: Value = None
    # No default on purpose: the engine passes its injected clock's local date, never the system's.
    today: date = field(kw_only=True)
    row: Mapping[str, str] | None = None


# --- XPath conversions -------------------------------------------------------------------


def _scalar(raw: object) -> _X:
    if raw is None:
        return ""
    if isinstance(raw, bool | str | float):
        return raw
    if isinstance(raw, datetime):  # a datetime does not compare with a date, so drop the time
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return math.inf if raw > 0 else -math.inf
    try:
        return str(raw)
    except Exception:
        return ""


def _coerce(raw: object) -> _X:
    """An engine value as an XPath value; a select_multiple is its space-separated names."""
    if isinstance(raw, tuple | list | set | frozenset):
        return " ".join(item if isinstance(item, str) else _string(_scalar(item)) for item in raw)
    return _scalar(raw)


def _number_text(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer():
        return str(int(x))
    text = repr(x)
    return format(Decimal(text), "f") if "e" in text else text  # XPath never writes exponents


def _string(x: _X) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return _number_text(x)
    if isinstance(x, str):
        return x
    return x.isoformat()


def _parse_number(text: str) -> float:
    # JavaRosa reads a comma as the decimal point, which is also how Vietnamese write it.
    text = text.replace(",", ".").strip()
    return float(text) if _NUMERIC_TEXT.fullmatch(text) else math.nan


def _number(x: _X) -> float:
    if isinstance(x, bool):
        return 1.0 if x else 0.0
    if isinstance(x, float):
        return x
    if isinstance(x, str):
        return _parse_number(x)
    return float((x - _EPOCH).days)


def _truth(x: _X) -> bool:
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        return x != 0 and not math.isnan(x)
    if isinstance(x, str):
        return x != ""
    return True


def _parse_date(text: str) -> date | None:
    found = _ISO_DATE.fullmatch(text.strip())
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _compare(op: str, a: _X, b: _X) -> bool:
    test = _COMPARE[op]
    if op in ("=", "!=") and (isinstance(a, bool) or isinstance(b, bool)):
        return test(_truth(a), _truth(b))
    # XPath orders booleans as numbers: (1 < 2) < 3 is true.
    if isinstance(a, bool | float) or isinstance(b, bool | float):
        return test(_number(a), _number(b))  # NaN makes every test but != false
    if isinstance(a, date) or isinstance(b, date):
        left = a if isinstance(a, date) else _parse_date(a)
        right = b if isinstance(b, date) else _parse_date(b)
        if left is None or right is None:
            return op == "!="  # so `${birthday} != ''` means "answered", as in Collect
        return test(left, right)
    if op in ("=", "!="):
        return test(a, b)
    return test(_number(a), _number(b))


def _arithmetic(op: str, x: float, y: float) -> float:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "mod":
        try:
            return math.fmod(x, y)
        except ValueError:  # x infinite or y zero
            return math.nan
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _regex(text: str, pattern: str) -> bool:
    # Collect uses Java's Pattern.matches(), which must match the whole text: fullmatch.
    try:
        return re.fullmatch(pattern, text) is not None
    except Exception:  # a computed pattern may be anything; a bad one simply does not match
        return False


def _lookup(mapping: Mapping[str, object] | None, name: str) -> object:
    if mapping is None:
        return None
    try:
        return mapping.get(name)
    except Exception:  # whatever the engine handed over, evaluation must not fail
        return None


# --- The tree ----------------------------------------------------------------------------


class _Env:
    __slots__ = ("context", "current", "today")

    def __init__(self, context: Context) -> None:
        self.context = context
        self.current = _coerce(context.current)
        self.today = _coerce(context.today)


class _Node:
    __slots__ = ()

    def eval(self, env: _Env) -> _X:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: str | float

    def eval(self, env: _Env) -> _X:
        return self.value


@dataclass(frozen=True, slots=True)
class _Ref(_Node):
    name: str

    def eval(self, env: _Env) -> _X:
        return _coerce(_lookup(env.context.values, self.name))


@dataclass(frozen=True, slots=True)
class _Current(_Node):
    def eval(self, env: _Env) -> _X:
        return env.current


@dataclass(frozen=True, slots=True)
class _Column(_Node):
    name: str

    def eval(self, env: _Env) -> _X:
        return _coerce(_lookup(env.context.row, self.name))


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node

    def eval(self, env: _Env) -> _X:
        return -_number(self.operand.eval(env))


@dataclass(frozen=True, slots=True)
class _Logic(_Node):
    op: str
    operands: tuple[_Node, ...]

    def eval(self, env: _Env) -> _X:
        truths = (_truth(node.eval(env)) for node in self.operands)
        return any(truths) if self.op == "or" else all(truths)


@dataclass(frozen=True, slots=True)
class _Chain(_Node):
    """Operators of one precedence level, applied left to right (kept flat to stay shallow)."""

    first: _Node
    rest: tuple[tuple[str, _Node], ...]

    def eval(self, env: _Env) -> _X:
        result = self.first.eval(env)
        for op, node in self.rest:
            right = node.eval(env)
            if op in _COMPARE:
                result = _compare(op, result, right)
            else:
                result = _arithmetic(op, _number(result), _number(right))
        return result


@dataclass(frozen=True, slots=True)
class _Call(_Node):
    name: str
    args: tuple[_Node, ...]

    def eval(self, env: _Env) -> _X:
        name, args = self.name, self.args
        if name == "if":  # only the branch taken is evaluated
            return args[1].eval(env) if _truth(args[0].eval(env)) else args[2].eval(env)
        if name == "coalesce":
            first = args[0].eval(env)
            empty = _string(first) in ("", "NaN")  # JavaRosa counts NaN as empty too
            return args[1].eval(env) if empty else first
        values = [node.eval(env) for node in args]
        if name in ("true", "false"):
            return name == "true"
        if name == "today":
            return env.today
        if name == "not":
            return not _truth(values[0])
        if name == "selected":
            return _string(values[1]).strip() in _string(values[0]).split()
        if name == "count-selected":
            return float(len(_string(values[0]).split()))
        if name == "string-length":
            return float(len(_string(values[0])))
        if name == "regex":
            return _regex(_string(values[0]), _string(values[1]))
        if name == "number":
            return _number(values[0])
        if name == "int":
            x = _number(values[0])
            return float(math.trunc(x)) if math.isfinite(x) else x
        return "".join(_string(value) for value in values)  # concat


@dataclass(frozen=True)
class Expression:
    """A parsed expression, ready to evaluate many times; create it with parse()."""

    source: str
    references: frozenset[str]
    _root: _Node = field(repr=False)
    _order: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def evaluate(self, context: Context) -> Value:
        """The raw XPath result (str, float, bool or date); never raises."""
        return self._root.eval(_Env(context))

    def truth(self, context: Context) -> bool:
        """XPath boolean() of the result, for relevant, constraint and choice_filter."""
        return _truth(self._root.eval(_Env(context)))

    def text(self, context: Context) -> str:
        """XPath string() of the result, for calculate and templates."""
        return _string(self._root.eval(_Env(context)))


# --- Parsing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, ref, dot, name, op, end
    text: str  # the number, the quoted text, the reference name, the name or the symbol
    start: int
    stop: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, size = 0, len(source)
    while i < size:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        if char in "'\"":
            close = source.find(char, i + 1)
            if close < 0:
                message = _("The text in quotes that starts at position {position} is not closed.")
                raise ExpressionError(message.format(position=i + 1))
            tokens.append(_Token("str", source[i + 1 : close], i, close + 1))
        elif source.startswith("${", i):
            close = source.find("}", i + 2)
            if close < 0:
                message = _("The reference that starts at position {position} is not closed.")
                raise ExpressionError(message.format(position=i + 1))
            name = source[i + 2 : close]
            if _NAME_RE.fullmatch(name) is None:
                message = _('The reference at position {position} has no valid name: "{name}".')
                raise ExpressionError(message.format(position=i + 1, name=name))
            tokens.append(_Token("ref", name, i, close + 1))
        elif found := _NUMBER_RE.match(source, i):
            tokens.append(_Token("num", found[0], i, found.end()))
        elif char == ".":
            tokens.append(_Token("dot", ".", i, i + 1))
        elif found := _NAME_RE.match(source, i):
            tokens.append(_Token("name", found[0], i, found.end()))
        else:
            symbol = next((s for s in _SYMBOLS if source.startswith(s, i)), None)
            if symbol is None:
                message = _('Unexpected character "{char}" at position {position}.')
                raise ExpressionError(message.format(char=char, position=i + 1))
            tokens.append(_Token("op", symbol, i, i + len(symbol)))
        i = tokens[-1].stop
    tokens.append(_Token("end", "", size, size))
    return tokens


class _Parser:
    def __init__(self, source: str, choice_filter: bool) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0
        self.choice_filter = choice_filter
        self.references: dict[str, None] = {}  # insertion-ordered set

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, *symbols: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "name") and token.text in symbols

    def unexpected(self, token: _Token) -> ExpressionError:
        if token.kind == "end":
            return ExpressionError(_("The expression ends too early; something is missing."))
        message = _('Unexpected "{token}" at position {position}.')
        shown = self.source[token.start : token.stop]
        return ExpressionError(message.format(token=shown, position=token.start + 1))

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_deep()

    def close(self, opening: _Token) -> None:
        token = self.advance()
        if token.kind == "end":
            message = _("The bracket opened at position {position} is not closed.")
            raise ExpressionError(message.format(position=opening.start + 1))
        if not (token.kind == "op" and token.text == ")"):
            raise self.unexpected(token)
        self.depth -= 1

    def expression(self) -> _Node:
        node = self.binary(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def binary(self, level: int) -> _Node:
        if level == len(_LEVELS):
            return self.unary()
        first = self.binary(level + 1)
        rest: list[tuple[str, _Node]] = []
        while self.at(*_LEVELS[level]):
            op = self.advance().text
            rest.append((op, self.binary(level + 1)))
        if not rest:
            return first
        if level < 2:
            return _Logic(rest[0][0], (first, *(node for _op, node in rest)))
        return _Chain(first, tuple(rest))

    def unary(self) -> _Node:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.advance()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return _Negate(operand)
        return self.primary()

    def primary(self) -> _Node:
        token = self.advance()
        if token.kind == "num":
            return _Literal(float(token.text))
        if token.kind == "str":
            return _Literal(token.text)
        if token.kind == "ref":
            self.references[token.text] = None
            return _Ref(token.text)
        if token.kind == "dot":
            return _Current()
        if token.kind == "op" and token.text == "(":
            self.enter()
            inner = self.binary(0)
            self.close(token)
            return inner
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(token)
            if self.choice_filter:
                return _Column(token.text)
            message = _(
                'The name "{name}" at position {position} is not a reference; '
                "write a question as {reference}."
            )
            reference = "${" + token.text + "}"
            raise ExpressionError(
                message.format(name=token.text, position=token.start + 1, reference=reference)
            )
        raise self.unexpected(token)

    def call(self, token: _Token) -> _Node:
        name = token.text
        if name not in _ARITY:
            raise ExpressionError(
                _("Unknown function {name}() in the expression.").format(name=name)
            )
        opening = self.advance()
        self.enter()
        args: list[_Node] = []
        if not self.at(")"):
            args.append(self.binary(0))
            while self.at(","):
                self.advance()
                args.append(self.binary(0))
        self.close(opening)
        low, high = _ARITY[name]
        if high is None and len(args) < low:
            message = _(
                "Wrong number of arguments for {name}(): it takes at least {expected}, not {given}."
            )
            raise ExpressionError(message.format(name=name, expected=low, given=len(args)))
        if high is not None and not low <= len(args) <= high:
            message = _("Wrong number of arguments for {name}(): it takes {expected}, not {given}.")
            raise ExpressionError(message.format(name=name, expected=low, given=len(args)))
        pattern = args[1] if name == "regex" else None
        if isinstance(pattern, _Literal) and isinstance(pattern.value, str):
            try:
                re.compile(pattern.value)
            except (re.error, RecursionError, OverflowError, ValueError):
                message = _('The pattern "{pattern}" in regex() is not a valid regular expression.')
                raise ExpressionError(message.format(pattern=pattern.value)) from None
        return _Call(name, tuple(args))


def _too_deep() -> ExpressionError:
    message = _("The expression is nested too deeply: at most {limit} levels are allowed.")
    return ExpressionError(message.format(limit=MAX_DEPTH))


def parse(source: str, *, choice_filter: bool = False) -> Expression:
    """Parse an XLSForm expression; bare names are choice-sheet columns only in a choice_filter."""
    if len(source) > MAX_LENGTH:
        message = _("The expression is too long: {length} characters, at most {limit} are allowed.")
        raise ExpressionError(message.format(length=len(source), limit=MAX_LENGTH))
    if not source.strip():
        raise ExpressionError(_("The expression is empty."))
    parser = _Parser(source, choice_filter)
    try:
        root = parser.expression()
    except RecursionError:  # the depth limit should come first; this is the backstop
        raise _too_deep() from None
    order = tuple(parser.references)
    return Expression(source, frozenset(order), root, order)


def check_references(expression: Expression, known: Collection[str]) -> None:
    """Raise ExpressionError naming the first ${name} that is not among the known questions."""
    for name in expression._order:
        if name not in known:
            message = _(
                "The expression refers to {reference}, but the form has no question by that name."
            )
            raise ExpressionError(message.format(reference="${" + name + "}"))


def template_references(text: str) -> frozenset[str]:
    """The question names written as ${name} inside a label or note."""
    return frozenset(_TEMPLATE_RE.findall(text))


def _answer_text(raw: object) -> str:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return f"{raw.day:02d}/{raw.month:02d}/{raw.year:04d}"
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**300:
        return str(raw)  # exactly, not through a float
    return _string(_coerce(raw))


def render_template(text: str, values: Mapping[str, Value]) -> str:
    """A label or note with each ${name} replaced by that answer as people read it ('' if none)."""
    return _TEMPLATE_RE.sub(lambda found: _answer_text(_lookup(values, found[1])), text)
