"""/api/v1/payers: the insurance companies a practice bills and calls."""

from __future__ import annotations

from django.db import models
from django.db.models import ProtectedError
from django.template.defaultfilters import pluralize
from rest_framework import exceptions, filters, serializers
from rest_framework.settings import api_settings

from billingpulse.api import PracticeOwnedViewSet
from billingpulse.lib import unique
from billingpulse.tenancy import IsPracticeAdminOrReadOnly
from claims.api.fields import LocalTimeField
from claims.models import Payer


class PayerSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TimeField: LocalTimeField,
    }

    class Meta:
        model = Payer
        fields = [
            "id",
            "name",
            "payer_id",
            "phone",
            "phone_extension",
            "ivr_notes",
            "ivr_config",
            "time_zone",
            "opens_at",
            "closes_at",
            "open_weekdays",
            "timely_filing_days",
            "max_calls_per_window",
            "call_window_minutes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # ivr_config needs no declaration: DRF carries the model's validate_ivr_config over to
        # its JSONField, so a bad menu is a 400 on ivr_config (test_api_payers checks it).
        # A limit of zero calls, or a zero-minute window, would silently stop all calls to the payer.
        extra_kwargs = {"max_calls_per_window": {"min_value": 1}, "call_window_minutes": {"min_value": 1}}

    def create(self, validated_data: dict) -> Payer:
        payer = super().create(validated_data)
        # The model's hour defaults are strings ("08:00"); reload them so the reply shows
        # the same "08:00:00" a later GET does.
        payer.refresh_from_db(fields=["opens_at", "closes_at"])
        return payer

    def validate_payer_id(self, value: str) -> str:
        # Upper-cased as on the payer page: imports match payer IDs without regard to case,
        # so "sx123" and "SX123" must not become two payers.
        value = value.upper()
        practice = self.context["request"].user.practice
        others = Payer.objects.filter(practice=practice, payer_id=value)
        if others.exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError(unique.message(Payer, "payer_id_unique_per_practice"))
        return value

    def validate(self, attrs: dict) -> dict:
        limit = attrs.get("max_calls_per_window", getattr(self.instance, "max_calls_per_window", None))
        window = attrs.get("call_window_minutes", getattr(self.instance, "call_window_minutes", None))
        if (limit is None) != (window is None):
            missing = "call_window_minutes" if window is None else "max_calls_per_window"
            raise serializers.ValidationError(
                {missing: ["Give both the number of calls and the window in minutes, or neither."]}
            )
        return attrs


class PayerInUse(exceptions.APIException):
    status_code = 400
    default_code = "payer_in_use"


class PayerViewSet(PracticeOwnedViewSet):
    """Payers of the caller's practice. Every member reads them; admins add, change and remove them."""

    queryset = Payer.objects.all()
    serializer_class = PayerSerializer
    filter_backends = [*api_settings.DEFAULT_FILTER_BACKENDS, filters.SearchFilter]
    search_fields = ["name", "payer_id"]
    # DESIGN.md: managing payers is an admin's job; staff work the claims.
    permission_classes = [IsPracticeAdminOrReadOnly]

    def perform_destroy(self, instance: Payer) -> None:
        # The check up front names what is in the way; ProtectedError covers a claim added meanwhile.
        if message := _in_use(instance):
            raise PayerInUse(message)
        try:
            instance.delete()
        except ProtectedError:
            raise PayerInUse(_in_use(instance) or "This payer is in use.") from None


def _in_use(payer: Payer) -> str:
    """What stops ``payer`` from being deleted, as a sentence; empty when nothing does."""
    uses = []
    if claims := payer.claims.count():
        uses.append(f"{claims} claim{pluralize(claims)}")
    if policies := payer.policies.count():
        uses.append(f"{policies} insurance polic{pluralize(policies, 'y,ies')}")
    if not uses:
        return ""
    return f"{payer.name} cannot be deleted: {' and '.join(uses)} use it. Move or delete those first."
