"""The core of every practice: the practice itself, its users, patients and providers."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from billingpulse.validators import validate_date_in_range, validate_npi, validate_phone, validate_tax_id

US_TIME_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no DST (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
]

validate_state = RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code, like TX.")
validate_zip = RegexValidator(r"^\d{5}(-\d{4})?$", "Use a 5-digit ZIP code, or ZIP+4 like 78701-1234.")

# Sign-up says so plainly (the usual trade-off, rate-limited); team invitations never do.
EMAIL_TAKEN = "An account with this email already exists. Sign in instead, or reset your password."


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Practice(TimestampedModel):
    name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[validate_npi])
    tax_id = models.CharField("tax ID (EIN)", max_length=10, blank=True, validators=[validate_tax_id])
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[validate_state])
    zip_code = models.CharField("ZIP code", max_length=10, blank=True, validators=[validate_zip])
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])
    time_zone = models.CharField(max_length=64, choices=US_TIME_ZONES, default="America/New_York")
    notification_email = models.EmailField(
        blank=True, help_text="Where call outcomes and alerts are sent. Empty: every active user."
    )
    # Claim status → days until the next payer call when the payer gave no date; missing
    # statuses use telephony's defaults.
    follow_up_cadence = models.JSONField(default=dict, blank=True)
    # Every member must sign in with a second factor (billingpulse/security/two_factor.py).
    require_two_factor = models.BooleanField(
        "require two-factor sign-in",
        default=False,
        # In the table too, so rows written by code that predates the column still insert.
        db_default=False,
        help_text="Members without an authenticator app are asked to set one up when they next sign in.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def today(self) -> date:
        """Today in the practice's time zone: due dates, follow-ups and report periods are its days."""
        return timezone.localdate(timezone=ZoneInfo(self.time_zone))

    @property
    def profile_complete(self) -> bool:
        return all([self.npi, self.tax_id, self.address_line1, self.city, self.state, self.zip_code, self.phone])


class PracticeOwned(TimestampedModel):
    """Base for every row that belongs to one practice; tenancy filters on ``practice``."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    email = models.EmailField(unique=True, error_messages={"unique": EMAIL_TAKEN})
    full_name = models.CharField(max_length=150, blank=True)
    # Operators (superusers) may have no practice; every practice user has exactly one.
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, null=True, blank=True, related_name="users")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("operator (admin site)", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique", violation_error_message=EMAIL_TAKEN)
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def is_practice_admin(self) -> bool:
        return self.is_active and self.practice_id is not None and self.role == self.Role.ADMIN


class Patient(PracticeOwned):
    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        UNKNOWN = "U", "Unknown"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_date_in_range])
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    account_number = models.CharField(
        "account number", max_length=40, blank=True, help_text="The practice's own patient or chart number."
    )
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[validate_state])
    zip_code = models.CharField("ZIP code", max_length=10, blank=True, validators=[validate_zip])

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["practice", "last_name", "first_name", "date_of_birth"])]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "account_number"],
                condition=~models.Q(account_number=""),
                name="patient_account_number_unique_per_practice",
                violation_error_message="Another patient in this practice has this account number.",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Provider(PracticeOwned):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    credentials = models.CharField(max_length=40, blank=True, help_text="MD, DO, NP, PA-C…")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    taxonomy_code = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField("active", default=True, help_text="Inactive providers are kept for old claims.")
    # The provider's own sign-in: only that user signs the provider's notes as their author.
    user = models.OneToOneField(
        "User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provider",
        help_text="The provider's own sign-in, with which they sign their notes.",
    )
    can_cosign = models.BooleanField(
        "supervising provider",
        default=False,
        help_text="May co-sign other providers' notes.",
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "npi"],
                name="provider_npi_unique_per_practice",
                violation_error_message="Another provider in this practice has this NPI.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}, {self.credentials}" if self.credentials else self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# How long an invitation's link works; sending it again starts the period anew.
INVITATION_EXPIRY = timedelta(days=7)
INVITATION_PENDING = "This address already has a pending invitation to your practice."


def hash_invitation_token(token: str) -> str:
    """The stored form of an invitation token: only its hash is kept, so the table holds no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> InvitationQuerySet:
        """Neither accepted nor withdrawn (possibly expired): shown on the team page, re-sent by a new invite."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def usable(self, now: datetime | None = None) -> InvitationQuerySet:
        """Open and not yet expired: the ones whose link can still be accepted."""
        return self.open().filter(sent_at__gt=(now or timezone.now()) - INVITATION_EXPIRY)

    def for_token(self, token: str) -> Invitation | None:
        return self.filter(token_hash=hash_invitation_token(token)).select_related("practice", "invited_by").first()


class Invitation(PracticeOwned):
    """An address invited to join a practice; the account is made only when the link is accepted.

    Every invite makes (or re-sends) one of these, whether or not the address has an
    account elsewhere, so the team page cannot tell the two apart.
    """

    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=10, choices=User.Role.choices, default=User.Role.STAFF)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # SHA-256 of the random token in the emailed link; a re-send replaces it.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField("withdrawn at", null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_pending_unique_per_practice",
                violation_error_message=INVITATION_PENDING,
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.practice}"

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def issue_token(self) -> str:
        """A new random link token (the old link stops working); only its hash is kept."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_invitation_token(token)
        self.sent_at = timezone.now()
        return token

    @property
    def expires_at(self) -> datetime:
        return self.sent_at + INVITATION_EXPIRY

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class DiagnosisCodeSet(models.Model):
    """One fiscal year's ICD-10-CM code set as loaded by ``manage.py load_icd10``.

    Reference data shared by every practice (no practice key). A fiscal year's codes apply
    to dates of service from ``valid_from`` to ``valid_to`` (FY2026: 2025-10-01 to
    2026-09-30); ``billingpulse.codes`` picks the set by date of service.
    """

    version = models.CharField(max_length=10, unique=True, help_text="The fiscal year, like FY2026.")
    release = models.CharField(max_length=60, help_text="Like FY2026 (April 1, 2026).")
    valid_from = models.DateField(validators=[validate_date_in_range])
    valid_to = models.DateField(validators=[validate_date_in_range])
    source = models.CharField(max_length=200, help_text="The package or the CDC files it was loaded from.")
    code_count = models.PositiveIntegerField(default=0)
    billable_count = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"ICD-10-CM {self.release}"

    @property
    def attribution(self) -> str:
        """The credit shown wherever the code titles are shown (the titles are NCHS/CDC's, unmodified)."""
        from billingpulse.codes import attribution

        return attribution(self.release)

    def covers(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_to


class DiagnosisCode(models.Model):
    """An ICD-10-CM category or subcategory of one code set, e.g. E11 (a header) or E11.9 (billable).

    Chapters and blocks (``E08-E13``) are not stored: they can never go on a claim. PostgreSQL
    also has search indexes that the models do not declare (migration 0008).
    """

    code_set = models.ForeignKey(DiagnosisCodeSet, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=8, help_text="Upper case with its dot, like E11.9.")
    description = models.CharField(max_length=400)
    billable = models.BooleanField(help_text="A leaf of the classification: the only codes a claim may carry.")
    parent = models.CharField(max_length=8, help_text="The category or block above it, like E11 or E08-E13.")
    # For a header: a billable code under it to suggest (the shortest, preferring "unspecified" .9).
    billable_example = models.CharField(max_length=8, blank=True)
    # The description's words, lower case, each after one space (" type 2 diabetes mellitus"),
    # so LIKE '% diab%' finds a word prefix the same way on every database.
    search_text = models.CharField(max_length=400)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code_set", "code"], name="diagnosis_code_unique_per_set")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"
