"""Pacing (token bucket, gap per recipient, 429 slow-down), time windows and the rules."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.pacing import MARGIN, Pace
from bot.rules import LOOP, NO_CONSENT, OPTED_OUT, Plan, exempt, introduction, plan
from scheduler.windows import Windows
from storage.models.households import BASIS_CONSENT, BASIS_REGISTER
from storage.models.messages import (
    BULK,
    CONFIRM,
    FAILED,
    NORMAL,
    NOTICE,
    QUEUED,
    REPLY,
    SKIPPED,
    SURVEY,
    URGENT,
)
from storage.outbox import PAID, Claimed

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = Windows.parse(VN, "21:00-07:00", 3)
MORNING = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Vietnam time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=VN)


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self, at: float = 1000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


# --- the token bucket ---------------------------------------------------------------------


def test_rate_and_burst_are_a_little_under_the_provider_limit() -> None:
    pace = Pace(100, clock=Ticks())
    assert pace.rate == pytest.approx(100 * MARGIN)
    assert pace.full_rate == pace.rate
    assert 1.0 <= pace.capacity <= 100 * MARGIN / 20  # at most a twentieth of a second
    assert pace.gap == 0.0
    assert Pace(1, clock=Ticks()).capacity == 1.0  # never less than one message


def test_burst_then_wait_for_the_next_token() -> None:
    ticks = Ticks()
    pace = Pace(1000, clock=ticks)
    burst = pace.available()
    assert burst == int(pace.capacity) > 1
    pace.take(burst)
    assert pace.available() == 0
    wait = pace.wait()
    assert wait == pytest.approx((1 - (pace.capacity - burst)) / pace.rate)
    ticks.advance(wait / 2)
    assert pace.available() == 0
    ticks.advance(wait / 2 + 1e-9)
    assert pace.available() == 1


def test_explicit_burst() -> None:
    pace = Pace(10, burst=5, clock=Ticks())
    assert pace.available() == 5


def test_tokens_never_pile_up_past_the_burst() -> None:
    ticks = Ticks()
    pace = Pace(1000, clock=ticks)
    ticks.advance(3600)
    assert pace.available() == int(pace.capacity)


@pytest.mark.parametrize("per_second", [1, 30, 100, 1000])
def test_steady_rate_over_ten_seconds(per_second: float) -> None:
    """Sending as fast as allowed for 10 s: the burst, then 97 % of the provider's rate."""
    ticks = Ticks(0.0)
    pace = Pace(per_second, clock=ticks)
    times: list[float] = []
    while ticks() < 10.0:
        if pace.available() >= 1:
            pace.take()
            times.append(ticks())
        else:
            ticks.advance(pace.wait() + 1e-9)
    expected = pace.capacity + 10 * per_second * MARGIN
    assert expected - 2 <= len(times) <= expected + 1
    # never more than the provider's limit in any one-second window, burst included
    busiest = max(bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
    assert busiest <= per_second


def test_gap_per_recipient() -> None:
    ticks = Ticks()
    pace = Pace(100, per_chat_per_second=1, clock=ticks)
    gap = 1 / (1 * MARGIN)
    assert pace.gap == pytest.approx(gap)
    assert pace.chat_ready("a") == 0.0  # never written to: ready at once
    pace.chat_sent("a")
    assert pace.chat_ready("a") == pytest.approx(ticks() + gap)
    pace.chat_sent("a")  # two in a row: the second one's gap stacks on the first
    assert pace.chat_ready("a") == pytest.approx(ticks() + 2 * gap)
    assert pace.chat_ready("b") == 0.0  # other recipients are not held
    ticks.advance(10)
    pace.chat_sent("a")  # long idle: the gap counts from now
    assert pace.chat_ready("a") == pytest.approx(ticks() + gap)


def test_no_gap_without_a_per_chat_limit() -> None:
    pace = Pace(100, clock=Ticks())
    pace.chat_sent("a")
    assert pace.chat_ready("a") == 0.0


def test_slow_down_pauses_then_recovers() -> None:
    ticks = Ticks()
    pace = Pace(100, clock=ticks)
    pace.slow_down(5)
    assert pace.available() == 0
    assert pace.wait() == pytest.approx(5)
    assert pace.rate == pytest.approx(pace.full_rate * 0.8)
    ticks.advance(2)
    assert pace.available() == 0
    assert pace.wait() == pytest.approx(3)
    ticks.advance(3)
    assert pace.available() >= 1  # the pause is over
    assert pace.rate < pace.full_rate  # still slower than before
    for _ in range(120):  # about a minute of steady work brings the full rate back
        ticks.advance(1)
        pace.available()
    assert pace.rate == pytest.approx(pace.full_rate)


def test_slow_down_drops_the_tokens_and_keeps_the_longer_pause() -> None:
    ticks = Ticks()
    pace = Pace(100, clock=ticks)
    pace.slow_down(10)
    pace.slow_down(1)  # a shorter 429 does not shorten the pause
    assert pace.wait() == pytest.approx(10)
    assert pace.tokens == 0.0


def test_repeated_slow_downs_stop_at_half_the_rate() -> None:
    pace = Pace(100, clock=Ticks())
    for _ in range(10):
        pace.slow_down(1)
    assert pace.rate == pytest.approx(pace.full_rate * 0.5)


# --- quiet hours and the daily cap --------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(21, 10), False),
        (local(21, 20, 59), False),
        (local(21, 21), True),
        (local(21, 23, 59), True),
        (local(22, 0), True),
        (local(22, 3), True),
        (local(22, 6, 59), True),
        (local(22, 7), False),
    ],
)
def test_quiet_hours_across_midnight(moment: datetime, quiet: bool) -> None:
    assert WINDOWS.quiet(moment) is quiet
    assert WINDOWS.quiet(moment.astimezone(UTC)) is quiet  # the store's UTC means the same


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = Windows.parse(VN, "12:00-13:00", 3)
    assert lunch.quiet_start == time(12)
    assert lunch.quiet_end == time(13)
    assert lunch.quiet(local(21, 12, 30))
    assert not lunch.quiet(local(21, 13))
    assert not lunch.quiet(local(21, 23))
    never = Windows.parse(VN, "", 5)
    assert never.daily_cap == 5
    assert not never.quiet(local(21, 23))


def test_quiet_ends() -> None:
    assert WINDOWS.quiet_ends(local(21, 22)) == local(22, 7)  # evening: tomorrow morning
    assert WINDOWS.quiet_ends(local(22, 2)) == local(22, 7)  # after midnight: this morning
    # 22:00 in Vietnam is 15:00 UTC the same day; the answer is 00:00 UTC the next day
    ends = WINDOWS.quiet_ends(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))
    assert ends == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert ends.utcoffset() is not None


def test_next_day_and_day_start() -> None:
    assert WINDOWS.next_day(MORNING) == local(22, 7)
    assert WINDOWS.day_start(MORNING) == local(21, 0)
    assert WINDOWS.day_start(MORNING) == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    # 01:00 on the 22nd in Vietnam is still the 21st in UTC: the local day counts
    late = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    assert WINDOWS.day_start(late) == local(22, 0)
    assert WINDOWS.next_day(late) == local(23, 7)
    # without quiet hours tomorrow starts at midnight
    assert Windows.parse(VN, "", 3).next_day(MORNING) == local(22, 0)


# --- the rules ----------------------------------------------------------------------------

_ROW = Claimed(
    id=1,
    channel="fake",
    address="+84912345678",
    household_id=10,
    contact_id=100,
    kind=NOTICE,
    text="Họp thôn tối nay",
    buttons=None,
    data=None,
    priority=NORMAL,
    dedup_key=None,
    possible_duplicate=False,
    errors=0,
    opted_out=False,
    basis=BASIS_CONSENT,
    introduced=False,
    last_seen_at=None,
    phone="+84912345678",
    commune_name="Xã An Hiệp",
)


def row(id: int = 1, **changes: Any) -> Claimed:
    """A claimed row (a fresh copy: the rules may change its text)."""
    return replace(_ROW, id=id, **changes)


def decide(
    rows: list[Claimed],
    *,
    now: datetime = MORNING,
    sent_today: dict[int, int] | None = None,
    repeats: dict[tuple[str, str], int] | None = None,
) -> Plan:
    return plan(rows, now=now, windows=WINDOWS, sent_today=sent_today or {}, repeats=repeats or {})


def test_an_ordinary_row_goes() -> None:
    result = decide([row()])
    assert [r.id for r in result.send] == [1]
    assert result.done == []
    assert result.introduced == []
    assert result.send[0].text == "Họp thôn tối nay"


def test_exempt_rows() -> None:
    assert exempt(row(kind=REPLY))
    assert exempt(row(kind=CONFIRM))
    assert exempt(row(priority=URGENT))
    assert not exempt(row(kind=SURVEY))
    assert not exempt(row(priority=BULK))


def test_quiet_hours_hold_until_morning_but_not_replies() -> None:
    night = local(21, 22).astimezone(UTC)
    rows = [
        row(1, kind=REPLY, priority=URGENT),
        row(2, kind=CONFIRM),
        row(3, kind=SURVEY, priority=URGENT),  # an urgent row of any kind
        row(4),
        row(5, priority=BULK),
    ]
    result = decide(rows, now=night)
    assert [r.id for r in result.send] == [1, 2, 3]
    assert [(o.id, o.status, o.not_before) for o in result.done] == [
        (4, QUEUED, local(22, 7)),
        (5, QUEUED, local(22, 7)),
    ]
    early = decide([row()], now=local(22, 5))
    assert early.done[0].not_before == local(22, 7)


def test_daily_cap_per_household() -> None:
    rows = [row(1, kind=REPLY, priority=URGENT), row(2), row(3), row(4, household_id=11)]
    result = decide(rows, sent_today={10: 2})
    assert [r.id for r in result.send] == [1, 2, 4]  # the reply does not count
    assert [(o.id, o.status, o.not_before) for o in result.done] == [(3, QUEUED, local(22, 7))]
    assert decide([row()], sent_today={10: 3}).done[0].not_before == local(22, 7)
    assert decide([row(kind=REPLY)], sent_today={10: 9}).send  # replies go over the cap
    assert decide([row(household_id=None)], sent_today={10: 9}).send  # no household: no cap


def test_held_rows_keep_their_errors() -> None:
    result = decide([row(errors=2)], sent_today={10: 3})
    assert result.done[0].errors == 2
    assert result.done[0].last_error is None


def test_opted_out_gets_only_the_confirmation() -> None:
    rows = [
        row(1, opted_out=True),
        row(2, opted_out=True, kind=REPLY, priority=URGENT),
        row(3, opted_out=True, kind=CONFIRM, priority=URGENT),
    ]
    result = decide(rows)
    assert [r.id for r in result.send] == [3]
    assert [(o.id, o.status, o.last_error) for o in result.done] == [
        (1, SKIPPED, OPTED_OUT),
        (2, SKIPPED, OPTED_OUT),
    ]
    # skipping wins over holding: an opted-out row at night is not kept for the morning
    night = decide([row(opted_out=True)], now=local(21, 23))
    assert night.done[0].status == SKIPPED


def test_not_yet_agreed_gets_only_replies_and_confirmations() -> None:
    rows = [
        row(1, basis=None),
        row(2, basis=None, kind=SURVEY),
        row(3, basis=None, kind=REPLY, priority=URGENT),
        row(4, basis=None, kind=CONFIRM, priority=URGENT),
        row(5, basis=None, contact_id=None),  # an address with no contact: not this rule
    ]
    result = decide(rows)
    assert [r.id for r in result.send] == [3, 4, 5]
    assert [(o.id, o.status, o.last_error) for o in result.done] == [
        (1, SKIPPED, NO_CONSENT),
        (2, SKIPPED, NO_CONSENT),
    ]


def test_loop_breaker() -> None:
    text = _ROW.text
    result = decide([row(1), row(2)], repeats={(_ROW.address, text): 4})
    assert [r.id for r in result.send] == [1]  # the fifth in ten minutes goes ...
    assert [(o.id, o.status, o.last_error) for o in result.done] == [(2, FAILED, LOOP)]
    five = decide([row(kind=REPLY, priority=URGENT)], repeats={(_ROW.address, text): 5})
    assert five.done[0].status == FAILED  # ... the sixth does not, even as a reply
    other_text = decide([row(text="Khác")], repeats={(_ROW.address, text): 5})
    assert other_text.send
    other_address = decide([row(address="+84911222333")], repeats={(_ROW.address, text): 5})
    assert other_address.send


def test_loop_counts_only_rows_that_go() -> None:
    night = local(21, 23)
    rows = [row(i) for i in range(1, 8)]
    result = decide(rows, now=night)  # all held: none of them counts towards a loop
    assert all(o.status == QUEUED for o in result.done)


def test_introduction_on_the_register_basis_once() -> None:
    rows = [
        row(1, basis=BASIS_REGISTER),
        row(2, basis=BASIS_REGISTER, text="Lần hai"),
        row(3, basis=BASIS_REGISTER, contact_id=101, address="+84987654321"),
    ]
    result = decide(rows)
    intro = introduction("Xã An Hiệp")
    assert "An Hiệp" in intro
    assert "HUY" in intro
    assert [r.text for r in result.send] == [
        f"{intro}\nHọp thôn tối nay",
        "Lần hai",
        f"{intro}\nHọp thôn tối nay",
    ]
    assert result.introduced == [100, 101]


def test_no_introduction_when_told_or_by_consent_or_held() -> None:
    assert decide([row(basis=BASIS_REGISTER, introduced=True)]).send[0].text == _ROW.text
    assert decide([row(basis=BASIS_CONSENT)]).send[0].text == _ROW.text
    held = decide([row(basis=BASIS_REGISTER)], now=local(21, 23))
    assert held.introduced == []
    assert held.done[0].text == _ROW.text  # a held row is not changed


def test_introduction_without_a_commune_name() -> None:
    text = decide([row(basis=BASIS_REGISTER, commune_name=None)]).send[0].text
    assert text.startswith(introduction(None))
    assert introduction(None) != introduction("Xã An Hiệp")


# --- holidays and stale rows --------------------------------------------------------------

CULTURE_DAY = local(24, 9)  # Vietnam Cultural Day, a public holiday from 2026


def test_holidays_and_the_next_working_day() -> None:
    assert WINDOWS.holiday(CULTURE_DAY)
    assert not WINDOWS.holiday(local(23, 9))
    assert WINDOWS.after_holidays(CULTURE_DAY) == local(25, 7)
    tet = datetime(2027, 2, 6, 9, tzinfo=VN)  # the first day of the Year of the Goat
    assert WINDOWS.holiday(tet)
    assert WINDOWS.after_holidays(tet) == datetime(2027, 2, 11, 7, tzinfo=VN)
    assert not Windows(VN, holidays=False).holiday(CULTURE_DAY)


def test_bulk_waits_out_a_holiday_and_the_rest_goes() -> None:
    decided = decide(
        [row(1, priority=BULK), row(2, priority=NORMAL), row(3, priority=URGENT, kind=REPLY)],
        now=CULTURE_DAY,
    )
    assert [r.id for r in decided.send] == [2, 3]
    assert [(o.id, o.status, o.not_before) for o in decided.done] == [(1, QUEUED, local(25, 7))]


def test_a_stale_row_is_skipped_with_its_reason() -> None:
    decided = decide([row(1, stale=PAID), row(2)])
    assert [r.id for r in decided.send] == [2]
    assert [(o.status, o.last_error) for o in decided.done] == [(SKIPPED, PAID)]
