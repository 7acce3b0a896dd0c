"""Read-side queries of the inbox: what is open, for whom, and how many."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billingpulse.models import Practice, User
from inbox.models import ActionItem


def open_items(practice: Practice, *, user: User | None = None) -> QuerySet[ActionItem]:
    """Open items of the practice that are not snoozed past today; with ``user``, only theirs
    and the unassigned ones (what that person should look at)."""
    today = practice.today()
    items = ActionItem.objects.filter(practice=practice, status=ActionItem.Status.OPEN).filter(
        Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    )
    if user is not None:
        items = items.filter(Q(assignee=user) | Q(assignee__isnull=True))
    return items


def nav_count(practice: Practice, user: User) -> int:
    """The navigation badge: open items for ``user`` or for nobody yet. One indexed COUNT."""
    return open_items(practice, user=user).count()
