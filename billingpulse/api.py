"""Core API: who am I, the practice's patients and providers, and the ICD-10-CM code picker."""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, filters, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from billingpulse import codes
from billingpulse.lib import unique
from billingpulse.models import Patient, Practice, Provider, User
from billingpulse.tenancy import IsPracticeAdminOrReadOnly, IsPracticeMember
from billingpulse.validators import validate_npi


class PracticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practice
        fields = ["id", "name", "npi", "tax_id", "time_zone"]


class MeSerializer(serializers.ModelSerializer):
    practice = PracticeSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "practice"]


class MeView(APIView):
    """The signed-in user, their practice and their role."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "account_number",
            "phone",
            "email",
            "address_line1",
            "city",
            "state",
            "zip_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_account_number(self, value: str) -> str:
        practice = self.context["request"].user.practice
        others = Patient.objects.filter(practice=practice, account_number=value)
        if value and others.exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError(unique.message(Patient, "patient_account_number_unique_per_practice"))
        return value


class ProviderSerializer(serializers.ModelSerializer):
    npi = serializers.CharField(max_length=10, validators=[validate_npi])

    class Meta:
        model = Provider
        fields = ["id", "first_name", "last_name", "credentials", "npi", "taxonomy_code", "is_active"]

    def validate_npi(self, value: str) -> str:
        practice = self.context["request"].user.practice
        others = Provider.objects.filter(practice=practice, npi=value)
        if others.exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError(unique.message(Provider, "provider_npi_unique_per_practice"))
        return value


class PracticeOwnedViewSet(viewsets.ModelViewSet):
    """Creates rows in the caller's practice; reads are scoped by the default filter backend.

    A duplicate that got in after the serializer's check answers that check's 400, not a 500.
    """

    def perform_create(self, serializer):
        with unique.api_unique_errors():
            serializer.save(practice=self.request.user.practice)

    def perform_update(self, serializer):
        with unique.api_unique_errors():
            serializer.save()


class PatientViewSet(PracticeOwnedViewSet):
    """Patients; ``?search=`` matches name or account number, ``?date_of_birth=YYYY-MM-DD``."""

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    permission_classes = [IsPracticeMember]
    filter_backends = [*api_settings.DEFAULT_FILTER_BACKENDS, filters.SearchFilter]
    search_fields = ["first_name", "last_name", "account_number"]

    def get_queryset(self):
        queryset = super().get_queryset()
        dob = self.request.query_params.get("date_of_birth")
        if dob:
            try:
                queryset = queryset.filter(date_of_birth=date.fromisoformat(dob))
            except ValueError:
                raise exceptions.ValidationError({"date_of_birth": ["Use a date like 1980-03-14."]}) from None
        return queryset


class ProviderViewSet(PracticeOwnedViewSet):
    """Every member reads providers; admins add and change them, as on the settings page."""

    queryset = Provider.objects.all()
    serializer_class = ProviderSerializer
    permission_classes = [IsPracticeAdminOrReadOnly]


class DiagnosisCodeQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=codes.MAX_QUERY_LENGTH,
        required=False,
        allow_blank=True,
        help_text="A code's start (E11, e119) or words of its title (type 2 diab). Empty finds nothing.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=50, default=codes.DEFAULT_LIMIT)


class DiagnosisCodeSerializer(serializers.Serializer):
    """One ``billingpulse.codes.Match``."""

    code = serializers.CharField(read_only=True, help_text="Upper case with its dot, like E11.9.")
    description = serializers.CharField(read_only=True)
    billable = serializers.BooleanField(read_only=True, help_text="Only billable codes may go on a claim.")


class DiagnosisCodeSearchView(APIView):
    """ICD-10-CM codes for a code picker, by code prefix or by word prefixes of the title.

    Code prefixes come in code order; word matches categories first, then their subcategories.
    Only ``billable`` codes may go on a claim. Reference data, the same for every practice.
    Code titles: ICD-10-CM, National Center for Health Statistics/CDC (the loaded release);
    show that credit wherever you show the titles.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[DiagnosisCodeQuerySerializer], responses=DiagnosisCodeSerializer(many=True))
    def get(self, request):
        params = DiagnosisCodeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        results = codes.search(params.validated_data.get("q", ""), params.validated_data["limit"])
        # The serializer's shape, written directly: this answers every keystroke of a picker.
        return Response([{"code": m.code, "description": m.description, "billable": m.billable} for m in results])
