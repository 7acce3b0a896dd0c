from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from billingpulse import codes, services
from billingpulse.lib import unique
from billingpulse.models import EMAIL_TAKEN, Invitation, Practice, Provider, User
from billingpulse.validators import normalize_tax_id, normalize_us_phone


def _email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


class SignUpForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150, required=False)
    email = forms.EmailField(label="Work email", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password and not all numbers.",
    )
    practice_name = forms.CharField(label="Practice name", max_length=200)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if _email_taken(email):
            raise forms.ValidationError(EMAIL_TAKEN)
        return email

    def clean_practice_name(self) -> str:
        name = self.cleaned_data["practice_name"].strip()
        if not name:
            raise forms.ValidationError("Enter your practice's name.")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class PhoneNormalizingMixin:
    def clean_phone(self) -> str:
        return normalize_us_phone(self.cleaned_data.get("phone", ""))


class PracticeForm(PhoneNormalizingMixin, forms.ModelForm):
    class Meta:
        model = Practice
        fields = [
            "name",
            "npi",
            "tax_id",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "phone",
            "time_zone",
            "notification_email",
        ]

    def clean_tax_id(self) -> str:
        return normalize_tax_id(self.cleaned_data.get("tax_id", "").strip())

    def clean_state(self) -> str:
        return self.cleaned_data.get("state", "").strip().upper()


class InviteMemberForm(forms.Form):
    full_name = forms.CharField(label="Name", max_length=150)
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.STAFF)

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice

    def clean_email(self) -> str:
        # Only this practice's members are named: whether an address is used in another
        # practice is nobody's business here (services.invite_member answers as for a new one).
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(practice=self.practice, email__iexact=email).exists():
            raise forms.ValidationError(services.ALREADY_MEMBER.format(email=email))
        return email


class AcceptInvitationForm(forms.Form):
    """The invitee's name and password; the address, practice and role come from the invitation."""

    full_name = forms.CharField(label="Your name", max_length=150, error_messages={"required": "Enter your name."})
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password and not all numbers.",
    )
    password2 = forms.CharField(
        label="Confirm password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, invitation: Invitation, **kwargs) -> None:
        kwargs.setdefault("initial", {"full_name": invitation.full_name})
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self) -> dict:
        cleaned = super().clean()
        password, confirmation = cleaned.get("password1"), cleaned.get("password2")
        if password and confirmation and password != confirmation:
            self.add_error("password2", "The two passwords do not match.")
        elif password:
            candidate = User(email=self.invitation.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices)


class ProviderForm(forms.ModelForm):
    class Meta:
        model = Provider
        fields = ["first_name", "last_name", "credentials", "npi", "taxonomy_code", "is_active"]

    def clean_npi(self) -> str:
        npi = self.cleaned_data["npi"].strip()
        # The view sets instance.practice; the unique constraint spans it, so check here.
        others = Provider.objects.filter(practice_id=self.instance.practice_id, npi=npi).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(unique.message(Provider, "provider_npi_unique_per_practice"))
        return npi


class CodeSearchForm(forms.Form):
    """The code picker's query: a code's start (``E11``, ``e119``) or words of its title."""

    q = forms.CharField(label="Code or words", max_length=codes.MAX_QUERY_LENGTH, required=False)
