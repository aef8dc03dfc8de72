"""The register's fixed vocabularies: categories and deprivation indicators, with the
spellings commune lists use for them. Labels are English source strings for the catalog."""

from __future__ import annotations

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
}


PRIORITY_LABELS: dict[str, str] = {"high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}


def followup_label(kind: str) -> str:
    """A follow-up kind as people read it (translated); an unknown kind as its code."""
    return _(FOLLOWUP_KINDS[kind]) if kind in FOLLOWUP_KINDS else kind


def priority_label(priority: str) -> str:
    """A follow-up priority as people read it (translated)."""
    return _(PRIORITY_LABELS[priority]) if priority in PRIORITY_LABELS else priority
