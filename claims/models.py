from __future__ import annotations

from django.db import models

from billingpulse.models import PracticeOwned
from billingpulse.validators import validate_phone


class Payer(PracticeOwned):
    """An insurance company the practice bills and calls."""

    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=20, help_text="The electronic payer ID, like 60054.")
    phone = models.CharField(
        "claims phone", max_length=16, blank=True, validators=[validate_phone], help_text="E.164, like +18005550100."
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "payer_id"], name="payer_id_unique_per_practice")]

    def __str__(self) -> str:
        return f"{self.name} ({self.payer_id})"
