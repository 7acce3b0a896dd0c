"""Billing pages: the billing home, patients and their accounts, statements, and the
posting forms (payments, adjustments, write-offs, transfers, credit, refunds, reversals).

Views stay thin: they scope every lookup to the request's practice, bind a form, and hand
the cleaned values to ``billing.services``, which writes the money. A ``PostingError``
from a service becomes the form's error; nothing is posted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from billing import services
from billing.forms import (
    AdjustmentForm,
    ApplyCreditForm,
    LedgerFilterForm,
    PatientSearchForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    TransferForm,
    WriteOffForm,
)
from billing.models import (
    RECEIVABLES,
    Account,
    ExpectedPayment,
    JournalTransaction,
    PatientAccount,
    Payment,
    RemittanceClaim,
)
from billing.posting import PostingError
from billingpulse import paging
from billingpulse.lib.http import safe_next_url
from billingpulse.models import Patient
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from claims.models import Claim, InsurancePolicy

PER_PAGE = 50
RECENT_SHOWN = 12
CHART_DAYS = 14
ZERO = Decimal("0.00")
_TOTAL = DecimalField(max_digits=14, decimal_places=2)
Kind = JournalTransaction.Kind


# -- billing home ------------------------------------------------------------------------------


@require_GET
@member_required
def index(request: AuthedRequest) -> HttpResponse:
    zone = ZoneInfo(request.practice.time_zone)
    today = timezone.localdate(timezone=zone)
    transactions = scoped(request, JournalTransaction)
    month_start = _midnight(today.replace(day=1), zone)
    month = _by_kind(transactions.filter(created_at__gte=month_start))
    context = {
        "today": today,
        "today_totals": _by_kind(transactions.filter(created_at__gte=_midnight(today, zone))),
        "month_totals": month,
        "month_chart": _bars(month["rows"], "total"),
        "payment_days": _payment_days(transactions, today),
        "unapplied_credit": _sum(scoped(request, PatientAccount), "credit"),
        "unmatched_era": scoped(request, RemittanceClaim)
        .filter(status__in=[RemittanceClaim.Status.UNMATCHED, RemittanceClaim.Status.AMBIGUOUS])
        .exclude(remittance__status="refused")
        .count(),
        "era_queue_url": _url_or_none("billing:era-queue"),
        "expected": scoped(request, ExpectedPayment)
        .filter(status=ExpectedPayment.Status.EXPECTED)
        .select_related("claim__patient", "claim__payer", "call")
        .order_by("payment_date", "pk")[:25],
        "recent": transactions.select_related("claim", "patient", "created_by").order_by("-pk")[:RECENT_SHOWN],
    }
    return render(request, "billing/index.html", context)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


# An ERA's claim payments apply its deposit (already counted as a payment) to claims.
ERA_APPLIED = "era_applied"
GROUPS = [*Kind.choices, (ERA_APPLIED, "Applied from ERAs")]


def _by_kind(transactions: QuerySet[JournalTransaction]) -> dict:
    """Count and sum of the transactions of each kind, in the chart of kinds' order.

    Money is counted once: an ERA's deposit is the payment (in ``received``), its postings to
    claims are shown apart.
    """
    group = Case(When(kind=Kind.PAYMENT, payment__isnull=True, then=Value(ERA_APPLIED)), default=F("kind"))
    found = {
        row["group"]: row
        for row in transactions.order_by()
        .annotate(group=group)
        .values("group")
        .annotate(count=Count("pk"), total=Sum("amount"))
    }
    rows = [
        {"kind": kind, "label": label, "count": found[kind]["count"], "total": found[kind]["total"]}
        for kind, label in GROUPS
        if kind in found
    ]
    return {
        "rows": rows,
        "count": sum(r["count"] for r in rows),
        "received": found.get(Kind.PAYMENT, {}).get("total") or ZERO,
    }


def _bars(rows: list[dict], key: str) -> list[dict]:
    """Each row with ``percent``: its share of the largest value, for a CSS bar's width."""
    largest = max((abs(row[key]) for row in rows), default=0)
    return [{**row, "percent": round(abs(row[key]) / largest * 100, 1) if largest else 0} for row in rows]


def _payment_days(transactions: QuerySet, today: date) -> list[dict]:
    """Payments received on each of the last ``CHART_DAYS`` days (by payment date), oldest first."""
    first = today - timedelta(days=CHART_DAYS - 1)
    per_day = dict(
        transactions.filter(kind=Kind.PAYMENT, payment__isnull=False, effective_date__range=(first, today))
        .order_by()
        .values("effective_date")
        .annotate(total=Sum("amount"))
        .values_list("effective_date", "total")
    )
    days = [
        {"day": first + timedelta(days=n), "total": per_day.get(first + timedelta(days=n), ZERO)}
        for n in range(CHART_DAYS)
    ]
    return _bars(days, "total")


def _sum(queryset: QuerySet, column: str) -> Decimal:
    total = queryset.aggregate(total=Coalesce(Sum(column), Value(ZERO), output_field=_TOTAL))["total"]
    return Decimal(total).quantize(Decimal("0.01"))


def _url_or_none(name: str) -> str | None:
    """The page another part of billing provides, when it exists yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


# -- patients ------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def patient_list(request: AuthedRequest) -> HttpResponse:
    search = PatientSearchForm(request.GET)
    patients = (
        search.search(scoped(request, Patient)).select_related("account").order_by("last_name", "first_name", "pk")
    )
    listing = paging.paginate(request, patients, PER_PAGE)
    context = {
        "search": search,
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "is_filtered": bool(request.GET.get("q") or request.GET.get("owing")),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    return render(
        request, "billing/patient_list.html#patient-table" if partial else "billing/patient_list.html", context
    )


@require_GET
@vary_on_headers("HX-Request")
@member_required
def patient_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = get_for_practice(request, Patient, pk)
    filters = LedgerFilterForm(request.GET)
    ledger = list(filters.filter(_patient_ledger(patient)))
    context = {
        "patient": patient,
        "account": _account(patient),
        "filters": filters,
        "ledger": ledger,
        "ledger_totals": _ledger_totals(ledger),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "billing/patient_detail.html#patient-ledger", context)
    claims = scoped(request, Claim).filter(patient=patient).select_related("payer").order_by("-service_date_from", "pk")
    context |= {
        "claims": claims,
        "policies": scoped(request, InsurancePolicy).filter(patient=patient).select_related("payer"),
        "expected": scoped(request, ExpectedPayment).filter(claim__patient=patient).select_related("claim", "call"),
        "payments": scoped(request, Payment).filter(patient=patient).select_related("payer")[:20],
        "payment_form": _payment_form(request, patient, None, claims),
    }
    return render(request, "billing/patient_detail.html", context)


def _ledger_totals(ledger: list[JournalTransaction]) -> dict:
    """The shown rows' count and net change, and the amount posted of each kind."""
    kinds: dict[str, dict] = {}
    for txn in ledger:
        row = kinds.setdefault(txn.kind, {"label": txn.get_kind_display(), "count": 0, "amount": ZERO})
        row["count"] += 1
        row["amount"] += txn.amount
    return {"count": len(ledger), "change": sum((t.change for t in ledger), ZERO), "kinds": list(kinds.values())}


def _account(patient: Patient) -> PatientAccount:
    """The patient's account; one not yet opened (nothing posted) reads as all zeros."""
    try:
        return patient.account
    except PatientAccount.DoesNotExist:
        return PatientAccount(patient=patient, practice_id=patient.practice_id)


def _patient_ledger(patient: Patient) -> QuerySet[JournalTransaction]:
    """The patient's transactions, each with ``change``: what it did to the account's balance.

    The balance is receivables less credit, so the change is the sum of the transaction's
    receivable and unapplied-credit entries (credit entries are negative).
    """
    return (
        JournalTransaction.objects.filter(patient=patient)
        .select_related("claim", "created_by", "reversed_by", "payment")
        .annotate(
            change=Coalesce(
                Sum("entries__amount", filter=Q(entries__account__in=[*RECEIVABLES, Account.UNAPPLIED])),
                Value(ZERO),
                output_field=_TOTAL,
            )
        )
        .order_by("pk")
    )


@require_GET
@member_required
def statement(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = get_for_practice(request, Patient, pk)
    account = _account(patient)
    owing = (
        scoped(request, Claim)
        .filter(patient=patient, patient_responsibility__gt=0)
        .select_related("payer")
        .order_by("service_date_from", "pk")
    )
    context = {
        "patient": patient,
        "account": account,
        "claims": owing,
        "owed": _sum(owing, "patient_responsibility"),
        "practice": request.practice,
        "today": request.practice.today(),
    }
    context["amount_due"] = max(context["owed"] - account.credit, ZERO)
    return render(request, "billing/statement.html", context)


# -- posting forms -------------------------------------------------------------------------------


def _payment_form(request: AuthedRequest, patient: Patient, data, claims: QuerySet[Claim]) -> PaymentForm:
    today = request.practice.today()
    open_claims = [claim for claim in claims if claim.balance > 0]
    return PaymentForm(data, claims=open_claims, initial={"payment_date": today})


@require_http_methods(["GET", "POST"])
@member_required
def payment_new(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = get_for_practice(request, Patient, pk)
    claims = scoped(request, Claim).filter(patient=patient).select_related("payer").order_by("-service_date_from", "pk")
    form = _payment_form(request, patient, request.POST or None, claims)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        allocations = [services.Allocation(claim, amount) for claim, amount in data["allocations"]]
        insurance = data["source"] != Payment.Source.PATIENT
        try:
            payment = services.record_payment(
                request.practice,
                key=f"page-payment:{data['key']}",
                source=data["source"],
                method=data["method"],
                amount=data["amount"],
                payment_date=data["payment_date"],
                allocations=allocations,
                patient=patient,
                payer=allocations[0].claim.payer if insurance and allocations else None,
                reference=data["reference"],
                deposit_date=data["deposit_date"],
                copay=data["copay"],
                deductible=data["deductible"],
                coinsurance=data["coinsurance"],
                memo=data["memo"],
                actor=request.user,
                pending=data["pending"],
            )
        except PostingError as error:
            _add_posting_error(form, error)
        else:
            done = "recorded; it is posted when you mark it settled" if data["pending"] else "posted"
            messages.success(request, f"Payment of ${payment.amount:,} {done} for {patient}.")
            return _done(request, reverse("billing:patient_detail", args=[patient.pk]))
    context = {"patient": patient, "form": form, "next": safe_next_url(request)}
    if request.htmx and request.method == "POST":
        # 200, not 400: htmx 2 swaps only successful responses into the page.
        response = render(request, "billing/payment_form.html#payment-form", context)
        return reswap(retarget(response, "#payment-form"), "outerHTML")
    return render(request, "billing/payment_form.html", context, status=400 if request.method == "POST" else 200)


def _post_adjustment(data: dict, user) -> str:
    services.adjust(
        data["claim"],
        data["amount"],
        key=f"page-adjust:{data['key']}",
        reason=data["reason"],
        responsibility=data["responsibility"],
        memo=data["memo"],
        actor=user,
    )
    return f"Adjustment of ${data['amount']:,} posted to claim {data['claim']}."


def _post_write_off(data: dict, user) -> str:
    services.write_off(
        data["claim"],
        data["amount"],
        key=f"page-write-off:{data['key']}",
        reason=data["reason"],
        responsibility=data["responsibility"],
        memo=data["memo"],
        actor=user,
    )
    return f"${data['amount']:,} written off claim {data['claim']}."


def _post_transfer(data: dict, user) -> str:
    services.transfer(
        data["claim"],
        data["amount"],
        key=f"page-transfer:{data['key']}",
        from_responsibility=data["from_responsibility"],
        to_responsibility=data["to_responsibility"],
        memo=data["memo"],
        actor=user,
    )
    return f"${data['amount']:,} of claim {data['claim']} moved."


def _post_credit(data: dict, user) -> str:
    services.apply_credit(data["claim"], data["amount"], key=f"page-credit:{data['key']}", actor=user)
    return f"${data['amount']:,} of credit applied to claim {data['claim']}."


# Each claim posting: its form, what the service call does, and the page's words.
CLAIM_POSTINGS: dict[str, tuple[type[forms.Form], Callable[[dict, object], str], str, str]] = {
    "adjustment": (AdjustmentForm, _post_adjustment, "Post an adjustment", "Post adjustment"),
    "write_off": (WriteOffForm, _post_write_off, "Write off a balance", "Write off"),
    "transfer": (TransferForm, _post_transfer, "Transfer responsibility", "Transfer"),
    "apply_credit": (ApplyCreditForm, _post_credit, "Apply credit to a claim", "Apply credit"),
}


@require_http_methods(["GET", "POST"])
@member_required
def claim_posting(request: AuthedRequest, pk: int, kind: str) -> HttpResponse:
    """One of the postings to a patient's claim; ``?claim=`` chooses the claim beforehand."""
    patient = get_for_practice(request, Patient, pk)
    form_class, post_it, title, button = CLAIM_POSTINGS[kind]
    claims = scoped(request, Claim).filter(patient=patient).select_related("payer").order_by("-service_date_from", "pk")
    extra = {"credit": _account(patient).credit} if kind == "apply_credit" else {}
    chosen = request.GET.get("claim", "")
    initial = {"claim": chosen} if chosen.isdigit() else {}
    form = form_class(request.POST or None, claims=claims, initial=initial, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            message = post_it(form.cleaned_data, request.user)
        except PostingError as error:
            _add_posting_error(form, error)
        else:
            messages.success(request, message)
            return _done(request, reverse("billing:patient_detail", args=[patient.pk]))
    context = {"patient": patient, "form": form, "title": title, "button": button, "next": safe_next_url(request)}
    return render(request, "billing/posting_form.html", context, status=400 if request.method == "POST" else 200)


@require_GET
@member_required
def payment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    payment = get_for_practice(request, Payment.objects.select_related("patient", "payer", "created_by"), pk)
    transactions = payment.ledger.select_related("claim", "created_by", "reversed_by").order_by("pk")
    return render(request, "billing/payment_detail.html", {"payment": payment, "transactions": transactions})


@require_http_methods(["GET", "POST"])
@member_required
def refund_new(request: AuthedRequest, pk: int) -> HttpResponse:
    payment = get_for_practice(request, Payment.objects.select_related("patient"), pk)
    paid_claims = (
        scoped(request, Claim)
        .filter(ledger__payment=payment, ledger__kind=Kind.PAYMENT, ledger__reversed_by__isnull=True)
        .distinct()
        .order_by("pk")
    )
    form = RefundForm(request.POST or None, payment=payment, claims=paid_claims)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.refund(
                payment,
                data["amount"],
                key=f"page-refund:{data['key']}",
                reason=data["reason"],
                claim=data["claim"],
                actor=request.user,
            )
        except PostingError as error:
            _add_posting_error(form, error)
        else:
            messages.success(request, f"Refund of ${data['amount']:,} posted.")
            return _done(request, reverse("billing:payment_detail", args=[payment.pk]))
    context = {"payment": payment, "form": form, "next": safe_next_url(request)}
    return render(request, "billing/refund_form.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@member_required
def payment_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    payment = get_for_practice(request, Payment, pk)
    try:
        services.complete_payment(payment, actor=request.user)
    except PostingError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Payment of ${payment.amount:,} settled and posted.")
    return redirect("billing:payment_detail", payment.pk)


# What taking a payment back means, for the page: title, explanation, button, service, done message.
TAKE_BACK = {
    "void": (
        "Void this payment",
        "For a payment recorded in error. Every posting of this payment, its refunds first, is reversed and the "
        "payment is marked voided. The ledger keeps both.",
        "Void payment",
        services.void_payment,
        "voided",
    ),
    "fail": (
        "Mark this payment failed",
        "For a payment that did not go through: a returned check, an ACH return, a declined card. Everything it "
        "posted is reversed and the claims owe again. The ledger keeps both.",
        "Mark failed",
        services.fail_payment,
        "marked failed",
    ),
}


@require_http_methods(["GET", "POST"])
@admin_required
def payment_take_back(request: AuthedRequest, pk: int, how: str) -> HttpResponse:
    payment = get_for_practice(request, Payment.objects.select_related("patient"), pk)
    title, explanation, button, operation, done = TAKE_BACK[how]
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            operation(payment, reason=form.cleaned_data["reason"], actor=request.user)
        except PostingError as error:
            _add_posting_error(form, error)
        else:
            messages.success(request, f"Payment of ${payment.amount:,} {done}; everything it posted is reversed.")
            return _done(request, reverse("billing:payment_detail", args=[payment.pk]))
    context = {
        "payment": payment,
        "form": form,
        "next": safe_next_url(request),
        "title": title,
        "explanation": explanation,
        "button": button,
    }
    return render(request, "billing/void_form.html", context, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@admin_required
def transaction_reverse(request: AuthedRequest, pk: int) -> HttpResponse:
    original = get_for_practice(
        request, JournalTransaction.objects.select_related("claim", "patient", "reversed_by", "reverses"), pk
    )
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse(original, reason=form.cleaned_data["reason"], actor=request.user)
        except PostingError as error:
            _add_posting_error(form, error)
        else:
            messages.success(request, f"Transaction #{original.pk} reversed.")
            default = (
                reverse("billing:patient_detail", args=[original.patient_id])
                if original.patient_id
                else reverse("billing:index")
            )
            return _done(request, default)
    context = {"transaction": original, "form": form, "next": safe_next_url(request)}
    return render(request, "billing/reverse_form.html", context, status=400 if request.method == "POST" else 200)


def _add_posting_error(form: forms.Form, error: PostingError) -> None:
    """The service's words on the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _done(request: AuthedRequest, default: str) -> HttpResponse:
    """After a posting: back where the form came from (a claim page, say), else ``default``."""
    target = safe_next_url(request) or default
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)
