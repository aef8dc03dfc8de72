"""When a non-urgent message may go: quiet hours, the daily cap per household, and public
holidays (bulk messages wait for the next working day). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

_HOLIDAYS = holidays.country_holidays("VN")  # Tết and the public holidays, years added as asked


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Windows:
    """Quiet hours (local, may wrap midnight) and the daily cap, in one time zone."""

    zone: ZoneInfo
    quiet_start: time | None = None
    quiet_end: time | None = None
    daily_cap: int = 3
    holidays: bool = True  # bulk messages wait out Vietnamese public holidays and Tết

    @classmethod
    def parse(cls, zone: ZoneInfo, quiet_hours: str, daily_cap: int) -> Windows:
        """From settings: quiet hours written "21:00-07:00" (empty: none)."""
        if not quiet_hours:
            return cls(zone, daily_cap=daily_cap)
        start, end = quiet_hours.split("-")
        return cls(zone, _clock(start), _clock(end), daily_cap)

    def quiet(self, now: datetime) -> bool:
        """Whether `now` falls in quiet hours."""
        if self.quiet_start is None or self.quiet_end is None:
            return False
        local = now.astimezone(self.zone).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def quiet_ends(self, now: datetime) -> datetime:
        """The next moment quiet hours end after `now` (UTC-aware, in the store's terms)."""
        end = self.quiet_end or time(0, 0)
        local = now.astimezone(self.zone)
        candidate = datetime.combine(local.date(), end, self.zone)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), end, self.zone)
        return candidate

    def holiday(self, now: datetime) -> bool:
        """Whether `now` falls on a public holiday (local date)."""
        return self.holidays and now.astimezone(self.zone).date() in _HOLIDAYS

    def after_holidays(self, now: datetime) -> datetime:
        """The first working day after the holidays `now` falls in, at the end of quiet hours."""
        day = now.astimezone(self.zone).date() + timedelta(days=1)
        while day in _HOLIDAYS:
            day += timedelta(days=1)
        return datetime.combine(day, self.quiet_end or time(0), self.zone)

    def day_start(self, now: datetime) -> datetime:
        """Local midnight of `now`'s day: the daily cap counts from here."""
        local = now.astimezone(self.zone)
        return datetime.combine(local.date(), time(0, 0), self.zone)

    def next_day(self, now: datetime) -> datetime:
        """When tomorrow's allowance opens: tomorrow at the end of quiet hours (or midnight)."""
        local = now.astimezone(self.zone)
        return datetime.combine(
            local.date() + timedelta(days=1), self.quiet_end or time(0), self.zone
        )
