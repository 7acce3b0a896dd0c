"""/api/v1/knowledge/…: a practice's denial codes and payer policies.

``POST`` takes a LIST of entries and saves all of them or none: a bad entry answers 400 with
one error object per entry, in order (``{}`` for a good one). A denial code already in the
knowledge base is updated, not duplicated. Every member reads; practice admins write.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ai import services
from ai.forms import CODE_IN_USE, code_in_use, normalize_payer
from ai.knowledge import DENIAL_CODES, PAYER_POLICIES, normalize_code
from ai.models import DenialCode, PayerPolicy, validate_carc
from billingpulse.tenancy import IsPracticeAdminOrReadOnly, practice_of


class DenialCodeSerializer(serializers.ModelSerializer):
    code = serializers.CharField(max_length=12, help_text="The reason code without its group: 16, not CO-16.")

    class Meta:
        model = DenialCode
        fields = ["id", "code", "description", "remedy", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_code(self, value: str) -> str:
        code = normalize_code(value)
        validate_carc(code)
        if code_in_use(practice_of(self.context["request"]), code, getattr(self.instance, "pk", None)):
            raise serializers.ValidationError(CODE_IN_USE)
        return code


class PayerPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = PayerPolicy
        fields = ["id", "payer", "title", "text", "source", "effective_date", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_payer(self, value: str) -> str:
        return normalize_payer(value)


class _BulkCreateSchema(AutoSchema):
    """``create`` takes and answers a plain list of entries: its answer is never a page, though
    the list of entries is paged."""

    def _get_paginator(self):
        return None if getattr(self.view, "action", None) == "create" else super()._get_paginator()


class _KnowledgeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    kind = ""
    permission_classes = [IsPracticeAdminOrReadOnly]
    schema = _BulkCreateSchema()
    filter_backends = [*api_settings.DEFAULT_FILTER_BACKENDS, filters.SearchFilter]

    def create(self, request: Request) -> Response:
        try:
            saved = services.save_entries(request.user.practice.pk, self.kind, request.data)
        except services.EntriesInvalid as invalid:
            body = {api_settings.NON_FIELD_ERRORS_KEY: [invalid.message]} if invalid.message else invalid.errors
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(saved, many=True).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer) -> None:
        entry = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(entry, name, value)
        try:
            services.save_entry(entry)
        except services.EntriesInvalid as invalid:
            raise serializers.ValidationError(invalid.errors[0] if invalid.errors else invalid.message) from None

    def perform_destroy(self, instance) -> None:
        services.delete_entry(instance)


def _bulk_create_schema(serializer: type[serializers.Serializer], description: str):
    """The OpenAPI description of ``create``: it takes and answers a list, not one entry."""
    return extend_schema_view(
        create=extend_schema(
            request=serializer(many=True), responses={201: serializer(many=True)}, description=description
        )
    )


@_bulk_create_schema(
    DenialCodeSerializer,
    "Add or update denial codes: a list of entries, saved all together or not at all. "
    "An entry whose code is already in the knowledge base updates it.",
)
class DenialCodeViewSet(_KnowledgeViewSet):
    """The practice's denial reason codes (CARC) with what they mean and what usually fixes them."""

    kind = DENIAL_CODES
    queryset = DenialCode.objects.all()
    serializer_class = DenialCodeSerializer
    search_fields = ["code", "description", "remedy"]


@_bulk_create_schema(
    PayerPolicySerializer,
    "Add payer policies: a list of entries, saved all together or not at all. "
    "An entry with the same payer, title and effective date as an existing one updates it.",
)
class PayerPolicyViewSet(_KnowledgeViewSet):
    """The practice's notes on payer policies: filing limits, appeal rules, authorization lists."""

    kind = PAYER_POLICIES
    queryset = PayerPolicy.objects.all()
    serializer_class = PayerPolicySerializer
    search_fields = ["payer", "title", "text"]
