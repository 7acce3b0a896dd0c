"""The knowledge base's entries: denial codes and payer policies, per practice.

The database holds the entries (admins edit them); Chroma holds their embeddings for
retrieval (``ai.knowledge``). Each practice has its own knowledge base, seeded with the
starter set of common denial codes.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from billingpulse.models import PracticeOwned
from billingpulse.validators import validate_date_in_range

validate_carc = RegexValidator(
    r"^([1-9][0-9]{0,2}|[A-Z][0-9]{1,2})$",
    "Write the reason code without its group, like 16, 197 or B7.",
)


class DenialCode(PracticeOwned):
    code = models.CharField(
        "reason code (CARC)", max_length=4, validators=[validate_carc], help_text="Without the group: 16, not CO-16."
    )
    description = models.TextField(max_length=2000, help_text="What the code means, in plain words.")
    remedy = models.TextField(
        "usual remedy", max_length=2000, blank=True, help_text="What usually gets the claim paid."
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "code"],
                name="denial_code_unique_per_practice",
                violation_error_message="This reason code is already in the knowledge base; edit that entry.",
            )
        ]

    def __str__(self) -> str:
        return self.code


class PayerPolicy(PracticeOwned):
    payer = models.CharField(max_length=200, help_text="The payer's name or payer ID, as on your claims.")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(max_length=20000)
    source = models.CharField(max_length=300, blank=True, help_text="Where the policy comes from: a URL or document.")
    effective_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    class Meta:
        ordering = ["payer", "-effective_date", "pk"]
        verbose_name_plural = "payer policies"

    def __str__(self) -> str:
        return f"{self.payer}: {self.title or self.text[:40]}"
