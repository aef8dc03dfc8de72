"""Synthetic commune registers for demos and benchmarks: an areas file, a household list and
a VBSP loan list (one row per instalment) for some of those households.

Everything is drawn from `random.Random(seed)`, so one seed gives one province: the areas file
and the household list built with the same `communes` and `seed` name the same communes, and a
CSV written twice with the same arguments is byte-identical. Rows are generated and written one
at a time, so a list of 400,000 households never sits in memory.
"""

from __future__ import annotations

import csv
import random
from bisect import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, chain
from pathlib import Path
from typing import Generic, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from messages.text import lower_first
from storage.vocab import category_code

__all__ = [
    "AREA_HEADER",
    "HOUSEHOLD_HEADER",
    "LOAN_HEADER",
    "MAX_COMMUNES",
    "DemoSummary",
    "LoanSummary",
    "transaction_day",
    "write_areas",
    "write_households",
    "write_loans",
]

T = TypeVar("T")
Cell = str | int | date | None

PROVINCE_CODE = "86"
PROVINCE_NAME = "Tỉnh Vĩnh Long"
MAX_COMMUNES = 8000  # keeps new (29000 + 3i) and old (27001 + 3k) commune codes at 5 digits

# fmt: off
AREA_HEADER = ("Mã tỉnh", "Tên tỉnh", "Mã huyện", "Tên huyện", "Mã xã", "Tên xã",
               "Mã xã cũ", "Tên xã cũ", "Ngày giao dịch NHCSXH", "Điểm giao dịch")
HOUSEHOLD_HEADER = ("STT", "Mã hộ", "Họ và tên chủ hộ", "Mã xã", "Xã", "Thôn", "Phân loại",
                    "Ngày công nhận", "Số điện thoại", "Dân tộc", "Nữ chủ hộ", "Nhóm hộ",
                    "Số nhân khẩu", "Thiếu hụt", "Ghi chú")
_TITLE_ROWS: tuple[tuple[Cell, ...], ...] = (
    ("ỦY BAN NHÂN DÂN TỈNH VĨNH LONG",),
    ("DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2025",),
    ("(Kèm theo Quyết định số .../QĐ-UBND ngày .../.../2025)",),
    (),
)
LOAN_HEADER = ("STT", "Mã hộ", "Họ và tên chủ hộ", "Chương trình", "Số tiền vay",
               "Ngày giải ngân", "Ngày đến hạn", "Số tiền gốc", "Số tiền lãi", "Tổ TK&VV",
               "SĐT tổ trưởng")
_LOAN_TITLE_ROWS: tuple[tuple[Cell, ...], ...] = (
    ("NGÂN HÀNG CHÍNH SÁCH XÃ HỘI - PHÒNG GIAO DỊCH",),
    ("DANH SÁCH HỘ VAY VỐN VÀ LỊCH TRẢ NỢ",),
    (),
)
_SIGNATURE_ROWS: tuple[tuple[Cell, ...], ...] = (
    (),
    (None, "Người lập biểu", None, None, None, None, None, "TM. ỦY BAN NHÂN DÂN"),
    (None, "(Ký, ghi rõ họ tên)", None, None, None, None, None, "(Ký tên, đóng dấu)"),
    (None, None, None, None, None, None, None, "..., ngày 15 tháng 01 năm 2025"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What a demo file holds: data rows written, communes covered, where it went."""

    rows: int
    communes: int
    path: Path


@dataclass(frozen=True, slots=True)
class _Weighted(Generic[T]):
    """Items with cumulative weights; `pick` draws one from a given random stream."""

    items: tuple[T, ...]
    cumulative: tuple[float, ...]

    def pick(self, rng: random.Random) -> T:
        """One item, drawn with the items' weights."""
        point = rng.random() * self.cumulative[-1]
        return self.items[bisect(self.cumulative, point, 0, len(self.items) - 1)]


def _weighted(weights: Mapping[T, float]) -> _Weighted[T]:
    return _Weighted(tuple(weights), tuple(accumulate(weights.values())))


# --- places -------------------------------------------------------------------------------

# fmt: off
_PLACE_SYLLABLES = (
    "An", "Bình", "Phú", "Tân", "Long", "Hòa", "Mỹ", "Thạnh", "Vĩnh", "Hưng", "Thới", "Phước",
    "Lộc", "Đông", "Tây", "Nhơn", "Hiệp", "Thành", "Châu", "Trung", "Định", "Quới", "Lợi",
    "Khánh", "Hậu", "Thuận", "Tường", "Hội", "Nhuận", "Đức", "Hải", "Thủy", "Tiên", "Thiện",
    "Sơn", "Điền", "Xuân", "Hiếu", "Ngãi", "Nghĩa", "Phong", "Quang", "Tín", "Phụng", "Hạnh",
    "Lương", "Giao", "Đại", "Hữu", "Túc",
)
_DISTRICTS = (
    "Huyện Châu Thành", "Huyện Mỏ Cày Nam", "Huyện Mỏ Cày Bắc", "Huyện Ba Tri",
    "Huyện Bình Đại", "Huyện Giồng Trôm", "Huyện Thạnh Phú", "Huyện Chợ Lách",
    "Thành phố Bến Tre", "Huyện Long Hồ", "Huyện Mang Thít", "Huyện Vũng Liêm",
    "Huyện Tam Bình", "Huyện Trà Ôn", "Huyện Bình Tân", "Thị xã Bình Minh",
    "Thành phố Vĩnh Long", "Huyện Càng Long", "Huyện Cầu Kè", "Huyện Tiểu Cần",
    "Huyện Cầu Ngang", "Huyện Trà Cú", "Huyện Duyên Hải", "Thị xã Duyên Hải",
    "Thành phố Trà Vinh",
)
_FIRST_DISTRICT_CODE = 829
_MAX_DISTRICTS = 999 - _FIRST_DISTRICT_CODE + 1
_COMMUNES_PER_DISTRICT = 5  # about 125 merged communes in 25 districts
_OLD_PREFIX = _weighted({"Xã": 82, "Thị trấn": 9, "Phường": 9})
_VILLAGE_KIND = _weighted({"Ấp": 85, "Thôn": 10, "Buôn": 5})
# fmt: on


@dataclass(frozen=True, slots=True)
class _Commune:
    code: str
    name: str
    district_code: str
    district_name: str
    old_codes: tuple[str, ...]
    old_names: tuple[str, ...]
    villages: tuple[str, ...]


@dataclass(slots=True)
class _Registry:
    """What commune generation must remember: names taken, old codes handed out."""

    used_names: set[str]
    old_communes: int = 0

    def old_codes(self, count: int) -> tuple[str, ...]:
        """The next `count` old commune codes: 27001 + 3k, never equal to a new code."""
        first = self.old_communes
        self.old_communes += count
        return tuple(str(27001 + 3 * k) for k in range(first, first + count))


def _place_name(rng: random.Random, used: set[str]) -> str:
    """Two (sometimes three) place syllables not yet in `used`; the name is added to `used`."""
    attempt = 0
    while True:
        length = 2 + attempt // 30 + (rng.random() < 0.12)
        name = " ".join(rng.sample(_PLACE_SYLLABLES, length))
        if name not in used:
            used.add(name)
            return name
        attempt += 1


def _villages(rng: random.Random, ward: bool) -> tuple[str, ...]:
    """Six to twelve villages: numbered ones ("Ấp 1", "Khóm 2"), then named ones."""
    count = rng.randint(6, 12)
    numbered = rng.randint(count // 3, count)
    kind = "Khóm" if ward else "Ấp"
    names = [f"{kind} {number}" for number in range(1, numbered + 1)]
    used: set[str] = set()
    for _ in range(count - numbered):
        prefix = kind if ward else _VILLAGE_KIND.pick(rng)
        names.append(f"{prefix} {_place_name(rng, used)}")
    return tuple(names)


def _district(index: int, total: int) -> tuple[str, str]:
    """The legacy district (code, name) of commune `index`: communes fill districts in blocks."""
    districts = max(1, min(_MAX_DISTRICTS, -(-total // _COMMUNES_PER_DISTRICT)))
    slot = index * districts // total
    if slot < len(_DISTRICTS):
        return str(_FIRST_DISTRICT_CODE + slot), _DISTRICTS[slot]
    size = len(_PLACE_SYLLABLES)
    first, second = slot % size, (slot % size + 1 + slot // size) % size
    name = f"Huyện {_PLACE_SYLLABLES[first]} {_PLACE_SYLLABLES[second]}"
    return str(_FIRST_DISTRICT_CODE + slot), name


def _commune(rng: random.Random, index: int, total: int, registry: _Registry) -> _Commune:
    """Commune `index` of `total`: a merger of two or three old communes."""
    merged = rng.choice((2, 2, 3))
    old_prefixes = [_OLD_PREFIX.pick(rng) for _ in range(merged)]
    old_bases = [_place_name(rng, registry.used_names) for _ in range(merged)]
    ward = "Phường" in old_prefixes  # a merged town (thị trấn) becomes a xã
    keeps_old_name = rng.random() < 0.4
    base = old_bases[0] if keeps_old_name else _place_name(rng, registry.used_names)
    district_code, district_name = _district(index, total)
    return _Commune(
        code=str(29000 + 3 * index),
        name=f"{'Phường' if ward else 'Xã'} {base}",
        district_code=district_code,
        district_name=district_name,
        old_codes=registry.old_codes(merged),
        old_names=tuple(f"{p} {b}" for p, b in zip(old_prefixes, old_bases, strict=True)),
        villages=_villages(rng, ward),
    )


def _build_communes(rng: random.Random, count: int) -> list[_Commune]:
    """The demo province's communes, drawn first from a fresh stream so that every file agrees."""
    registry = _Registry(used_names=set())
    return [_commune(rng, index, count, registry) for index in range(count)]


def transaction_day(seed: int, commune_code: str) -> int:
    """VBSP's fixed day of the month at the commune (5-25): the same in the areas file and in
    the loan list's due dates, drawn from its own stream so the other files do not change."""
    return random.Random(f"vbsp:{seed}:{commune_code}").randint(5, 25)


def _area_row(commune: _Commune, seed: int) -> tuple[Cell, ...]:
    return (
        PROVINCE_CODE,
        PROVINCE_NAME,
        commune.district_code,
        commune.district_name,
        commune.code,
        commune.name,
        "; ".join(commune.old_codes),
        "; ".join(commune.old_names),
        transaction_day(seed, commune.code),
        f"Trụ sở UBND {lower_first(commune.name)}",
    )


# --- people -------------------------------------------------------------------------------

# fmt: off
_FAMILY = _weighted({
    "Nguyễn": 30, "Trần": 11, "Lê": 9.5, "Phạm": 6, "Huỳnh": 5, "Võ": 5, "Phan": 4.5,
    "Trương": 3, "Hoàng": 2, "Đặng": 2, "Bùi": 1.5, "Đỗ": 1.4, "Ngô": 1.3, "Hồ": 1.3,
    "Dương": 1, "Vũ": 1, "Lý": 0.8, "Đoàn": 0.8, "Lâm": 0.8, "Đinh": 0.6, "Mai": 0.5,
    "Cao": 0.5, "Châu": 0.5, "Lương": 0.4, "Lưu": 0.4, "Thái": 0.4, "Hà": 0.4, "Tô": 0.3,
    "La": 0.2, "Quách": 0.2, "Từ": 0.2, "Kiều": 0.2, "Tạ": 0.2,
})
_HOA_FAMILY = _weighted({
    "Lý": 4, "Quách": 3, "Trương": 3, "Lâm": 3, "Tăng": 2, "Hứa": 2, "Mã": 1, "Diệp": 1,
    "Lư": 1, "Vương": 1, "Quan": 1, "Tạ": 1, "Thái": 1, "Huỳnh": 2, "Lưu": 1,
})
_KHMER_FAMILY = _weighted({
    "Thạch": 30, "Sơn": 25, "Kim": 15, "Lâm": 10, "Danh": 8, "Chau": 5, "Trà": 3,
    "Trầm": 3, "Triệu": 2, "Lý": 2,
})
_MALE_MIDDLE = _weighted({
    "Văn": 55, "Hữu": 8, "Minh": 7, "Thanh": 7, "Quốc": 5, "Công": 5, "Đức": 4, "Hoàng": 3,
    "Ngọc": 3, "Tấn": 3, "Phước": 2, "Chí": 2,
})
_FEMALE_MIDDLE = _weighted({
    "Thị": 65, "Ngọc": 8, "Thanh": 6, "Kim": 5, "Thu": 4, "Mỹ": 4, "Hồng": 3, "Bích": 2,
    "Thúy": 2, "Diễm": 1,
})
_MALE_GIVEN = (
    "Hùng", "Dũng", "Tuấn", "Đức", "Minh", "Thành", "Hải", "Phúc", "Tâm", "Nam", "Long", "Sơn",
    "Phong", "Tài", "Lộc", "Hiếu", "Trung", "Nghĩa", "Hậu", "Tùng", "Khánh", "Thắng", "Quang",
    "Bình", "Hòa", "Toàn", "Vinh", "Cường", "Tú", "Lực", "Sang", "Thanh", "Kiệt", "Nhân",
    "Phước", "Thiện", "Trí", "Hưng", "Bảy", "Tám", "Út", "Mười", "Chín", "Sáu", "Năm", "Ba",
    "Tư", "Hai",
)
_FEMALE_GIVEN = (
    "Lan", "Hoa", "Hương", "Thảo", "Mai", "Hằng", "Nga", "Trang", "Linh", "Thủy", "Hạnh",
    "Huệ", "Cúc", "Liên", "Loan", "Nhung", "Phượng", "Tuyết", "Vân", "Yến", "Hồng", "Xuân",
    "Diệu", "Kiều", "Thu", "Oanh", "Thắm", "Đào", "Lài", "Bé", "Út", "Bảy", "Sáu", "Mười",
    "Tám", "Lệ", "Hiền", "Dung", "Ngân", "Trinh", "Nhàn", "Phương", "Duyên",
)
_KHMER_MALE_GIVEN = (
    "Sô Phal", "Sóc Khum", "Chăn Tha", "Thol", "Pích", "Phách", "Dên", "Sà Rinh", "Ri", "Sang",
    "Mol", "Sóc Phol", "Sa Ron", "Kha", "Na Ra", "Tha", "Chanh", "Sết", "Sươl", "Vi Sal",
)
_KHMER_FEMALE_GIVEN = (
    "Sa Rươne", "Sa Vy", "Sa Mây", "Chanh Đa", "Sà Phone", "Sóc", "Ni", "Hên", "Sa Rết",
    "Sô Phi", "Sa Rin", "Thươne", "Sa Ly", "Mách", "Sà Ry", "Phêng", "Ken", "Sây", "Mum",
)
_ETHNICITY: _Weighted[str | None] = _weighted({"Kinh": 78, None: 14, "Khmer": 7, "Hoa": 1})
# fmt: on


def _khmer_name(rng: random.Random, woman: bool) -> str:
    """A Khmer name: "Thạch Sô Phal", "Sơn Thị Sa Rươne"; some carry a Kinh given name."""
    family = _KHMER_FAMILY.pick(rng)
    if rng.random() < 0.15:
        given = rng.choice(_FEMALE_GIVEN if woman else _MALE_GIVEN)
        return f"{family} {'Thị' if woman else 'Văn'} {given}"
    given = rng.choice(_KHMER_FEMALE_GIVEN if woman else _KHMER_MALE_GIVEN)
    if rng.random() < (0.7 if woman else 0.3):
        return f"{family} {'Thị' if woman else 'Văn'} {given}"
    return f"{family} {given}"


def _full_name(rng: random.Random, ethnicity: str | None, woman: bool) -> str:
    """A household head's full name fitting the head's ethnicity and sex."""
    if ethnicity == "Khmer":
        return _khmer_name(rng, woman)
    family = (_HOA_FAMILY if ethnicity == "Hoa" else _FAMILY).pick(rng)
    middle = (_FEMALE_MIDDLE if woman else _MALE_MIDDLE).pick(rng)
    given = rng.choice(_FEMALE_GIVEN if woman else _MALE_GIVEN)
    return f"{family} {middle} {given}"


# --- phones -------------------------------------------------------------------------------


def _carrier(share: float, prefixes: Sequence[int]) -> dict[str, float]:
    return {str(prefix): share / len(prefixes) for prefix in prefixes}


# fmt: off
_MOBILE_PREFIX = _weighted({
    **_carrier(55, (86, 96, 97, 98, 32, 33, 34, 35, 36, 37, 38, 39)),  # Viettel
    **_carrier(25, (88, 91, 94, 81, 82, 83, 84, 85)),  # Vinaphone
    **_carrier(20, (896, 897, 898, 899, 90, 93, 70, 76, 77, 78, 79)),  # Mobifone (0890-0895 unused)
})
# 11-digit numbers renumbered in 2018: new prefix -> old prefix (both without the leading 0).
_OLD_PREFIX_OF = {
    "32": "162", "33": "163", "34": "164", "35": "165", "36": "166", "37": "167", "38": "168",
    "39": "169", "81": "127", "82": "129", "83": "123", "84": "124", "85": "125", "70": "120",
    "79": "121", "77": "122", "76": "126", "78": "128",
}
_OLD = "old"
_PHONE_FORMAT = _weighted({
    "0{a}{b}{c}": 40, "0{a} {b} {c}": 20, "0{a}.{b}.{c}": 10, "+84{a}{b}{c}": 8,
    "84{a}{b}{c}": 5, "0{p} {q} {r}": 5, _OLD: 6,
})
_SEPARATORS = (", ", " / ", ";")
_INVALID_PHONES = (
    "09123", "không có", "0212 345", "0123", "chưa có", "091234567", "0912 345 6789", "không",
)
# fmt: on
_POOL_SIZE = 256


def _format_phone(rng: random.Random, number: str) -> str:
    """A nine-digit national number written the way someone typed it."""
    template = _PHONE_FORMAT.pick(rng)
    if template == _OLD:
        old = _OLD_PREFIX_OF.get(number[:2])
        return f"0{old}{number[2:]}" if old else f"0{number}"
    return template.format(
        a=number[:3], b=number[3:6], c=number[6:], p=number[:2], q=number[2:5], r=number[5:]
    )


def _fresh_phone(rng: random.Random, pool: list[str]) -> str:
    """A new mobile number, remembered in the commune's pool so a neighbour may share it."""
    prefix = _MOBILE_PREFIX.pick(rng)
    rest = 9 - len(prefix)
    number = f"{prefix}{rng.randrange(10**rest):0{rest}d}"
    if len(pool) < _POOL_SIZE:
        pool.append(number)
    else:
        pool[rng.randrange(_POOL_SIZE)] = number
    return _format_phone(rng, number)


def _phones(rng: random.Random, pool: list[str]) -> str | None:
    """The phone cell: none 12%, invalid 0.5%, shared 1%, two numbers 15%, else one."""
    roll = rng.random()
    if roll < 0.12:
        return None
    if roll < 0.125:
        return rng.choice(_INVALID_PHONES)
    if roll < 0.135 and pool:
        return _format_phone(rng, rng.choice(pool))
    first = _fresh_phone(rng, pool)
    if roll < 0.285:
        return f"{first}{rng.choice(_SEPARATORS)}{_fresh_phone(rng, pool)}"
    return first


# --- households ---------------------------------------------------------------------------

_POOR, _NEAR_POOR, _OTHER = "Nghèo", "Cận nghèo", "Khác"
# fmt: off
_CATEGORY = _weighted({
    _POOR: 45, _NEAR_POOR: 45, "Mới thoát nghèo": 6, "Thoát cận nghèo": 3, _OTHER: 1,
})
_CATEGORY_SPELLINGS = {
    _POOR: ("ngheo", "NGHÈO", "Hộ nghèo", "nghèo", "Nghèo "),
    _NEAR_POOR: ("can ngheo", "CẬN NGHÈO", "Hộ cận nghèo", "cận nghèo", "Can ngheo"),
    "Mới thoát nghèo": ("moi thoat ngheo", "Hộ mới thoát nghèo", "MỚI THOÁT NGHÈO"),
    "Thoát cận nghèo": ("thoat can ngheo", "Hộ thoát cận nghèo", "THOÁT CẬN NGHÈO"),
    _OTHER: ("khac", "KHÁC"),
}
_INDICATORS = _weighted({
    "Việc làm": 14745, "Người phụ thuộc trong hộ gia đình": 11947, "Dinh dưỡng": 2286,
    "Bảo hiểm y tế": 23889, "Trình độ giáo dục của người lớn": 6291,
    "Tình trạng đi học của trẻ em": 1982, "Chất lượng nhà ở": 5969,
    "Diện tích nhà ở bình quân đầu người": 3355, "Nguồn nước sinh hoạt": 9079,
    "Nhà tiêu hợp vệ sinh": 7657, "Sử dụng dịch vụ viễn thông": 11688,
    "Phương tiện phục vụ tiếp cận thông tin": 5338,
})
_INDICATOR_ORDER = {name: position for position, name in enumerate(_INDICATORS.items)}
_DEPRIVATION_COUNT = {
    _POOR: _weighted({0: 2, 1: 3, 2: 7, 3: 40, 4: 30, 5: 18}),
    _NEAR_POOR: _weighted({0: 12, 1: 38, 2: 38, 3: 7, 4: 4, 5: 1}),
}
_FEW_DEPRIVATIONS = _weighted({0: 40, 1: 35, 2: 18, 3: 5, 4: 2})
_GROUP = _weighted({1: 66, 2: 7, 3: 27})
_MEMBERS = _weighted({1: 6, 2: 12, 3: 22, 4: 26, 5: 17, 6: 8, 7: 5, 8: 2, 9: 2})
_ALONE = "Người cao tuổi sống một mình"
_NOTES = _weighted({
    _ALONE: 3, "Có người khuyết tật": 3, "Đăng ký thoát nghèo 2025": 4, "Hộ bảo trợ xã hội": 2,
    "Có người có công với cách mạng": 1, "Đã vay vốn NHCSXH": 2, "Chưa có thẻ BHYT": 1,
    "Đi làm ăn xa": 1, "Số điện thoại của con": 1, "Nhà tạm, cần hỗ trợ nhà ở": 1,
})
# fmt: on
_FIRST_DAY = date(2022, 1, 1).toordinal()
_DAYS = date(2025, 6, 30).toordinal() - _FIRST_DAY + 1


def _spelling(rng: random.Random, category: str) -> str:
    """The category as written: the standard form, or about 3% of the time a clerk's variant."""
    if rng.random() < 0.03:
        return rng.choice(_CATEGORY_SPELLINGS[category])
    return category


def _recognised(rng: random.Random) -> date | str:
    """The recognition date; about 10% are typed as "dd/mm/yyyy" text rather than dates."""
    day = date.fromordinal(_FIRST_DAY + rng.randrange(_DAYS))
    if rng.random() < 0.10:
        return f"{day:%d/%m/%Y}"
    return day


def _deprivations(rng: random.Random, category: str) -> str | None:
    """Distinct deprivation indicators, weighted like Bến Tre's counts, in the standard order."""
    count = _DEPRIVATION_COUNT.get(category, _FEW_DEPRIVATIONS).pick(rng)
    chosen: set[str] = set()
    while len(chosen) < count:
        chosen.add(_INDICATORS.pick(rng))
    return ", ".join(sorted(chosen, key=_INDICATOR_ORDER.__getitem__)) or None


def _note(rng: random.Random, group: int | None) -> str | None:
    """A clerk's short remark on some households, more often on group 3 (no labour)."""
    if rng.random() < (0.25 if group == 3 else 0.08):
        return _NOTES.pick(rng)
    return None


def _household(
    rng: random.Random, commune: _Commune, row: int, number: int, pool: list[str]
) -> list[Cell]:
    """One household row, in HOUSEHOLD_HEADER order."""
    woman = rng.random() < 0.30
    ethnicity = _ETHNICITY.pick(rng)
    category = _CATEGORY.pick(rng)
    group = None if category == _OTHER else _GROUP.pick(rng)
    note = _note(rng, group)
    return [
        row,
        f"{commune.code}-{number:05d}",
        _full_name(rng, ethnicity, woman),
        commune.code,
        commune.name,
        rng.choice(commune.villages),
        _spelling(rng, category),
        _recognised(rng),
        _phones(rng, pool),
        ethnicity,
        "x" if woman else None,
        group,
        1 if note == _ALONE else _MEMBERS.pick(rng),
        _deprivations(rng, category),
        note,
    ]


def _household_rows(
    rng: random.Random, communes: Sequence[_Commune], households: int
) -> Iterator[list[Cell]]:
    """All households, commune by commune, spread as evenly as whole numbers allow."""
    row = 0
    for index, commune in enumerate(communes):
        share = households * (index + 1) // len(communes) - households * index // len(communes)
        pool: list[str] = []
        for number in range(1, share + 1):
            row += 1
            yield _household(rng, commune, row, number, pool)


# --- loans -------------------------------------------------------------------------------

# fmt: off
_LOAN_SHARE = 0.25  # of poor and near-poor households
_PROGRAMMES = {
    "poor": _weighted({"ho_ngheo": 60, "nuoc_sach": 12, "giai_quyet_viec_lam": 10, "hssv": 8,
                       "nha_o": 6, "sxkd_vung_kk": 4}),
    "near_poor": _weighted({"can_ngheo": 60, "nuoc_sach": 12, "giai_quyet_viec_lam": 12,
                            "hssv": 8, "nha_o": 4, "sxkd_vung_kk": 4}),
}
# How VBSP's lists write each programme: the usual name, then a clerk's short form.
_PROGRAMME_WRITTEN = {
    "ho_ngheo": ("Cho vay hộ nghèo", "Hộ nghèo"),
    "can_ngheo": ("Cho vay hộ cận nghèo", "Hộ cận nghèo"),
    "giai_quyet_viec_lam": ("Giải quyết việc làm", "GQVL"),
    "nuoc_sach": ("Nước sạch và vệ sinh môi trường nông thôn", "NS&VSMT"),
    "hssv": ("Học sinh sinh viên", "HSSV"),
    "nha_o": ("Nhà ở xã hội", "Cho vay nhà ở"),
    "sxkd_vung_kk": ("Sản xuất kinh doanh vùng khó khăn", "SXKD vùng KK"),
}
# programme -> (least, most, step) in million đồng, and interest per month in percent
_AMOUNTS = {
    "ho_ngheo": (20, 100, 5), "can_ngheo": (20, 100, 5), "giai_quyet_viec_lam": (30, 100, 10),
    "nuoc_sach": (10, 25, 1), "hssv": (10, 40, 2), "nha_o": (40, 60, 5),
    "sxkd_vung_kk": (20, 100, 10),
}
_MONTHLY_RATE = {
    "ho_ngheo": 0.55, "can_ngheo": 0.66, "giai_quyet_viec_lam": 0.66, "nuoc_sach": 0.75,
    "hssv": 0.55, "nha_o": 0.40, "sxkd_vung_kk": 0.75,
}
_TERMS = tuple(range(12, 37, 3))  # months
# fmt: on
_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class LoanSummary:
    """What a demo loan list holds: instalment rows, loans, borrowing households, where."""

    rows: int
    loans: int
    households: int
    path: Path


@dataclass(slots=True)
class _LoanBook:
    """The loan stream: its own random numbers, the savings-and-loan groups met so far."""

    rng: random.Random
    seed: int
    groups: dict[tuple[str, str], tuple[str, str | None]]
    loans: int = 0
    borrowers: int = 0
    rows: int = 0

    def group(self, commune: str, village: str) -> tuple[str, str | None]:
        """The village's savings-and-loan group and its head's phone (one group per village)."""
        key = (commune, village)
        if key not in self.groups:
            prefix = _MOBILE_PREFIX.pick(self.rng)
            rest = 9 - len(prefix)
            number = f"{prefix}{self.rng.randrange(10**rest):0{rest}d}"
            phone = None if self.rng.random() < 0.08 else f"0{number}"
            self.groups[key] = (f"Tổ TK&VV {lower_first(village)}", phone)
        return self.groups[key]


LISTED_PAST_DAYS = 10  # a few instalments just past due and unpaid: the overdue list


def _add_months(day: date, months: int, on_day: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, on_day)


def _schedule(
    rng: random.Random, programme: str, amount: int, term: int, disbursed: date, on_day: int
) -> list[tuple[date, int, int]]:
    """Instalments (due day, principal, interest): monthly or quarterly, on the same day."""
    period = 1 if rng.random() < 0.25 else 3
    count = term // period
    share = amount // count // 1000 * 1000
    rate = _MONTHLY_RATE[programme] / 100 * period
    owed, rows = amount, []
    for number in range(1, count + 1):
        principal = owed if number == count else share
        interest = round(owed * rate / 1000) * 1000
        rows.append((_add_months(disbursed, number * period, on_day), principal, interest))
        owed -= principal
    return rows


def _loans_of(
    book: _LoanBook, household: Sequence[Cell], category: str, today: date
) -> Iterator[tuple[Cell, ...]]:
    """A borrowing household's instalment rows (without STT), loan by loan."""
    rng = book.rng
    code, name, commune, village = household[1], household[2], str(household[3]), str(household[5])
    group, phone = book.group(commune, village)
    taken: set[str] = set()
    for _ in range(1 if rng.random() < 0.75 else 2):
        programme = _PROGRAMMES[category].pick(rng)
        if programme in taken:
            continue
        taken.add(programme)
        least, most, step = _AMOUNTS[programme]
        amount = rng.randrange(least, most + 1, step) * _MILLION
        term = rng.choice(_TERMS)
        disbursed = today - timedelta(days=rng.randint(20, term * 30 - 10))  # still running
        written = _PROGRAMME_WRITTEN[programme][rng.random() < 0.1]
        amount_cell: Cell = f"{amount:,}".replace(",", ".") if rng.random() < 0.15 else amount
        book.loans += 1
        on_day = min(disbursed.day, 28)  # as the contract was signed
        for due, principal, interest in _schedule(rng, programme, amount, term, disbursed, on_day):
            if due < today - timedelta(days=LISTED_PAST_DAYS):
                continue  # paid long ago: the bank's list shows what is still owed
            yield (code, name, written, amount_cell, disbursed, due, principal, interest,
                   group, phone)  # fmt: skip
    book.borrowers += 1


def _loan_rows(
    households: Iterable[list[Cell]], book: _LoanBook, today: date
) -> Iterator[tuple[Cell, ...]]:
    """Instalment rows, numbered, for about one poor or near-poor household in four."""
    for household in households:
        category = category_code(str(household[6]))
        if category not in _PROGRAMMES or book.rng.random() >= _LOAN_SHARE:
            continue
        for row in _loans_of(book, household, category, today):
            book.rows += 1
            yield (book.rows, *row)


# --- files --------------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"demo data can be written as .csv or .xlsx, not {path.suffix!r}")
    return suffix


def _check_counts(communes: int, households: int = 0) -> None:
    if not 1 <= communes <= MAX_COMMUNES:
        raise ValueError(f"communes must be between 1 and {MAX_COMMUNES}, got {communes}")
    if households < 0:
        raise ValueError(f"households must not be negative, got {households}")


def _write_csv(path: Path, rows: Iterable[Sequence[Cell]]) -> None:
    """UTF-8 with a byte-order mark (so Excel reads the diacritics), comma separated."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(
            [f"{value:%d/%m/%Y}" if isinstance(value, date) else value for value in row]
            for row in rows
        )


def _write_xlsx(
    path: Path, title: str, rows: Iterable[Sequence[Cell]], widths: Mapping[str, float]
) -> None:
    """Stream rows into a one-sheet workbook; dates become real date cells shown dd/mm/yyyy."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    for row in rows:
        sheet.append(
            [_date_cell(sheet, value) if isinstance(value, date) else value for value in row]
        )
    workbook.save(path)


def _date_cell(sheet: object, value: date) -> object:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "dd/mm/yyyy"
    return cell


_HOUSEHOLD_WIDTHS = {"B": 13, "C": 26, "E": 20, "F": 16, "G": 16, "H": 14, "I": 28, "N": 50}
_AREA_WIDTHS = {"B": 16, "D": 22, "F": 20, "G": 16, "H": 44, "I": 12, "J": 32}
_LOAN_WIDTHS = {"B": 13, "C": 26, "D": 30, "E": 14, "F": 14, "G": 14, "H": 12, "I": 12, "J": 26}


def write_households(
    path: Path, *, households: int, communes: int = 1, seed: int = 0
) -> DemoSummary:
    """Write a synthetic poor and near-poor household list (.xlsx or .csv) for the demo province."""
    suffix = _suffix(path)
    _check_counts(communes, households)
    rng = random.Random(seed)
    data = _household_rows(rng, _build_communes(rng, communes), households)
    if suffix == ".csv":
        _write_csv(path, chain((HOUSEHOLD_HEADER,), data))
    else:
        rows = chain(_TITLE_ROWS, (HOUSEHOLD_HEADER,), data, _SIGNATURE_ROWS)
        _write_xlsx(path, "Danh sách hộ", rows, _HOUSEHOLD_WIDTHS)
    return DemoSummary(rows=households, communes=communes, path=path)


def write_areas(path: Path, *, communes: int = 1, seed: int = 0) -> DemoSummary:
    """Write the demo province's communes with their legacy district and old communes."""
    suffix = _suffix(path)
    _check_counts(communes)
    built = _build_communes(random.Random(seed), communes)
    rows = chain((AREA_HEADER,), (_area_row(commune, seed) for commune in built))
    if suffix == ".csv":
        _write_csv(path, rows)
    else:
        _write_xlsx(path, "Đơn vị hành chính", rows, _AREA_WIDTHS)
    return DemoSummary(rows=communes, communes=communes, path=path)


def write_loans(
    path: Path, *, households: int, communes: int = 1, seed: int = 0, today: date
) -> LoanSummary:
    """Write VBSP's loan list (.xlsx or .csv, one row per instalment) for the households that
    write_households makes with the same households, communes and seed. Each loan runs 12-36
    months and is still running on TODAY (disbursed before it); its instalments fall due
    monthly or quarterly on the commune's transaction day."""
    suffix = _suffix(path)
    _check_counts(communes, households)
    rng = random.Random(seed)
    people = _household_rows(rng, _build_communes(rng, communes), households)
    book = _LoanBook(random.Random(f"loans:{seed}"), seed, {})
    data = _loan_rows(people, book, today)
    if suffix == ".csv":
        _write_csv(path, chain((LOAN_HEADER,), data))
    else:
        rows = chain(_LOAN_TITLE_ROWS, (LOAN_HEADER,), data, _SIGNATURE_ROWS)
        _write_xlsx(path, "Danh sách vay vốn", rows, _LOAN_WIDTHS)
    return LoanSummary(rows=book.rows, loans=book.loans, households=book.borrowers, path=path)
