"""Serializers for /api/v1/claims: a claim with its service lines, its timeline, a status change."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import transaction
from rest_framework import serializers

from billingpulse import codes as icd10
from billingpulse.lib import unique
from billingpulse.models import Patient, Provider
from claims import services
from claims.api.fields import PracticePrimaryKeyField
from claims.models import (
    MONEY,
    Claim,
    ClaimEvent,
    ClaimLine,
    InsurancePolicy,
    Payer,
    validate_denial_code,
    validate_icd10,
    validate_procedure_code,
)
from claims.status import ClaimStatus

validate_modifier = RegexValidator(r"^[0-9A-Z]{2}$", "A modifier has two letters or digits, like 25 or LT.")


class CodeField(serializers.CharField):
    """A billing code, trimmed and upper-cased before it is checked (e11.9 → E11.9)."""

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(data).upper()


class DiagnosisCodeField(serializers.CharField):
    """An ICD-10-CM code, normalised before it is checked (e119 → E11.9)."""

    def to_internal_value(self, data) -> str:
        return icd10.normalize(super().to_internal_value(data))


class PatientSummarySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "name", "date_of_birth"]
        read_only_fields = fields


class PayerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = ["id", "name", "payer_id"]
        read_only_fields = fields


class ClaimLineSerializer(serializers.ModelSerializer):
    procedure_code = CodeField(max_length=5, validators=[validate_procedure_code])
    modifiers = serializers.ListField(
        child=CodeField(max_length=2, validators=[validate_modifier]), max_length=4, required=False
    )

    class Meta:
        model = ClaimLine
        fields = ["line_number", *services.LINE_FIELDS]
        # Lines are numbered by their position in the list the client sends.
        read_only_fields = ["line_number"]


class ClaimSerializer(serializers.ModelSerializer):
    patient = PracticePrimaryKeyField(queryset=Patient.objects.all())
    patient_summary = PatientSummarySerializer(source="patient", read_only=True)
    provider = PracticePrimaryKeyField(queryset=Provider.objects.all(), allow_null=True, required=False)
    payer = PracticePrimaryKeyField(queryset=Payer.objects.all())
    payer_summary = PayerSummarySerializer(source="payer", read_only=True)
    policy = PracticePrimaryKeyField(queryset=InsurancePolicy.objects.all(), allow_null=True, required=False)
    diagnosis_codes = serializers.ListField(
        child=DiagnosisCodeField(max_length=8, validators=[validate_icd10]),
        required=False,
        help_text="In pointer order; billable codes of the ICD-10-CM code set.",
    )
    denial_code = CodeField(max_length=10, allow_blank=True, required=False, validators=[validate_denial_code])
    remark_codes = serializers.ListField(child=CodeField(max_length=10), required=False)
    outstanding_balance = serializers.DecimalField(**MONEY, read_only=True)
    charge_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Why total_charge changed; kept with the charge correction in the claim's ledger.",
    )
    lines = ClaimLineSerializer(many=True, required=False, help_text="On update, the new lines replace all old ones.")

    class Meta:
        model = Claim
        fields = [
            "id",
            "claim_number",
            "claim_type",
            "claim_form",
            "status",
            "status_changed_at",
            "patient",
            "patient_summary",
            "provider",
            "payer",
            "payer_summary",
            "policy",
            "service_date_from",
            "service_date_to",
            "diagnosis_codes",
            "total_charge",
            "charge_reason",
            "allowed_amount",
            "paid_amount",
            "adjustment_amount",
            "patient_responsibility",
            "balance",
            "outstanding_balance",
            "denial_code",
            "denial_reason",
            "remark_codes",
            "last_call_outcome",
            "call_reference_number",
            "next_follow_up_date",
            "timely_filing_deadline",
            "lines",
            "created_at",
            "updated_at",
        ]
        # Status moves only through POST /claims/{id}/status, which keeps to the status machine.
        # Money other than the charge moves only through billing (payments, adjustments, ERAs);
        # a changed total_charge is posted to the ledger as a charge correction.
        read_only_fields = [
            "status",
            "status_changed_at",
            "paid_amount",
            "adjustment_amount",
            "patient_responsibility",
            "balance",
            "timely_filing_deadline",
            "created_at",
            "updated_at",
        ]

    def validate_diagnosis_codes(self, value: list[str]) -> list[str]:
        """Billable codes of the loaded code set (the shape alone where none is loaded), errors by position."""
        checks = icd10.check(value)
        problems = {i: [checks[code].message] for i, code in enumerate(value) if not checks[code].ok}
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_claim_number(self, value: str) -> str:
        practice = self.context["request"].user.practice
        others = Claim.objects.filter(practice=practice, claim_number=value)
        if others.exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError(unique.message(Claim, "claim_number_unique_per_practice"))
        return value

    def validate(self, attrs: dict) -> dict:
        def current(name: str):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        start, end = current("service_date_from"), current("service_date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"service_date_to": ["The last date of service is before the first."]})
        policy, patient, payer = current("policy"), current("patient"), current("payer")
        if policy is not None and (policy.patient_id != patient.pk or policy.payer_id != payer.pk):
            raise serializers.ValidationError({"policy": ["This policy is not the patient's policy with this payer."]})
        return attrs

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        """New lines replace the old ones whole, so each needs its required fields even in a PATCH
        (where DRF would otherwise let every field be left out)."""
        required = [name for name, field in ClaimLineSerializer().fields.items() if field.required]
        errors = [{name: ["This field is required."] for name in required if name not in line} for line in lines]
        if any(errors):
            raise serializers.ValidationError(errors)
        return lines

    def create(self, validated_data: dict) -> Claim:
        lines = validated_data.pop("lines", [])
        validated_data.pop("charge_reason", None)
        return services.create_claim(validated_data, lines, actor=self._actor(), message="Created through the API.")

    @transaction.atomic
    def update(self, instance: Claim, validated_data: dict) -> Claim:
        lines = validated_data.pop("lines", None)
        reason = validated_data.pop("charge_reason", "")
        changed = [name for name, value in validated_data.items() if getattr(instance, name) != value]
        for name in changed:
            setattr(instance, name, validated_data[name])
        services.save_claim_changes(instance, changed, actor=self._actor(), charge_reason=reason)
        if lines is not None:
            services.replace_lines(instance, lines, actor=self._actor())
        return instance

    def _actor(self):
        return self.context["request"].user


class ClaimEventSerializer(serializers.ModelSerializer):
    # Plain strings in the schema: as enums they would give the claim status set a second and
    # third name (FromStatusEnum, ToStatusEnum), which drf-spectacular warns about.
    from_status = serializers.CharField(read_only=True, help_text="The claim's status before; empty if unchanged.")
    to_status = serializers.CharField(read_only=True, help_text="The claim's status after; empty if unchanged.")
    actor_name = serializers.CharField(source="actor.display_name", read_only=True, allow_null=True)

    class Meta:
        model = ClaimEvent
        fields = ["id", "kind", "from_status", "to_status", "message", "actor", "actor_name", "source", "created_at"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ClaimStatus.choices)
    reason = serializers.CharField(allow_blank=True, max_length=2000, default="")
