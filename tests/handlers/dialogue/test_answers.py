"""Replies read into typed answers: Vietnamese with or without diacritics, as typed on phones."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dialogue.answers import (
    MAX_TEXT,
    Command,
    Option,
    clean,
    read_choice,
    read_choices,
    read_command,
    read_date,
    read_decimal,
    read_integer,
    read_text,
    read_yes_no,
)
from messages.text import fold

TODAY = date(2026, 11, 21)

YES_NO = [Option("yes", "Có"), Option("no", "Không")]
CODED_YES_NO = [Option("0", "Không"), Option("1", "Có")]  # names are codes, order differs
CROPS = [
    Option("lua_nuoc", "Lúa nước"),
    Option("heo", "Heo"),
    Option("ga", "Gà"),
    Option("ca", "Cá"),
    Option("lua_ray", "Lúa rẫy"),
    Option("khac", "Khác"),
]
COWS = [Option("none", "0 con"), Option("one", "1 con"), Option("two", "2 con")]
MONTHS = [Option("m6", "6 tháng"), Option("m12", "12 tháng")]
SATISFACTION = [Option("happy", "Hài lòng"), Option("unhappy", "Không hài lòng")]
GENDER = [Option("male", "Nam"), Option("female", "Nữ")]
DONT_KNOW = [Option("yes", "Có"), Option("no", "Không"), Option("dk", "Không biết")]
FACES = [Option("good", "😀"), Option("bad", "😞")]


# --- Commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("bỏ qua", Command.SKIP),
        ("bo qua", Command.SKIP),
        ("Bỏ Qua", Command.SKIP),
        ("  BO   QUA  ", Command.SKIP),
        ("boqua", Command.SKIP),
        ("bq", Command.SKIP),
        ("BQ.", Command.SKIP),
        ("skip", Command.SKIP),
        ("/skip", Command.SKIP),
        ("/ bỏ qua", Command.SKIP),
        ("bỏ qua đi", Command.SKIP),
        ("dạ bỏ qua ạ", Command.SKIP),
        ("bỏ qua câu này", Command.SKIP),
        ("quay lại", Command.BACK),
        ("quay lai", Command.BACK),
        ("QUAY LẠI!", Command.BACK),
        ("ql", Command.BACK),
        ("back", Command.BACK),
        ("/back", Command.BACK),
        ("trở lại", Command.BACK),
        ("tro lai", Command.BACK),
        ("trợ giúp", Command.HELP),
        ("tro giup", Command.HELP),
        ("giúp", Command.HELP),
        ("giup voi", Command.HELP),
        ("help", Command.HELP),
        ("/help", Command.HELP),
        ("HELP?", Command.HELP),
        ("?", Command.HELP),
        (" ?? ", Command.HELP),
        ("/?", Command.HELP),
        ("hướng dẫn", Command.HELP),
    ],
)
def test_commands(typed: str, command: Command) -> None:
    assert read_command(typed) is command


@pytest.mark.parametrize(
    "typed",
    ["", " ", "/", "bỏ", "qua", "bỏ qua câu 3", "tôi muốn bỏ qua", "có", "2", "skipping", "b q x"],
)
def test_only_a_whole_message_is_a_command(typed: str) -> None:
    assert read_command(typed) is None


# --- Free text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("Nhà tôi có 5 người", "Nhà tôi có 5 người"),
        ("  nhiều   khoảng  trắng  ", "nhiều khoảng trắng"),
        (unicodedata.normalize("NFD", "Nguyễn Văn Đức"), "Nguyễn Văn Đức"),  # NFD -> NFC
        ("a\x00b\x07c", "a b c"),  # controls become spaces
        ("cột\tthứ hai", "cột thứ hai"),
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),  # line breaks kept
        ("a\n\n\n\n b \n", "a\n\nb"),  # at most one blank line, lines trimmed
        ("a\u2028b", "a\nb"),
        ("\ufeffxin chào\u200b", "xin chào"),  # BOM and zero-width space dropped
        ("lu\u00ada", "lua"),  # soft hyphen
        ("\u202eabc", "abc"),  # bidi override
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # joiners inside emoji kept
        ("a \u200d b\u200d", "a b"),
        ("\u00a0a\u3000b\u2003", "a b"),  # other spaces
        ("x" * 5000, "x" * MAX_TEXT),
        ("a " * 2000, ("a " * 500).rstrip()),
        ("", ""),
    ],
)
def test_clean(typed: str, cleaned: str) -> None:
    assert clean(typed) == cleaned


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("Làm ruộng", "Làm ruộng"),
        ("  lam ruong  ", "lam ruong"),
        ("😀", "😀"),
        ("🙏🙏", "🙏🙏"),
        ("5", "5"),
        ("?", "?"),
        ("", None),
        ("   ", None),
        ("\x00\x01 \t\n", None),
        ("\u200b\u200d\ufeff", None),
        ("\u0301", None),  # a lone accent shows nothing
    ],
)
def test_read_text(typed: str, text: str | None) -> None:
    assert read_text(typed) == text


# --- Yes and no -------------------------------------------------------------------------------

YES_WORDS = [
    "có",
    "co",
    "c",
    "ừ",
    "u",
    "uh",
    "ừm",
    "ok",
    "oke",
    "okay",
    "đúng",
    "dung",
    "rồi",
    "roi",
    "vâng",
    "vang",
    "yes",
    "y",
    "được",
    "phải",
]
NO_WORDS = ["không", "khong", "ko", "k", "kg", "hông", "hong", "sai", "chưa", "chua", "no", "n"]


@pytest.mark.parametrize("word", YES_WORDS)
def test_yes_words(word: str) -> None:
    assert read_yes_no(word) is True
    assert read_yes_no(word.upper()) is True
    assert read_yes_no(f"  {word} !!") is True


@pytest.mark.parametrize("word", NO_WORDS)
def test_no_words(word: str) -> None:
    assert read_yes_no(word) is False
    assert read_yes_no(word.upper()) is False
    assert read_yes_no(f" {word}.") is False


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("có ạ", True),
        ("Dạ có", True),
        ("dạ, có ạ", True),
        ("da co a", True),
        ("vâng ạ", True),
        ("dạ vâng", True),
        ("Dạ.", True),  # a polite yes on its own
        ("ừ đúng rồi", True),
        ("đúng vậy", True),
        ("đồng ý", True),
        ("ok, cảm ơn", True),
        ("okkk", True),
        ("👍", True),
        ("👍🏽", True),
        ("có nhé", True),
        ("không ạ", False),
        ("dạ không", False),
        ("DA KHONG A", False),
        ("không có", False),
        ("ko co", False),
        ("chưa có", False),
        ("không phải", False),
        ("sai rồi", False),
        ("không đồng ý", False),
        ("không, cảm ơn", False),
        ("khongg", False),
        ("👎", False),
    ],
)
def test_yes_no_with_polite_words(typed: str, answer: bool) -> None:
    assert read_yes_no(typed) is answer


@pytest.mark.parametrize(
    "typed",
    ["", "ạ", "1", "0", "có không", "có 2", "có lẽ", "không biết", "maybe", "😀", "có 😀", "a b"],
)
def test_not_yes_or_no(typed: str) -> None:
    assert read_yes_no(typed) is None


# --- One choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "typed", "name"),
    [
        # (a) the option number
        (CROPS, "2", "heo"),
        (CROPS, " 2 ", "heo"),
        (CROPS, "số 2", "heo"),
        (CROPS, "so 2", "heo"),
        (CROPS, "Số 2 ạ", "heo"),
        (CROPS, "2.", "heo"),
        (CROPS, "(2)", "heo"),
        (CROPS, "#2", "heo"),
        (CROPS, "chọn 2", "heo"),
        (CROPS, "02", "heo"),
        (CROPS, "- 2", "heo"),  # a bullet
        (CROPS, "2. Heo", "heo"),  # copied from the menu
        (CROPS, "hai", "heo"),  # number words
        (CROPS, "số ba", "ga"),
        # (b) the label or the name, any case and accents
        (CROPS, "Lúa nước", "lua_nuoc"),
        (CROPS, "lua nuoc", "lua_nuoc"),
        (CROPS, "LÚA NƯỚC", "lua_nuoc"),
        (CROPS, "  lúa   nước!! ", "lua_nuoc"),
        (CROPS, "lúa-nước", "lua_nuoc"),
        (CROPS, "luanuoc", "lua_nuoc"),
        (CROPS, "lua_nuoc", "lua_nuoc"),
        (CROPS, "gà", "ga"),
        (CROPS, "ga", "ga"),  # "ga" is the name and the folded label
        (CROPS, "Cá.", "ca"),
        (CROPS, "khác", "khac"),
        (FACES, "😀", "good"),
        (FACES, "2", "bad"),
        # (c) an unambiguous prefix
        (CROPS, "he", "heo"),
        (CROPS, "lua n", "lua_nuoc"),
        (CROPS, "lúa r", "lua_ray"),
        (CROPS, "kh", "khac"),
        (MONTHS, "1", "m6"),
        (MONTHS, "12", "m12"),  # out of range as a number, but the start of "12 tháng"
        (SATISFACTION, "khong hai", "unhappy"),
        # (d) yes/no words
        (YES_NO, "c", "yes"),
        (YES_NO, "ừ", "yes"),
        (YES_NO, "ok", "yes"),
        (YES_NO, "có ạ", "yes"),
        (YES_NO, "dạ có", "yes"),
        (YES_NO, "ko", "no"),
        (YES_NO, "k", "no"),
        (YES_NO, "dạ không", "no"),
        (YES_NO, "không có", "no"),
        (YES_NO, "1", "yes"),
        (YES_NO, "2", "no"),
        (CODED_YES_NO, "1", "0"),  # the number shown wins over a name that looks like one
        (CODED_YES_NO, "2", "1"),
        (CODED_YES_NO, "u", "1"),
        (CODED_YES_NO, "ko", "0"),
        (DONT_KNOW, "ko", "no"),
        (DONT_KNOW, "khong biet", "dk"),
        (DONT_KNOW, "kh", "no"),  # two options start "kh": the no word decides
        (GENDER, "nam", "male"),  # the label beats number words ("năm" = 5)
        (GENDER, "NỮ", "female"),
        # labels that start with numbers: exact label beats number beats prefix
        (COWS, "1", "none"),
        (COWS, "1 con", "one"),
        (COWS, "2 con", "two"),
        (COWS, "3", "two"),
    ],
)
def test_read_choice(options: list[Option], typed: str, name: str) -> None:
    assert read_choice(typed, options) == name


@pytest.mark.parametrize(
    ("options", "typed"),
    [
        (CROPS, ""),
        (CROPS, "   "),
        (CROPS, "0"),
        (CROPS, "7"),
        (CROPS, "số 9"),
        (CROPS, "1,5"),
        (CROPS, "lua"),  # "Lúa nước" or "Lúa rẫy"
        (CROPS, "l"),  # prefixes need 2 characters
        (CROPS, "bò"),
        (CROPS, "có"),  # no option reads as yes
        (CROPS, "heo gà"),
        (CROPS, "1, 2"),
        (CROPS, "3. Heo"),  # the number and the label disagree
        (MONTHS, "3"),
        (COWS, "4"),
        (COWS, "3 con"),
        (SATISFACTION, "hai"),  # number word 2 or the start of "Hài lòng": ask again
        (YES_NO, "có không"),
        (YES_NO, "3"),
        (YES_NO, "😀"),
        ([], "1"),
    ],
)
def test_read_choice_misses(options: list[Option], typed: str) -> None:
    assert read_choice(typed, options) is None


# --- Several choices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("1,3", ("lua_nuoc", "ga")),
        ("1, 3", ("lua_nuoc", "ga")),
        ("3,1", ("lua_nuoc", "ga")),  # form order
        ("1 3", ("lua_nuoc", "ga")),
        ("1;3", ("lua_nuoc", "ga")),
        ("1 và 3", ("lua_nuoc", "ga")),
        ("1 va 3", ("lua_nuoc", "ga")),
        ("1 and 3", ("lua_nuoc", "ga")),
        ("1, 3 va 4", ("lua_nuoc", "ga", "ca")),
        ("1 3 và 4", ("lua_nuoc", "ga", "ca")),
        ("1,1,3", ("lua_nuoc", "ga")),  # no duplicates
        ("1, 3,", ("lua_nuoc", "ga")),
        ("số 1, số 3", ("lua_nuoc", "ga")),
        ("lúa nước, heo", ("lua_nuoc", "heo")),
        ("lua nuoc va heo", ("lua_nuoc", "heo")),
        ("HEO; GÀ; CÁ", ("heo", "ga", "ca")),
        ("heo, 1", ("lua_nuoc", "heo")),
        ("he, lua r", ("heo", "lua_ray")),  # prefixes
        ("2", ("heo",)),
        ("heo", ("heo",)),
        ("Lúa rẫy", ("lua_ray",)),
        ("1+2", ("lua_nuoc", "heo")),
    ],
)
def test_read_choices(typed: str, names: tuple[str, ...]) -> None:
    assert read_choices(typed, CROPS) == names


def test_emoji_labels_in_a_list() -> None:
    assert read_choices("😞, 😀", FACES) == ("good", "bad")
    assert read_choices("😀", FACES) == ("good",)


def test_a_label_with_a_separator_is_one_choice() -> None:
    options = [Option("rice_veg", "Lúa và rau"), Option("pigs", "Heo, gà"), Option("fish", "Cá")]
    assert read_choices("lúa và rau", options) == ("rice_veg",)
    assert read_choices("lúa và r", options) == ("rice_veg",)
    assert read_choices("heo, gà", options) == ("pigs",)
    assert read_choices("cá, lúa và rau", options) == ("rice_veg", "fish")


@pytest.mark.parametrize(
    "typed", ["", " , ", "1, 9", "0", "1 và bò", "lua", "1-3", "13", "tất cả", "heo gà"]
)
def test_read_choices_misses(typed: str) -> None:
    assert read_choices(typed, CROPS) is None


# --- Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("5", 5),
        (" 5 ", 5),
        ("5.", 5),
        ("0", 0),
        ("-5", -5),
        ("1.500.000", 1_500_000),
        ("1.500", 1500),
        ("12.345.678.901", 12_345_678_901),
        ("1 500 000", 1_500_000),
        ("2 500", 2500),
        ("1,500,000", 1_500_000),  # several commas can only group thousands
        ("1.500.000,0", 1_500_000),
        ("1.500.000đ", 1_500_000),
        ("1.500.000 đồng", 1_500_000),
        ("1.500.000 VNĐ", 1_500_000),
        ("1.500.000₫", 1_500_000),
        ("2 triệu", 2_000_000),
        ("2 trieu", 2_000_000),
        ("2 TRIỆU", 2_000_000),
        ("2tr", 2_000_000),
        ("2 tr", 2_000_000),
        ("2tr.", 2_000_000),
        ("1,5 triệu", 1_500_000),
        ("1.5 triệu", 1_500_000),
        ("2 triệu rưỡi", 2_500_000),
        ("2 trieu ruoi", 2_500_000),
        ("triệu rưỡi", 1_500_000),
        ("1 tr 2", 1_200_000),
        ("2tr5", 2_500_000),
        ("2 triệu 500", 2_500_000),
        ("2 triệu 500 nghìn", 2_500_000),
        ("2 triệu 500.000", 2_500_000),
        ("2tr500k", 2_500_000),
        ("50k", 50_000),
        ("50K", 50_000),
        ("50 nghìn", 50_000),
        ("50 nghin", 50_000),
        ("50 ngàn", 50_000),
        ("50 ngan", 50_000),
        ("50n", 50_000),
        ("1k2", 1200),
        ("3 tỷ", 3_000_000_000),
        ("3 ty", 3_000_000_000),
        ("1 nghìn tỷ", 10**12),
        ("5 trăm", 500),
        ("5 trăm nghìn", 500_000),
        ("khoảng 2 triệu", 2_000_000),
        ("khoang 2 trieu", 2_000_000),
        ("tầm 5 triệu", 5_000_000),
        ("tam 5 trieu", 5_000_000),  # "tầm" (about) before digits
        ("tám triệu", 8_000_000),
        ("tam trieu", 8_000_000),  # "tám" (eight) before a word
        ("dạ khoảng 3 triệu ạ", 3_000_000),
        # number words
        ("không", 0),
        ("một", 1),
        ("hai", 2),
        ("HAI", 2),
        ("ba", 3),
        ("bốn", 4),
        ("tư", 4),
        ("năm", 5),
        ("sáu", 6),
        ("bảy", 7),
        ("tám", 8),
        ("chín", 9),
        ("mười", 10),
        ("mười một", 11),
        ("mười lăm", 15),
        ("muoi lam", 15),
        ("mười nhăm", 15),
        ("hai mươi", 20),
        ("hai mươi mốt", 21),
        ("hai mươi tư", 24),
        ("hai muoi tu", 24),
        ("hai mươi lăm", 25),
        ("hai lăm", 25),
        ("ba mươi mốt", 31),
        ("ba muoi mot", 31),
        ("chín mươi chín", 99),
        ("một trăm", 100),
        ("trăm rưỡi", 150),
        ("một trăm hai", 120),  # spoken short for một trăm hai mươi
        ("một trăm hai mươi", 120),
        ("một trăm mười", 110),
        ("một trăm mười lăm", 115),
        ("mot tram hai muoi", 120),
        ("hai trăm linh năm", 205),
        ("hai tram le nam", 205),
        ("chín trăm chín mươi chín", 999),
        ("một nghìn hai trăm", 1200),
        ("một ngàn hai", 1200),
        ("một nghìn linh năm", 1005),
        ("một nghìn không trăm linh năm", 1005),
        ("năm mươi nghìn", 50_000),
        ("hai trăm năm mươi nghìn", 250_000),
        ("hai triệu", 2_000_000),
        ("hai triệu rưỡi", 2_500_000),
        ("ba triệu hai", 3_200_000),
        ("hai triệu năm trăm", 2_500_000),
        ("hai triệu năm trăm nghìn", 2_500_000),
        ("một tỷ hai trăm triệu", 1_200_000_000),
        ("hai chục", 20),
        ("2 chục", 20),
        # one unit word after the number
        ("5 người", 5),
        ("5 ng", 5),
        ("5 đứa", 5),
        ("một mình", 1),
        ("5 nguoi", 5),
        ("3 con", 3),
        ("2 sào", 2),
        ("ba người", 3),
        ("2kg", 2),
        ("20 m2", 20),
        ("10 năm", 10),
        ("hai mươi năm", 20),  # 25 is "hai mươi lăm": "năm" here is years
        ("mười năm", 10),
        ("năm năm", 5),
        ("50%", 50),
        ("2 triệu/tháng", 2_000_000),
        ("2 triệu đồng/tháng", 2_000_000),
        ("dạ 5 người ạ", 5),
        ("không có", 0),  # "none"
        ("1.000.000.000.000.000", 10**15),
    ],
)
def test_read_integer(typed: str, value: int) -> None:
    assert read_integer(typed) == value
    assert read_decimal(typed) == value


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1,5", "1.5"),
        ("1.5", "1.5"),  # a dot not followed by 3 digits is a decimal point
        ("1,500", "1.5"),  # one comma is always the decimal mark
        ("0,25", "0.25"),
        ("0.500", "0.5"),  # a leading 0 does not group thousands
        ("1234.5", "1234.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("-2,5", "-2.5"),
        ("1,5 ha", "1.5"),
        ("2,75 nghìn", "2750"),
        ("khoảng 3,5", "3.5"),
        ("2 sào rưỡi", "2.5"),  # a unit, then half of one
        ("1 năm rưỡi", "1.5"),
        ("mười lăm phút", "15"),
    ],
)
def test_read_decimal(typed: str, value: str) -> None:
    assert read_decimal(typed) == Decimal(value)
    if Decimal(value) != Decimal(value).to_integral_value():
        assert read_integer(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "  ",
        "abc",
        "không biết",
        "không nhớ",
        "một ít",
        "tầm 5 con gà",
        "2 con gà",  # two trailing words: asked again
        "2 hay 3",
        "2 hoặc 3",
        "2-3",
        "1 3",
        "5 - 7",
        "1.2.3",
        "15/12",
        "15.12.2026",
        "1,2,3",
        "1e5",
        "0x10",
        "tr",
        "k",
        "nghìn",
        "triệu triệu",
        "2 triệu 3 triệu",
        "hai hai",
        "một mươi",
        "mười mười",
        "hai trăm trăm",
        "1,5 triệu rưỡi",
        "1,5 sào rưỡi",
        "2 con rưỡi gà",
        "rưỡi",
        "- 5",
        "5-",
        "--5",
        "5 -3",
        "khoảng",
        "tầm",
        "đồng",
        "9" * 17,
        "10 triệu tỷ",
        "1 " * 50,
        "١٢",  # other digits
        "２",
    ],
)
def test_numbers_that_are_not_read(typed: str) -> None:
    assert read_integer(typed) is None
    assert read_decimal(typed) is None


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("15/12", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("15-12-2026", date(2026, 12, 15)),
        ("15.12.2026", date(2026, 12, 15)),
        ("15/12/26", date(2026, 12, 15)),
        ("15 / 12 / 2026", date(2026, 12, 15)),
        ("5/1/2027", date(2027, 1, 5)),
        ("05/01/2027", date(2027, 1, 5)),
        ("2026-12-15", date(2026, 12, 15)),
        ("2026/12/15", date(2026, 12, 15)),
        ("ngày 15 tháng 12", date(2026, 12, 15)),
        ("Ngày 15 Tháng 12", date(2026, 12, 15)),
        ("ngay 15 thang 12", date(2026, 12, 15)),
        ("ngay 15 thang 12 nam 2026", date(2026, 12, 15)),
        ("15 tháng 12 năm 2026", date(2026, 12, 15)),
        ("15 tháng 12, 2026", date(2026, 12, 15)),
        ("ngày 15/12/2026", date(2026, 12, 15)),
        ("mùng 5 tháng 1 năm 2027", date(2027, 1, 5)),
        ("15/12/2026.", date(2026, 12, 15)),
        ("dạ 15/12 ạ", date(2026, 12, 15)),
        ("29/2/2028", date(2028, 2, 29)),
        ("hôm nay", TODAY),
        ("hom nay", TODAY),
        ("HÔM NAY", TODAY),
        ("ngày mai", date(2026, 11, 22)),
        ("ngay mai", date(2026, 11, 22)),
        ("mai", date(2026, 11, 22)),
        ("hôm qua", date(2026, 11, 20)),
    ],
)
def test_read_date(typed: str, day: date) -> None:
    assert read_date(typed, today=TODAY) == day


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "31/02",
        "31/02/2026",
        "29/2/2026",
        "32/1/2026",
        "0/1/2026",
        "12/15/2026",  # day first: there is no month 15
        "15",
        "15/12/202",
        "15/12-2026",
        "15/12/1800",
        "tháng 12",
        "ngày 15",
        "2026-02-30",
        "abc",
        "mai kia",
    ],
)
def test_dates_that_are_not_read(typed: str) -> None:
    assert read_date(typed, today=TODAY) is None


def test_relative_days_at_the_end_of_the_calendar() -> None:
    assert read_date("mai", today=date.max) is None
    assert read_date("15/12", today=date(2028, 1, 1)) == date(2028, 12, 15)


# --- Properties -------------------------------------------------------------------------------

VOCABULARY = [
    *YES_WORDS,
    *NO_WORDS,
    "dạ",
    "ạ",
    "bỏ qua",
    "mươi",
    "mười",
    "lăm",
    "mốt",
    "linh",
    "trăm",
    "nghìn",
    "triệu",
    "tỷ",
    "rưỡi",
    "tr",
    "k",
    "đồng",
    "khoảng",
    "tầm",
    "chục",
    "ngày",
    "tháng",
    "năm",
    "hôm nay",
    "số",
    "và",
    "lúa",
    "heo",
    "1",
    "12",
    "500",
    "1.500",
    "1,5",
    "-3",
    "15/12",
    "2026",
    ",",
    ".",
    "/",
    "-",
    "?",
    "(",
    "👍",
    "😀",
    "\u200d",
    "\x00",
    "\n",
    "\u0301",
]
SOUP = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join)
LONG = st.tuples(st.text(max_size=20), st.integers(1, 250)).map(lambda pair: pair[0] * pair[1])
ANY_TEXT = st.one_of(st.text(), st.text(max_size=5000), LONG, SOUP)
OPTION_LISTS = [CROPS, YES_NO, CODED_YES_NO, COWS, MONTHS, FACES, DONT_KNOW, []]


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_nothing_raises_and_types_hold(text: str) -> None:
    command = read_command(text)
    assert command is None or isinstance(command, Command)
    cleaned = clean(text)
    assert isinstance(cleaned, str)
    assert len(cleaned) <= MAX_TEXT
    assert clean(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in cleaned)
    free = read_text(text)
    assert free is None or free == cleaned
    assert read_yes_no(text) in (True, False, None)
    integer = read_integer(text)
    assert integer is None or (type(integer) is int and abs(integer) <= 10**15)
    decimal = read_decimal(text)
    assert decimal is None or isinstance(decimal, Decimal)
    if integer is not None:
        assert decimal == integer
    day = read_date(text, today=TODAY)
    assert day is None or type(day) is date
    for options in OPTION_LISTS:
        names = [option.name for option in options]
        name = read_choice(text, options)
        assert name is None or name in names
        chosen = read_choices(text, options)
        if chosen is not None:
            assert chosen
            assert list(chosen) == sorted(set(chosen), key=names.index)


@settings(max_examples=300, deadline=None)
@given(value=st.integers(0, 10**12))
def test_vietnamese_thousands_read_back(value: int) -> None:
    typed = f"{value:,}".replace(",", ".")
    assert read_integer(typed) == value
    assert read_decimal(typed) == value
    assert read_integer(f"{typed} đồng") == value
    assert read_integer(f"{value:,}".replace(",", " ")) == value


@settings(max_examples=300, deadline=None)
@given(value=st.integers(-(10**12), 10**12))
def test_plain_digits_read_back(value: int) -> None:
    assert read_integer(str(value)) == value


DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def _spell_group(n: int, *, inner: bool) -> list[str]:
    """0 < n < 1000 read aloud; `inner` groups say their zero hundreds ("không trăm linh năm")."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words = [DIGITS[hundreds], "trăm"] if hundreds or inner else []
    if tens == 0 and units:
        words += ["linh", DIGITS[units]] if words else [DIGITS[units]]
    elif tens == 1:
        words += ["mười"] + ([{5: "lăm"}.get(units, DIGITS[units])] if units else [])
    elif tens > 1:
        last = {1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units])
        words += [DIGITS[tens], "mươi"] + ([last] if units else [])
    return words


def spell(n: int) -> str:
    """1 <= n < 1,000,000 in Vietnamese words, the way it is read out."""
    thousands, rest = divmod(n, 1000)
    words = [*_spell_group(thousands, inner=False), "nghìn"] if thousands else []
    if rest:
        words += _spell_group(rest, inner=bool(thousands))
    return " ".join(words)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (205, "hai trăm linh năm"),
        (1005, "một nghìn không trăm linh năm"),
    ],
)
def test_the_speller_used_below(n: int, words: str) -> None:
    assert spell(n) == words


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 999_999))
def test_number_words_read_back(n: int) -> None:
    assert read_integer(spell(n)) == n
    assert read_integer(fold(spell(n))) == n  # without diacritics
    assert read_integer(spell(n).upper()) == n


LABEL_CHARACTERS = st.characters(
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Nd"), exclude_characters="0123456789"
)


def _distinct_after_folding(labels: list[str]) -> bool:
    """Labels that differ once folded, and show something."""
    keys = [fold(unicodedata.normalize("NFC", label)) for label in labels]
    return all(keys) and len(set(keys)) == len(keys)


@settings(max_examples=300, deadline=None)
@given(
    labels=st.lists(
        st.text(LABEL_CHARACTERS, min_size=1, max_size=20), min_size=1, max_size=12
    ).filter(_distinct_after_folding)
)
def test_numbers_and_labels_read_back(labels: list[str]) -> None:
    options = [Option(f"c{i}", label) for i, label in enumerate(labels)]
    for i, option in enumerate(options):
        assert read_choice(str(i + 1), options) == option.name
        assert read_choice(option.label, options) == option.name
        assert read_choices(str(i + 1), options) == (option.name,)
    assert read_choices(",".join(str(i + 1) for i in range(len(options))), options) == tuple(
        option.name for option in options
    )


def _reader(name: str) -> Callable[[str], object]:
    """A public reader taking only the text."""
    readers: dict[str, Callable[[str], object]] = {
        "command": read_command,
        "clean": clean,
        "text": read_text,
        "yes_no": read_yes_no,
        "integer": read_integer,
        "decimal": read_decimal,
        "date": lambda text: read_date(text, today=TODAY),
        "choice": lambda text: read_choice(text, CROPS),
        "choices": lambda text: read_choices(text, CROPS),
    }
    return readers[name]


@pytest.mark.parametrize(
    "name",
    ["command", "clean", "text", "yes_no", "integer", "decimal", "date", "choice", "choices"],
)
@pytest.mark.parametrize(
    "text",
    [
        "\ud800",  # a lone surrogate
        "\ud83d\ude00",
        "\x00" * 100,
        "9" * 5000,
        "1." * 2500,
        "1 " * 2500,
        ", " * 2500,
        "và " * 1000,
        "trăm " * 1000,
        "tỷ " * 1000,
        "\u0301" * 5000,
        "\u200d" * 5000,
        "𝟙𝟚𝟛",
        "Ⅻ",
        "½",
        "ﷺ",
        "הלו",
        "你好",
        "\U000e0041",
    ],
)
def test_hostile_input_is_a_miss_not_an_error(name: str, text: str) -> None:
    _reader(name)(text)
