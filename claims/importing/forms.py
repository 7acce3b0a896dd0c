from __future__ import annotations

from django import forms

from claims.importing.headers import FIELDS
from claims.models import Payer

ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="A CSV or Excel (.xlsx) export of your denied or unpaid claims, up to 20 MB.",
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        required=False,
        empty_label="Use the payer column in the file",
        help_text="If the file has no payer column, every claim in it is for this payer.",
    )

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice)


class MappingForm(forms.Form):
    """One choice per column of the file: which claim field it holds, or ignore it."""

    def __init__(self, *args, headers: list[str], mapping: dict[int, str], practice, default_payer=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— Ignore this column —")] + [(name, label) for name, label, _required in FIELDS]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}", choices=choices, required=False, initial=mapping.get(index, "")
            )
        self.fields["payer"] = forms.ModelChoiceField(
            queryset=Payer.objects.filter(practice=practice),
            required=False,
            initial=default_payer,
            empty_label="Use the payer column in the file",
            label="Payer for every row",
        )

    def columns(self, notes: dict[int, str] | None = None):
        """The column choices in file order. A column with a note is described by ``<id>_note``."""
        for index in notes or {}:
            if field := self.fields.get(f"col_{index}"):
                field.widget.attrs["aria-describedby"] = f"{self[f'col_{index}'].auto_id}_note"
        return [self[name] for name in self.fields if name.startswith("col_")]

    def mapping(self) -> dict[int, str]:
        return {
            int(name.removeprefix("col_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("col_") and value
        }
