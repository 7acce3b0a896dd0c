"""Payers, insurance policies, claims with their service lines, events and imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper

from billingpulse import codes as icd10
from billingpulse.encryption import EncryptedCharField, EncryptedTextField
from billingpulse.models import US_TIME_ZONES, Patient, PracticeOwned, Provider, TimestampedModel
from billingpulse.validators import add_days, validate_date_in_range, validate_phone
from claims.ivr import validate_ivr_config
from claims.status import ClaimStatus, allowed_targets

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")

validate_denial_code = RegexValidator(
    r"^((CO|PR|OA|PI|CR)-)?([1-9][0-9]{0,2}|[A-Z][0-9]{1,2})$",
    "Write a denial code as group and reason, like CO-16 or PR-1.",
)
validate_procedure_code = RegexValidator(
    r"^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$", "A CPT or HCPCS code has five characters, like 99213 or J1100."
)
MODIFIER_PATTERN = r"^[0-9A-Z]{2}$"
validate_modifier = RegexValidator(MODIFIER_PATTERN, "A modifier is two characters, like 25 or LT.")
validate_icd10 = RegexValidator(icd10.CODE_RE, "An ICD-10 code looks like E11.9 or Z00.00.")


def validate_icd10_list(codes: list) -> None:
    """Each code has the ICD-10 shape and, where a code set is loaded, is a billable code in it."""
    for code in codes or []:
        validate_icd10(code)
    if problems := icd10.problems(codes or []):
        raise ValidationError(problems, code="icd10_not_billable")


# Callables rather than fixed times: Django warns on fixed time defaults near the current
# hour (fields.W161), which would make `check --deploy` depend on the time of day.
def default_opens_at() -> time:
    return time(8)


def default_closes_at() -> time:
    return time(17)


class Payer(PracticeOwned):
    """An insurance company the practice bills and calls."""

    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=20, help_text="The electronic payer ID, like 60054.")
    phone = models.CharField(
        "claims phone",
        max_length=16,
        blank=True,
        validators=[validate_phone],
        help_text="The provider services line for claim status, like +18005550100.",
    )
    phone_extension = models.CharField(max_length=10, blank=True)
    ivr_notes = models.TextField(
        "IVR notes", max_length=2000, blank=True, help_text="Anything a caller should know about the menu."
    )
    ivr_config = models.JSONField(
        "IVR menu", default=dict, blank=True, validators=[validate_ivr_config], help_text="Structured menu steps."
    )
    time_zone = models.CharField(max_length=64, choices=US_TIME_ZONES, default="America/New_York")
    opens_at = models.TimeField(default=default_opens_at, help_text="Business hours start, in the payer's time zone.")
    closes_at = models.TimeField(default=default_closes_at)
    open_weekdays = models.CharField(
        max_length=7,
        default="01234",
        validators=[RegexValidator(r"^[0-6]{1,7}$", "List open days as digits, Monday = 0 … Sunday = 6.")],
        help_text="Days the line is open, Monday = 0 … Sunday = 6.",
    )
    # Ten years is past any payer's filing limit; the bound keeps every deadline a real date.
    timely_filing_days = models.PositiveIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Days after the date of service to file a claim.",
    )
    max_calls_per_window = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(1000)],
        help_text="Empty: the default limit of calls to this payer.",
    )
    call_window_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "payer_id"],
                name="payer_id_unique_per_practice",
                violation_error_message="Another payer in this practice has this payer ID.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.payer_id})"


class InsurancePolicy(PracticeOwned):
    class Priority(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"
        TERTIARY = "tertiary", "Tertiary"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="policies")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="policies")
    member_id = models.CharField("member ID", max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    subscriber_name = models.CharField(
        max_length=200, blank=True, help_text="Empty when the patient is the subscriber."
    )
    subscriber_relationship = models.CharField(max_length=20, blank=True, default="self")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.PRIMARY)
    effective_from = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    effective_to = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    class Meta:
        ordering = ["patient", "priority"]
        verbose_name_plural = "insurance policies"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "payer", "member_id"],
                name="policy_unique_member_per_payer",
                violation_error_message="This patient already has a policy with this payer and member ID.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer.name} {self.member_id}"


class ClaimQuerySet(models.QuerySet):
    def search(self, words: Iterable[str]) -> ClaimQuerySet:
        """Claims whose number or patient's name holds every word ("ann", "lee" find Ann Lee, not every Ann)."""
        queryset = self
        for word in words:
            # Lower-cased by the database on both sides, as the triggers that keep search_text do.
            queryset = queryset.filter(search_text__contains=Lower(models.Value(word)))
        return queryset


class Claim(PracticeOwned):
    class Type(models.TextChoices):
        PROFESSIONAL = "professional", "Professional"
        INSTITUTIONAL = "institutional", "Institutional"
        DENTAL = "dental", "Dental"
        PHARMACY = "pharmacy", "Pharmacy"

    class Form(models.TextChoices):
        CMS_1500 = "cms1500", "CMS-1500"
        UB_04 = "ub04", "UB-04"

    Status = ClaimStatus

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    policy = models.ForeignKey(InsurancePolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="claims")
    claim_number = models.CharField(max_length=50)
    claim_type = models.CharField(max_length=15, choices=Type.choices, default=Type.PROFESSIONAL)
    claim_form = models.CharField("form", max_length=10, choices=Form.choices, default=Form.CMS_1500)
    service_date_from = models.DateField("date of service", validators=[validate_date_in_range])
    service_date_to = models.DateField("service to", null=True, blank=True, validators=[validate_date_in_range])
    diagnosis_codes = models.JSONField(
        "ICD-10 codes", default=list, blank=True, validators=[validate_icd10_list], help_text="In pointer order."
    )
    total_charge = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    allowed_amount = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)])
    paid_amount = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    adjustment_amount = models.DecimalField(**MONEY, default=ZERO)
    # The ledger's projection, like the three amounts above: written only by billing.posting.
    patient_responsibility = models.DecimalField(
        **MONEY, default=ZERO, help_text="What the patient owes on this claim now."
    )
    balance = models.DecimalField(**MONEY, default=ZERO, help_text="What is still owed on this claim, by anyone.")
    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    denial_code = models.CharField(max_length=10, blank=True, validators=[validate_denial_code])
    denial_reason = EncryptedCharField(max_length=300, blank=True)
    remark_codes = models.JSONField("remark codes (RARC)", default=list, blank=True)
    last_call_outcome = EncryptedTextField(max_length=2000, blank=True)
    call_reference_number = models.CharField(max_length=60, blank=True)
    next_steps = EncryptedTextField(
        max_length=2000, blank=True, help_text="What has to happen next, from the last call or a biller."
    )
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_follow_up_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    # Stored (not computed in queries) so the worklist can filter and sort on it.
    timely_filing_deadline = models.DateField(null=True, blank=True, editable=False)
    # The import that last wrote this claim: a second row with the same claim number in
    # one file is found through it, without keeping every claim number in memory.
    last_import = models.ForeignKey(
        "ClaimImport", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    # "<claim number> <patient's first name> <last name>", lower case: what a search matches. Kept by
    # database triggers (migration 0012) on every write, bulk ones and patient renames included, so
    # the value on an instance just saved is not current; read it from the database.
    search_text = models.TextField(default="", editable=False)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date_from", "claim_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "claim_number"],
                name="claim_number_unique_per_practice",
                violation_error_message="Another claim in this practice has this claim number.",
            )
        ]
        indexes = [
            # The worklist's default order (latest date of service, then latest claim) read from an index.
            models.Index(fields=["practice", "status", "-service_date_from", "-id"]),
            models.Index(fields=["practice", "payer"]),
            models.Index(fields=["practice", "denial_code", "-service_date_from", "-id"]),
            models.Index(fields=["practice", "next_follow_up_date", "id"]),
            models.Index(fields=["practice", "timely_filing_deadline", "id"]),
            # The default order again, carrying what a search and the open-claims filter read, so that a
            # search for a common name walks it and stops at the page's last match (PostgreSQL).
            models.Index(
                fields=["practice", "-service_date_from", "-id"],
                include=["status", "search_text"],
                name="claim_worklist_order",
            ),
            models.Index(fields=["practice", "-total_charge"]),
            models.Index(Upper("claim_number"), "practice", name="claim_number_upper"),
        ]

    def __str__(self) -> str:
        return self.claim_number

    def save(self, *args, **kwargs) -> None:
        self.timely_filing_deadline = self.compute_timely_filing_deadline()
        super().save(*args, **kwargs)

    def compute_timely_filing_deadline(self) -> date | None:
        if not self.service_date_from or not self.payer_id:
            return None
        return add_days(self.service_date_from, self.payer.timely_filing_days)

    @property
    def outstanding_balance(self) -> Decimal:
        """What is still owed, never below zero (an overpaid claim's credit is not owed)."""
        return max(self.balance, ZERO)

    @property
    def payment_percentage(self) -> Decimal:
        if not self.total_charge:
            return ZERO
        return (self.paid_amount / self.total_charge * 100).quantize(Decimal("0.1"))

    @property
    def lines_total(self) -> Decimal:
        """The service lines' charges added up: a draft's charge before submitting posts it."""
        return sum((line.charge for line in self.lines.all()), ZERO)

    @property
    def is_fully_paid(self) -> bool:
        return self.total_charge > ZERO and self.outstanding_balance == ZERO

    @property
    def allowed_statuses(self) -> list[ClaimStatus]:
        return allowed_targets(self.status)


class ClaimLine(TimestampedModel):
    practice_path = "claim__practice"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    service_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    procedure_code = models.CharField("CPT/HCPCS", max_length=5, validators=[validate_procedure_code])
    modifiers = models.JSONField(default=list, blank=True)
    units = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(0)])
    charge = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    diagnosis_pointers = models.CharField(
        max_length=4, blank=True, validators=[RegexValidator(r"^[A-L1-9]{1,4}$", "Up to four pointers, like AB.")]
    )
    place_of_service = models.CharField(
        max_length=2, blank=True, validators=[RegexValidator(r"^\d{2}$", "Two digits, like 11 for office.")]
    )
    revenue_code = models.CharField(
        max_length=4, blank=True, validators=[RegexValidator(r"^\d{4}$", "Four digits, like 0450 (UB-04).")]
    )

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [models.UniqueConstraint(fields=["claim", "line_number"], name="claim_line_number_unique")]

    def __str__(self) -> str:
        return f"{self.claim} line {self.line_number}: {self.procedure_code}"


class ClaimEvent(models.Model):
    """One entry on a claim's timeline: who did what, when and why. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        IMPORTED = "imported", "Imported"
        UPDATED = "updated", "Updated"
        STATUS_CHANGED = "status_changed", "Status changed"
        NOTE = "note", "Note"
        CALL = "call", "Call"

    practice_path = "claim__practice"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=ClaimStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ClaimStatus.choices, blank=True)
    message = EncryptedTextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=20, default="user", help_text="user, import, call or system")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["claim", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.claim}: {self.get_kind_display()}"


class ClaimImport(PracticeOwned):
    """One uploaded spreadsheet: its column mapping, progress and outcome."""

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for column check"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    file = models.FileField(upload_to="claim-imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list)
    column_mapping = models.JSONField(default=dict, help_text="Column index → field name.")
    default_payer = models.ForeignKey(Payer, on_delete=models.SET_NULL, null=True, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    failure_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ClaimImportError(models.Model):
    """A rejected row of an import, with where and why, for the biller's report."""

    practice_path = "claim_import__practice"

    claim_import = models.ForeignKey(ClaimImport, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.message}"


class FeeScheduleEntry(PracticeOwned):
    """What the practice charges for a procedure code (with a modifier, where the charge differs)."""

    code = models.CharField("CPT/HCPCS", max_length=5, validators=[validate_procedure_code])
    modifier = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_modifier],
        help_text="Empty: the charge for the code with any modifier not listed on its own.",
    )
    charge = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])

    class Meta:
        ordering = ["code", "modifier"]
        verbose_name_plural = "fee schedule entries"
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "code", "modifier"],
                name="fee_schedule_code_unique_per_practice",
                violation_error_message="The fee schedule already has a charge for this code and modifier.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label}: ${self.charge:,.2f}"

    @property
    def label(self) -> str:
        """The code as billers write it with its modifier: ``99213`` or ``99213-25``."""
        return f"{self.code}-{self.modifier}" if self.modifier else self.code


class ClaimNumbering(PracticeOwned):
    """The practice's sequence of claim numbers for claims it creates itself (charge capture)."""

    practice = models.OneToOneField("billingpulse.Practice", on_delete=models.CASCADE, related_name="claim_numbering")
    prefix = models.CharField(
        max_length=10,
        default="BP",
        validators=[RegexValidator(r"^[A-Z0-9-]{0,10}$", "Letters, digits and hyphens, like BP or CLM-.")],
    )
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.prefix}{self.next_number:06d}"
