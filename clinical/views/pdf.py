"""The printable note: ``/notes/<id>/pdf/`` answers with a PDF of that version of the note.

Printing is a read, but a recorded one: the signatures are checked against the stored content
each time (a mismatch is recorded and printed as a warning), and the print itself goes into the
note's audit trail with who asked for it and from where.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from billingpulse.actor import Actor
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required
from clinical import services
from clinical.models import ClinicalNote
from clinical.pdf import render_note_pdf


@require_GET
@member_required
def note_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    notes = ClinicalNote.objects.select_related("practice", "patient", "provider", "amends")
    note = get_for_practice(request, notes, pk)
    actor = Actor.of(request)
    checks = services.verify(note, actor=actor)
    content = render_note_pdf(note, checks)
    services.record_printed(note, actor)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="note-{note.pk}-v{note.version}.pdf"'
    # It carries protected health information: no browser or proxy keeps a copy.
    response["Cache-Control"] = "no-store"
    return response
