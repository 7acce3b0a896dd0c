"""/api/v1/documents: upload, list and search, download any version, add versions, review.

Every act goes through ``documents.services``: a file is checked by its content before anything
is stored, downloads stream the decrypted bytes of exactly the version asked for, and each view,
download and refusal is written to the document's history. Confidential documents are invisible
(404) to everyone but the practice's admins and the users named on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import Remittance
from billingpulse.actor import Actor
from billingpulse.lib.rest import NestedRouter, Refused
from billingpulse.models import Patient
from billingpulse.tenancy import IsPracticeMember
from claims.api.fields import PracticePrimaryKeyField, choice_params
from claims.models import Claim
from clinical.models import Appointment, ClinicalNote
from documents import services
from documents.detect import UploadRefused
from documents.downloads import file_response
from documents.models import Document, DocumentEvent, DocumentType, DocumentVersion
from documents.services import LINKS, DocumentError, Upload
from documents.status import DocumentStatus
from telephony.models import Call


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentVersion
        fields = [
            "number",
            "original_name",
            "size",
            "mime_type",
            "sha256",
            "comment",
            "extraction_status",
            "extraction_reason",
            "pages",
            "encrypted",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    current_version = VersionSerializer(read_only=True)
    size_mb = serializers.FloatField(read_only=True)
    is_reviewed = serializers.BooleanField(read_only=True)
    is_approved = serializers.BooleanField(read_only=True)
    encrypted = serializers.BooleanField(read_only=True)
    extraction_status = serializers.CharField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "patient",
            "document_type",
            "status",
            "title",
            "description",
            "document_date",
            *LINKS,
            "confidential",
            "size_mb",
            "is_reviewed",
            "is_approved",
            "encrypted",
            "extraction_status",
            "current_version",
            "assignee",
            "reviewed_by",
            "reviewed_at",
            "approved_by",
            "approved_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    patient = PracticePrimaryKeyField(queryset=Patient.objects.all())
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    document_date = serializers.DateField(required=False, allow_null=True)
    appointment = PracticePrimaryKeyField(queryset=Appointment.objects.all(), required=False, allow_null=True)
    claim = PracticePrimaryKeyField(queryset=Claim.objects.all(), required=False, allow_null=True)
    call = PracticePrimaryKeyField(queryset=Call.objects.all(), required=False, allow_null=True)
    note = PracticePrimaryKeyField(queryset=ClinicalNote.objects.all(), required=False, allow_null=True)
    remittance = PracticePrimaryKeyField(queryset=Remittance.objects.all(), required=False, allow_null=True)
    confidential = serializers.BooleanField(required=False, default=False)
    draft = serializers.BooleanField(required=False, default=False, help_text="File as a draft, not for review yet.")


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Documents of the caller's practice. ``?q=`` finds words of the title or of the file's text
    (whole words, all of them); ``?patient=``, ``?claim=``, ``?document_type=``, ``?status=`` filter."""

    queryset = Document.objects.select_related("current_version")
    serializer_class = DocumentSerializer
    permission_classes = [IsPracticeMember]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        queryset = super().get_queryset().visible_to(self.request.user)
        for name in ("patient", "claim"):
            value = self.request.query_params.get(name, "").strip()
            if value:
                if not value.isdigit() or len(value) > 18:
                    raise ValidationError({name: ["A valid integer is required."]})
                queryset = queryset.filter(**{f"{name}_id": int(value)})
        types = choice_params(self.request, "document_type", DocumentType.values)
        if types:
            queryset = queryset.filter(document_type__in=types)
        statuses = choice_params(self.request, "status", DocumentStatus.values)
        if statuses:
            queryset = queryset.filter(status__in=statuses)
        if self.action == "list":
            query = self.request.query_params.get("q", "")[:200]
            queryset = services.search(queryset, query, practice_id=self.request.user.practice_id)
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Words of the title or the file's text")],
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": DocumentUploadSerializer}, responses={201: DocumentSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(DocumentUploadSerializer, request)
        links = {name: data[name] for name in LINKS if data.get(name) is not None}
        with _service_errors():
            document = services.upload(
                request.user.practice,
                actor=Actor.of(request),
                file=Upload.of(data["file"]),
                patient=data["patient"],
                document_type=data["document_type"],
                title=data.get("title", ""),
                description=data.get("description", ""),
                document_date=data.get("document_date"),
                links=links,
                confidential=data["confidential"],
                draft=data["draft"],
            )
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, **kwargs):
        """The current version's original bytes."""
        document = self.get_object()
        return self._file(document.current_version)

    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": VersionUploadSerializer},
        responses={201: VersionSerializer},
    )
    @extend_schema(methods=["GET"], responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, **kwargs) -> Response:
        """Every version, newest first; POST a file to add a new current version."""
        document = self.get_object()
        if request.method == "GET":
            return Response(VersionSerializer(document.versions.all(), many=True).data)
        data = _valid(VersionUploadSerializer, request)
        with _service_errors():
            version = services.add_version(
                document, actor=Actor.of(request), file=Upload.of(data["file"]), comment=data.get("comment", "")
            )
        return Response(VersionSerializer(version).data, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d{1,9})/download")
    def version_download(self, request: Request, number: str, **kwargs):
        """The original bytes of version ``number``."""
        document = self.get_object()
        return self._file(get_object_or_404(document.versions, number=int(number)))

    @extend_schema(request=StatusSerializer, responses=DocumentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request: Request, **kwargs) -> Response:
        """Move through review: pending_review → reviewed → approved (admins), or back, or archived."""
        document, data = self.get_object(), _valid(StatusSerializer, request)
        with _service_errors():
            services.move(document, data["status"], actor=Actor.of(request), comment=data.get("comment", ""))
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    def _file(self, version: DocumentVersion | None) -> StreamingHttpResponse:
        if version is None:
            raise ValidationError({"detail": "This document has no file yet."})
        with _service_errors():
            chunks = services.open_version(version, actor=Actor.of(self.request), kind=DocumentEvent.Kind.DOWNLOADED)
        return file_response(version, chunks, inline=False)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@contextmanager
def _service_errors() -> Iterator[None]:
    """A refused file as a 400 on ``file``; other refusals with their status."""
    try:
        yield
    except UploadRefused as error:
        raise ValidationError({"file": [str(error)]}) from None
    except DocumentError as error:
        raise Refused(error) from None


class _Router(NestedRouter):
    """With or without the trailing slash: ``/api/v1/documents`` and ``/api/v1/documents/``."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=False)
        self.trailing_slash = "/?"


router = _Router()
router.register("documents", DocumentViewSet)
URLS = router.urls
