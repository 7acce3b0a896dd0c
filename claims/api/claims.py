"""/api/v1/claims: the claims of a practice, their status changes and their timeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billingpulse.lib.unique import api_unique_errors
from billingpulse.tenancy import IsPracticeMember
from claims import services
from claims.api.claim_serializers import ClaimEventSerializer, ClaimSerializer, StatusChangeSerializer
from claims.api.fields import choice_params, int_param
from claims.models import Claim
from claims.status import NEEDS_FOLLOW_UP, ClaimStatus

ORDERINGS = [
    "claim_number",
    "service_date_from",
    "total_charge",
    "status",
    "next_follow_up_date",
    "timely_filing_deadline",
]
FOLLOW_UP = ["due", "overdue"]

LIST_PARAMETERS = [
    OpenApiParameter("status", str, description="One status or several, comma-separated: `denied,rejected`."),
    OpenApiParameter("payer", int, description="Only claims with this payer (its id)."),
    OpenApiParameter("patient", int, description="Only this patient's claims (its id)."),
    OpenApiParameter("denial_code", str, description="Only claims denied with this code, like `CO-16`."),
    OpenApiParameter("q", str, description="Words found in the claim number or the patient's name."),
    OpenApiParameter(
        "follow_up",
        str,
        enum=FOLLOW_UP,
        description="Open claims whose follow-up date is today or earlier (`due`) or before today (`overdue`), "
        "in the practice's time zone.",
    ),
    OpenApiParameter(
        "ordering",
        str,
        description=f"One of {', '.join(ORDERINGS)}; prefix `-` for descending, comma-separate for several. "
        "Claims without a follow-up date or deadline come last either way.",
    ),
]


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS))
class ClaimViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Claims of the caller's practice. There is no DELETE: a claim ends closed or written off,
    and keeps its timeline."""

    queryset = Claim.objects.all()
    serializer_class = ClaimSerializer
    permission_classes = [IsPracticeMember]

    def get_queryset(self) -> QuerySet[Claim]:
        queryset = super().get_queryset().select_related("patient", "payer", "provider", "policy")
        if self.action == "events":
            return queryset
        queryset = queryset.prefetch_related("lines")
        return _filtered(queryset, self.request) if self.action == "list" else queryset

    def perform_create(self, serializer) -> None:
        # A claim number taken since the serializer checked it: that check's 400, not a 500.
        with api_unique_errors():
            serializer.save(practice=self.request.user.practice)

    def perform_update(self, serializer) -> None:
        with api_unique_errors():
            serializer.save()

    @extend_schema(request=StatusChangeSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def change_status(self, request: Request, **kwargs) -> Response:
        """Move the claim to another status, as the status machine allows, with the reason why."""
        claim = self.get_object()
        change = StatusChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        try:
            services.change_status(
                claim, change.validated_data["status"], actor=request.user, reason=change.validated_data["reason"]
            )
        except DjangoValidationError as error:
            fields = error.message_dict if hasattr(error, "error_dict") else {"status": error.messages}
            raise serializers.ValidationError(fields) from None
        return Response(self.get_serializer(claim).data)

    @extend_schema(request=None, responses=ClaimEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, **kwargs) -> Response:
        """The claim's timeline, newest first."""
        claim = self.get_object()
        page = self.paginate_queryset(claim.events.select_related("actor"))
        return self.get_paginated_response(ClaimEventSerializer(page, many=True).data)


def _filtered(queryset: QuerySet[Claim], request: Request) -> QuerySet[Claim]:
    """Apply the list's query parameters; an unknown value is a 400 naming the parameter."""
    if statuses := choice_params(request, "status", ClaimStatus.values):
        queryset = queryset.filter(status__in=statuses)
    if (payer := int_param(request, "payer")) is not None:
        queryset = queryset.filter(payer_id=payer)
    if (patient := int_param(request, "patient")) is not None:
        queryset = queryset.filter(patient_id=patient)
    if denial_code := request.query_params.get("denial_code", "").strip().upper():
        queryset = queryset.filter(denial_code=denial_code)
    queryset = queryset.search(request.query_params.get("q", "").split())
    if follow_up := request.query_params.get("follow_up", "").strip():
        if follow_up not in FOLLOW_UP:
            raise serializers.ValidationError({"follow_up": [f"Choose {' or '.join(FOLLOW_UP)}."]})
        today = request.user.practice.today()
        dates = {"next_follow_up_date__lte": today} if follow_up == "due" else {"next_follow_up_date__lt": today}
        queryset = queryset.filter(status__in=NEEDS_FOLLOW_UP, **dates)
    return queryset.order_by(*_ordering(request))


def _ordering(request: Request) -> list:
    """The ``ordering`` parameter as order_by terms, ending with the model's own order so pages are stable."""
    terms = []
    for raw in request.query_params.get("ordering", "").split(","):
        name = raw.strip()
        if not name:
            continue
        if name.lstrip("-") not in ORDERINGS:
            raise serializers.ValidationError({"ordering": [f"Order by one of {', '.join(ORDERINGS)}, or -name."]})
        expression = F(name.lstrip("-"))
        # Nulls last both ways, and the same on SQLite and PostgreSQL.
        terms.append(expression.desc(nulls_last=True) if name.startswith("-") else expression.asc(nulls_last=True))
    return [*terms, *Claim._meta.ordering, "pk"]
