"""SMS text: accents, encoding and segments, at the edges of each limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.sms import GSM7, UCS2, encoding_of, prepare


def test_vietnamese_is_stripped_to_gsm7_by_default() -> None:
    sms = prepare("Hộ ông Nguyễn Văn Đức: ngày 15/12 giao dịch tại UBND xã.")
    assert sms.text == "Ho ong Nguyen Van Duc: ngay 15/12 giao dich tai UBND xa."
    assert (sms.encoding, sms.segments) == (GSM7, 1)


def test_kept_accents_go_as_ucs2() -> None:
    sms = prepare("Hộ ông Đức", strip=False)
    assert (sms.text, sms.encoding, sms.units, sms.segments) == ("Hộ ông Đức", UCS2, 10, 1)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),  # extension characters take two septets
        ("€" * 81, GSM7, 162, 2),
        ("₫" * 70, UCS2, 70, 1),
        ("₫" * 71, UCS2, 71, 2),
        ("₫" * 134, UCS2, 134, 2),
        ("₫" * 135, UCS2, 135, 3),
        ("😀" * 35, UCS2, 70, 1),  # a surrogate pair is two code units
        ("", GSM7, 0, 1),
    ],
)
def test_segments_at_the_limits(text: str, encoding: str, units: int, segments: int) -> None:
    sms = prepare(text, strip=False)
    assert (sms.encoding, sms.units, sms.segments) == (encoding, units, segments)


def test_one_character_outside_gsm_makes_the_whole_message_ucs2() -> None:
    assert encoding_of("Tien vay 1.500.000 d") == GSM7
    assert encoding_of("Tiền vay 1.500.000 ₫") == UCS2


@given(st.text(max_size=2000))
def test_segments_always_hold_the_text(text: str) -> None:
    sms = prepare(text)
    per_part = 153 if sms.encoding == GSM7 else 67
    assert sms.segments >= 1
    assert sms.units <= max(sms.segments * per_part, 160 if sms.encoding == GSM7 else 70)
