"""Relative times for any page: ``{% load time_tags %}`` then ``{{ moment|ago }}``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

# Django's timesince counts whole minutes, so anything newer reads "0 minutes".
JUST_NOW = timedelta(minutes=1)


@register.filter
def ago(moment: datetime | None) -> str:
    """``just now`` under a minute (or slightly ahead of this clock), else ``5 minutes ago``; empty for none."""
    if not moment:
        return ""
    if timezone.now() - moment < JUST_NOW:
        return "just now"
    return f"{timesince(moment)} ago"
