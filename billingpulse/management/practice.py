"""What management commands share: naming a practice on the command line."""

from __future__ import annotations

from django.core.management.base import CommandError

from billingpulse.models import Practice


def practice_from_option(value: str) -> Practice:
    """The practice with this id, or with exactly this name; a CommandError saying what to do otherwise."""
    found = Practice.objects.filter(pk=int(value)) if value.isdigit() else Practice.objects.filter(name=value)
    try:
        return found.get()
    except Practice.DoesNotExist:
        raise CommandError(f"No practice with id or name {value!r}.") from None
    except Practice.MultipleObjectsReturned:
        raise CommandError(f"Several practices are named {value!r}: give the practice's id.") from None
