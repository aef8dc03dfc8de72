"""The register's fixed vocabularies: categories and deprivation indicators, with the
spellings commune lists use for them. Labels are English source strings for the catalog."""

from __future__ import annotations

import re
from datetime import date

from messages.render import N_, _
from messages.text import fold

# category code -> label (translated on display)
CATEGORY_LABELS: dict[str, str] = {
    "poor": N_("Poor"),
    "near_poor": N_("Near-poor"),
    "escaped": N_("Newly escaped poverty"),
    "escaped_near_poor": N_("Escaped near-poverty"),
    "other": N_("Other"),
}
CATEGORIES = tuple(CATEGORY_LABELS)

# How lists write each category (folded before matching).
CATEGORY_SPELLINGS: dict[str, str] = {
    "ngheo": "poor",
    "ho ngheo": "poor",
    "can ngheo": "near_poor",
    "ho can ngheo": "near_poor",
    "moi thoat ngheo": "escaped",
    "ho moi thoat ngheo": "escaped",
    "thoat ngheo": "escaped",
    "thoat can ngheo": "escaped_near_poor",
    "ho thoat can ngheo": "escaped_near_poor",
    "khac": "other",
    **{code: code for code in CATEGORY_LABELS},
}

# The 12 indicators of the multidimensional poverty standard 2021-2025 (Decree 07/2021).
# code -> (number in the decree, label, the Vietnamese name lists use)
DEPRIVATIONS: dict[str, tuple[int, str, str]] = {
    "employment": (1, N_("Employment"), "Việc làm"),
    "dependants": (2, N_("Dependants in the household"), "Người phụ thuộc trong hộ gia đình"),
    "nutrition": (3, N_("Nutrition"), "Dinh dưỡng"),
    "health_insurance": (4, N_("Health insurance"), "Bảo hiểm y tế"),
    "adult_education": (5, N_("Adult education"), "Trình độ giáo dục của người lớn"),
    "child_schooling": (6, N_("Children's schooling"), "Tình trạng đi học của trẻ em"),
    "housing_quality": (7, N_("Housing quality"), "Chất lượng nhà ở"),
    "floor_area": (8, N_("Floor area per person"), "Diện tích nhà ở bình quân đầu người"),
    "water": (9, N_("Domestic water"), "Nguồn nước sinh hoạt"),
    "toilet": (10, N_("Hygienic toilet"), "Nhà tiêu hợp vệ sinh"),
    "telecom": (11, N_("Telecom use"), "Sử dụng dịch vụ viễn thông"),
    "information_access": (
        12,
        N_("Information-access assets"),
        "Phương tiện phục vụ tiếp cận thông tin",
    ),
}

# Short forms seen in lists, folded.
_DEPRIVATION_SHORT = {
    "nguoi phu thuoc": "dependants",
    "bhyt": "health_insurance",
    "giao duc nguoi lon": "adult_education",
    "tre em di hoc": "child_schooling",
    "nha o": "housing_quality",
    "dien tich nha o": "floor_area",
    "nuoc sinh hoat": "water",
    "nha tieu": "toilet",
    "vien thong": "telecom",
    "tiep can thong tin": "information_access",
}


def _deprivation_spellings() -> dict[str, str]:
    spellings = dict(_DEPRIVATION_SHORT)
    for code, (number, _label, vietnamese) in DEPRIVATIONS.items():
        spellings[code] = code
        spellings[str(number)] = code
        spellings[fold(vietnamese)] = code
    return spellings


DEPRIVATION_SPELLINGS = _deprivation_spellings()


def category_code(text: str) -> str | None:
    """The category code for how a list writes it, or None."""
    key = fold(text)
    return CATEGORY_SPELLINGS.get(key) or CATEGORY_SPELLINGS.get(key.replace("_", " "))


def deprivation_code(text: str) -> str | None:
    """The indicator code for a code, number or Vietnamese name, or None."""
    return DEPRIVATION_SPELLINGS.get(fold(text))


ESCAPED_BENEFIT_YEARS = 3  # newly-escaped households keep their benefits for 36 months


def benefits_until(category: str, recognized_on: date | None) -> date | None:
    """When the 36-month benefit window of a newly-escaped household ends; None otherwise."""
    if category != "escaped" or recognized_on is None:
        return None
    try:
        return recognized_on.replace(year=recognized_on.year + ESCAPED_BENEFIT_YEARS)
    except ValueError:  # 29 February
        return recognized_on.replace(year=recognized_on.year + ESCAPED_BENEFIT_YEARS, day=28)


# Follow-up kinds the built-in surveys and Loa itself open, with their labels. A form's
# `loa_followups` sheet may name others; lists show those by their code.
FOLLOWUP_KINDS: dict[str, str] = {
    "needs_help": N_("Could not answer a survey question"),
    "visit": N_("Needs a visit"),
    "loan": N_("Wants a loan"),
    "loan_difficulty": N_("Trouble with a loan"),
    "training": N_("Wants vocational training"),
    "job": N_("Looking for a job"),
    "labour_export": N_("Wants to work abroad"),
    "production": N_("Wants help with farming or business"),
    "health_insurance": N_("Health-insurance card missing or wrong"),
    "housing": N_("Housing"),
    "water_sanitation": N_("Clean water or toilet"),
    "escape_poverty": N_("Registered to escape poverty"),
    "support_problem": N_("Support not received or faulty"),
    "feedback": N_("Feedback to answer"),
    "overdue": N_("Loan instalment overdue"),
    "no_answer": N_("Did not answer a survey"),
}


PRIORITY_LABELS: dict[str, str] = {"high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}


def followup_label(kind: str) -> str:
    """A follow-up kind as people read it (translated); an unknown kind as its code."""
    return _(FOLLOWUP_KINDS[kind]) if kind in FOLLOWUP_KINDS else kind


def priority_label(priority: str) -> str:
    """A follow-up priority as people read it (translated)."""
    return _(PRIORITY_LABELS[priority]) if priority in PRIORITY_LABELS else priority


# Loan programmes of the Bank for Social Policies (NHCSXH / VBSP): code -> label (translated on
# display). LOAN_PROGRAMME_NAMES holds the name VBSP's lists use, which is data, not a message.
LOAN_PROGRAMMES: dict[str, str] = {
    "ho_ngheo": N_("Poor household loans"),
    "can_ngheo": N_("Near-poor household loans"),
    "moi_thoat_ngheo": N_("Loans to households newly out of poverty"),
    "giai_quyet_viec_lam": N_("Job creation loans"),
    "nuoc_sach": N_("Rural clean water and sanitation loans"),
    "sxkd_vung_kk": N_("Production and business loans in difficult areas"),
    "hssv": N_("Student loans"),
    "nha_o": N_("Housing loans"),
    "khac": N_("Other loans"),
}
LOAN_PROGRAMME_NAMES: dict[str, str] = {
    "ho_ngheo": "Hộ nghèo",
    "can_ngheo": "Hộ cận nghèo",
    "moi_thoat_ngheo": "Hộ mới thoát nghèo",
    "giai_quyet_viec_lam": "Giải quyết việc làm",
    "nuoc_sach": "Nước sạch và vệ sinh môi trường nông thôn",
    "sxkd_vung_kk": "Sản xuất kinh doanh vùng khó khăn",
    "hssv": "Học sinh sinh viên",
    "nha_o": "Nhà ở xã hội",
    "khac": "Khác",
}
# Other ways VBSP lists and clerks write them ("Cho vay ..." and "Chương trình ..." are dropped
# before matching, so they need not be listed).
_PROGRAMME_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ho_ngheo": ("ngheo", "HN", "vay hộ nghèo"),
    "can_ngheo": ("cận nghèo", "HCN", "vay hộ cận nghèo"),
    "moi_thoat_ngheo": ("mới thoát nghèo", "hộ thoát nghèo", "thoát nghèo", "HMTN", "HTN"),
    "giai_quyet_viec_lam": (
        "GQVL",
        "việc làm",
        "tạo việc làm",
        "hỗ trợ tạo việc làm, duy trì và mở rộng việc làm",
        "hỗ trợ tạo việc làm",
        "giải quyết việc làm, duy trì và mở rộng việc làm",
    ),
    "nuoc_sach": (
        "nước sạch",
        "nước sạch và VSMT",
        "nước sạch VSMT",
        "nước sạch và vệ sinh môi trường",
        "nước sạch vệ sinh môi trường nông thôn",
        "NS&VSMT",
        "NS&VSMTNT",
        "NSVSMT",
        "NSVSMTNT",
    ),
    "sxkd_vung_kk": (
        "SXKD vùng KK",
        "SXKD vùng khó khăn",
        "SXKD tại vùng khó khăn",
        "sản xuất kinh doanh tại vùng khó khăn",
        "hộ gia đình sản xuất kinh doanh tại vùng khó khăn",
        "hộ SXKD vùng khó khăn",
        "vùng khó khăn",
        "HSXKD VKK",
    ),
    "hssv": ("HS SV", "HS-SV", "học sinh, sinh viên", "HSSV có hoàn cảnh khó khăn"),
    "nha_o": (
        "nhà ở",
        "NOXH",
        "nhà ở hộ nghèo",
        "hộ nghèo về nhà ở",
        "nhà ở theo Quyết định 167",
        "nhà ở xã hội theo Nghị định 100",
    ),
    "khac": ("chương trình khác",),
}
_PROGRAMME_PREFIXES = ("chuong trinh ", "cho vay ", "ct ")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _programme_key(text: str) -> str:
    """A name's matching key: folded, punctuation as spaces, "Chương trình cho vay" dropped."""
    key = _NOT_ALNUM.sub(" ", fold(text)).strip()
    for prefix in _PROGRAMME_PREFIXES:
        if key.startswith(prefix) and key != prefix.strip():
            key = key.removeprefix(prefix)
    return key


def _programme_spellings() -> dict[str, str]:
    spellings: dict[str, str] = {}
    for code, label in LOAN_PROGRAMMES.items():
        names = (code, label, LOAN_PROGRAMME_NAMES[code], *_PROGRAMME_SPELLINGS[code])
        for name in names:
            spellings[_programme_key(name)] = code
            spellings[_programme_key(name).replace(" ", "")] = code
    return spellings


LOAN_PROGRAMME_SPELLINGS = _programme_spellings()


def programme_code(text: str) -> str | None:
    """The programme code for how a VBSP list writes it ("Cho vay hộ nghèo", "GQVL"), or None."""
    key = _programme_key(text)
    if not key:
        return None
    return LOAN_PROGRAMME_SPELLINGS.get(key) or LOAN_PROGRAMME_SPELLINGS.get(key.replace(" ", ""))


def programme_label(code: str) -> str:
    """A loan programme as people read it (translated); an unknown code as itself."""
    return _(LOAN_PROGRAMMES[code]) if code in LOAN_PROGRAMMES else code
