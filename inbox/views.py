"""The needs-action inbox pages: the list, and assigning, snoozing and closing an item.

Every action answers an HTMX request with the item's row (or the line that replaces it once
the item leaves the list), the messages and the navigation badge out of band; without
JavaScript the forms post and come back to the list the person was looking at.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from billingpulse.models import User
from billingpulse.paging import paginate
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required, scoped
from inbox import selectors, services
from inbox.forms import AssignForm, SnoozeForm
from inbox.models import ActionItem

PER_PAGE = 25
TABS = {
    "for_me": "For me",
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
    "all": "All open",
    "snoozed": "Snoozed",
}


def _items(request: AuthedRequest, tab: str) -> QuerySet[ActionItem]:
    practice, user = request.practice, request.user
    if tab == "snoozed":
        today = practice.today()
        items = scoped(request, ActionItem).filter(status=ActionItem.Status.OPEN, snoozed_until__gt=today)
    elif tab == "for_me":
        items = selectors.open_items(practice, user=user)
    else:
        items = selectors.open_items(practice)
        if tab == "mine":
            items = items.filter(assignee=user)
        elif tab == "unassigned":
            items = items.filter(assignee__isnull=True)
    return _with_row_data(items).order_by("due_date", "pk")


@require_GET
@member_required
def index(request: AuthedRequest) -> HttpResponse:
    tab = request.GET.get("view", "for_me")
    tab = tab if tab in TABS else "for_me"
    reason = request.GET.get("reason", "")
    reason = reason if reason in ActionItem.Reason.values else ""
    items = _items(request, tab)
    if reason:
        items = items.filter(reason=reason)
    listing = paginate(request, items, PER_PAGE)
    context = {
        **_row_context(request),
        "tabs": TABS,
        "tab": tab,
        "reason": reason,
        "reasons": ActionItem.Reason.choices,
        "listing": listing,
        "items": listing.page.object_list,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "inbox/index.html#inbox-results" if partial else "inbox/index.html"
    return render(request, template, context)


def _row_context(request: AuthedRequest) -> dict:
    return {
        "teammates": scoped(request, User).filter(is_active=True).order_by("full_name", "email"),
        "today": request.practice.today(),
        "back": request.get_full_path() if request.method == "GET" else _back(request),
    }


def _back(request: AuthedRequest) -> str:
    """Where a form without JavaScript returns: the list it was posted from, never another site."""
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("inbox:index")


def _act(
    request: AuthedRequest,
    pk: int,
    operation: Callable[[ActionItem], ActionItem],
    success: Callable[[ActionItem], str],
) -> HttpResponse:
    """Run ``operation`` on the practice's item ``pk`` (404 for anyone else's) and answer with its row."""
    item = get_for_practice(request, ActionItem.objects.select_related("practice"), pk)
    try:
        item = operation(item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success(item))
    if not request.htmx:
        return redirect(_back(request))
    item = _with_row_data(scoped(request, ActionItem)).get(pk=item.pk)
    context = {**_row_context(request), "item": item, "oob": True}
    html = render_to_string("inbox/index.html#inbox-row", context, request=request)
    html += render_to_string("base.html#messages", context, request=request)
    html += render_to_string("inbox/nav_count.html", context, request=request)
    return HttpResponse(html)


def _with_row_data(items: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    return items.select_related("claim__patient", "claim__payer", "assignee", "remittance_claim__remittance")


def _subject(item: ActionItem) -> str:
    return f"claim {item.claim.claim_number}" if item.claim_id else "the ERA payment"


@require_POST
@member_required
def assign(request: AuthedRequest, pk: int) -> HttpResponse:
    form = AssignForm(request.POST, practice=request.practice)

    def operation(item: ActionItem) -> ActionItem:
        if not form.is_valid():
            raise ValidationError(form.errors["assignee"])
        return services.assign(item, form.cleaned_data["assignee"], actor=request.user)

    def success(item: ActionItem) -> str:
        who = item.assignee.display_name if item.assignee else "nobody: anyone on the team can take it"
        return f"The item for {_subject(item)} is assigned to {who}."

    return _act(request, pk, operation, success)


@require_POST
@member_required
def snooze(request: AuthedRequest, pk: int) -> HttpResponse:
    def operation(item: ActionItem) -> ActionItem:
        form = SnoozeForm(request.POST, today=item.practice.today())
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        return services.snooze(item, form.cleaned_data["until"], actor=request.user)

    return _act(
        request,
        pk,
        operation,
        lambda item: f"Snoozed {_subject(item)} until {item.snoozed_until:%a, %b %-d}.",
    )


@require_POST
@member_required
def wake(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda item: services.unsnooze(item, actor=request.user),
        lambda item: f"The item for {_subject(item)} is back in the inbox.",
    )


@require_POST
@member_required
def done(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda item: services.mark_done(item, actor=request.user),
        lambda item: f"Done: {_subject(item)} left the inbox.",
    )
