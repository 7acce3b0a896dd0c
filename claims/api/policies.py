"""/api/v1/policies: which payer covers which patient, under what member ID."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.validators import UniqueTogetherValidator

from billingpulse.api import PracticeOwnedViewSet
from billingpulse.lib import unique
from billingpulse.models import Patient
from billingpulse.tenancy import IsPracticeMember
from claims.api.fields import PracticePrimaryKeyField, int_param
from claims.models import InsurancePolicy, Payer


class InsurancePolicySerializer(serializers.ModelSerializer):
    patient = PracticePrimaryKeyField(queryset=Patient.objects.all())
    payer = PracticePrimaryKeyField(queryset=Payer.objects.all())

    class Meta:
        model = InsurancePolicy
        fields = [
            "id",
            "patient",
            "payer",
            "member_id",
            "group_number",
            "subscriber_name",
            "subscriber_relationship",
            "priority",
            "effective_from",
            "effective_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = [
            UniqueTogetherValidator(
                InsurancePolicy.objects.all(),
                fields=["patient", "payer", "member_id"],
                message=unique.message(InsurancePolicy, "policy_unique_member_per_payer"),
            )
        ]

    def validate(self, attrs: dict) -> dict:
        start = attrs.get("effective_from", getattr(self.instance, "effective_from", None))
        end = attrs.get("effective_to", getattr(self.instance, "effective_to", None))
        if start and end and end < start:
            raise serializers.ValidationError({"effective_to": ["The coverage cannot end before it starts."]})
        return attrs


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("patient", int, description="Only this patient's policies."),
            OpenApiParameter("payer", int, description="Only policies with this payer."),
        ]
    )
)
class InsurancePolicyViewSet(PracticeOwnedViewSet):
    queryset = InsurancePolicy.objects.all()
    serializer_class = InsurancePolicySerializer
    permission_classes = [IsPracticeMember]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        if (patient := int_param(self.request, "patient")) is not None:
            queryset = queryset.filter(patient_id=patient)
        if (payer := int_param(self.request, "payer")) is not None:
            queryset = queryset.filter(payer_id=payer)
        return queryset
