"""/api/v1/calls and /api/v1/scheduled-calls: queue payer calls, read them, schedule follow-ups."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from billingpulse.tenancy import IsPracticeMember
from billingpulse.validators import MAX_ID, validate_date_in_range
from claims.api.fields import PracticePrimaryKeyField, choice_params, int_param
from claims.models import Claim
from telephony import services
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.status import CallStatus

MAX_CLAIMS_PER_REQUEST = 500
NO_SUCH_CLAIM = "No such claim."


class ClaimIdField(serializers.IntegerField):
    """A JSON integer only: not "12", 12.0 or true, which IntegerField would take."""

    def to_internal_value(self, data) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that says its time zone (an offset or Z)."""

    default_error_messages = {
        "naive": "Give the time zone too, like 2026-12-01T09:00:00-06:00 or 2026-12-01T15:00:00Z."
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
            if parsed is not None:
                # Checked before DRF converts the time zone, which overflows past year 9999.
                try:
                    validate_date_in_range(parsed.date())
                except DjangoValidationError as error:
                    raise serializers.ValidationError(error.messages) from None
        return super().to_internal_value(value)


class CallSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(source="claim.claim_number", read_only=True)
    payer_name = serializers.CharField(source="payer.name", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "claim",
            "claim_number",
            "payer",
            "payer_name",
            "status",
            "attempt",
            "provider",
            "provider_call_id",
            "scheduled_call",
            "not_before",
            "placed_at",
            "started_at",
            "ended_at",
            "duration_seconds",
            "ended_reason",
            "failure_category",
            "outcome",
            "created_at",
        ]
        read_only_fields = fields


class CallEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallEvent
        fields = ["id", "kind", "received_at"]
        read_only_fields = fields


class CallDetailSerializer(CallSerializer):
    events = CallEventSerializer(many=True, read_only=True)
    # Plain strings: empty while there is no recording, which OpenAPI's format uri would not allow.
    recording_url = serializers.CharField(read_only=True, help_text="The recording's address; empty if none.")
    stereo_recording_url = serializers.CharField(read_only=True, help_text="Empty if none.")

    class Meta(CallSerializer.Meta):
        fields = [
            *CallSerializer.Meta.fields,
            "summary",
            "transcript",
            "messages",
            "recording_url",
            "stereo_recording_url",
            "cost",
            "last_error",
            "events",
        ]
        read_only_fields = fields


class EnqueueSerializer(serializers.Serializer):
    claim_ids = serializers.ListField(
        child=ClaimIdField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=MAX_CLAIMS_PER_REQUEST
    )


class SkippedSerializer(serializers.Serializer):
    claim_id = serializers.IntegerField()
    reason = serializers.CharField()


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="One status or several, comma-separated: `queued,dialing`."),
            OpenApiParameter("claim_id", int, description="Only the calls about this claim."),
        ]
    ),
    create=extend_schema(
        request=EnqueueSerializer,
        responses={
            202: inline_serializer(
                "EnqueueResult", {"queued": CallSerializer(many=True), "skipped": SkippedSerializer(many=True)}
            )
        },
    ),
)
class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payer calls of the caller's practice. POST queues one call per claim; a call is never edited here."""

    queryset = Call.objects.all()
    permission_classes = [IsPracticeMember]

    def get_serializer_class(self):
        return CallDetailSerializer if self.action == "retrieve" else CallSerializer

    def get_queryset(self) -> QuerySet[Call]:
        queryset = super().get_queryset().select_related("claim", "payer")
        if self.action == "retrieve":
            return queryset.prefetch_related("events")
        if self.action == "list":
            if statuses := choice_params(self.request, "status", CallStatus.values):
                queryset = queryset.filter(status__in=statuses)
            if (claim_id := int_param(self.request, "claim_id")) is not None:
                queryset = queryset.filter(claim_id=claim_id)
        return queryset

    def create(self, request: Request) -> Response:
        """Queue a call for each claim; say why any claim was skipped (unknown ids: "No such claim.")."""
        body = EnqueueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        claim_ids = list(dict.fromkeys(body.validated_data["claim_ids"]))
        result = services.enqueue_calls(request.user.practice, claim_ids, request.user)
        reasons = {claim.pk: reason for claim, reason in result.skipped}
        queued = {call.claim_id for call in result.queued}
        # Another practice's claim reads exactly like one that does not exist.
        skipped = [{"claim_id": pk, "reason": reasons.get(pk, NO_SUCH_CLAIM)} for pk in claim_ids if pk not in queued]
        return Response(
            {"queued": CallSerializer(result.queued, many=True).data, "skipped": skipped},
            status=status.HTTP_202_ACCEPTED,
        )


class NotCancelable(exceptions.APIException):
    status_code = 400
    default_code = "not_cancelable"


class ScheduledCallSerializer(serializers.ModelSerializer):
    claim_id = PracticePrimaryKeyField(source="claim", queryset=Claim.objects.all())
    claim_number = serializers.CharField(source="claim.claim_number", read_only=True)
    call_after = AwareDateTimeField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = ScheduledCall
        fields = [
            "id",
            "claim_id",
            "claim_number",
            "call_after",
            "reason",
            "status",
            "source",
            "created_by",
            "dispatched_at",
            "created_at",
        ]
        read_only_fields = ["status", "source", "created_by", "dispatched_at", "created_at"]

    def validate_call_after(self, value):
        if value <= timezone.now():
            raise serializers.ValidationError("Choose a time in the future.")
        return value


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("claim_id", int, description="Only the follow-ups of this claim."),
            OpenApiParameter("status", str, description="pending, dispatched or canceled; comma-separate several."),
        ]
    )
)
class ScheduledCallViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up calls. A new one replaces the claim's pending one; DELETE cancels (the record stays)."""

    queryset = ScheduledCall.objects.all()
    serializer_class = ScheduledCallSerializer
    permission_classes = [IsPracticeMember]

    def get_queryset(self) -> QuerySet[ScheduledCall]:
        queryset = super().get_queryset().select_related("claim")
        if self.action == "list":
            if (claim_id := int_param(self.request, "claim_id")) is not None:
                queryset = queryset.filter(claim_id=claim_id)
            if statuses := choice_params(self.request, "status", ScheduledCall.Status.values):
                queryset = queryset.filter(status__in=statuses)
        return queryset

    def perform_create(self, serializer: ScheduledCallSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.schedule_follow_up(
            data["claim"], data["call_after"], data.get("reason", ""), user=self.request.user
        )

    def perform_destroy(self, instance: ScheduledCall) -> None:
        try:
            services.cancel_scheduled_call(instance, self.request.user)
        except DjangoValidationError as error:
            raise NotCancelable(error.messages[0]) from None
