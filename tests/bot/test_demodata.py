"""The synthetic commune register: layout, determinism and the mess it must contain."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.demodata import (
    _INVALID_PHONES,
    AREA_HEADER,
    HOUSEHOLD_HEADER,
    LISTED_PAST_DAYS,
    LOAN_HEADER,
    transaction_day,
    write_areas,
    write_households,
    write_loans,
)
from messages.phones import InvalidPhone, normalize_phone, split_phones
from storage.importers.loan_rows import money
from storage.vocab import category_code, programme_code

# fmt: off
EXPECTED_HOUSEHOLD_HEADER = [
    "STT", "Mã hộ", "Họ và tên chủ hộ", "Mã xã", "Xã", "Thôn", "Phân loại", "Ngày công nhận",
    "Số điện thoại", "Dân tộc", "Nữ chủ hộ", "Nhóm hộ", "Số nhân khẩu", "Thiếu hụt", "Ghi chú",
]
EXPECTED_AREA_HEADER = [
    "Mã tỉnh", "Tên tỉnh", "Mã huyện", "Tên huyện", "Mã xã", "Tên xã", "Mã xã cũ", "Tên xã cũ",
    "Ngày giao dịch NHCSXH", "Điểm giao dịch",
]
EXPECTED_LOAN_HEADER = [
    "STT", "Mã hộ", "Họ và tên chủ hộ", "Chương trình", "Số tiền vay", "Ngày giải ngân",
    "Ngày đến hạn", "Số tiền gốc", "Số tiền lãi", "Tổ TK&VV", "SĐT tổ trưởng",
]
# fmt: on


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def plain(text: str) -> str:
    """Lower case, no diacritics, no "hộ " prefix, single spaces: the category's skeleton."""
    stripped = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in stripped if not unicodedata.combining(ch)).lower()
    return " ".join(ascii_text.split()).removeprefix("ho ")


def national_number(text: str) -> str | None:
    """The E.164 number the importer makes of one typed phone number, or None if invalid."""
    try:
        return normalize_phone(text)
    except InvalidPhone:
        return None


def parse_day(text: str) -> date:
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", text), text
    day, month, year = map(int, text.split("/"))
    return date(year, month, day)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    path = tmp_path_factory.mktemp("demo") / "households.csv"
    summary = write_households(path, households=5000, communes=4, seed=7)
    assert summary.rows == 5000
    assert summary.communes == 4
    assert summary.path == path
    return read_csv(path)


def test_public_headers_match_the_documented_columns() -> None:
    assert list(HOUSEHOLD_HEADER) == EXPECTED_HOUSEHOLD_HEADER
    assert list(AREA_HEADER) == EXPECTED_AREA_HEADER
    assert list(LOAN_HEADER) == EXPECTED_LOAN_HEADER


def test_csv_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_households(first, households=800, communes=3, seed=42)
    write_households(second, households=800, communes=3, seed=42)
    write_households(other, households=800, communes=3, seed=43)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    write_areas(first, communes=3, seed=42)
    write_areas(second, communes=3, seed=42)
    assert first.read_bytes() == second.read_bytes()


def test_csv_starts_with_bom_and_the_header(tmp_path: Path) -> None:
    households, areas = tmp_path / "h.csv", tmp_path / "a.csv"
    write_households(households, households=10, seed=1)
    write_areas(areas, communes=2, seed=1)
    assert households.read_bytes().startswith(b"\xef\xbb\xbf")
    assert areas.read_bytes().startswith(b"\xef\xbb\xbf")
    with households.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == EXPECTED_HOUSEHOLD_HEADER
    with areas.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == EXPECTED_AREA_HEADER


def test_rows_are_numbered_and_household_codes_unique(sample: list[dict[str, str]]) -> None:
    assert [row["STT"] for row in sample] == [str(n) for n in range(1, 5001)]
    codes = [row["Mã hộ"] for row in sample]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith(row["Mã xã"] + "-") for code, row in zip(codes, sample, strict=True))
    per_commune = Counter(row["Mã xã"] for row in sample)
    assert set(per_commune.values()) == {1250}


def test_category_proportions(sample: list[dict[str, str]]) -> None:
    canonical = {
        "ngheo": "Nghèo",
        "can ngheo": "Cận nghèo",
        "moi thoat ngheo": "Mới thoát nghèo",
        "thoat can ngheo": "Thoát cận nghèo",
        "khac": "Khác",
    }
    counts = Counter(canonical[plain(row["Phân loại"])] for row in sample)
    shares = {category: count / len(sample) for category, count in counts.items()}
    assert shares["Nghèo"] == pytest.approx(0.45, abs=0.03)
    assert shares["Cận nghèo"] == pytest.approx(0.45, abs=0.03)
    assert shares["Mới thoát nghèo"] == pytest.approx(0.06, abs=0.015)
    assert shares["Thoát cận nghèo"] == pytest.approx(0.03, abs=0.012)
    assert shares["Khác"] == pytest.approx(0.01, abs=0.006)
    variants = sum(row["Phân loại"] not in canonical.values() for row in sample)
    assert 0.01 <= variants / len(sample) <= 0.06


def test_groups_members_and_deprivations(sample: list[dict[str, str]]) -> None:
    others = [row for row in sample if plain(row["Phân loại"]) == "khac"]
    assert others
    assert all(row["Nhóm hộ"] == "" for row in others)
    groups = Counter(row["Nhóm hộ"] for row in sample if row not in others)
    total = sum(groups.values())
    assert groups["1"] / total == pytest.approx(0.66, abs=0.03)
    assert groups["2"] / total == pytest.approx(0.07, abs=0.02)
    assert groups["3"] / total == pytest.approx(0.27, abs=0.03)
    assert {int(row["Số nhân khẩu"]) for row in sample} <= set(range(1, 10))

    def many(category: str) -> float:
        rows = [row for row in sample if plain(row["Phân loại"]) == category]
        counts = [len(row["Thiếu hụt"].split(", ")) if row["Thiếu hụt"] else 0 for row in rows]
        assert max(counts) <= 5
        return sum(count >= 3 for count in counts) / len(rows)

    assert many("ngheo") > 0.7 > 0.3 > many("can ngheo")


def test_names_are_nfc_and_fit_the_head(sample: list[dict[str, str]]) -> None:
    for row in sample:
        for value in row.values():
            assert unicodedata.is_normalized("NFC", value)
    women = [row for row in sample if row["Nữ chủ hộ"] == "x"]
    men = [row for row in sample if row["Nữ chủ hộ"] == ""]
    assert len(women) / len(sample) == pytest.approx(0.30, abs=0.03)
    assert not any(" Văn " in row["Họ và tên chủ hộ"] for row in women)
    assert not any(" Thị " in row["Họ và tên chủ hộ"] for row in men)
    assert all(len(row["Họ và tên chủ hộ"].split()) >= 2 for row in sample)
    family = Counter(row["Họ và tên chủ hộ"].split()[0] for row in sample)
    assert family.most_common(1)[0][0] == "Nguyễn"
    ethnic = Counter(row["Dân tộc"] for row in sample)
    assert (ethnic["Khmer"] + ethnic["Hoa"]) / len(sample) == pytest.approx(0.08, abs=0.02)
    assert ethnic["Hoa"] > 0
    assert set(ethnic) == {"Kinh", "", "Khmer", "Hoa"}


def test_phones_cover_the_messy_cases(sample: list[dict[str, str]]) -> None:
    cells = [row["Số điện thoại"] for row in sample]
    assert 0.09 < cells.count("") / len(cells) < 0.15
    two = [cell for cell in cells if len(split_phones(cell)) == 2]
    assert 0.12 < len(two) / len(cells) < 0.18
    numbers = [part for cell in cells for part in split_phones(cell)]
    assert any(re.fullmatch(r"01\d{9}", part) for part in numbers), "no old 11-digit number"
    assert any(part.startswith("+84") for part in numbers)
    assert any(re.fullmatch(r"0\d{3} \d{3} \d{3}", part) for part in numbers)
    assert any(re.fullmatch(r"0\d{3}\.\d{3}\.\d{3}", part) for part in numbers)
    invalid = [
        cell for cell in cells if any(national_number(part) is None for part in split_phones(cell))
    ]
    assert invalid, "no invalid phone"
    refused = {part for part in numbers if national_number(part) is None}
    assert refused <= set(_INVALID_PHONES), "generated numbers the importer refuses"
    owners: dict[str, set[str]] = {}
    for row in sample:
        for part in split_phones(row["Số điện thoại"]):
            if (number := national_number(part)) is not None:
                owners.setdefault(number, set()).add(row["Mã hộ"])
    shared = [number for number, households in owners.items() if len(households) > 1]
    assert shared, "no phone shared between households"


def test_dates_lie_in_the_recognition_window(sample: list[dict[str, str]]) -> None:
    days = [parse_day(row["Ngày công nhận"]) for row in sample]
    assert min(days) >= date(2022, 1, 1)
    assert max(days) <= date(2025, 6, 30)


def test_xlsx_has_titles_header_data_dates_and_signature(tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    write_households(path, households=300, communes=2, seed=3)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "ỦY BAN NHÂN DÂN TỈNH VĨNH LONG"
    assert rows[1][0] == "DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2025"
    assert str(rows[2][0]).startswith("(Kèm theo Quyết định số")
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    assert header_at == 4
    assert list(rows[header_at]) == EXPECTED_HOUSEHOLD_HEADER
    data = rows[header_at + 1 : header_at + 301]
    assert [row[0] for row in data] == list(range(1, 301))
    after = rows[header_at + 301 :]
    assert all(value is None for value in after[0])
    assert after[1][1] == "Người lập biểu"
    assert after[1][7] == "TM. ỦY BAN NHÂN DÂN"
    assert after[2][1] == "(Ký, ghi rõ họ tên)"
    assert "ngày 15 tháng 01 năm 2025" in str(after[3][7])
    recognised = [row[7] for row in data]
    real_dates = [value for value in recognised if isinstance(value, datetime | date)]
    texts = [value for value in recognised if isinstance(value, str)]
    assert len(real_dates) + len(texts) == 300
    assert 0.8 < len(real_dates) / 300 < 0.97
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", text) for text in texts)


def test_xlsx_date_cells_show_day_first(tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    write_households(path, households=50, seed=5)
    sheet = load_workbook(path).active
    formats = {
        cell.number_format
        for (cell,) in sheet.iter_rows(min_row=6, max_row=55, min_col=8, max_col=8)
        if isinstance(cell.value, datetime)
    }
    assert formats == {"dd/mm/yyyy"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_areas_hold_the_communes_households_refer_to(tmp_path: Path, suffix: str) -> None:
    households, areas = tmp_path / "h.csv", tmp_path / f"a{suffix}"
    write_households(households, households=400, communes=9, seed=11)
    summary = write_areas(areas, communes=9, seed=11)
    assert summary.rows == summary.communes == 9
    if suffix == ".csv":
        area_rows = [tuple(row.values()) for row in read_csv(areas)]
    else:
        sheet_rows = list(load_workbook(areas).active.iter_rows(values_only=True))
        assert list(sheet_rows[0]) == EXPECTED_AREA_HEADER
        area_rows = [tuple(row) for row in sheet_rows[1:]]
    listed = {(row[4], row[5]) for row in area_rows}
    referred = {(row["Mã xã"], row["Xã"]) for row in read_csv(households)}
    assert referred == listed
    assert len(area_rows) == 9


def test_areas_carry_province_district_and_old_communes(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    write_areas(path, communes=3000, seed=2)
    rows = read_csv(path)
    assert {(row["Mã tỉnh"], row["Tên tỉnh"]) for row in rows} == {("86", "Tỉnh Vĩnh Long")}
    codes = [row["Mã xã"] for row in rows]
    names = [row["Tên xã"] for row in rows]
    assert len(set(codes)) == len(set(names)) == 3000
    assert all(re.fullmatch(r"\d{5}", code) for code in codes)
    assert all(re.fullmatch(r"\d{3}", row["Mã huyện"]) for row in rows)
    assert all(row["Tên huyện"] for row in rows)
    assert len({row["Mã huyện"] for row in rows}) > 1
    old_codes = [code for row in rows for code in row["Mã xã cũ"].split("; ")]
    assert len(set(old_codes)) == len(old_codes)
    assert all(re.fullmatch(r"\d{5}", code) for code in old_codes)
    assert not set(old_codes) & set(codes)
    for row in rows:
        olds = row["Tên xã cũ"].split("; ")
        assert len(olds) == len(row["Mã xã cũ"].split("; ")) in (2, 3)


@pytest.mark.parametrize("name", ["list.txt", "list", "list.xls"])
def test_unsupported_suffix_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        write_households(path, households=5)
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        write_areas(path)
    assert not path.exists()


def test_bad_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="communes"):
        write_households(tmp_path / "h.csv", households=5, communes=0)
    with pytest.raises(ValueError, match="households"):
        write_households(tmp_path / "h.csv", households=-1)
    with pytest.raises(ValueError, match="communes"):
        write_areas(tmp_path / "a.csv", communes=10**6)


def test_areas_carry_the_vbsp_transaction_day_and_place(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    write_areas(path, communes=40, seed=4)
    rows = read_csv(path)
    days = [int(row["Ngày giao dịch NHCSXH"]) for row in rows]
    assert all(5 <= day <= 25 for day in days)
    assert len(set(days)) > 5
    assert days[0] == transaction_day(4, rows[0]["Mã xã"])
    for row in rows:
        kind, name = row["Tên xã"].split(" ", 1)
        assert row["Điểm giao dịch"] == f"Trụ sở UBND {kind.lower()} {name}"


def test_areas_columns_leave_the_household_list_as_it_was(tmp_path: Path) -> None:
    # The transaction days come from their own stream: the same seed gives the same households.
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_households(first, households=300, communes=3, seed=9)
    write_areas(tmp_path / "areas.csv", communes=3, seed=9)
    write_households(second, households=300, communes=3, seed=9)
    assert first.read_bytes() == second.read_bytes()


TODAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def loan_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], ...]:
    folder = tmp_path_factory.mktemp("loans")
    households, loans = folder / "households.csv", folder / "loans.csv"
    write_households(households, households=4000, communes=4, seed=7)
    summary = write_loans(loans, households=4000, communes=4, seed=7, today=TODAY)
    rows = read_csv(loans)
    assert summary.rows == len(rows)
    assert summary.loans == len(
        {(r["Mã hộ"], r["Chương trình"], r["Ngày giải ngân"]) for r in rows}
    )
    assert summary.households == len({r["Mã hộ"] for r in rows})
    return read_csv(households), rows


def test_loans_go_to_about_a_quarter_of_poor_and_near_poor_households(
    loan_sample: tuple[list[dict[str, str]], ...],
) -> None:
    households, rows = loan_sample
    category = {h["Mã hộ"]: category_code(h["Phân loại"]) for h in households}
    borrowers = {row["Mã hộ"] for row in rows}
    assert {category[code] for code in borrowers} == {"poor", "near_poor"}
    targets = sum(c in ("poor", "near_poor") for c in category.values())
    assert len(borrowers) / targets == pytest.approx(0.25, abs=0.03)
    names = {h["Mã hộ"]: h["Họ và tên chủ hộ"] for h in households}
    assert all(row["Họ và tên chủ hộ"] == names[row["Mã hộ"]] for row in rows)
    loans: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        loans.setdefault(row["Mã hộ"], set()).add((row["Chương trình"], row["Ngày giải ngân"]))
    assert {len(found) for found in loans.values()} == {1, 2}
    assert [row["STT"] for row in rows] == [str(n) for n in range(1, len(rows) + 1)]


def test_loan_schedules_are_importable_and_add_up(
    loan_sample: tuple[list[dict[str, str]], ...],
) -> None:
    _households, rows = loan_sample
    assert all(programme_code(row["Chương trình"]) for row in rows)
    assert len({programme_code(row["Chương trình"]) for row in rows}) >= 5
    by_loan: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        key = (row["Mã hộ"], row["Chương trình"], row["Ngày giải ngân"])
        by_loan.setdefault(key, []).append(row)
    periods: Counter[int] = Counter()
    for (_code, _programme, disbursed_text), items in by_loan.items():
        disbursed = parse_day(disbursed_text)
        assert disbursed < TODAY
        dues = [parse_day(item["Ngày đến hạn"]) for item in items]
        assert dues == sorted(set(dues))
        assert dues[0] > disbursed
        assert dues[0] >= TODAY - timedelta(days=LISTED_PAST_DAYS)  # what is still owed
        assert dues[-1] > TODAY  # still running
        months = (dues[-1].year - disbursed.year) * 12 + dues[-1].month - disbursed.month
        assert 12 <= months <= 36
        assert {due.day for due in dues} == {min(disbursed.day, 28)}
        periods[(dues[1].month - dues[0].month) % 12 if len(dues) > 1 else 0] += 1
        amount = money(items[0]["Số tiền vay"], positive=True)
        assert amount is not None
        assert amount % 1_000_000 == 0
        assert {money(item["Số tiền vay"], positive=True) for item in items} == {amount}
        assert sum(int(item["Số tiền gốc"]) for item in items) <= amount  # the rest is paid
        assert all(int(item["Số tiền lãi"]) > 0 for item in items)
        assert len({(item["Tổ TK&VV"], item["SĐT tổ trưởng"]) for item in items}) == 1
    assert {1, 3} <= set(periods)  # monthly and quarterly (0: one instalment left)
    assert periods[3] > periods[1]
    assert any("." in row["Số tiền vay"] for row in rows)
    assert all(row["Tổ TK&VV"].startswith("Tổ TK&VV ") for row in rows)
    phones = [row["SĐT tổ trưởng"] for row in rows if row["SĐT tổ trưởng"]]
    assert phones
    assert all(national_number(phone) for phone in phones)


def test_loans_csv_is_byte_identical_and_xlsx_has_titles(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_loans(first, households=500, communes=2, seed=3, today=TODAY)
    write_loans(second, households=500, communes=2, seed=3, today=TODAY)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"\xef\xbb\xbf")
    path = tmp_path / "loans.xlsx"
    summary = write_loans(path, households=500, communes=2, seed=3, today=TODAY)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    assert list(rows[header_at]) == EXPECTED_LOAN_HEADER
    data = rows[header_at + 1 : header_at + 1 + summary.rows]
    assert all(isinstance(row[5], datetime) and isinstance(row[6], datetime) for row in data)
    assert rows[header_at + 1 + summary.rows + 1][1] == "Người lập biểu"
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        write_loans(tmp_path / "loans.txt", households=5, today=TODAY)
