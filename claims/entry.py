"""Claims entered by hand: the new-claim page's forms, the service-line rows it shares with the
edit page, and the writes that go with them.

The forms lean on the models' validators (procedure codes, ICD-10 codes through
``validate_icd10_list``, pointers, places of service, dates, amounts), the rules the claim import
and the API apply too. Money goes on the books only through ``services.create_claim`` and
``services.save_claim_changes``, which post through billing's ledger.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.forms.utils import ErrorDict, ErrorList

from billing.forms import PatientSearchForm
from billingpulse.lib import unique
from billingpulse.models import Patient, Practice, Provider, User
from billingpulse.validators import MAX_ID
from claims import services
from claims.forms import ClaimEditForm, DiagnosisCodesField, check_service_dates
from claims.models import MONEY, ZERO, Claim, ClaimLine, InsurancePolicy, Payer, validate_modifier
from claims.status import ClaimStatus

PREFIX = "lines"
NEW_CLAIM_LINES = 3  # blank rows a new claim starts with: enough to work without JavaScript
MAX_LINES = 50
MAX_MODIFIERS = 4
MAX_TOTAL = Decimal(10 ** (MONEY["max_digits"] - MONEY["decimal_places"])) - Decimal("0.01")
PATIENT_RESULTS = 10
POINTERS = "ABCDEFGHIJKL"  # CMS-1500 box 21
ENTERED = "Entered by hand."
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def as_id(value) -> int | None:
    """A submitted id as an int that fits the database, or None for anything else."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))):
        return None
    return int(text) if 0 < int(text) <= MAX_ID else None


class PracticeChoiceField(forms.ModelChoiceField):
    """A row chosen by id from the practice's rows (the form narrows the queryset).

    Another practice's id, like one that exists nowhere or one too large for any row, is "not
    one of the available choices": the answer never says whether the row exists.
    """

    def to_python(self, value):
        if value not in self.empty_values and as_id(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ModifiersField(forms.CharField):
    """Up to four modifiers typed as ``25, LT`` (or ``25 lt``), kept as a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[str]:
        return [part.upper() for part in re.split(r"[\s,;]+", super().to_python(value)) if part]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for modifier in value:
            validate_modifier(modifier)
        if len(value) > MAX_MODIFIERS:
            raise ValidationError(f"A line has at most {MAX_MODIFIERS} modifiers.")

    def has_changed(self, initial, data) -> bool:
        try:
            return (initial or []) != self.to_python(data)
        except ValidationError:
            return True


class ServiceLineForm(forms.ModelForm):
    """One service line; the model's validators check each value."""

    modifiers = ModifiersField(
        required=False, widget=forms.TextInput(attrs={"placeholder": "25, LT", "autocomplete": "off", "size": 8})
    )

    class Meta:
        model = ClaimLine
        # The line fields a client gives (services.LINE_FIELDS) but the institutional revenue code.
        fields = [name for name in services.LINE_FIELDS if name != "revenue_code"]
        widgets = {
            "service_date": DATE_INPUT,
            "procedure_code": forms.TextInput(attrs={"placeholder": "99213", "autocomplete": "off", "size": 6}),
            "diagnosis_pointers": forms.TextInput(attrs={"placeholder": "AB", "autocomplete": "off", "size": 4}),
            "place_of_service": forms.TextInput(attrs={"placeholder": "11", "inputmode": "numeric", "size": 3}),
        }
        labels = {
            "service_date": "Date",
            "procedure_code": "CPT/HCPCS",
            "diagnosis_pointers": "Dx pointers",
            "place_of_service": "POS",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["charge"].widget.attrs.update(
            {"step": "0.01", "min": "0", "inputmode": "decimal", "data-line-charge": ""}
        )
        self.fields["units"].widget.attrs.update({"step": "any", "min": "0", "inputmode": "decimal"})

    def clean_procedure_code(self) -> str:
        return self.cleaned_data["procedure_code"].strip().upper()

    def clean_diagnosis_pointers(self) -> str:
        return re.sub(r"[\s,;]+", "", self.cleaned_data["diagnosis_pointers"]).upper()

    def values(self) -> dict:
        """The line as ``services.create_claim`` and ``services.replace_lines`` take it."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ServiceLineFormSet(forms.BaseFormSet):
    """A claim's service lines in order. A blank row is no line; "Remove" drops a row.

    ``diagnosis_codes`` (set before validating) lets each changed line's pointers be checked
    against the codes they point at.
    """

    required = True
    diagnosis_codes: list[str] | None = None

    def clean(self) -> None:
        if any(self.errors):
            return
        for form in self.kept_forms():
            if form.has_changed() and self.diagnosis_codes is not None:
                _check_pointers(form, len(self.diagnosis_codes))
        lines = self.kept_forms()
        if self.required and not lines:
            raise ValidationError("Add at least one service line.", code="no_lines")
        if sum((form.cleaned_data["charge"] for form in lines), ZERO) > MAX_TOTAL:
            raise ValidationError("The total charge is too large: split the lines over several claims.")

    def kept_forms(self) -> list[ServiceLineForm]:
        """The rows that are lines: every row already on the claim and every row typed in, less removed ones."""
        return [
            form
            for index, form in enumerate(self.forms)
            if (index < self.initial_form_count() or form.has_changed()) and not self._should_delete_form(form)
        ]

    def line_values(self) -> list[dict]:
        return [form.values() for form in self.kept_forms()]

    def typed_total(self) -> Decimal | None:
        """The charges as typed so far, for the page's total: rows that do not read as money count
        nothing; None (no total shown) past what the books hold."""
        total = ZERO
        for form in self.forms:
            try:
                charge = Decimal(str(form["charge"].value() or "0").strip() or "0")
            except InvalidOperation:
                continue
            if not charge.is_finite() or abs(charge) > MAX_TOTAL:
                return None
            total += charge
        return total if abs(total) <= MAX_TOTAL else None


def _check_pointers(form: ServiceLineForm, codes: int) -> None:
    pointers = form.cleaned_data.get("diagnosis_pointers", "")
    for pointer in pointers:
        position = POINTERS.index(pointer) if pointer in POINTERS else int(pointer) - 1
        if position >= codes:
            form.add_error("diagnosis_pointers", f"Pointer {pointer} has no diagnosis code.")
            return


def line_formset(data=None, *, initial: list[dict] | None = None, extra: int = 1, required: bool = True):
    formset_class = forms.formset_factory(
        ServiceLineForm,
        formset=ServiceLineFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_LINES,
        validate_max=True,
        absolute_max=MAX_LINES,
    )
    formset_class.required = required
    return formset_class(data, initial=initial, prefix=PREFIX)


def blank_line(index: int) -> ServiceLineForm:
    """The empty row ``index`` that "Add line" appends."""
    return ServiceLineForm(prefix=f"{PREFIX}-{index}", empty_permitted=True, use_required_attribute=False)


class ClaimEntryForm(forms.ModelForm):
    """A new claim's details. The patient is one of the practice's (or ``NewPatientForm``); the
    policy is the patient's with the payer, or ``member_id`` adds one."""

    patient = PracticeChoiceField(
        queryset=Patient.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        help_text="Search by name, account number or date of birth (MM/DD/YYYY).",
    )
    patient_q = forms.CharField(label="Find a patient", required=False, max_length=100)
    member_id = forms.CharField(
        label="New member ID",
        required=False,
        max_length=40,
        help_text="A policy not on file yet: it is added to the patient with this payer.",
    )
    diagnosis_codes = DiagnosisCodesField(
        label="ICD-10 codes",
        required=False,
        help_text="In pointer order (A, B, C…), separated by commas, like E11.9, I10.",
    )

    class Meta:
        model = Claim
        fields = [
            "patient",
            "payer",
            "policy",
            "provider",
            "claim_number",
            "service_date_from",
            "service_date_to",
            "diagnosis_codes",
        ]
        field_classes = {"payer": PracticeChoiceField, "policy": PracticeChoiceField, "provider": PracticeChoiceField}
        widgets = {"service_date_from": DATE_INPUT, "service_date_to": DATE_INPUT}
        labels = {
            "provider": "Rendering provider",
            "claim_number": "Claim number",
            "service_date_from": "Date of service",
            "service_date_to": "Last date of service",
        }
        help_texts = {
            "claim_number": "Leave empty for the practice's next number.",
            "service_date_to": "Only for a claim that spans several days.",
        }

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, instance=Claim(practice=practice), **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(practice=practice)
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice)
        self.fields["payer"].empty_label = "Choose a payer…"
        self.fields["policy"].queryset = InsurancePolicy.objects.filter(practice=practice)
        self.fields["provider"].queryset = Provider.objects.filter(practice=practice, is_active=True)
        self.fields["provider"].empty_label = "No rendering provider"
        self.fields["claim_number"].required = False

    def clean_claim_number(self) -> str:
        number = self.cleaned_data["claim_number"].strip()
        # The unique constraint spans the practice, which is not a field of the form.
        if number and Claim.objects.filter(practice_id=self.instance.practice_id, claim_number=number).exists():
            raise ValidationError(unique.message(Claim, "claim_number_unique_per_practice"))
        return number

    def clean(self) -> dict:
        cleaned = super().clean()
        check_service_dates(self, cleaned)
        policy, patient, payer = cleaned.get("policy"), cleaned.get("patient"), cleaned.get("payer")
        if policy is not None and (patient is None or policy.patient_id != patient.pk or policy.payer_id != payer.pk):
            self.add_error("policy", "This policy is not the patient's policy with this payer.")
        if policy is not None and cleaned.get("member_id"):
            self.add_error("member_id", "Choose a policy on file or type a new member ID, not both.")
        return cleaned


class NewPatientForm(forms.ModelForm):
    """A patient added with the claim. Left blank, it adds no one."""

    NAMES = ("first_name", "last_name", "date_of_birth")

    class Meta:
        model = Patient
        fields = ["first_name", "last_name", "date_of_birth", "sex"]
        widgets = {"date_of_birth": DATE_INPUT}
        labels = {"date_of_birth": "Date of birth"}

    def __init__(self, data=None, *, practice: Practice) -> None:
        super().__init__(
            data,
            prefix="new_patient",
            instance=Patient(practice=practice),
            empty_permitted=True,
            use_required_attribute=False,
        )

    def has_changed(self) -> bool:
        # Sex has a default choice; only a name or a birth date typed in means a patient is being added.
        return any(str(self[name].data or "").strip() for name in self.NAMES)

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last, born = (cleaned.get(name) for name in self.NAMES)
        if first and last and born:
            on_file = Patient.objects.filter(
                practice_id=self.instance.practice_id,
                first_name__iexact=first.strip(),
                last_name__iexact=last.strip(),
                date_of_birth=born,
            )
            if on_file.exists():
                raise ValidationError(
                    "%(name)s, born %(born)s, is already on file: find the patient above instead.",
                    params={"name": f"{first.strip()} {last.strip()}", "born": born.strftime("%m/%d/%Y")},
                )
        return cleaned


class ClaimEntry:
    """The new-claim page: the claim's details, a new patient (if one is added), the service lines."""

    def __init__(self, practice: Practice, data=None, *, initial: dict | None = None) -> None:
        self.practice = practice
        self.form = ClaimEntryForm(data, practice=practice, initial=initial)
        self.new_patient = NewPatientForm(data, practice=practice)
        self.lines = line_formset(data, extra=NEW_CLAIM_LINES)

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        if "diagnosis_codes" not in self.form.errors:
            self.lines.diagnosis_codes = self.form.cleaned_data.get("diagnosis_codes", [])
        valid = [form_valid, self.new_patient.is_valid(), self.lines.is_valid()]
        if "patient" not in self.form.errors:
            chosen, adding = self.form.cleaned_data.get("patient"), self.new_patient.has_changed()
            if chosen and adding:
                self.form.add_error("patient", "Choose a patient on file or add a new one, not both.")
            elif not chosen and not adding:
                self.form.add_error("patient", "Choose a patient, or add a new one.")
        return all(valid) and not self.form.errors

    def add_error(self, error: ValidationError) -> None:
        """A refusal from the write (a claim number taken a moment ago), on its field."""
        fields = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        for name, messages in fields.items():
            self.form.add_error(name if name in self.form.fields else None, messages)

    def quiet(self) -> ClaimEntry:
        """The entry shown again as typed but not yet checked (after "Find" or "Add line")."""
        for form in [self.form, self.new_patient, *self.lines.forms]:
            form._errors = ErrorDict()
        self.lines._errors, self.lines._non_form_errors = [], ErrorList()
        return self

    def patient_results(self) -> list[Patient]:
        return search_patients(self.practice, self.form["patient_q"].value() or "", self.form["patient"].value())

    def policies(self) -> models.QuerySet[InsurancePolicy]:
        return policies_for(self.practice, self.form["patient"].value(), self.form["payer"].value())


def search_patients(practice: Practice, query: str, selected=None) -> list[Patient]:
    """The practice's patients matching ``query`` (names, account number, birth date), with the
    chosen patient first, so that a new search never drops the choice."""
    patients = Patient.objects.filter(practice=practice)
    found = list(PatientSearchForm({"q": query[:100]}).search(patients)[:PATIENT_RESULTS]) if query.strip() else []
    chosen = patients.filter(pk=selected).first() if as_id(selected) else None
    if chosen is not None:
        found = [chosen, *(patient for patient in found if patient.pk != chosen.pk)]
    return found


def policies_for(practice: Practice, patient, payer) -> models.QuerySet[InsurancePolicy]:
    """The patient's policies with the payer (none until both are chosen)."""
    if as_id(patient) is None or as_id(payer) is None:
        return InsurancePolicy.objects.none()
    return InsurancePolicy.objects.filter(practice=practice, patient_id=as_id(patient), payer_id=as_id(payer))


@transaction.atomic
def create_entered_claim(entry: ClaimEntry, *, actor: User) -> Claim:
    """Write a validated entry: the new patient and policy (if any), the claim with its lines, and
    its charge on the books. All or nothing."""
    cleaned, practice = entry.form.cleaned_data, entry.practice
    patient = cleaned["patient"] or entry.new_patient.save()
    policy = cleaned["policy"]
    if cleaned["member_id"]:
        policy, _ = InsurancePolicy.objects.get_or_create(
            practice=practice, patient=patient, payer=cleaned["payer"], member_id=cleaned["member_id"].strip()
        )
    lines = entry.lines.line_values()
    for line in lines:
        line["service_date"] = line["service_date"] or cleaned["service_date_from"]
    values = {
        "practice": practice,
        "patient": patient,
        "payer": cleaned["payer"],
        "provider": cleaned["provider"],
        "policy": policy,
        "claim_number": cleaned["claim_number"] or services.next_claim_number(practice),
        "service_date_from": cleaned["service_date_from"],
        "service_date_to": cleaned["service_date_to"],
        "diagnosis_codes": cleaned["diagnosis_codes"],
        "total_charge": sum((line["charge"] for line in lines), ZERO),
    }
    return services.create_claim(values, lines, actor=actor, message=ENTERED)


# -- the edit page's service lines ------------------------------------------------------------


def edit_lines(claim: Claim, data=None) -> ServiceLineFormSet:
    """The claim's lines as rows to edit. A POST without the rows (an older page) leaves them alone:
    the formset stays unbound and ``save_claim_edit`` skips it."""
    initial = [
        {name: getattr(line, name) for name in ServiceLineForm._meta.fields}
        for line in claim.lines.order_by("line_number")
    ]
    bound = data if data is not None and f"{PREFIX}-TOTAL_FORMS" in data else None
    return line_formset(bound, initial=initial, extra=1 if initial else 2, required=False)


def edit_is_valid(claim: Claim, form: ClaimEditForm, lines: ServiceLineFormSet) -> bool:
    """The edit form and its rows are valid, and a total typed beside changed lines is their sum."""
    form_valid = form.is_valid()
    if not lines.is_bound:
        return form_valid
    if "diagnosis_codes" not in form.errors:
        lines.diagnosis_codes = form.cleaned_data.get("diagnosis_codes", [])
    if not (lines.is_valid() and form_valid):
        return False
    new_total = _lines_total(claim, lines)
    if new_total is not None and "total_charge" in form.changed_data and form.cleaned_data["total_charge"] != new_total:
        form.add_error(
            "total_charge",
            f"The charge of a claim with service lines is the sum of its service lines, ${new_total:,.2f}.",
        )
        return False
    return True


def _lines_total(claim: Claim, lines: ServiceLineFormSet) -> Decimal | None:
    """The charge changed lines set: their sum; None if the lines leave the charge alone (unchanged,
    all removed, or a draft's, whose charge is posted from its lines when it is submitted)."""
    if not (lines.is_bound and lines.has_changed()) or claim.status == ClaimStatus.DRAFT:
        return None
    kept = lines.line_values()
    return sum((line["charge"] for line in kept), ZERO) if kept else None


@transaction.atomic
def save_claim_edit(claim: Claim, form: ClaimEditForm, lines: ServiceLineFormSet, *, actor: User) -> bool:
    """Save a valid edit: the details, the lines (``replace_lines``) and, when the lines changed
    the claim's charge, the difference posted as a charge correction. False if nothing changed."""
    changed = [name for name in form.changed_data if name != "charge_reason"]
    reason = form.cleaned_data["charge_reason"]
    claim = form.save(commit=False)
    new_total = _lines_total(claim, lines)
    lines_changed = lines.is_bound and services.replace_lines(claim, lines.line_values(), actor=actor)
    if lines_changed and new_total is not None and new_total != form.initial["total_charge"]:
        claim.total_charge = new_total
        if "total_charge" not in changed:
            changed.append("total_charge")
        reason = reason or "The service lines changed."
    services.save_claim_changes(claim, changed, actor=actor, charge_reason=reason)
    return bool(changed or lines_changed)
