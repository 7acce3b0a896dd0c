"""What a reader of a note sees, on its page and in its PDF: the sections with text, the
diagnosis codes with their claim pointers, and each signature (the note's, then each addendum's)
with the result of checking it against the stored content."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinical.models import SECTIONS, ClinicalNote

if TYPE_CHECKING:
    from clinical.services import SignatureCheck

# Diagnosis pointers, as on a claim: the first code is A, up to twelve.
POINTERS = "ABCDEFGHIJKL"


def note_record(note: ClinicalNote, checks: list[SignatureCheck]) -> dict[str, Any]:
    """``checks`` are ``services.verify(note)``'s (the caller runs it, so it is recorded once)."""
    by_addendum = {check.signature.addendum_id: check for check in checks if check.signature.addendum_id}
    return {
        "sections": [(label, getattr(note, name)) for name, label in SECTIONS if getattr(note, name)],
        "diagnoses": list(zip(POINTERS, note.diagnosis_codes, strict=False)),
        "checks": [check for check in checks if check.signature.addendum_id is None],
        "addenda": [(addendum, by_addendum.get(addendum.pk)) for addendum in note.addenda.select_related("author")],
        "tampered": any(not check.intact for check in checks),
    }
