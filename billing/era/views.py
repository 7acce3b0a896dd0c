"""Remittance (835) pages: upload → preview → post; the remittance list and detail; the unmatched queue.

Views parse, call ``billing.era.posting`` and render; every lookup is scoped to the request's
practice, so another practice's remittance is a 404.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.era.forms import ClaimMatchForm, PostForm, UploadForm
from billing.era.posting import (
    RemittanceRefused,
    assign_claim,
    clearing_balance,
    held_queue,
    needs_hold,
    post_held,
    post_remittance,
    preview,
)
from billing.models import JournalTransaction, Payment, Remittance, RemittanceClaim
from billingpulse import paging
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required, scoped

PER_PAGE = 50
CLAIMS_SHOWN = 500


@require_GET
@member_required
def era_list(request: AuthedRequest) -> HttpResponse:
    remittances = (
        scoped(request, Remittance)
        .select_related("posted_by", "uploaded_by")
        .annotate(held=Count("claim_payments", filter=~Q(claim_payments__status=RemittanceClaim.Status.POSTED)))
        .order_by("-created_at", "-id")
    )
    page = Paginator(remittances, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "pages": _pages(page), "queue_count": held_queue(request.practice).count()}
    return render(request, "billing/era/list.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def era_upload(request: AuthedRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            remittance = preview(request.practice, upload.read(), file_name=upload.name, actor=request.user)
        except RemittanceRefused as refused:
            form.add_error("file", str(refused))
            context = {"form": form, "problems": refused.problems[1:], "refused": True}
            context["first_posting"] = _named_remittance(request, str(refused))
            return render(request, "billing/era/upload.html", context, status=400)
        return redirect("billing:era-detail", remittance.pk)
    return render(request, "billing/era/upload.html", {"form": form}, status=400 if posted else 200)


def _named_remittance(request: AuthedRequest, message: str) -> Remittance | None:
    """The posted remittance a refusal names ("… remittance #12 …"), to link to it."""
    found = re.search(r"remittance #(\d+)", message)
    if found is None:
        return None
    return scoped(request, Remittance).filter(pk=int(found[1]), status=Remittance.Status.POSTED).first()


@require_GET
@member_required
def era_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    remittance = get_for_practice(request, Remittance.objects.select_related("posted_by", "uploaded_by", "payer"), pk)
    return render(request, "billing/era/detail.html", _detail_context(request, remittance, PostForm()))


def _detail_context(request: AuthedRequest, remittance: Remittance, form: PostForm) -> dict:
    rows = list(remittance.claim_payments.select_related("claim").order_by("position")[:CLAIMS_SHOWN])
    for row in rows:
        row.hold_reason = needs_hold(row) if row.status != RemittanceClaim.Status.POSTED else ""
    counts = dict(remittance.claim_payments.values_list("status").annotate(n=Count("pk")).order_by())
    preview_data = remittance.summary.get("preview", {})
    to_hold = sum(1 for row in rows if row.hold_reason)
    rules = preview_data.get("rules", [])
    payments = [{**p, "method_label": _method_label(p.get("method", ""))} for p in preview_data.get("payments", [])]
    context = {
        "remittance": remittance,
        "rows": rows,
        "more_rows": max(remittance.claim_count - CLAIMS_SHOWN, 0),
        "counts": counts,
        "to_hold": to_hold,
        "to_post": remittance.claim_count - to_hold,
        "preview": preview_data,
        "payments": payments,
        "rules_passed": sum(1 for rule in rules if rule["passed"]),
        "rules_failed": sum(1 for rule in rules if not rule["passed"]),
        "held": remittance.claim_count - counts.get(RemittanceClaim.Status.POSTED, 0),
        "posted": remittance.summary.get("posted"),
        "form": form,
    }
    if remittance.status == Remittance.Status.POSTED:
        context["clearing"] = clearing_balance(remittance)
        context["provider_adjustments"] = JournalTransaction.objects.filter(
            remittance=remittance, kind=JournalTransaction.Kind.PROVIDER_ADJUSTMENT
        )
    return context


def _claims(count: int) -> str:
    return f"{count} claim" if count == 1 else f"{count} claims"


def _method_label(method: str) -> str:
    return Payment.Method(method).label if method in Payment.Method.values else method


@require_POST
@member_required
def era_post(request: AuthedRequest, pk: int) -> HttpResponse:
    remittance = get_for_practice(request, Remittance, pk)
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            summary = post_remittance(
                remittance, actor=request.user, hold_unmatched=form.cleaned_data["hold_unmatched"]
            )
        except RemittanceRefused as refused:
            form.add_error(None, str(refused))
        else:
            held = f"; {summary['claims_held']} held in the unmatched queue" if summary["claims_held"] else ""
            messages.success(
                request,
                f"Posted: ${summary['payment_amount']} deposited, {_claims(summary['claims_posted'])} posted{held}.",
            )
            return redirect("billing:era-detail", remittance.pk)
    remittance.refresh_from_db()
    return render(request, "billing/era/detail.html", _detail_context(request, remittance, form), status=400)


@require_GET
@member_required
def era_queue(request: AuthedRequest) -> HttpResponse:
    page = Paginator(held_queue(request.practice), PER_PAGE).get_page(request.GET.get("page"))
    for row in page:
        row.hold_reason = needs_hold(row) or row.note
    return render(request, "billing/era/queue.html", {"page": page, "pages": _pages(page)})


def _pages(page) -> dict[str, str]:
    return paging.page_links(page, lambda number: f"?page={number}")


@require_http_methods(["GET", "POST"])
@member_required
def era_queue_match(request: AuthedRequest, pk: int) -> HttpResponse:
    """Choose the claim a held (or, in a preview, unmatched) claim payment pays, and post it."""
    row = get_for_practice(request, RemittanceClaim.objects.select_related("remittance", "claim"), pk)
    posted = request.method == "POST"
    initial = {"claim_number": row.claim.claim_number if row.claim else row.claim_number}
    form = ClaimMatchForm(request.POST if posted else None, initial=initial, practice=request.practice)
    if row.status == RemittanceClaim.Status.POSTED:
        messages.info(request, f"This claim payment is already posted to claim {row.claim}.")
        return redirect("billing:era-detail", row.remittance_id)
    if posted and form.is_valid():
        claim = form.cleaned_data["claim_number"]
        try:
            if row.remittance.status == Remittance.Status.PREVIEW:
                assign_claim(row, claim)
                messages.success(request, f"CLP {row.position} will be posted to claim {claim.claim_number}.")
                return redirect("billing:era-detail", row.remittance_id)
            post_held(row, claim, actor=request.user)
        except RemittanceRefused as refused:
            form.add_error("claim_number", str(refused))
        else:
            messages.success(request, f"Posted ${row.paid:,} to claim {claim.claim_number}.")
            return redirect("billing:era-queue")
    context = {"row": row, "form": form, "hold_reason": needs_hold(row) or row.note}
    return render(request, "billing/era/match.html", context, status=400 if posted else 200)
