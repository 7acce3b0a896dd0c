"""``GET /api/v1/audit``: the practice's audit entries, newest first, with the page's filters."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers

from audit.forms import AuditFilterForm
from audit.models import Action, AuditEntry
from billingpulse.tenancy import IsPracticeAdmin


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    patient = serializers.IntegerField(source="patient_id", allow_null=True)
    action = serializers.ChoiceField(choices=Action.choices)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_label",
            "action",
            "resource_type",
            "resource_id",
            "resource_label",
            "patient",
            "changes",
            "message",
            "remote_addr",
            "request_id",
            "user_agent",
            "sequence",
            "previous_hash",
            "hash",
        ]
        read_only_fields = fields


FILTERS = [
    OpenApiParameter("user", OpenApiTypes.INT, description="Entries by this user (id)."),
    OpenApiParameter("action", OpenApiTypes.STR, enum=Action.values),
    OpenApiParameter("resource_type", OpenApiTypes.STR, description="Entries about this kind of record."),
    OpenApiParameter("patient", OpenApiTypes.INT, description="Entries about this patient's data (id)."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="From this day (the practice's time zone)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Up to and including this day."),
]


@extend_schema(parameters=FILTERS)
class AuditLogView(generics.ListAPIView):
    """Practice admins only; a filter with a bad value is a 400 naming the field."""

    serializer_class = AuditEntrySerializer
    permission_classes = [IsPracticeAdmin]
    # PracticeScopedFilter (the default backend) narrows this to the caller's practice.
    queryset = AuditEntry.objects.all()

    def get_queryset(self):
        form = AuditFilterForm(self.request.query_params, practice=self.request.user.practice)
        if not form.is_valid():
            raise exceptions.ValidationError({name: list(errors) for name, errors in form.errors.items()})
        return form.filter(super().get_queryset())
