"""/api/v1/appointments and /api/v1/notes: encounters, and notes with their signing actions.

Every act on a note goes through ``clinical.services``, so the API enforces the same rules as the
pages: a signed note's content cannot be written (409), signing re-authenticates with the
password and a stated meaning, and every refusal is recorded on the note's audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billingpulse.actor import Actor
from billingpulse.api import PracticeOwnedViewSet
from billingpulse.lib.rest import Refused
from billingpulse.models import Patient, Provider
from billingpulse.tenancy import IsPracticeMember
from claims.api.fields import PracticePrimaryKeyField, choice_params
from clinical import services
from clinical.models import SECTION_NAMES, Appointment, ClinicalNote, NoteTemplate, Signature
from clinical.services import NoteActionError
from clinical.status import NoteStatus


class AppointmentSerializer(serializers.ModelSerializer):
    patient = PracticePrimaryKeyField(queryset=Patient.objects.all())
    provider = PracticePrimaryKeyField(queryset=Provider.objects.all())

    class Meta:
        model = Appointment
        fields = ["id", "patient", "provider", "starts_at", "duration_minutes", "kind", "status", "reason", "claims"]
        read_only_fields = ["claims"]

    def validate_status(self, value: str) -> str:
        if self.instance is not None and value != self.instance.status and not self.instance.can_move_to(value):
            raise serializers.ValidationError(
                f"A {self.instance.get_status_display().lower()} appointment cannot become "
                f"{Appointment.Status(value).label.lower()}."
            )
        return value


class AppointmentViewSet(PracticeOwnedViewSet):
    """Appointments (encounters); ``?status=scheduled,arrived`` filters by status."""

    queryset = Appointment.objects.all()
    serializer_class = AppointmentSerializer
    permission_classes = [IsPracticeMember]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset().prefetch_related("claims")
        statuses = choice_params(self.request, "status", Appointment.Status.values)
        return queryset.filter(status__in=statuses) if statuses else queryset


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = [
            "id",
            "printed_name",
            "credentials",
            "meaning",
            "attestation",
            "signed_at",
            "method",
            "content_hash",
            "addendum",
        ]


class NoteSerializer(serializers.ModelSerializer):
    """A note as read; writes go through ``NoteWriteSerializer`` and the services."""

    signatures = SignatureSerializer(many=True, read_only=True)
    addenda = serializers.SerializerMethodField()
    signatures_intact = serializers.SerializerMethodField(
        help_text="Whether every signature still matches the stored content (on a single note's answers)."
    )
    is_signed = serializers.BooleanField(read_only=True)
    is_locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = ClinicalNote
        fields = [
            "id",
            "patient",
            "provider",
            "appointment",
            "template",
            "note_type",
            "note_date",
            "status",
            "is_signed",
            "is_locked",
            *SECTION_NAMES,
            "diagnosis_codes",
            "procedures",
            "medications",
            "orders",
            "version",
            "amends",
            "amendment_reason",
            "revision",
            "signed_at",
            "locked_at",
            "claim",
            "signatures",
            "signatures_intact",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_signatures_intact(self, note: ClinicalNote) -> bool | None:
        return None  # set by the viewset, which checks them (lists leave it empty)

    def get_addenda(self, note: ClinicalNote) -> list[dict]:
        return [{"id": a.pk, "text": a.text, "created_at": a.created_at} for a in note.addenda.all()]


class NoteWriteSerializer(serializers.Serializer):
    """What a client may write on a note being drafted (all optional on update)."""

    patient = PracticePrimaryKeyField(queryset=Patient.objects.all())
    provider = PracticePrimaryKeyField(queryset=Provider.objects.all())
    appointment = PracticePrimaryKeyField(queryset=Appointment.objects.all(), required=False, allow_null=True)
    template = PracticePrimaryKeyField(queryset=NoteTemplate.objects.all(), required=False, allow_null=True)
    note_type = serializers.ChoiceField(choices=ClinicalNote.Type.choices, required=False)
    note_date = serializers.DateField(required=False)
    revision = serializers.IntegerField(
        required=False, min_value=1, help_text="The revision the client started from: a newer one is a 409."
    )
    diagnosis_codes = serializers.ListField(child=serializers.CharField(max_length=10), required=False, max_length=50)
    procedures = serializers.ListField(child=serializers.JSONField(), required=False, max_length=50)
    medications = serializers.ListField(child=serializers.CharField(max_length=500), required=False, max_length=50)
    orders = serializers.ListField(child=serializers.CharField(max_length=500), required=False, max_length=50)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in SECTION_NAMES:
            fields[name] = serializers.CharField(
                required=False, allow_blank=True, max_length=20000, trim_whitespace=False
            )
        return fields


class SignSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    meaning = serializers.ChoiceField(choices=Signature.Meaning.choices)


class AmendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AddendumSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    text = serializers.CharField(max_length=20000)


class NoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Clinical notes: create and update drafts, then sign, co-sign, lock, amend, add addenda.

    ``?status=`` filters by status; ``?patient=`` by patient id. A note amended by a signed
    correction is still readable, with ``status`` "amended".
    """

    queryset = ClinicalNote.objects.all()
    serializer_class = NoteSerializer
    permission_classes = [IsPracticeMember]

    def get_queryset(self):
        queryset = super().get_queryset().prefetch_related("signatures", "addenda")
        statuses = choice_params(self.request, "status", NoteStatus.values)
        if statuses:
            queryset = queryset.filter(status__in=statuses)
        patient = self.request.query_params.get("patient", "").strip()
        if patient:
            if not patient.isdigit() or len(patient) > 18:
                raise ValidationError({"patient": ["A valid integer is required."]})
            queryset = queryset.filter(patient_id=int(patient))
        return queryset

    def retrieve(self, request: Request, **kwargs) -> Response:
        return self._note(self.get_object())

    def _note(self, note: ClinicalNote, code: int = status.HTTP_200_OK) -> Response:
        """The note as stored now, with every signature checked against it (a mismatch is recorded)."""
        note = self.get_queryset().get(pk=note.pk)
        checks = services.verify(note, actor=Actor.of(self.request))
        data = NoteSerializer(note).data
        data["signatures_intact"] = all(check.intact for check in checks)
        return Response(data, status=code)

    @extend_schema(request=NoteWriteSerializer, responses={201: NoteSerializer})
    def create(self, request: Request) -> Response:
        data = self._valid(NoteWriteSerializer, request.data)
        content = {name: data[name] for name in data if name not in _START_FIELDS}
        with _service_errors():
            note = services.start_note(
                request.user.practice,
                actor=Actor.of(request),
                **{name: data[name] for name in _START_FIELDS if name in data},
            )
            if content:
                note = services.save_draft(note, content, actor=Actor.of(request))
        return self._note(note, status.HTTP_201_CREATED)

    @extend_schema(request=NoteWriteSerializer, responses=NoteSerializer)
    def partial_update(self, request: Request, **kwargs) -> Response:
        note = self.get_object()
        serializer = NoteWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        fixed = sorted(set(data) & {"patient", "provider", "appointment", "template"})
        if fixed:
            raise ValidationError({name: ["Set when the note is started; start a new note instead."] for name in fixed})
        revision = data.pop("revision", None)
        with _service_errors():
            note = services.save_draft(note, data, actor=Actor.of(request), revision=revision)
        return self._note(note)

    @extend_schema(request=SignSerializer, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, **kwargs) -> Response:
        """Sign (as author) or co-sign/review/approve, with the password re-entered."""
        note, data = self.get_object(), self._valid(SignSerializer, request.data)
        with _service_errors():
            services.sign(note, actor=Actor.of(request), **data)
        return self._note(note)

    @extend_schema(request=None, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, **kwargs) -> Response:
        with _service_errors():
            note = services.set_status(self.get_object(), NoteStatus.COMPLETED, actor=Actor.of(request))
        return self._note(note)

    @extend_schema(request=None, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, **kwargs) -> Response:
        with _service_errors():
            note = services.set_status(self.get_object(), NoteStatus.IN_PROGRESS, actor=Actor.of(request))
        return self._note(note)

    @extend_schema(request=None, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request: Request, **kwargs) -> Response:
        with _service_errors():
            note = services.lock(self.get_object(), actor=Actor.of(request))
        return self._note(note)

    @extend_schema(request=AmendSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, **kwargs) -> Response:
        """Start an amendment: a new draft version of a signed note, with the reason."""
        note, data = self.get_object(), self._valid(AmendSerializer, request.data)
        with _service_errors():
            amendment = services.amend(note, actor=Actor.of(request), **data)
        return self._note(amendment, status.HTTP_201_CREATED)

    @extend_schema(request=AddendumSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["post"])
    def addendum(self, request: Request, **kwargs) -> Response:
        note, data = self.get_object(), self._valid(AddendumSerializer, request.data)
        with _service_errors():
            services.add_addendum(note, actor=Actor.of(request), **data)
        return self._note(note, status.HTTP_201_CREATED)

    def _valid(self, serializer_class: type[serializers.Serializer], data) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


_START_FIELDS = ("patient", "provider", "appointment", "template", "note_type", "note_date")


@contextmanager
def _service_errors() -> Iterator[None]:
    """The services' refusals as API answers; bad content as a 400 with field errors."""
    try:
        yield
    except NoteActionError as error:
        raise Refused(error) from None
    except DjangoValidationError as error:
        raise ValidationError(
            error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
        ) from None
