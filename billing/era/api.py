"""/api/v1/remittances: upload an 835 (preview), read previews, post one, list them.

Every bad file is a 400 naming the reason (``{"file": [...]}``); another practice's
remittance is a 404 (the default ``PracticeScopedFilter``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.era.forms import MAX_UPLOAD_BYTES
from billing.era.posting import RemittanceRefused, needs_hold, post_remittance, preview
from billing.models import Remittance, RemittanceClaim


class RemittanceClaimSerializer(serializers.ModelSerializer):
    claim_number_ours = serializers.CharField(source="claim.claim_number", default=None, read_only=True)
    hold_reason = serializers.SerializerMethodField()

    class Meta:
        model = RemittanceClaim
        fields = [
            "id",
            "position",
            "status",
            "claim",
            "claim_number_ours",
            "claim_number",
            "patient_name",
            "claim_status_code",
            "charge",
            "paid",
            "patient_responsibility",
            "payer_claim_number",
            "note",
            "hold_reason",
            "detail",
            "posted_at",
        ]
        read_only_fields = fields

    def get_hold_reason(self, row: RemittanceClaim) -> str:
        return needs_hold(row) if row.status != RemittanceClaim.Status.POSTED else ""


class RemittanceSerializer(serializers.ModelSerializer):
    posted_by = serializers.CharField(source="posted_by.email", default=None, read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.email", default=None, read_only=True)

    class Meta:
        model = Remittance
        fields = [
            "id",
            "status",
            "file_name",
            "payer",
            "payer_identifier",
            "payer_name",
            "trace_number",
            "payment_amount",
            "payment_method",
            "payment_date",
            "claim_count",
            "uploaded_by",
            "created_at",
            "posted_by",
            "posted_at",
            "summary",
        ]
        read_only_fields = fields


class RemittanceDetailSerializer(RemittanceSerializer):
    claims = RemittanceClaimSerializer(source="claim_payments", many=True, read_only=True)

    class Meta(RemittanceSerializer.Meta):
        fields = [*RemittanceSerializer.Meta.fields, "claims"]
        read_only_fields = fields


class RemittanceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="An X12 835 file, up to 20 MB.")

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"An 835 can be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
        return upload


class RemittancePostSerializer(serializers.Serializer):
    hold_unmatched = serializers.BooleanField(
        default=False, help_text="Post the matched claims and hold the unmatched ones in the queue."
    )


class RemittanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """835 remittances of the caller's practice. ``POST`` uploads a file and returns its preview."""

    queryset = Remittance.objects.select_related("posted_by", "uploaded_by").order_by("-created_at", "-id")
    serializer_class = RemittanceSerializer

    def get_serializer_class(self):
        return RemittanceDetailSerializer if self.action in ("retrieve", "create") else RemittanceSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("claim_payments__claim")
        return queryset

    @extend_schema(
        request={"multipart/form-data": RemittanceUploadSerializer}, responses={201: RemittanceDetailSerializer}
    )
    def create(self, request):
        """Upload an 835: it is read, balanced and matched, and stored as a preview (nothing is posted)."""
        upload = RemittanceUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        try:
            remittance = preview(request.user.practice, file.read(), file_name=file.name, actor=request.user)
        except RemittanceRefused as refused:
            return Response({"file": refused.problems}, status=status.HTTP_400_BAD_REQUEST)
        remittance = self.get_queryset().prefetch_related("claim_payments__claim").get(pk=remittance.pk)
        return Response(RemittanceDetailSerializer(remittance).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RemittancePostSerializer, responses={200: RemittanceSerializer})
    @action(detail=True, methods=["post"], url_path="post")
    def post_remittance(self, request, pk=None, format=None):
        """Post the whole remittance in one transaction, or refuse with the reasons (nothing posted)."""
        remittance = self.get_object()
        options = RemittancePostSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            post_remittance(remittance, actor=request.user, hold_unmatched=options.validated_data["hold_unmatched"])
        except RemittanceRefused as refused:
            return Response({"detail": str(refused), "problems": refused.problems}, status=status.HTTP_400_BAD_REQUEST)
        remittance.refresh_from_db()
        return Response(RemittanceSerializer(remittance).data)


ROUTES: list = [("remittances", RemittanceViewSet, "remittance")]
URLS: list = []
