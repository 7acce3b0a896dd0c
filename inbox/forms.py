from __future__ import annotations

from datetime import date, timedelta

from django import forms

from billingpulse.models import Practice, User
from inbox.services import SNOOZE_CHOICES


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Unassigned",
        error_messages={"invalid_choice": "Choose an active member of your practice."},
    )

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(practice=practice, is_active=True)


class SnoozeForm(forms.Form):
    """Snooze for 1, 3 or 7 days (the buttons), or until a chosen day."""

    days = forms.ChoiceField(choices=[(key, key) for key in SNOOZE_CHOICES] + [("date", "date")])
    until = forms.DateField(required=False, error_messages={"invalid": "Enter the day as YYYY-MM-DD."})

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        days = cleaned.get("days")
        if days in SNOOZE_CHOICES:
            cleaned["until"] = self.today + timedelta(days=SNOOZE_CHOICES[days])
        elif days == "date" and not cleaned.get("until") and "until" not in self.errors:
            self.add_error("until", "Choose the day the item should come back.")
        return cleaned
