"""Replies to survey questions read into typed answers, the way poor households type them. Pure.

Every reader takes the message as typed (any case, with or without diacritics, cheap-phone
spelling) and returns a typed answer, or None when the reply cannot be read, so the engine asks
again. Nothing here raises, whatever the input.

Choices made on ambiguous replies (the tests pin each one):

* Choices: an exact label beats the option number, which beats an exact choice name (names are
  never shown, and coded names such as "0"/"1" must not shadow the numbering people see), which
  beats a prefix. Labels "0 con", "1 con": "1" is option 1 ("0 con"), "1 con" is option 2.
  A number out of range is no answer, but may still be a prefix ("12" -> "12 tháng").
  Number words ("hai", "số ba") come after prefixes; when both readings exist and disagree,
  the reply is a miss. A yes/no word ("ừ", "ko") picks the single yes-like or no-like option,
  also when it is an ambiguous prefix ("kh" with "Không" and "Không biết" -> "Không").
* Lists of choices: separated by "," ";" "/" "+" "&" or "và"/"and"/"với"/"cùng"; numbers may
  also be separated by spaces ("1 3"). Ranges ("1-3") and any part that is no option make the
  whole reply a miss.
* Numbers: "." groups thousands only when every later group has 3 digits ("1.500" = 1500,
  "1.5" = 1.5); a single "," is the decimal mark ("1,500" = 1.5); several commas in valid groups
  are thousands ("1,500,000"); with both marks the last one is the decimal mark. Space groups
  of 3 digits join ("1 500 000"). After a scale word, a bare 1-3 digit tail is the decimal
  digits of that scale ("2tr5" = 2,500,000, "1 tr 2" = 1,200,000, "2 triệu 500" = 2,500,000),
  a single digit word is tenths ("một trăm hai" = 120, "ba triệu hai" = 3,200,000) and other
  word groups fill the next lower group ("hai triệu năm trăm" = 2,500,000). After "mười"/"mươi"
  a final 5 must be "lăm"/"nhăm": "hai mươi năm" is 20 (years). "tam" before digits is "tầm"
  (about), otherwise "tám" (8). One trailing word that is not a number word is a unit and is
  dropped ("5 người", "3 con", "2 triệu/tháng"; "2 sào rưỡi" is 2.5); two words ("2 con gà"),
  "không biết" and "một ít" are misses.
* Yes/no: "dạ" alone is a polite yes; digits ("1") are neither; 👍/👎 count.
* Dates are day first; two-digit years are 20xx; years outside 1900-2199 are misses.
* Free text keeps line breaks (at most one blank line in a row); other controls become spaces,
  invisible format characters are dropped except joiners inside emoji.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from messages.text import fold

MAX_TEXT = 1000  # characters kept of a free-text answer
_MAX_SCAN = 10 * MAX_TEXT  # characters of a message looked at at all
_MAX_TOKENS = 40  # words and numerals in a number reply
_MAX_NUMBER = Decimal(10**15)
_MAX_DIGITS = 16


@dataclass(frozen=True)
class Option:
    """One choice of a select question, in form order (numbered from 1)."""

    name: str
    label: str


class Command(StrEnum):
    """A whole message that steers the conversation instead of answering."""

    SKIP = "skip"
    BACK = "back"
    HELP = "help"


# --- Cleaning ---------------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_JOINERS = "\u200c\u200d"  # keep emoji sequences (👨‍👩‍👧) whole
_EDGE_JOINERS = re.compile(r"(?<!\S)[\u200c\u200d]+|[\u200c\u200d]+(?!\S)")
_BLANK_LINES = re.compile(r"\n{3,}")
_INVISIBLE = frozenset({"Mn", "Me", "Cf"})


def _drop_controls(text: str) -> str:
    """Control characters to spaces; format characters and lone surrogates dropped."""
    out: list[str] = []
    for ch in text:
        if ch == "\n" or ch in _JOINERS:
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            out.append(" ")
        elif category == "Cs" or (category == "Cf" and not "\U000e0020" <= ch <= "\U000e007f"):
            continue  # emoji tag characters (flags of regions) are kept
        else:
            out.append(ch)
    return "".join(out)


def _tidy_line(line: str) -> str:
    """One line composed, joiners off its edges, spaces single and trimmed."""
    if "\u200c" in line or "\u200d" in line:
        line = _EDGE_JOINERS.sub("", line)
    if not unicodedata.is_normalized("NFC", line):
        line = unicodedata.normalize("NFC", line)
    return " ".join(line.split())  # messages.text.nfc, at a tenth of its cost on long text


def clean(text: str) -> str:
    """The reply as stored: NFC, controls gone, spacing tidied, at most MAX_TEXT characters."""
    text = text[:_MAX_SCAN]
    if not (text.isascii() and text.isprintable()):
        text = _LINE_BREAKS.sub("\n", text)
        if not text.isprintable():
            text = _drop_controls(text)
    if "\n" in text:
        text = "\n".join(_tidy_line(line) for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", text).strip("\n")
    else:
        text = _tidy_line(text)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT].rstrip(" \n" + _JOINERS)
    return text


def _visible(text: str) -> bool:
    """Whether the text shows anything (not only marks, joiners or spaces)."""
    if text.isascii():
        return bool(text.strip())
    return any(not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE for ch in text)


def read_text(text: str) -> str | None:
    """The cleaned reply, or None when nothing visible is left."""
    cleaned = clean(text)
    return cleaned if _visible(cleaned) else None


# --- Keys for matching ------------------------------------------------------------------------

_EDGE_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sk"})
_ALNUM = re.compile(r"[^\W_]+")


def _is_edge(ch: str) -> bool:
    """Punctuation, maths symbols, modifiers (skin tones) and spaces around a reply."""
    return ch.isspace() or unicodedata.category(ch) in _EDGE_CATEGORIES


def _strip_edges(text: str) -> str:
    """The text without punctuation or spaces around it."""
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


class _Keys(NamedTuple):
    """Matching keys of a text, from strict to loose."""

    full: str  # folded
    exact: str  # folded, punctuation around it and emoji selectors removed
    loose: str  # letters and digits only, single spaces
    compact: str  # letters and digits only


def _keys_of_folded(folded: str) -> _Keys:
    """The keys of an already folded text."""
    plain = folded.replace("\ufe0f", "")  # emoji presentation selector: ❤️ = ❤
    exact = _strip_edges(plain) or plain
    loose = " ".join(_ALNUM.findall(exact))
    return _Keys(folded, exact, loose, loose.replace(" ", ""))


def _keys(text: str) -> _Keys:
    """The keys of a text as typed."""
    return _keys_of_folded(fold(clean(text)))


def compact_key(text: str) -> str:
    """A text's letters and digits, folded, without spaces: "Trợ giúp!" -> "trogiup"."""
    return _keys(text).compact


# --- Commands ---------------------------------------------------------------------------------

_COMMANDS: dict[str, Command] = {
    **dict.fromkeys(("boqua", "bq", "skip", "boquacaunay"), Command.SKIP),
    **dict.fromkeys(("quaylai", "ql", "back", "trolai", "quaylaicautruoc"), Command.BACK),
    **dict.fromkeys(("trogiup", "giup", "help", "huongdan", "giupdo"), Command.HELP),
}
_COMMAND_LEADING = frozenset({"da", "vang"})
_COMMAND_TRAILING = frozenset({"a", "nhe", "nha", "di", "voi"})


def read_command(text: str) -> Command | None:
    """The command a whole message gives (bỏ qua, quay lại, trợ giúp, ?), or None."""
    folded = fold(clean(text))
    if len(folded) > 40:
        return None
    bare = folded.replace(" ", "")
    if bare.lstrip("/") and not bare.lstrip("/").strip("?？"):
        return Command.HELP
    words = _ALNUM.findall(_strip_edges(folded))
    while len(words) > 1 and words[0] in _COMMAND_LEADING:
        words.pop(0)
    while len(words) > 1 and words[-1] in _COMMAND_TRAILING:
        words.pop()
    return _COMMANDS.get("".join(words))


# --- Yes and no -------------------------------------------------------------------------------

_NEGATIONS = ("khong", "ko", "k", "kg", "khg", "kh", "hong", "hok", "khum", "chua")
_NO = frozenset({*_NEGATIONS, "hem", "sai", "no", "n", "nope"})
_YES = frozenset(
    {"co", "c", "u", "uh", "um", "uhm", "uk", "ukm", "ok", "oke", "okay", "okey", "oki", "okie"}
    | {"dung", "roi", "vang", "yes", "y", "yep", "yeah", "phai", "duoc"}
)
_YES_NO_PHRASES: dict[str, bool] = {
    **{f"{neg} {word}": False for neg in _NEGATIONS for word in ("co", "phai", "dung", "duoc")},
    **{f"{neg} dong y": False for neg in _NEGATIONS},
    "sai roi": False,
    "dong y": True,
    "co chu": True,
    "dung vay": True,
    "dung the": True,
    "tat nhien": True,
    "chac chan": True,
}
_POLITE = frozenset({"a", "ah", "da", "nhe", "nha", "ne", "day"})
_THUMBS = {"👍": "ok", "✅": "ok", "👎": "khong", "❌": "khong"}
_YES_NO_TOKEN = re.compile(r"[^\W_]+|\S")
_THANKS = re.compile(r"\b(?:xin )?cam on\b")  # "cảm ơn" (thank you) says neither yes nor no
_REPEATS = re.compile(r"(.)\1+")


def _yes_no_word(word: str) -> bool | None:
    """True for a yes word, False for a no word ("okkk" and "khongg" too), else None."""
    for candidate in (word, _REPEATS.sub(r"\1", word)):
        if candidate in _YES:
            return True
        if candidate in _NO:
            return False
    return None


def read_yes_no(text: str) -> bool | None:
    """True for có/ừ/ok/đúng/rồi/vâng..., False for không/ko/chưa/sai..., else None."""
    folded = fold(clean(text)).replace("\ufe0f", "")
    if not folded or len(folded) > 60:
        return None
    words: list[str] = []
    for match in _YES_NO_TOKEN.finditer(folded):
        token = match.group()
        if token in _THUMBS:
            words.append(_THUMBS[token])
        elif token[0].isalnum():
            words.append(token)
        elif not _is_edge(token):
            return None  # another emoji or symbol: not a plain yes or no
    polite = "da" in words
    words = [word for word in _THANKS.sub(" ", " ".join(words)).split() if word not in _POLITE]
    if not words:
        return True if polite else None  # "Dạ." alone is a polite yes
    if len(words) > 4:
        return None
    phrase = _YES_NO_PHRASES.get(" ".join(words))
    if phrase is not None:
        return phrase
    readings = {_yes_no_word(word) for word in words}
    if len(readings) == 1:
        return readings.pop()
    return None


# --- Numbers ----------------------------------------------------------------------------------

_DIGIT_WORDS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
# The last digit after "mười"/"mươi": "mốt", "tư", "lăm"/"nhăm"; never "không" or "năm"
_UNITS_AFTER_TENS = {
    **{word: digit for word, digit in _DIGIT_WORDS.items() if word not in ("khong", "nam")},
    "lam": 5,
    "nham": 5,
}
_SCALES = {
    "nghin": 1000,
    "ngan": 1000,
    "k": 1000,
    "n": 1000,
    "trieu": 10**6,
    "tr": 10**6,
    "ty": 10**9,
    "ti": 10**9,
}
_SCALE_WORDS = frozenset({"nghin", "ngan", "trieu", "ty", "ti"})  # may stand without "một"
_ZERO_TENS = frozenset({"linh", "le"})
_NUMBER_WORDS = (
    frozenset(_UNITS_AFTER_TENS)
    | frozenset(_DIGIT_WORDS)
    | frozenset(_SCALES)
    | _ZERO_TENS
    | {"muoi", "chuc", "tram", "ruoi"}
)
_FILLERS = frozenset({"khoang", "tầm", "chung", "co", "da", "vang", "~", "≈"})  # "khoảng", "cỡ"
_NOT_UNITS = frozenset({"it", "chut", "so", "vai", "may"})  # "một ít" is not a count of 1
_CURRENCY = frozenset({"dong", "d", "vnd", "₫"})
_END_PUNCTUATION = frozenset(".,!?;:…")
_LEX = re.compile(
    r"(?P<num>[-−]?[0-9]+(?:[.,][0-9]+)*)|(?P<word>m[23²³](?![0-9])|[^\W\d_]+)|(?P<sym>\S)"
)


class _Tok(NamedTuple):
    """A numeral, word or symbol of a number reply."""

    kind: str  # "num", "word" or "sym"
    key: str  # folded word, numeral digits, or the symbol
    raw: str  # as typed, lower case with diacritics
    value: Decimal = Decimal(0)  # numerals: the value without sign
    plain: bool = False  # numerals: digits only, no separators
    negative: bool = False  # numerals: typed with a minus sign


def _grouped(text: str, mark: str) -> bool:
    """Whether `mark` separates thousands: 1-3 digits (no leading 0), then groups of 3."""
    groups = text.split(mark)
    head = groups[0]
    return (
        len(groups) > 1
        and 1 <= len(head) <= 3
        and head[0] != "0"
        and all(len(group) == 3 for group in groups[1:])
    )


def _numeral(text: str) -> Decimal | None:
    """The value of digits with Vietnamese (or unambiguous English) separators."""
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        point = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if point == "." else "."
        whole, _, fraction = text.rpartition(point)
        if not _grouped(whole, group):
            return None
        digits = whole.replace(group, "") + "." + fraction
    elif commas:
        if commas == 1:
            digits = text.replace(",", ".")  # "1,5" and "1,500" are decimals
        elif _grouped(text, ","):
            digits = text.replace(",", "")
        else:
            return None
    elif dots:
        if _grouped(text, "."):
            digits = text.replace(".", "")
        elif dots == 1:
            digits = text
        else:
            return None
    else:
        digits = text
    if len(digits) > _MAX_DIGITS + 1:
        return None
    return Decimal(digits)


def _lex(text: str) -> list[_Tok] | None:
    """The tokens of a lower-cased reply, space groups of 3 digits joined; None when too long."""
    tokens: list[_Tok] = []
    joinable = False  # the last token is a numeral that a space group may continue
    previous_end = -1
    for match in _LEX.finditer(text):
        if len(tokens) >= _MAX_TOKENS:
            return None
        raw, kind = match.group(), match.lastgroup
        if kind == "num":
            negative = raw[0] in "-−"
            digits = raw[1:] if negative else raw
            if (
                joinable
                and not negative
                and len(digits) == 3
                and digits.isdigit()
                and text[previous_end : match.start()] == " "
            ):
                last = tokens[-1]
                key = last.key + digits
                tokens[-1] = last._replace(
                    key=key, raw=f"{last.raw} {digits}", value=Decimal(key), plain=False
                )
                joinable = len(key) <= _MAX_DIGITS
            else:
                value = _numeral(digits)
                if value is None:
                    return None
                plain = digits.isdigit()
                tokens.append(_Tok("num", digits, raw, value, plain, negative))
                joinable = plain and len(digits) <= 3 and digits[0] != "0"
            previous_end = match.end()
            continue
        joinable = False
        if kind == "word":  # "tầm" (about) keeps its accent: it is never "tám" (8)
            tokens.append(_Tok("word", raw if raw == "tầm" else fold(raw), raw))
        elif raw == "." and tokens and tokens[-1].kind == "word":
            continue  # an abbreviation: "tr." for triệu
        else:
            tokens.append(_Tok("sym", raw, raw))
    return tokens


def _is_word(token: _Tok, words: Container[str]) -> bool:
    """Whether the token is one of these words."""
    return token.kind == "word" and token.key in words


def _digit(token: _Tok, words: dict[str, int] = _DIGIT_WORDS) -> int | None:
    """A digit written as a word or a single digit numeral."""
    if token.kind == "word":
        return words.get(token.key)
    if token.kind == "num" and token.plain and len(token.key) == 1:
        return int(token.key)
    return None


def _tens(tokens: Sequence[_Tok]) -> int | None:
    """0-99 in words: "hai", "mười lăm", "ba mươi mốt", "hai mươi tư", "hai lăm"."""
    count = len(tokens)
    if count == 1:
        token = tokens[0]
        if token.kind == "num" and token.plain and len(token.key) <= 2:
            return int(token.key)
        return 10 if token.key == "muoi" and token.kind == "word" else _digit(token)
    if count > 3:
        return None
    first = tokens[0]
    if _is_word(first, {"muoi"}):
        unit = _digit(tokens[1], _UNITS_AFTER_TENS) if count == 2 else None
        return None if unit is None else 10 + unit
    tens = _digit(first)
    if tens is None or tens < 2:
        return None
    if _is_word(tokens[1], {"muoi"}):
        if count == 2:
            return tens * 10
        unit = _digit(tokens[2], _UNITS_AFTER_TENS)
        return None if unit is None else tens * 10 + unit
    if count == 2 and first.kind == "word" and _is_word(tokens[1], {"lam", "nham", "tu", "mot"}):
        return tens * 10 + _UNITS_AFTER_TENS[tokens[1].key]  # spoken short: "hai lăm" = 25
    return None


def _group(tokens: Sequence[_Tok]) -> int | None:
    """0-999 in words or small numerals: "hai trăm linh năm", "một trăm hai", "trăm rưỡi"."""
    hundreds_at = [i for i, token in enumerate(tokens) if _is_word(token, {"tram"})]
    if not hundreds_at:
        chuc_at = [i for i, token in enumerate(tokens) if _is_word(token, {"chuc"})]
        return _tens(tokens) if not chuc_at else _chuc(tokens, chuc_at)
    if len(hundreds_at) > 1:
        return None
    at = hundreds_at[0]
    left, right = tokens[:at], tokens[at + 1 :]
    if len(left) > 1:
        return None
    hundreds = _digit(left[0]) if left else 1
    if hundreds is None:
        return None
    base = hundreds * 100
    if not right:
        return base
    if len(right) == 1:
        token = right[0]
        if _is_word(token, {"ruoi"}):
            return base + 50
        if token.kind == "num" and token.plain and len(token.key) == 2:
            return base + int(token.key)
        digit = _digit(token)
        if digit is not None:
            return base + digit * 10 if digit else None  # "một trăm hai" = 120
    elif _is_word(right[0], _ZERO_TENS):
        digit = _digit(right[1]) if len(right) == 2 else None
        return None if digit is None else base + digit
    tens = _tens(right)
    return None if tens is None or tens < 10 else base + tens


def _chuc(tokens: Sequence[_Tok], chuc_at: list[int]) -> int | None:
    """Tens counted in "chục": "hai chục" = 20, "chục rưỡi" = 15, "2 chục 5" = 25."""
    if len(chuc_at) > 1:
        return None
    left, right = tokens[: chuc_at[0]], tokens[chuc_at[0] + 1 :]
    tens = _digit(left[0]) if len(left) == 1 else (1 if not left else None)
    if not tens or len(right) > 1:
        return None
    if not right:
        return tens * 10
    unit = 5 if _is_word(right[0], {"ruoi"}) else _digit(right[0])
    return None if not unit else tens * 10 + unit


def _tail(tokens: Sequence[_Tok], scale: int) -> Decimal | None:
    """What follows a scale word, worth less than one of it ("2 triệu *rưỡi*", "1 tr *2*")."""
    if len(tokens) == 1:
        token = tokens[0]
        if _is_word(token, {"ruoi"}):
            return Decimal(scale // 2)
        if token.kind == "num" and token.plain and len(token.key) <= 3:
            places = 10 ** len(token.key)
            return Decimal(int(token.key) * scale // places) if places <= scale else None
        if token.kind == "num":
            if token.value != token.value.to_integral_value() or token.value >= scale:
                return None
            return token.value
        if _is_word(token, _DIGIT_WORDS) and token.key != "khong":
            return Decimal(_DIGIT_WORDS[token.key] * scale // 10)  # "ba triệu hai"
    if any(_is_word(token, _SCALES) for token in tokens):
        rest = _value(tokens)
        return rest if rest is not None and rest < scale else None
    if _is_word(tokens[0], _ZERO_TENS) and len(tokens) == 2:  # "một nghìn linh năm"
        group = _digit(tokens[1])
    else:
        group = _group(tokens)
    if group is None or scale < 1000:
        return None
    return Decimal(group * scale // 1000)  # the next group down: "hai triệu năm trăm"


def _value(tokens: Sequence[_Tok]) -> Decimal | None:
    """The value of numerals and number words, largest scale first."""
    if not tokens:
        return None
    scales = [(i, _SCALES[t.key]) for i, t in enumerate(tokens) if _is_word(t, _SCALES)]
    if scales:
        scale = max(s for _, s in scales)
        at = next(i for i, s in scales if s == scale)
        left, right = tokens[:at], tokens[at + 1 :]
        if left:
            head = _value(left)
        else:  # "triệu rưỡi", "nghìn hai": one of them
            head = Decimal(1) if right and tokens[at].key in _SCALE_WORDS else None
        if head is None or head <= 0:
            return None
        if not right:
            return head * scale
        if head != head.to_integral_value():
            return None
        rest = _tail(right, scale)
        return None if rest is None else head * scale + rest
    if len(tokens) == 1 and tokens[0].kind == "num":
        return tokens[0].value
    group = _group(tokens)
    return None if group is None else Decimal(group)


def _evaluate(tokens: Sequence[_Tok]) -> Decimal | None:
    """The value of a number reply after fillers, without its currency."""
    if tokens and tokens[-1].key in _CURRENCY:
        tokens = tokens[:-1]
    return _value(tokens)


def _is_unit(token: _Tok) -> bool:
    """A word that can follow a number as its unit ("người", "con", "năm", "%")."""
    if token.kind == "sym":
        return token.key == "%"
    if token.kind != "word" or token.key in _NOT_UNITS:
        return False
    return token.key not in _NUMBER_WORDS or token.key == "nam"


def _with_unit(tokens: Sequence[_Tok]) -> Decimal | None:
    """The value of a number followed by one unit word: "5 người", "2 sào rưỡi" (2.5)."""
    half = len(tokens) > 2 and _is_word(tokens[-1], {"ruoi"})
    if half:
        tokens = tokens[:-1]
    if len(tokens) < 2 or not _is_unit(tokens[-1]):
        return None
    rest = tokens[:-1]
    if rest[0].key == "khong" and len(rest) == 1 and tokens[-1].key != "co":
        return None  # "không biết", "không nhớ"; but "không có" is 0
    if rest[-1].key == "/":  # "2 triệu/tháng"
        rest = rest[:-1]
    value = _evaluate(rest)
    if value is None or not half:
        return value
    return value + Decimal("0.5") if value == value.to_integral_value() else None


def _read_number(text: str) -> Decimal | None:
    """The number in a reply (digits, words or both), or None."""
    tokens = _lex(clean(text).casefold())
    if not tokens:
        return None
    start, end = 0, len(tokens)
    while end > start and tokens[end - 1].kind == "sym" and tokens[end - 1].key in _END_PUNCTUATION:
        end -= 1
    while end > start + 1 and tokens[end - 1].key == "a":  # "ạ"
        end -= 1
    while end - start > 1:
        first = tokens[start]
        # "tam" without accents is "tầm" (about) before digits, else "tám" (8): "tam trieu"
        about = first.raw == "tam" and tokens[start + 1].kind == "num"
        if not about and first.key not in _FILLERS:
            break
        start += 1
    tokens = tokens[start:end]
    if not tokens:
        return None
    negative = tokens[0].negative
    if any(token.negative for token in tokens[1:]):
        return None
    value = _evaluate(tokens)
    if value is None:
        value = _with_unit(tokens)
    if value is None or value > _MAX_NUMBER:
        return None
    return -value if negative else value


def read_decimal(text: str) -> Decimal | None:
    """A number as typed in Vietnam ("1,5", "1.500.000", "2 triệu rưỡi", "năm mươi"), or None."""
    value = _read_number(text)
    if value is None:
        return None
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def read_integer(text: str) -> int | None:
    """A whole number as typed in Vietnam ("1.500.000", "2tr", "hai mươi tư", "5 người")."""
    value = _read_number(text)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


# --- Dates ------------------------------------------------------------------------------------

_RELATIVE_DAYS = {
    "hom nay": 0,
    "nay": 0,
    "ngay mai": 1,
    "mai": 1,
    "hom qua": -1,
    "ngay kia": 2,
    "ngay mot": 2,
    "hom kia": -2,
}
_DATE_LEADING = frozenset({"da", "vao", "ngay", "mung", "mong"})
_DATES = (
    re.compile(
        r"(?P<d>\d{1,2})\s*(?P<s>[/.-])\s*(?P<m>\d{1,2})(?:\s*(?P=s)\s*(?P<y>\d{4}|\d{2}))?"
    ),
    re.compile(
        r"(?P<d>\d{1,2})\s*thang\s*(?P<m>\d{1,2})"
        r"(?:(?:\s*,?\s*nam\s*|\s*,\s*|\s+)(?P<y>\d{4}|\d{2}))?"
    ),
    re.compile(r"(?P<y>\d{4})\s*(?P<s>[/.-])\s*(?P<m>\d{1,2})\s*(?P=s)\s*(?P<d>\d{1,2})"),
)


def _make_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when it does not exist or the year is implausible."""
    if not 1900 <= year <= 2199:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_date(text: str, *, today: date) -> date | None:
    """A day as typed: 15/12, 15/12/2026, 2026-12-15, ngày 15 tháng 12, hôm nay, mai."""
    words = _strip_edges(fold(clean(text))).split(" ")
    if len(words) > 12:
        return None
    while len(words) > 1 and words[-1] == "a":
        words.pop()
    key = " ".join(words)
    if key in _RELATIVE_DAYS:
        try:
            return today + timedelta(days=_RELATIVE_DAYS[key])
        except OverflowError:
            return None
    while len(words) > 1 and words[0] in _DATE_LEADING:
        words.pop(0)
    key = " ".join(words)
    for pattern in _DATES:
        match = pattern.fullmatch(key)
        if match is not None:
            break
    else:
        return None
    year_text = match["y"]
    if year_text is None:
        year = today.year
    else:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    return _make_date(year, int(match["m"]), int(match["d"]))


# --- Choices ----------------------------------------------------------------------------------

_Tier = dict[str, tuple[int, ...]]
_CHOICE_NUMBER = re.compile(r"(?:(?:so|chon|chon so|lua chon|phuong an|dap an)\s*)?(\d{1,4})")
_CHOICE_WORDS = re.compile(r"(?:(?:so|chon|chon so|lua chon|phuong an|dap an)\s+)?([a-z ]+)")
_NUMBERED_LABEL = re.compile(r"(\d{1,3})\s*[.):-]?\s+(.+)")
_LIST_SEPARATORS = re.compile(r"\s*[,;/+&、]\s*")
_AND = re.compile(r"\s+(?:va|and|voi|cung)\s+")
_NUMBER_LIST = re.compile(r"\d{1,4}(?: \d{1,4})+")


@dataclass(frozen=True)
class _Menu:
    """Lookup tables for one list of options."""

    names: tuple[str, ...]
    labels: tuple[_Tier, ...]  # full, exact, loose, compact keys -> option indices
    choice_names: tuple[_Tier, ...]
    prefixes: tuple[tuple[str, int], ...]  # loose keys of labels and names
    yes: int | None
    no: int | None


def _tiers(keys: Sequence[_Keys]) -> tuple[_Tier, ...]:
    """For each kind of key, the options it names."""
    tiers: list[_Tier] = []
    for kind in range(4):
        tier: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            if key[kind]:
                found = tier.setdefault(key[kind], [])
                if index not in found:
                    found.append(index)
        tiers.append({key: tuple(found) for key, found in tier.items()})
    return tuple(tiers)


def _polarity(option: Option) -> bool | None:
    """True when an option reads as yes ("Có", name "yes"), False as no, else None."""
    readings = {read_yes_no(option.label), read_yes_no(option.name.replace("_", " "))}
    readings.discard(None)
    return readings.pop() if len(readings) == 1 else None


@lru_cache(maxsize=512)
def _menu(options: tuple[Option, ...]) -> _Menu:
    """The lookup tables of a list of options (cached: forms repeat their lists)."""
    labels = [_keys(option.label) for option in options]
    names = [_keys(option.name.replace("_", " ")) for option in options]
    prefixes = tuple(
        (key.loose, index)
        for index, pair in enumerate(zip(labels, names, strict=True))
        for key in pair
        if key.loose
    )
    polarities = [_polarity(option) for option in options]
    yes = [i for i, polarity in enumerate(polarities) if polarity is True]
    no = [i for i, polarity in enumerate(polarities) if polarity is False]
    return _Menu(
        names=tuple(option.name for option in options),
        labels=_tiers(labels),
        choice_names=_tiers(names),
        prefixes=prefixes,
        yes=yes[0] if len(yes) == 1 else None,
        no=no[0] if len(no) == 1 else None,
    )


def _lookup(tiers: tuple[_Tier, ...], keys: _Keys) -> int | None:
    """The one option whose key equals the reply's, strictest key first."""
    for kind, tier in enumerate(tiers):
        found = tier.get(keys[kind]) if keys[kind] else None
        if found is not None and len(found) == 1:
            return found[0]
    return None


def _unpolite(loose: str) -> str:
    """The loose key without "dạ" before or "ạ" after."""
    words = loose.split(" ")
    while len(words) > 1 and words[0] in ("da", "vang"):
        words.pop(0)
    while len(words) > 1 and words[-1] == "a":
        words.pop()
    return " ".join(words)


def _number_word(loose: str) -> int | None:
    """An option number in words: "hai", "số ba", "mười hai"."""
    match = _CHOICE_WORDS.fullmatch(loose)
    if match is None:
        return None
    words = match[1].split()
    if not words or len(words) > 4 or not all(word in _NUMBER_WORDS for word in words):
        return None
    return _group([_Tok("word", word, word) for word in words])


def _prefixed(menu: _Menu, loose: str) -> set[int]:
    """The options whose label or name starts with the reply (2 characters at least)."""
    if len(loose) < 2:
        return set()
    size = len(loose)
    found: set[int] = set()
    for key, index in menu.prefixes:
        if key.startswith(loose) and not (
            len(key) > size and loose[-1].isdigit() and key[size].isdigit()
        ):
            found.add(index)
    return found


def _resolve(menu: _Menu, keys: _Keys) -> int | None:
    """The option a reply names by label, number, name or prefix (no yes/no), or None."""
    index = _lookup(menu.labels, keys)
    if index is not None:
        return index
    loose = _unpolite(keys.loose)
    count = len(menu.names)
    number = _CHOICE_NUMBER.fullmatch(loose)
    if number is not None and 1 <= int(number[1]) <= count:
        return int(number[1]) - 1
    numbered = _NUMBERED_LABEL.fullmatch(keys.exact)
    if numbered is not None and 1 <= int(numbered[1]) <= count:  # "2. Lúa nước" from the menu
        named = _resolve(menu, _keys_of_folded(numbered[2]))
        if named == int(numbered[1]) - 1:
            return named
    index = _lookup(menu.choice_names, keys)
    if index is not None:
        return index
    prefixed = _prefixed(menu, keys.loose)
    word = _number_word(loose)
    by_word = word - 1 if word is not None and 1 <= word <= count else None
    if len(prefixed) == 1:
        only = prefixed.pop()
        return only if by_word in (None, only) else None
    return by_word if not prefixed else None


def read_choice(text: str, options: Sequence[Option]) -> str | None:
    """The name of the option a reply picks (number, label, prefix or yes/no), or None."""
    if not options:
        return None
    menu = _menu(tuple(options))
    keys = _keys(text)
    if not keys.full:
        return None
    index = _resolve(menu, keys)
    if index is None and menu.yes is not None and menu.no is not None:
        answer = read_yes_no(text)
        if answer is not None:
            index = menu.yes if answer else menu.no
    return None if index is None else menu.names[index]


def _resolve_part(menu: _Menu, part: str) -> list[int] | None:
    """The options one part of a list names, or None when any of it names none."""
    keys = _keys_of_folded(part)
    index = _lookup(menu.labels, keys) if keys.full else None
    if index is not None:
        return [index]
    if _NUMBER_LIST.fullmatch(keys.exact):  # "1 3", but not the range "1-3"
        numbers = [int(number) for number in keys.exact.split(" ")]
        if all(1 <= number <= len(menu.names) for number in numbers):
            return [number - 1 for number in numbers]
        return None
    pieces = _AND.split(keys.full)
    if len(pieces) > 1:  # "1 và 3", "lúa và heo"; else maybe a label's start ("lúa và r")
        found = [_resolve_part(menu, piece) for piece in pieces]
        if all(found):
            return [index for within in found if within for index in within]
    index = _resolve(menu, keys)
    return None if index is None else [index]


def read_choices(text: str, options: Sequence[Option]) -> tuple[str, ...] | None:
    """The names of the options a reply picks ("1, 3", "1 và 3", "lúa, heo"), in form order."""
    if not options:
        return None
    menu = _menu(tuple(options))
    folded = fold(clean(text))
    keys = _keys_of_folded(folded)
    if not keys.full:
        return None
    index = _lookup(menu.labels, keys)
    if index is None:
        index = _lookup(menu.choice_names, keys)
    if index is not None:
        return (menu.names[index],)
    parts = [part for part in _LIST_SEPARATORS.split(folded) if _strip_edges(part)]
    if not parts or len(parts) > 2 * len(menu.names) + 10:
        return None
    chosen: set[int] = set()
    for part in parts:
        found = _resolve_part(menu, part)
        if not found:
            return None
        chosen.update(found)
    return tuple(menu.names[i] for i in sorted(chosen))
