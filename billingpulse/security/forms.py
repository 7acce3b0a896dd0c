from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )


class SetupForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from the app",
        max_length=12,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password", max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RequirementForm(forms.Form):
    required = forms.BooleanField(label="Require two-factor sign-in for every member", required=False)
