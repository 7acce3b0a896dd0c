"""Forms of the document pages: they validate what a biller typed or chose; the views call
``documents.services`` with the cleaned data. Every choice of a patient, claim or person is
limited to the request's practice, so another practice's id simply selects nothing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email
from django.db import models

from billingpulse.models import Patient, Practice, User
from claims.models import Claim
from clinical.models import ClinicalNote
from documents.models import DocumentType
from documents.services import LINKS, SHARE_DAYS
from documents.status import DocumentStatus
from telephony.models import Call

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]


def _patients(practice: Practice) -> models.QuerySet[Patient]:
    return Patient.objects.filter(practice=practice).order_by("last_name", "first_name")


def patient_label(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name} ({patient.date_of_birth:%m/%d/%Y})"


def claim_label(claim: Claim) -> str:
    return (
        f"{claim.claim_number} · {claim.service_date_from:%m/%d/%Y}" if claim.service_date_from else claim.claim_number
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or more files; cleans to a list (the "required" message when there are none)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            return [super().clean(None, initial)] if self.required else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class DocumentFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Title or words in the file", "autocomplete": "off"}
        ),
    )
    document_type = forms.ChoiceField(label="Type", required=False, choices=[("", "All types"), *DocumentType.choices])
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "All statuses"), *DocumentStatus.choices])
    patient = forms.ModelChoiceField(label="Patient", required=False, queryset=Patient.objects.none())
    claim = forms.ModelChoiceField(
        label="Claim", required=False, queryset=Claim.objects.none(), widget=forms.HiddenInput
    )
    date_from = forms.DateField(label="Uploaded from", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)
    date_to = forms.DateField(label="Uploaded to", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = _patients(practice)
        self.fields["patient"].label_from_instance = patient_label
        self.fields["patient"].empty_label = "All patients"
        self.fields["claim"].queryset = Claim.objects.filter(practice=practice)

    def filter(self, documents: models.QuerySet) -> models.QuerySet:
        """The documents matching the filters (without the search words); invalid filters are left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("document_type"):
            documents = documents.filter(document_type=data["document_type"])
        if data.get("status"):
            documents = documents.filter(status=data["status"])
        if data.get("patient"):
            documents = documents.filter(patient=data["patient"])
        if data.get("claim"):
            documents = documents.filter(claim=data["claim"])
        if data.get("date_from"):
            documents = documents.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            documents = documents.filter(created_at__date__lte=data["date_to"])
        return documents

    @property
    def query(self) -> str:
        return (getattr(self, "cleaned_data", {}).get("q") or "").strip()

    @property
    def chosen_claim(self) -> Claim | None:
        return getattr(self, "cleaned_data", {}).get("claim")

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class UploadForm(forms.Form):
    """One file (or several, each uploaded as its own document) for a patient, maybe for a claim."""

    file = MultipleFileField(
        label="Files",
        error_messages={"required": "Choose a file to upload.", "empty": "This file is empty."},
        help_text="PDF, images (PNG, JPEG, TIFF), Word, Excel, CSV or text files.",
    )
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        error_messages={
            "required": "Choose the patient this document belongs to.",
            "invalid_choice": "Choose one of your practice's patients.",
        },
    )
    document_type = forms.ChoiceField(
        label="Type",
        choices=[("", "Choose a type"), *DocumentType.choices],
        error_messages={"required": "Choose what kind of document this is."},
    )
    title = forms.CharField(
        required=False, max_length=200, help_text="The file's name if left empty.", widget=forms.TextInput()
    )
    claim = forms.ModelChoiceField(
        queryset=Claim.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That claim is not one of your practice's."},
    )
    note = forms.ModelChoiceField(
        queryset=ClinicalNote.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That note is not one of your practice's."},
    )
    call = forms.ModelChoiceField(
        queryset=Call.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That call is not one of your practice's."},
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        # Its own ids: it shares the list page with the filters, which have a patient and a type too.
        kwargs.setdefault("auto_id", "upload_%s")
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = _patients(practice)
        self.fields["patient"].label_from_instance = patient_label
        self.fields["patient"].empty_label = "Choose a patient"
        self.fields["claim"].queryset = Claim.objects.filter(practice=practice)
        self.fields["note"].queryset = ClinicalNote.objects.filter(practice=practice)
        self.fields["call"].queryset = Call.objects.filter(practice=practice).select_related("claim")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        patient = data.get("patient")
        for name, record in self.links().items():
            owner = record.claim.patient_id if name == "call" else record.patient_id
            if patient is not None and owner != patient.pk:
                self.add_error(name, f"That {LINKS[name]} is for another patient.")
        return data

    def links(self) -> dict[str, Any]:
        """The claim, note or call the files are attached to (the ones given)."""
        return {name: self.cleaned_data[name] for name in ("claim", "note", "call") if self.cleaned_data.get(name)}


class VersionForm(forms.Form):
    file = forms.FileField(
        label="New version",
        error_messages={"required": "Choose the file of the new version.", "empty": "This file is empty."},
    )
    comment = forms.CharField(label="What changed", required=False, max_length=300)


class MoveForm(forms.Form):
    status = forms.ChoiceField(
        choices=DocumentStatus.choices, error_messages={"invalid_choice": "Choose one of the actions offered."}
    )
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    text = forms.CharField(
        label="Comment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a comment first."},
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Reviewer",
        required=False,
        queryset=User.objects.none(),
        error_messages={"invalid_choice": "Choose someone in your practice."},
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(practice=practice, is_active=True).order_by(
            "full_name", "email"
        )
        self.fields["assignee"].label_from_instance = lambda user: user.display_name
        self.fields["assignee"].empty_label = "Nobody"


class AttachForm(forms.Form):
    claim = forms.ModelChoiceField(
        label="Claim",
        required=False,
        queryset=Claim.objects.none(),
        error_messages={"invalid_choice": "Choose one of this patient's claims."},
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claim"].queryset = Claim.objects.filter(practice_id=patient.practice_id, patient=patient).order_by(
            "-service_date_from", "claim_number"
        )
        self.fields["claim"].label_from_instance = claim_label
        self.fields["claim"].empty_label = "No claim"


class _VersionChoiceForm(forms.Form):
    """A form that acts on one version of the document, the current one unless another is chosen."""

    version = forms.TypedChoiceField(
        label="Version", coerce=int, error_messages={"invalid_choice": "Choose one of this document's versions."}
    )

    def __init__(self, *args: Any, document: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document = document
        versions = list(document.versions.order_by("-number"))
        self.fields["version"].choices = [
            (v.number, f"Version {v.number}{' (current)' if v.pk == document.current_version_id else ''}")
            for v in versions
        ]
        self.fields["version"].initial = versions[0].number if versions else None
        self._versions = {v.number: v for v in versions}

    @property
    def chosen_version(self) -> Any:
        return self._versions[self.cleaned_data["version"]]


class ShareForm(_VersionChoiceForm):
    days = forms.TypedChoiceField(
        label="Link works for",
        coerce=int,
        choices=[(days, f"{days} day{'s' if days > 1 else ''}") for days in SHARE_DAYS],
        error_messages={"invalid_choice": "Choose how long the link works."},
    )
    recipient = forms.CharField(
        label="Shared with",
        required=False,
        max_length=200,
        help_text="Who the link is for, for the history (for example “Aetna appeals”).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "share_%s")
        super().__init__(*args, **kwargs)


class EmailForm(_VersionChoiceForm):
    to = forms.CharField(
        label="To",
        max_length=1000,
        help_text="One or more addresses, separated by commas.",
        error_messages={"required": "Enter the address to send it to."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    message = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    MAX_RECIPIENTS = 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "email_%s")
        super().__init__(*args, **kwargs)

    def clean_to(self) -> list[str]:
        addresses = [a.strip() for a in self.cleaned_data["to"].replace(";", ",").split(",") if a.strip()]
        if not addresses:
            raise forms.ValidationError("Enter the address to send it to.")
        if len(addresses) > self.MAX_RECIPIENTS:
            raise forms.ValidationError(f"Send to at most {self.MAX_RECIPIENTS} addresses at a time.")
        bad = [address for address in addresses if not _is_email(address)]
        if bad:
            raise forms.ValidationError(f"“{bad[0]}” is not an email address.")
        return list(dict.fromkeys(address.lower() for address in addresses))


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except forms.ValidationError:
        return False
    return True
