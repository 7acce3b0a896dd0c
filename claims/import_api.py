"""API for claim imports: upload a spreadsheet, get the row-level report."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from claims import services
from claims.importing import engine
from claims.importing.errors import ImportFileError
from claims.importing.headers import validate_mapping
from claims.models import ClaimImport, ClaimImportError, Payer


class ClaimImportErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimImportError
        fields = ["row_number", "column", "value", "message"]


class ClaimImportSerializer(serializers.ModelSerializer):
    default_payer = serializers.SlugRelatedField(slug_field="payer_id", read_only=True, allow_null=True)

    class Meta:
        model = ClaimImport
        fields = [
            "id",
            "original_name",
            "status",
            "header_row",
            "headers",
            "column_mapping",
            "default_payer",
            "total_rows",
            "processed_rows",
            "imported_count",
            "updated_count",
            "rejected_count",
            "failure_message",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV or .xlsx file.")
    payer_id = serializers.CharField(required=False, help_text="Payer ID for every row, if the file has no payer.")

    def validate_payer_id(self, value: str) -> Payer:
        payer = Payer.objects.filter(practice=self.context["request"].user.practice, payer_id=value.strip()).first()
        if payer is None:
            raise serializers.ValidationError(f"You have no payer with payer ID {value}.")
        return payer


class ClaimImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of the caller's practice; ``POST /claims/import`` starts one."""

    queryset = ClaimImport.objects.all()
    serializer_class = ClaimImportSerializer

    @extend_schema(responses=ClaimImportErrorSerializer(many=True))
    @action(detail=True)
    def errors(self, request, pk=None, format=None):
        rows = self.get_object().row_errors.all()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ClaimImportErrorSerializer(page, many=True).data)


class ClaimImportUploadViewSet(viewsets.GenericViewSet):
    queryset = ClaimImport.objects.all()
    serializer_class = UploadSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=UploadSerializer, responses={201: ClaimImportSerializer, 202: ClaimImportSerializer})
    def create(self, request):
        """Import a spreadsheet with its detected columns.

        Small files are imported before the response (201, with the counts); larger
        ones are queued (202): follow ``/api/v1/claim-imports/{id}``. Rejected rows are
        at ``/api/v1/claim-imports/{id}/errors``.
        """
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        payer = upload.validated_data.get("payer_id")
        with transaction.atomic():
            try:
                claim_import = engine.inspect_upload(
                    practice=request.user.practice,
                    user=request.user,
                    upload=upload.validated_data["file"],
                    default_payer=payer,
                )
            except ImportFileError as error:
                return Response({"file": [error.message]}, status=status.HTTP_400_BAD_REQUEST)
            mapping = {int(i): field for i, field in claim_import.column_mapping.items()}
            problems = validate_mapping(mapping, has_default_payer=payer is not None)
            if problems:
                claim_import.file.delete(save=False)
                transaction.set_rollback(True)
                return Response({"file": problems}, status=status.HTTP_400_BAD_REQUEST)
        services.start_import(claim_import)
        claim_import.refresh_from_db()
        # Imported already (done or failed): 201; still queued for the worker: 202.
        code = status.HTTP_201_CREATED if claim_import.is_finished else status.HTTP_202_ACCEPTED
        return Response(ClaimImportSerializer(claim_import).data, status=code)
