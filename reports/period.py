"""The period a report covers: the last N days up to today, in the practice's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from billingpulse.models import Practice

DAY_CHOICES = (30, 90, 180, 365)
DEFAULT_DAYS = 90
MAX_DAYS = 365


@dataclass(frozen=True)
class Period:
    """``days`` whole days ending today: ``first`` … ``last`` (both included) as dates, and
    ``start`` … ``end`` (end excluded) as the practice's local midnights for timestamps."""

    days: int
    first: date
    last: date
    zone: ZoneInfo

    @classmethod
    def ending_today(cls, practice: Practice, days: int = DEFAULT_DAYS, today: date | None = None) -> Period:
        zone = ZoneInfo(practice.time_zone)
        last = today or timezone.localdate(timezone=zone)
        return cls(days=days, first=last - timedelta(days=days - 1), last=last, zone=zone)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


class PeriodForm(forms.Form):
    """``?days=``: the pages offer ``DAY_CHOICES``; the API takes any whole number up to a year."""

    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        error_messages={"invalid": "Give the number of days as a whole number, like 90."},
    )

    def clean_days(self) -> int:
        return self.cleaned_data["days"] or DEFAULT_DAYS
