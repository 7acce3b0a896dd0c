"""Forms of the remittance (835) pages: upload, post, and matching a held payment to a claim."""

from __future__ import annotations

from django import forms

from billingpulse.models import Practice
from claims.models import Claim

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label="835 file",
        help_text="The electronic remittance advice (X12 835) from the payer or clearinghouse, up to 20 MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            size = upload.size / 1024 / 1024
            raise forms.ValidationError(
                f"This file is {size:.1f} MB; an 835 can be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB. "
                "Ask the payer or clearinghouse for it split by payment."
            )
        if upload.size == 0:
            raise forms.ValidationError("This file is empty.")
        return upload


class PostForm(forms.Form):
    hold_unmatched = forms.BooleanField(
        required=False,
        label="Post the matched claims and hold the rest in the unmatched queue",
    )
    confirm = forms.BooleanField(label="I have checked the preview: post this remittance to the ledger")


class ClaimMatchForm(forms.Form):
    claim_number = forms.CharField(max_length=50, label="Claim number", help_text="Our claim number, as on the claim.")

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice

    def clean_claim_number(self) -> Claim:
        number = self.cleaned_data["claim_number"].strip()
        found = list(Claim.objects.filter(practice=self.practice, claim_number__iexact=number).order_by("pk")[:5])
        exact = [c for c in found if c.claim_number == number]
        if len(exact) == 1:
            return exact[0]
        if not found:
            raise forms.ValidationError(f"No claim numbered {number}.")
        if len(found) > 1:
            raise forms.ValidationError(f"Several claims are numbered {number} in other cases; type it exactly.")
        return found[0]
