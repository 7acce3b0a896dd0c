from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def render(moment) -> str:
    return Template("{% load time_tags %}{{ moment|ago }}").render(Context({"moment": moment}))


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("seconds", [0, 1, 59])
def test_it_says_just_now_under_a_minute(seconds):
    assert render(NOW - timedelta(seconds=seconds)) == "just now"


def test_it_says_just_now_for_a_moment_a_little_ahead_of_this_clock():
    assert render(NOW + timedelta(seconds=20)) == "just now"


def test_it_counts_minutes_and_hours_from_a_minute_on():
    assert render(NOW - timedelta(seconds=60)) == "1\xa0minute ago"
    assert render(NOW - timedelta(hours=2, minutes=5)) == "2\xa0hours, 5\xa0minutes ago"


def test_it_leaves_no_time_empty():
    assert render(None) == ""
