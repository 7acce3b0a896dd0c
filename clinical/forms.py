"""Forms of the clinical note pages: the list's filters, starting a note, the editor, signing,
amending and addenda.

The forms only turn what was typed into the values ``clinical.services`` takes (a procedure line
of text into its code, modifiers, units and pointers); every rule about codes and about who may
do what is the services' own, and their messages are put back on these forms by the views.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db import models
from django.utils import timezone

from billingpulse.lib import unique
from billingpulse.models import Patient, Practice, Provider
from clinical.models import (
    SECTION_NAMES,
    SECTIONS,
    TYPE_SECTIONS,
    Appointment,
    ClinicalNote,
    NoteTemplate,
    NoteType,
    Signature,
)
from clinical.status import NoteStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
_UNITS = re.compile(r"^[xX](\d+)$")
_POINTERS = re.compile(r"^[A-La-l]{1,4}$")


class NoteFilterForm(forms.Form):
    q = forms.CharField(
        label="Patient",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Patient name", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "All statuses"), *NoteStatus.choices])
    provider = forms.ModelChoiceField(label="Provider", required=False, queryset=Provider.objects.none())

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(practice=practice)
        self.fields["provider"].empty_label = "All providers"

    def filter(self, notes: models.QuerySet) -> models.QuerySet:
        """The notes matching the filters; a filter with invalid input is left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        for word in (data.get("q") or "").split():
            notes = notes.filter(
                models.Q(patient__first_name__icontains=word) | models.Q(patient__last_name__icontains=word)
            )
        if data.get("status"):
            notes = notes.filter(status=data["status"])
        if data.get("provider"):
            notes = notes.filter(provider=data["provider"])
        return notes

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class StartNoteForm(forms.Form):
    patient = forms.ModelChoiceField(queryset=Patient.objects.none())
    provider = forms.ModelChoiceField(queryset=Provider.objects.none())
    note_type = forms.ChoiceField(label="Type", choices=NoteType.choices, initial=NoteType.SOAP)
    template = forms.ModelChoiceField(
        queryset=NoteTemplate.objects.none(),
        required=False,
        help_text="Prefills the sections; a template's own type replaces the type above.",
    )
    note_date = forms.DateField(
        label="Date of service",
        required=False,
        widget=DATE_INPUT,
        input_formats=DATE_FORMATS,
        help_text="Today if left empty.",
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(practice=practice).order_by("last_name", "first_name")
        self.fields["patient"].label_from_instance = lambda p: (
            f"{p.last_name}, {p.first_name} ({p.date_of_birth:%m/%d/%Y})"
        )
        self.fields["provider"].queryset = Provider.objects.filter(practice=practice, is_active=True)
        self.fields["template"].queryset = NoteTemplate.objects.filter(practice=practice, is_active=True)


def parse_procedure_line(text: str) -> dict[str, Any]:
    """One line like ``99213 25 x1 AB`` as ``{"code", "modifiers", "units", "pointers"}``.

    The code comes first, then modifiers; ``x`` and a number are the units, and what follows them
    is the diagnosis pointers. Without a units token, a last token of one, three or four letters
    A–L is taken as the pointers (two letters read as a modifier, like ``LT``).
    """
    tokens = text.replace(",", " ").split()
    line: dict[str, Any] = {"code": tokens[0] if tokens else "", "modifiers": [], "units": 1, "pointers": ""}
    rest = tokens[1:]
    units_at = next((i for i, token in enumerate(rest) if _UNITS.match(token)), None)
    if units_at is not None:
        line["units"] = _UNITS.match(rest[units_at])[1]  # type: ignore[index]
        line["modifiers"], after = rest[:units_at], rest[units_at + 1 :]
        line["pointers"] = "".join(after)
    elif rest and _POINTERS.match(rest[-1]) and len(rest[-1]) != 2:
        line["modifiers"], line["pointers"] = rest[:-1], rest[-1]
    else:
        line["modifiers"] = rest
    return line


def format_procedure_line(line: dict[str, Any]) -> str:
    parts = [str(line.get("code", "")), *line.get("modifiers", []), f"x{line.get('units', 1)}"]
    if line.get("pointers"):
        parts.append(str(line["pointers"]))
    return " ".join(parts)


class NoteEditForm(forms.Form):
    """The editor: a textarea per section, the codes as text, and the revision it started from."""

    revision = forms.IntegerField(widget=forms.HiddenInput(attrs={"id": "id_revision"}), min_value=1)
    note_type = forms.ChoiceField(label="Type", choices=NoteType.choices)
    note_date = forms.DateField(label="Date of service", widget=DATE_INPUT, input_formats=DATE_FORMATS)
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes (ICD-10-CM)",
        required=False,
        max_length=1000,
        help_text="In pointer order (A first), separated by commas or spaces, like J20.9, R05.1.",
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )
    procedures = forms.CharField(
        label="Procedures (CPT/HCPCS)",
        required=False,
        max_length=5000,
        help_text="One line each: code, modifiers, units as x1, diagnosis pointers; like 99213 25 x1 AB.",
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
    )
    medications = forms.CharField(
        required=False, max_length=25000, help_text="One per line.", widget=forms.Textarea(attrs={"rows": 3})
    )
    orders = forms.CharField(
        required=False, max_length=25000, help_text="One per line.", widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in reversed(SECTIONS):
            self.fields = {
                name: forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 4})),
                **self.fields,
            }

    @classmethod
    def for_note(cls, note: ClinicalNote, data: Any = None) -> NoteEditForm:
        initial = {name: getattr(note, name) for name, _ in SECTIONS}
        initial |= {
            "revision": note.revision,
            "note_type": note.note_type,
            "note_date": note.note_date,
            "diagnosis_codes": ", ".join(note.diagnosis_codes),
            "procedures": "\n".join(format_procedure_line(line) for line in note.procedures),
            "medications": "\n".join(note.medications),
            "orders": "\n".join(note.orders),
        }
        return cls(data, initial=initial)

    @property
    def section_fields(self) -> list[forms.BoundField]:
        """The sections of the note's type, and any other section that has text."""
        return [self[name] for name in SECTION_NAMES if self._shown(name)]

    @property
    def other_section_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SECTION_NAMES if not self._shown(name)]

    def _shown(self, name: str) -> bool:
        sections = TYPE_SECTIONS.get(self.initial.get("note_type", ""), SECTION_NAMES)
        return name in sections or bool(self[name].value())

    def values(self) -> dict[str, Any]:
        """The cleaned form as the values ``services.save_draft`` takes."""
        data = self.cleaned_data
        values = {name: data[name] for name, _ in SECTIONS}
        values["note_type"], values["note_date"] = data["note_type"], data["note_date"]
        values["diagnosis_codes"] = [code for code in re.split(r"[\s,;]+", data["diagnosis_codes"]) if code]
        values["procedures"] = [parse_procedure_line(line) for line in data["procedures"].splitlines() if line.strip()]
        values["medications"] = data["medications"]
        values["orders"] = data["orders"]
        return values


class SignForm(forms.Form):
    """Password re-entered, a meaning and the attestation. Every meaning validates here; the
    select offers only those the signer may use, and the service refuses the rest."""

    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    meaning = forms.ChoiceField(label="Signing as", choices=Signature.Meaning.choices)
    attest = forms.BooleanField(
        label="I attest to the statement above, and that this electronic signature is my legal signature."
    )

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = [(value, label) for value, label in Signature.Meaning.choices if value in allowed]
        self.fields["meaning"].widget.choices = offered
        if offered and not self.is_bound:
            self.initial.setdefault("meaning", offered[0][0])


class AmendForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Stays with the note and shows in its version history.",
        error_messages={"required": "Say why the note is being amended: the reason stays with the note."},
    )


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write the addendum's text."},
    )
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


# -- note templates and the patient chart ------------------------------------------------------------


class NoteTemplateForm(forms.ModelForm):
    """A template's name, type and in-use flag, and a textarea per note section.

    The sections are kept in ``NoteTemplate.sections`` as section name → text, only those with
    text. Their text is kept as typed (a template may end a line with a space for the provider
    to go on writing); a section of only spaces counts as empty.
    """

    class Meta:
        model = NoteTemplate
        fields = ["name", "note_type", "is_active"]
        labels = {"note_type": "Note type", "is_active": "In use (offered when starting a note)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.sections or {}
        for name, label in SECTIONS:
            limit = ClinicalNote._meta.get_field(name).max_length
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                strip=False,
                max_length=limit,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.initial.setdefault(name, stored.get(name, ""))

    @property
    def section_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _ in SECTIONS]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        # The view sets instance.practice; the unique constraint spans it, so check here.
        others = NoteTemplate.objects.filter(practice_id=self.instance.practice_id, name__iexact=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(unique.message(NoteTemplate, "note_template_name_unique_per_practice"))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.instance.sections = {
            name: data[name].replace("\r\n", "\n") for name, _ in SECTIONS if data.get(name) and data[name].strip()
        }
        return data


DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AppointmentForm(forms.Form):
    """Schedule an appointment for a patient. The time is read in the practice's time zone."""

    provider = forms.ModelChoiceField(queryset=Provider.objects.none())
    starts_at = forms.DateTimeField(
        label="Date and time",
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p"],
        error_messages={"invalid": "Enter a date and time, like 03/14/2026 09:30."},
    )
    duration_minutes = forms.IntegerField(
        label="Minutes",
        initial=30,
        min_value=5,
        max_value=12 * 60,
        widget=forms.NumberInput(attrs={"step": "5", "min": "5", "max": str(12 * 60)}),
    )
    kind = forms.ChoiceField(label="Type", choices=Appointment.Kind.choices, initial=Appointment.Kind.FOLLOW_UP)
    reason = forms.CharField(label="Reason for visit", required=False, max_length=300)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(practice.time_zone)
        self.fields["provider"].queryset = Provider.objects.filter(practice=practice, is_active=True)
        self.fields["starts_at"].help_text = f"{practice.get_time_zone_display()} time."

    def clean_starts_at(self) -> datetime:
        """The typed wall-clock time in the practice's zone. A time skipped when clocks go forward
        does not exist there, so it is refused rather than silently moved."""
        value = self.cleaned_data["starts_at"]
        wall = value.replace(tzinfo=None) if timezone.is_aware(value) else value
        aware = wall.replace(tzinfo=self.zone)
        if aware.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != wall:
            raise forms.ValidationError("That time does not exist here: the clocks go forward then. Pick another.")
        return aware


class AppointmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)
