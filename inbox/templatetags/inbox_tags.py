from __future__ import annotations

from django import template

from claims.models import Claim
from inbox.models import ActionItem

register = template.Library()


@register.simple_tag
def open_action_items(claim: Claim) -> list[ActionItem]:
    """The claim's open inbox items (snoozed ones too), soonest due first: one query."""
    return list(claim.action_items.filter(status=ActionItem.Status.OPEN).select_related("assignee"))
