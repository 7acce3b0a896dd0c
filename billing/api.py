"""/api/v1/ billing routes: payments, ledger transactions, postings on a claim, patients'
balances and expected payments.

Every money POST goes through ``billing.services`` and needs an ``Idempotency-Key`` header
(a 400 says so when it is missing): the first request answers 201, the same request again
answers 200 with the same payment or transaction (and ``Idempotent-Replayed: true``), and the
same key with other content answers 409. Reversing a transaction and voiding a payment need no
key: each can happen once, and a second attempt is a 400 naming the first.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from billing import services
from billing.models import ExpectedPayment, JournalTransaction, LedgerEntry, Payment, Responsibility
from billing.posting import CENT, PostingError
from billing.serializers import (
    AdjustmentSerializer,
    ApplyCreditSerializer,
    ExpectedPaymentSerializer,
    PatientAccountDetailSerializer,
    PatientAccountSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    ReasonSerializer,
    RefundSerializer,
    TransactionSerializer,
    TransferSerializer,
    WriteOffSerializer,
)
from billingpulse.models import Patient
from billingpulse.tenancy import IsPracticeMember
from claims.api.fields import choice_params, int_param
from claims.models import Claim

KEY_HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[!-~]{1,100}")  # printable ASCII, no spaces
IDEMPOTENCY_KEY = OpenApiParameter(
    KEY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r"^[!-~]{1,100}$",
    description="A value unique to this posting (a UUID), sent again unchanged on a retry: the retry "
    "answers 200 with what the first request posted. The same key with other content is a 409.",
)
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_reused"


def _key(request: Request) -> str:
    """The request's idempotency key, namespaced so that no client key can take one the ledger uses itself."""
    raw = request.headers.get(KEY_HEADER, "").strip()
    if not raw:
        raise serializers.ValidationError(
            {KEY_HEADER: [f"Send an {KEY_HEADER} header: a value unique to this posting, the same on a retry."]}
        )
    if not KEY_PATTERN.fullmatch(raw):
        raise serializers.ValidationError(
            {KEY_HEADER: ["Use at most 100 printable ASCII characters without spaces, like a UUID."]}
        )
    return f"api:{raw}"


def _post_once(request: Request, first_key: str, post, *, model=JournalTransaction):
    """Run ``post``; say whether it replayed an earlier request, and turn a reused key into a 409.

    The earlier request is the ``model`` row (a transaction, or a payment) recorded with the key.
    """
    earlier = model.objects.filter(practice=request.user.practice, idempotency_key=first_key).first()
    try:
        result = post()
    except PostingError as error:
        if earlier is None:
            raise
        what = f"payment #{earlier.pk}" if isinstance(earlier, Payment) else f"transaction #{earlier.pk}"
        raise KeyReused(
            f"This {KEY_HEADER} was already used for another request ({what}); send a new key for a new posting."
        ) from error
    return result, earlier is not None


def _created(data, replayed: bool) -> Response:
    if replayed:
        return Response(data, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
    return Response(data, status=status.HTTP_201_CREATED)


def _date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise serializers.ValidationError({name: ["Use a date like 2026-11-02."]}) from None


def _date_range(queryset: QuerySet, request: Request, field: str) -> QuerySet:
    if (start := _date_param(request, "date_from")) is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if (end := _date_param(request, "date_to")) is not None:
        queryset = queryset.filter(**{f"{field}__lte": end})
    return queryset


DATE_RANGE = [
    OpenApiParameter("date_from", str, description="On or after this date, like `2026-11-01`."),
    OpenApiParameter("date_to", str, description="On or before this date."),
]
POSTING_ERRORS = {
    400: OpenApiResponse(description="Bad input, with field errors; nothing was posted."),
    404: OpenApiResponse(description="No such record in the caller's practice."),
}
MONEY_ERRORS = {**POSTING_ERRORS, 409: OpenApiResponse(description=f"The {KEY_HEADER} was used for another request.")}


# -- payments ------------------------------------------------------------------------------


def _payments_ledger() -> Prefetch:
    return Prefetch("ledger", queryset=JournalTransaction.objects.select_related("reversed_by").order_by("id"))


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("patient", int, description="Only this patient's payments (its id)."),
            OpenApiParameter("payer", int, description="Only payments from this payer (its id)."),
            OpenApiParameter("status", str, description="One status or several, comma-separated."),
            OpenApiParameter("source", str, description="patient, primary, secondary or tertiary; comma-separate."),
            *DATE_RANGE,
        ]
    )
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments of the caller's practice. POST records one and posts it; refunds and voids are actions."""

    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    permission_classes = [IsPracticeMember]
    admin_actions = ("void", "fail")  # billingpulse.tenancy decides roles

    def get_queryset(self) -> QuerySet[Payment]:
        queryset = super().get_queryset().prefetch_related(_payments_ledger())
        if self.action != "list":
            return queryset
        request = self.request
        if (patient := int_param(request, "patient")) is not None:
            queryset = queryset.filter(patient_id=patient)
        if (payer := int_param(request, "payer")) is not None:
            queryset = queryset.filter(payer_id=payer)
        if statuses := choice_params(request, "status", Payment.Status.values):
            queryset = queryset.filter(status__in=statuses)
        if sources := choice_params(request, "source", Payment.Source.values):
            queryset = queryset.filter(source__in=sources)
        return _date_range(queryset, request, "payment_date")

    def _fresh(self, payment: Payment) -> dict:
        return PaymentSerializer(self.get_queryset().get(pk=payment.pk), context=self.get_serializer_context()).data

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer, 200: PaymentSerializer, **MONEY_ERRORS},
    )
    def create(self, request: Request) -> Response:
        """Record a payment and post it: each allocation to its claim, a patient's remainder as credit.

        An insurance payment must be allocated in full. With ``pending`` (a card or ACH payment not
        settled yet) it is recorded and posted when ``complete`` is called."""
        key = _key(request)
        body = PaymentCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        allocations = [services.Allocation(a["claim"], a["amount"]) for a in data.pop("allocations")]
        payment, replayed = _post_once(
            request,
            key,
            lambda: services.record_payment(
                request.user.practice, key=key, allocations=allocations, actor=request.user, **data
            ),
            model=Payment,
        )
        return _created(self._fresh(payment), replayed)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=RefundSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **MONEY_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, **kwargs) -> Response:
        """Pay money back: from what the payment paid on ``claim``, or from the patient's unapplied credit."""
        payment = self.get_object()
        key = _key(request)
        body = RefundSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        amount, reason, claim = (body.validated_data[name] for name in ("amount", "reason", "claim"))
        replay = JournalTransaction.objects.filter(practice=payment.practice, idempotency_key=key).exists()
        if claim is not None and not replay:
            _check_refundable_on(payment, claim, amount)
        txn, replayed = _post_once(
            request,
            key,
            lambda: services.refund(payment, amount, key=key, reason=reason, claim=claim, actor=request.user),
        )
        return _created(_transaction_data(txn, self), replayed)

    @extend_schema(request=ReasonSerializer, responses={200: PaymentSerializer, **POSTING_ERRORS})
    @action(detail=True, methods=["post"])
    def void(self, request: Request, **kwargs) -> Response:
        """Reverse everything the payment posted (its refunds first) and mark it voided. Admins only."""
        return self._take_back(request, services.void_payment)

    @extend_schema(request=ReasonSerializer, responses={200: PaymentSerializer, **POSTING_ERRORS})
    @action(detail=True, methods=["post"])
    def fail(self, request: Request, **kwargs) -> Response:
        """A payment that did not go through (returned check, ACH return, declined card): everything it
        posted is reversed and it is marked failed. Admins only."""
        return self._take_back(request, services.fail_payment)

    @extend_schema(request=None, responses={200: PaymentSerializer, **POSTING_ERRORS})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, **kwargs) -> Response:
        """A pending payment settled: post it as it was recorded. Completing it again changes nothing."""
        payment = self.get_object()
        services.complete_payment(payment, actor=request.user)
        return Response(self._fresh(payment))

    def _take_back(self, request: Request, operation) -> Response:
        payment = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation(payment, reason=body.validated_data["reason"], actor=request.user)
        return Response(self._fresh(payment))


def _check_refundable_on(payment: Payment, claim: Claim, amount: Decimal) -> None:
    """A refund from a claim takes back at most what this payment still has on that claim."""
    on_claim = LedgerEntry.objects.filter(
        transaction__payment=payment, claim=claim, transaction__kind__in=["payment", "refund", "reversal"]
    )
    paid = -(on_claim.filter(account__endswith="_ar").aggregate(total=Sum("amount"))["total"] or Decimal(0)).quantize(
        CENT
    )
    if paid <= 0:
        raise PostingError({"claim": "This payment paid nothing on that claim."})
    if amount > paid:
        raise PostingError({"amount": f"A refund cannot exceed what this payment paid on the claim: ${paid:,}."})


# -- ledger transactions -------------------------------------------------------------------


def _transactions() -> QuerySet[JournalTransaction]:
    return JournalTransaction.objects.select_related("claim", "reversed_by").prefetch_related("entries")


def _transaction_data(txn: JournalTransaction, view) -> dict:
    fresh = _transactions().get(pk=txn.pk)
    return TransactionSerializer(fresh, context=view.get_serializer_context()).data


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("claim", int, description="Only this claim's transactions (its id)."),
            OpenApiParameter("patient", int, description="Only this patient's transactions (its id)."),
            OpenApiParameter("payment", int, description="Only what this payment posted (its id)."),
            OpenApiParameter("kind", str, description="One kind or several, comma-separated: `payment,refund`."),
            OpenApiParameter("source", str, description="manual, era, import or opening; comma-separate several."),
            *DATE_RANGE,
        ]
    )
)
class TransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The practice's ledger, in posting order. Transactions are made by postings, never edited;
    a mistake is corrected by reversing it."""

    queryset = JournalTransaction.objects.all()
    serializer_class = TransactionSerializer
    permission_classes = [IsPracticeMember]
    admin_actions = ("reverse",)  # billingpulse.tenancy decides roles

    def get_queryset(self) -> QuerySet[JournalTransaction]:
        queryset = super().get_queryset().select_related("claim", "reversed_by").prefetch_related("entries")
        if self.action != "list":
            return queryset
        request = self.request
        for name in ("claim", "patient", "payment"):
            if (pk := int_param(request, name)) is not None:
                queryset = queryset.filter(**{f"{name}_id": pk})
        if kinds := choice_params(request, "kind", JournalTransaction.Kind.values):
            queryset = queryset.filter(kind__in=kinds)
        if sources := choice_params(request, "source", JournalTransaction.Source.values):
            queryset = queryset.filter(source__in=sources)
        return _date_range(queryset, request, "effective_date")

    @extend_schema(request=ReasonSerializer, responses={201: TransactionSerializer, **POSTING_ERRORS})
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, **kwargs) -> Response:
        """Net the transaction to zero with a reversal naming it. Admins only; once per transaction."""
        txn = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if txn.kind == JournalTransaction.Kind.REVERSAL:
            raise PostingError("A reversal cannot itself be reversed; post the correction instead.")
        if (reversal := getattr(txn, "reversed_by", None)) is not None:
            raise PostingError(f"Transaction #{txn.pk} has already been reversed (#{reversal.pk}).")
        reversal = services.reverse(txn, reason=body.validated_data["reason"], actor=request.user)
        return Response(_transaction_data(reversal, self), status=status.HTTP_201_CREATED)


# -- postings on a claim -------------------------------------------------------------------


def _owed(claim: Claim, responsibility: str) -> Decimal:
    entries = LedgerEntry.objects.filter(claim=claim, account=Responsibility(responsibility).account)
    return (entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)).quantize(CENT)


def _check_owed(claim: Claim, responsibility: str, amount: Decimal, verb: str) -> None:
    owed = _owed(claim, responsibility)
    if amount > owed:
        who = Responsibility(responsibility).label.lower()
        raise PostingError(
            {"amount": f"{verb} at most what the {who} owes on this claim: ${max(owed, Decimal('0.00')):,}."}
        )


class ClaimPostingViewSet(viewsets.GenericViewSet):
    """Postings on one claim: adjustments, write-offs, transfers of responsibility, applying credit.

    Routed as ``claims/<id>/…`` in ``URLS``: the claims API belongs to the claims app."""

    queryset = Claim.objects.all()
    serializer_class = TransactionSerializer
    permission_classes = [IsPracticeMember]

    def _post(self, request: Request, serializer_class, post) -> Response:
        claim = self.get_object()
        key = _key(request)
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        replay = JournalTransaction.objects.filter(practice=claim.practice_id, idempotency_key=key).exists()
        txn, replayed = _post_once(request, key, lambda: post(claim, key, body.validated_data, replay))
        return _created(_transaction_data(txn, self), replayed)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=AdjustmentSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **MONEY_ERRORS},
    )
    def adjustments(self, request: Request, **kwargs) -> Response:
        """Lower what a payer or the patient owes on the claim, for a reason (a write-off reason makes a write-off)."""

        def post(claim, key, data, replay):
            if not replay:
                _check_owed(claim, data["responsibility"], data["amount"], "Adjust")
            return services.adjust(claim, data.pop("amount"), key=key, actor=request.user, **data)

        return self._post(request, AdjustmentSerializer, post)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=WriteOffSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **MONEY_ERRORS},
    )
    def write_offs(self, request: Request, **kwargs) -> Response:
        """Write off part of the claim's balance: bad debt, a small balance or timely filing."""

        def post(claim, key, data, replay):
            if not replay:
                _check_owed(claim, data["responsibility"], data["amount"], "Write off")
            return services.write_off(claim, data.pop("amount"), key=key, actor=request.user, **data)

        return self._post(request, WriteOffSerializer, post)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=TransferSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **MONEY_ERRORS},
    )
    def transfers(self, request: Request, **kwargs) -> Response:
        """Move part of the balance from one payer (or the patient) to the next."""

        def post(claim, key, data, replay):
            if not replay:
                _check_owed(claim, data["from"], data["amount"], "Move")
            return services.transfer(
                claim,
                data["amount"],
                key=key,
                from_responsibility=data["from"],
                to_responsibility=data["to"],
                memo=data["memo"],
                actor=request.user,
            )

        return self._post(request, TransferSerializer, post)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=ApplyCreditSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **MONEY_ERRORS},
    )
    def apply_credit(self, request: Request, **kwargs) -> Response:
        """Pay what the patient owes on the claim from the patient's unapplied credit."""

        def post(claim, key, data, replay):
            if not replay:
                _check_owed(claim, Responsibility.PATIENT, data["amount"], "Apply")
            return services.apply_credit(claim, data["amount"], key=key, actor=request.user)

        return self._post(request, ApplyCreditSerializer, post)


# -- patients' balances --------------------------------------------------------------------

BALANCE_FILTERS = {
    "open": ~Q(balance=0),
    "patient": Q(patient_balance__gt=0),
    "insurance": Q(insurance_balance__gt=0),
    "credit": Q(credit__gt=0),
}
ACCOUNT_ORDERINGS = ["name", "balance", "-balance", "patient_balance", "-patient_balance"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "balance",
                str,
                enum=list(BALANCE_FILTERS),
                description="Only patients with a balance (`open`), who owe (`patient`), whose insurance owes "
                "(`insurance`) or with unapplied credit (`credit`).",
            ),
            OpenApiParameter("ordering", str, enum=ACCOUNT_ORDERINGS, description="Name (the default) or a balance."),
        ]
    )
)
class PatientAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every patient with their account's balances (zero until something is posted), by patient id.
    ``?search=`` matches the name or account number; the detail lists the patient's claims with theirs."""

    queryset = Patient.objects.all()
    permission_classes = [IsPracticeMember]
    filter_backends = [*api_settings.DEFAULT_FILTER_BACKENDS, filters.SearchFilter]
    search_fields = ["first_name", "last_name", "account_number"]

    def get_serializer_class(self):
        return PatientAccountDetailSerializer if self.action == "retrieve" else PatientAccountSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        queryset = (
            super()
            .get_queryset()
            .annotate(
                insurance_balance=Coalesce(F("account__insurance_balance"), ZERO),
                patient_balance=Coalesce(F("account__patient_balance"), ZERO),
                credit=Coalesce(F("account__credit"), ZERO),
                balance=Coalesce(F("account__balance"), ZERO),
            )
        )
        if self.action == "retrieve":
            claims = Claim.objects.order_by("-service_date_from", "-id")
            return queryset.prefetch_related(Prefetch("claims", queryset=claims, to_attr="billing_claims"))
        if self.action != "list":
            return queryset
        wanted = self.request.query_params.get("balance", "").strip()
        if wanted:
            if wanted not in BALANCE_FILTERS:
                raise serializers.ValidationError({"balance": [f"Choose {', '.join(BALANCE_FILTERS)}."]})
            queryset = queryset.filter(BALANCE_FILTERS[wanted])
        ordering = self.request.query_params.get("ordering", "").strip() or "name"
        if ordering not in ACCOUNT_ORDERINGS:
            raise serializers.ValidationError({"ordering": [f"Order by one of {', '.join(ACCOUNT_ORDERINGS)}."]})
        if ordering == "name":
            return queryset.order_by("last_name", "first_name", "pk")
        return queryset.order_by(ordering, "last_name", "first_name", "pk")


# -- expected payments ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="expected, received, different or canceled; comma-separate."),
            OpenApiParameter("claim", int, description="Only this claim's expected payments (its id)."),
        ]
    )
)
class ExpectedPaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments a payer said on a call it made, and whether the money has arrived."""

    queryset = ExpectedPayment.objects.all()
    serializer_class = ExpectedPaymentSerializer
    permission_classes = [IsPracticeMember]

    def get_queryset(self) -> QuerySet[ExpectedPayment]:
        queryset = super().get_queryset().select_related("claim")
        if self.action != "list":
            return queryset
        if statuses := choice_params(self.request, "status", ExpectedPayment.Status.values):
            queryset = queryset.filter(status__in=statuses)
        if (claim := int_param(self.request, "claim")) is not None:
            queryset = queryset.filter(claim_id=claim)
        return queryset


# (prefix, viewset, basename) registered on the project's API router; URLS are extra paths.
ROUTES: list = [
    ("payments", PaymentViewSet, "payment"),
    ("transactions", TransactionViewSet, "transaction"),
    ("patient-accounts", PatientAccountViewSet, "patient-account"),
    ("expected-payments", ExpectedPaymentViewSet, "expected-payment"),
]


def _claim_posting(name: str, method: str):
    return path(f"claims/<id:pk>/{name}", ClaimPostingViewSet.as_view({"post": method}), name=f"claim-{name}")


# Ids are digits only, so these never meet the claims router's own routes (claims/<id>/status, …).
URLS: list = [
    _claim_posting("adjustments", "adjustments"),
    _claim_posting("write-offs", "write_offs"),
    _claim_posting("transfers", "transfers"),
    _claim_posting("apply-credit", "apply_credit"),
]
