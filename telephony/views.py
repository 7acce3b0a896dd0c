"""Calls pages: the calls list, a call with its transcript, the queue per payer, follow-up calls,
and "Call selected" from the claims worklist.

Pages with calls under way refresh themselves with htmx polling; once nothing is active the
partial answers 286 (``HttpResponseStopPolling``) and the polling stops.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q
from django.forms.utils import pretty_name
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling, reswap, retarget, trigger_client_event

from ai.outcome import CallOutcome
from billingpulse import paging
from billingpulse.lib.http import redirect_back
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from billingpulse.validators import ID_REGEX
from claims.models import Claim, Payer
from telephony import pacing, pipeline, services
from telephony.forms import FILTER_PARAMS, CadenceForm, CallFilters, FollowUpForm, OutcomeReviewForm
from telephony.models import Call, ScheduledCall
from telephony.status import ACTIVE, CallStatus
from telephony.templatetags.call_tags import OUTCOME_LABELS
from telephony.transcript import Line, quotes, transcript_lines

LIST = "telephony/call_list.html"
DETAIL = "telephony/call_detail.html"
QUEUE = "telephony/queue.html"
FOLLOWUPS = "telephony/followups.html"
CLAIM_CALLS = "telephony/claim_calls.html"
REVIEW_QUEUE = "telephony/review_queue.html"
REVIEW = "telephony/review.html"
PER_PAGE = 50
RECENTLY_DISPATCHED = 20
# The worklist's query string sent with "call all matching claims"; far longer than any real one.
MAX_FILTERS_LENGTH = 2000
CLAIM_CALLS_SHOWN = 10
# Placed but not finished: a call that holds a line (the queue page's "in progress").
ON_THE_LINE = [CallStatus.DIALING, CallStatus.RINGING, CallStatus.IN_PROGRESS]


@require_GET
@vary_on_headers("HX-Request")
@member_required
def call_list(request: AuthedRequest) -> HttpResponse:
    filters = CallFilters(request.GET, payers=scoped(request, Payer))
    calls = filters.apply(scoped(request, Call)).select_related("claim__patient", "payer").newest_first()
    page = Paginator(calls, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "pages": _page_links(request, page),
        "now": timezone.now(),
        "live": scoped(request, Call).live().exists(),
        "practice_has_calls": page.paginator.count > 0 or scoped(request, Call).exists(),
    }
    return _render_live(request, LIST, "call-table", context, active=context["live"])


@require_GET
@vary_on_headers("HX-Request")
@member_required
def call_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    call = get_for_practice(
        request, Call.objects.select_related("claim__patient", "claim__policy", "payer", "started_by"), pk
    )
    outcome = call.outcome if isinstance(call.outcome, dict) else {}
    rep_name = outcome.get("rep_name") if isinstance(outcome.get("rep_name"), str) else ""
    lines = transcript_lines(call.messages, call.transcript, call.payer.name, rep_name)
    evidence, cited = _call_evidence(call, outcome, lines)
    context = {
        "call": call,
        "live": call.is_live,
        "lines": [{"line": line, "fields": cited.get(line.number, [])} for line in lines],
        "evidence": evidence,
        "events": call.events.all(),
        "attempts": scoped(request, Call).filter(claim_id=call.claim_id).exclude(pk=call.pk).order_by("-created_at"),
    }
    return _render_live(request, DETAIL, "call-live", context, active=context["live"])


@require_GET
@member_required
def review_queue(request: AuthedRequest) -> HttpResponse:
    calls = (
        scoped(request, Call)
        .filter(review_status=Call.ReviewStatus.PENDING)
        .select_related("claim__patient", "payer")
        .order_by("ended_at", "pk")
    )
    rows = [(call, CallOutcome.from_json(call.outcome)) for call in calls]
    return render(request, REVIEW_QUEUE, {"rows": rows})


@require_http_methods(["GET", "POST"])
@member_required
def review_outcome(request: AuthedRequest, pk: int) -> HttpResponse:
    call = get_for_practice(request, Call.objects.select_related("claim__patient", "payer"), pk)
    if call.review_status != Call.ReviewStatus.PENDING:
        messages.info(request, "This call's outcome is not waiting for review.")
        return redirect("telephony:detail", pk=call.pk)
    outcome = CallOutcome.from_json(call.outcome)
    form = OutcomeReviewForm(request.POST or None, initial=OutcomeReviewForm.initial_from(outcome))
    if request.method == "POST" and form.is_valid():
        reviewed, changes = form.reviewed(outcome)
        try:
            pipeline.approve_outcome(call, reviewed, request.user, changes)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            corrected = f", with {len(changes)} correction{'s' if len(changes) != 1 else ''}" if changes else ""
            messages.success(request, f"Outcome for claim {call.claim.claim_number} approved{corrected} and applied.")
        return redirect("telephony:review_queue")
    context = {"call": call, "outcome": outcome, "form": form, "lines": _evidence_lines(call, outcome)}
    return render(request, REVIEW, context, status=400 if form.errors else 200)


@require_GET
@vary_on_headers("HX-Request")
@member_required
def queue(request: AuthedRequest) -> HttpResponse:
    now = timezone.now()
    active = scoped(request, Call).filter(status__in=ACTIVE)
    rows = _queue_rows(request, now)
    context = {
        "rows": rows,
        "waiting": sum(row["queued"] for row in rows),
        "now": now,
        "any_active": active.exists(),
        "in_flight": active.filter(pacing.IN_FLIGHT).count(),
        "max_concurrent": settings.PRACTICE_MAX_CONCURRENT_CALLS,
        "placed_today": scoped(request, Call).filter(placed_at__gte=pacing.start_of_day(request.practice, now)).count(),
        "daily_limit": settings.PRACTICE_DAILY_CALL_LIMIT,
    }
    return _render_live(request, QUEUE, "queue-state", context, active=context["any_active"])


@require_GET
@member_required
def followups(request: AuthedRequest) -> HttpResponse:
    return render(request, FOLLOWUPS, _followups_context(request))


@require_POST
@admin_required
def followup_cadence(request: AuthedRequest) -> HttpResponse:
    form = CadenceForm(request.POST, practice=request.practice)
    if not form.is_valid():
        return render(request, FOLLOWUPS, _followups_context(request, form), status=400)
    services.set_follow_up_cadence(request.practice, form.cleaned_data)
    messages.success(request, "Follow-up intervals saved. They apply to the next calls that end.")
    return redirect("telephony:followups")


@require_POST
@member_required
def followup_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    scheduled = get_for_practice(request, ScheduledCall.objects.select_related("claim"), pk)
    try:
        services.cancel_scheduled_call(scheduled, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Follow-up call about {scheduled.claim.claim_number} canceled.")
    if not request.htmx:
        return redirect_back(request, "telephony:followups")
    if request.htmx.target == "claim-calls":
        return _claim_calls_response(request, scheduled.claim)
    html = render_to_string(f"{FOLLOWUPS}#followup-lists", _followups_context(request), request=request)
    return HttpResponse(html + _messages_oob(request))


@require_POST
@member_required
def followup_add(request: AuthedRequest, claim_pk: int) -> HttpResponse:
    claim = get_for_practice(request, Claim.objects.select_related("practice"), claim_pk)
    form = FollowUpForm(request.POST, time_zone=request.practice.time_zone)
    if form.is_valid():
        data = form.cleaned_data
        services.schedule_follow_up(claim, data["call_after"], data["reason"], request.user)
        messages.success(request, f"Follow-up call scheduled for {_local(request, data['call_after'])}.")
        form = None
    elif not request.htmx:
        messages.error(request, "The follow-up call was not scheduled: " + _first_error(form))
    if not request.htmx:
        return redirect("claims:detail", pk=claim.pk)
    return _claim_calls_response(request, claim, form=form)


@require_GET
@vary_on_headers("HX-Request")
@member_required
def claim_calls(request: AuthedRequest, claim_pk: int) -> HttpResponse:
    """The "Calls" card of a claim page, on its own: it polls while a call about the claim is active."""
    claim = get_for_practice(request, Claim.objects.select_related("practice"), claim_pk)
    context = claim_calls_context(request, claim)
    if not request.htmx:
        return redirect("claims:detail", pk=claim.pk)
    html = render_to_string(f"{CLAIM_CALLS}#claim-calls", context, request=request)
    return HttpResponse(html) if context["claim_calls_live"] else HttpResponseStopPolling(html)


@require_POST
@member_required
def call_selected(request: AuthedRequest) -> HttpResponse:
    """Queue a call for each selected claim ("Call selected" on the worklist, "Call payer" on a claim)."""
    claim_ids = [int(value) for value in request.POST.getlist("claim_ids") if _is_id(value)]
    queued = 0
    if request.POST.get("select_all") == "1":
        queued = _call_all_matching(request)
    elif not claim_ids:
        messages.warning(request, "Select the claims to call first.")
    else:
        result = services.enqueue_calls(request.practice, claim_ids, request.user)
        queued = len(result.queued)
        level = messages.success if queued and not result.skipped else messages.warning
        level(request, enqueue_message(result, requested=len(set(claim_ids))))
    if not request.htmx:
        return redirect_back(request, "claims:index")
    # The messages replace the message area; the worklist table and claim cards refresh on the event.
    response = reswap(retarget(HttpResponse(_messages_html(request)), "#messages"), "outerHTML")
    return trigger_client_event(response, "calls-queued", {"queued": queued})


def _call_all_matching(request: AuthedRequest) -> int:
    """Queue a call for each claim the worklist's filters match ("Select all N matching claims"),
    once the count the biller confirmed still holds. Adds the message; returns how many were queued."""
    query, count = request.POST.get("filters"), request.POST.get("confirmed_count", "")
    if query is None or len(query) > MAX_FILTERS_LENGTH or not re.fullmatch("[0-9]{1,9}", count.strip()):
        messages.warning(request, "Select the claims again: the selection could not be read.")
        return 0
    try:
        result = services.enqueue_matching_calls(request.practice, query, int(count), request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
        return 0
    level = messages.success if result.queued and not result.skipped else messages.warning
    level(request, _bulk_enqueue_message(result))
    return len(result.queued)


def _bulk_enqueue_message(result: services.EnqueueResult) -> str:
    """``1,180 calls queued; 20 skipped: add the payer's claims phone number first (20 claims).``"""
    queued = len(result.queued)
    text = f"{queued:,} call{'s' if queued != 1 else ''} queued" if queued else "No calls queued"
    if result.skipped:
        reasons = Counter(reason for _claim, reason in result.skipped)
        parts = ", ".join(
            f"{_sentence_part(reason)} ({n:,} claim{'s' if n != 1 else ''})" for reason, n in reasons.most_common()
        )
        text += f"; {len(result.skipped):,} skipped: {parts}"
    return text + "."


def enqueue_message(result: services.EnqueueResult, requested: int) -> str:
    """``3 calls queued; 1 skipped: CLM-1 (a call about this claim is already queued or in progress).``"""
    queued = len(result.queued)
    text = f"{queued} call{'s' if queued != 1 else ''} queued" if queued else "No calls queued"
    if result.skipped:
        reasons = "; ".join(f"{claim.claim_number} ({_sentence_part(reason)})" for claim, reason in result.skipped)
        text += f"; {len(result.skipped)} skipped: {reasons}"
    missing = requested - queued - len(result.skipped)
    if missing > 0:
        text += f"; {missing} claim{'s were' if missing != 1 else ' was'} not found"
    return text + "."


def claim_calls_context(request: AuthedRequest, claim: Claim, form: FollowUpForm | None = None) -> dict:
    """What the "Calls" card of a claim page shows; the claim page's view adds it to its context."""
    calls = list(scoped(request, Call).filter(claim=claim).select_related("payer")[:CLAIM_CALLS_SHOWN])
    return {
        "claim": claim,
        "claim_calls": calls,
        # A call under way: no second one now. Live: also a call whose report is still to come.
        "claim_calls_active": any(call.is_active for call in calls),
        "claim_calls_live": any(call.is_live for call in calls),
        "claim_followups": scoped(request, ScheduledCall)
        .filter(claim=claim, status=ScheduledCall.Status.PENDING)
        .select_related("created_by"),
        "followup_form": form or FollowUpForm(time_zone=request.practice.time_zone),
    }


def _evidence_lines(call: Call, outcome: CallOutcome) -> list[dict]:
    """The transcript's lines, numbered as the evidence counts them, with who said each and the fields it supports."""
    supports: dict[int, list[str]] = {}
    for field, numbers in outcome.evidence.items():
        for number in numbers:
            form_field = OutcomeReviewForm.base_fields.get(field)
            supports.setdefault(number, []).append((form_field and form_field.label) or pretty_name(field))
    turns = transcript_lines(None, call.transcript, call.payer.name, outcome.rep_name or "")
    spoken_by = {number: turn for turn in turns for number in turn.numbers}
    rows = []
    for number, text in enumerate(call.transcript.splitlines(), start=1):
        _, _, said = text.partition(": ")
        turn = spoken_by.get(number)
        rows.append(
            {
                "number": number,
                "kind": turn.kind if turn else "payer",
                "speaker": turn.speaker if turn else "Payer",
                "text": said if said else text,
                "fields": supports.get(number, []),
            }
        )
    return rows


def _call_evidence(call: Call, outcome: dict, lines: list[Line]) -> tuple[list[dict], dict[int, list[str]]]:
    """The outcome's evidence as quotes per field, and the fields each shown line supports (by its number)."""
    evidence = outcome.get("evidence") if isinstance(outcome.get("evidence"), dict) else {}
    rows, cited = [], {}
    for field, label in OUTCOME_LABELS.items():
        numbers = evidence.get(field)
        found = quotes(lines, call.transcript, numbers if isinstance(numbers, list) else [])
        if found:
            rows.append({"label": label, "quotes": found})
        for anchor in {quote.anchor for quote in found if quote.anchor}:
            cited.setdefault(anchor, []).append(label)
    return rows, cited


def _queue_rows(request: AuthedRequest, now: datetime) -> list[dict]:
    """Per payer: calls waiting, calls on the line, calls placed in its rate window, when the next may start."""
    payers = list(
        scoped(request, Payer).annotate(
            queued=Count("calls", filter=Q(calls__status=CallStatus.QUEUED, calls__placed_at__isnull=True)),
            on_the_line=Count("calls", filter=Q(calls__status__in=ON_THE_LINE)),
            next_waiting=Min(
                "calls__not_before", filter=Q(calls__status=CallStatus.QUEUED, calls__placed_at__isnull=True)
            ),
        )
    )
    placed = pacing.placements_in_window(payers, now)
    return [_queue_row(payer, placed[payer.pk], now) for payer in payers]


def _queue_row(payer: Payer, placed: list[datetime], now: datetime) -> dict:
    limit, window = pacing.rate_limit(payer)
    opening = pacing.next_opening(payer, now)
    busy = payer.queued or payer.on_the_line or placed
    # Only a payer with recent or waiting calls needs its rate window (a Redis read with Redis).
    next_allowed = pacing.next_allowed_at(payer, now, placed) if busy else opening
    return {
        "payer": payer,
        "queued": payer.queued,
        # The first waiting call's own time, when it waits for one (a retry's backoff, a closed line).
        "next_waiting": payer.next_waiting if payer.next_waiting and payer.next_waiting > now else None,
        "on_the_line": payer.on_the_line,
        "placed_in_window": len(placed),
        "limit": limit,
        "window_minutes": window // 60 if window % 60 == 0 else round(window / 60, 1),
        "at_limit": len(placed) >= limit,
        "next_allowed": next_allowed,
        "allowed_now": next_allowed is not None and next_allowed <= now,
        "is_open": opening == now,
        "next_opening": opening,
    }


def _followups_context(request: AuthedRequest, cadence_form: CadenceForm | None = None) -> dict:
    scheduled = scoped(request, ScheduledCall).select_related("claim__patient", "created_by")
    return {
        "cadence_form": cadence_form or CadenceForm(practice=request.practice),
        "pending": scheduled.filter(status=ScheduledCall.Status.PENDING).order_by("call_after", "pk"),
        "dispatched": scheduled.filter(status=ScheduledCall.Status.DISPATCHED)
        .prefetch_related("calls")
        .order_by("-dispatched_at", "-pk")[:RECENTLY_DISPATCHED],
    }


def _claim_calls_response(request: AuthedRequest, claim: Claim, form: FollowUpForm | None = None) -> HttpResponse:
    """The claim page's "Calls" card, its timeline (follow-ups are noted there) and messages."""
    html = render_to_string(f"{CLAIM_CALLS}#claim-calls", claim_calls_context(request, claim, form), request=request)
    timeline = {"claim": claim, "events": claim.events.select_related("actor"), "oob": True}
    html += render_to_string("claims/claim_detail.html#timeline-events", timeline, request=request)
    return HttpResponse(html + _messages_oob(request))


def _render_live(request: AuthedRequest, template: str, partial: str, context: dict, *, active: bool) -> HttpResponse:
    """The page, or for htmx its live partial: 286 once nothing is active, so polling stops."""
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, template, context)
    html = render_to_string(f"{template}#{partial}", context, request=request)
    return HttpResponse(html) if active else HttpResponseStopPolling(html)


def _page_links(request: AuthedRequest, page) -> dict:
    query = request.GET.copy()
    for name in list(query):
        if name not in FILTER_PARAMS:
            del query[name]

    def href(number: int) -> str:
        query["page"] = number
        return f"?{query.urlencode()}"

    return paging.page_links(page, href)


def _messages_html(request: AuthedRequest) -> str:
    return render_to_string("base.html#messages", {}, request=request)


def _messages_oob(request: AuthedRequest) -> str:
    return render_to_string("base.html#messages", {"oob": True}, request=request)


def _is_id(value: str) -> bool:
    return re.fullmatch(ID_REGEX, value.strip()) is not None


def _local(request: AuthedRequest, moment: datetime) -> str:
    local = timezone.localtime(moment, timezone=ZoneInfo(request.practice.time_zone))
    return f"{local:%b} {local.day}, {local:%Y}, {local:%-I:%M %p %Z}"


def _first_error(form: FollowUpForm) -> str:
    errors = [error for field_errors in form.errors.values() for error in field_errors]
    return errors[0] if errors else "check the date and time."


def _sentence_part(reason: str) -> str:
    reason = reason.rstrip(".")
    return reason[:1].lower() + reason[1:]
