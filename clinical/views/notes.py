"""Clinical note pages: the list with the provider's inbox, starting a note, the note itself with
its signatures, versions and audit trail, the editor with autosave, signing, locking, amending and
addenda.

Views stay thin: they fetch the note through the practice's doorway, bind a form and call
``clinical.services``, which holds every rule. A refused act (``NoteActionError``) comes back as
the service's message with its status (400, 403 or 409); nothing is changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from billingpulse import paging
from billingpulse.actor import Actor
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required, scoped
from clinical import services
from clinical.forms import (
    AddendumForm,
    AmendForm,
    NoteEditForm,
    NoteFilterForm,
    SignForm,
    StartNoteForm,
    format_procedure_line,
)
from clinical.models import SECTIONS, ClinicalNote, Signature
from clinical.record import note_record
from clinical.services import NoteActionError
from clinical.status import EDITABLE, NoteStatus

T = TypeVar("T")
PER_PAGE = 50
INBOX_SHOWN = 10
STALE_DRAFT_AGE = timedelta(days=1)
LIST = "clinical/note_list.html"
EDIT = "clinical/note_edit.html"
SIGN = "clinical/note_sign.html"


def _get_note(request: AuthedRequest, pk: int) -> ClinicalNote:
    return get_for_practice(request, ClinicalNote.objects.select_related("patient", "provider", "author"), pk)


def _refused(request: AuthedRequest, note: ClinicalNote, error: NoteActionError) -> HttpResponse:
    """A page (or, for htmx, the message alone) saying why the act was refused, with its status."""
    template = "clinical/note_refused.html#refusal" if request.htmx else "clinical/note_refused.html"
    return render(request, template, {"note": note, "message": error.message}, status=error.status)


# -- list ------------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def note_list(request: AuthedRequest) -> HttpResponse:
    filters = NoteFilterForm(request.GET, practice=request.practice)
    current = scoped(request, ClinicalNote).current().select_related("patient", "provider")
    listing = paging.paginate(request, filters.filter(current), PER_PAGE)
    context = {
        "filters": filters,
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "is_filtered": filters.is_filtered,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{LIST}#note-table", context)
    return render(request, LIST, context | {"inbox": _inbox(request, current)})


def _inbox(request: AuthedRequest, current: QuerySet[ClinicalNote]) -> dict | None:
    """A provider's work: their notes to sign, others' notes to co-sign, and their stale drafts."""
    provider = getattr(request.user, "provider", None)
    if provider is None or provider.practice_id != request.practice.pk:
        return None
    to_cosign = current.none()
    if provider.can_cosign:
        cosigned = Signature.objects.filter(signer=request.user, addendum=None).values("note_id")
        to_cosign = (
            current.filter(status__in=[NoteStatus.SIGNED, NoteStatus.LOCKED])
            .exclude(provider=provider)
            .exclude(pk__in=cosigned)
        )
    stale = current.filter(
        Q(provider=provider) | Q(author=request.user),
        status__in=[NoteStatus.DRAFT, NoteStatus.IN_PROGRESS],
        created_at__lt=timezone.now() - STALE_DRAFT_AGE,
    )
    return {
        "to_sign": current.filter(provider=provider, status__in=EDITABLE)[:INBOX_SHOWN],
        "to_cosign": to_cosign[:INBOX_SHOWN],
        "stale": stale[:INBOX_SHOWN],
        "can_cosign": provider.can_cosign,
    }


# -- start a note ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def note_new(request: AuthedRequest) -> HttpResponse:
    # ?patient=<id> (from the patient's chart) preselects the patient; the choices are the
    # practice's patients only, so any other value simply selects nobody. A provider writes
    # their own notes: they are the provider preselected.
    provider = getattr(request.user, "provider", None)
    initial = {"patient": request.GET.get("patient", ""), "provider": provider.pk if provider else None}
    form = StartNoteForm(request.POST or None, practice=request.practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            note = services.start_note(
                request.practice,
                patient=data["patient"],
                provider=data["provider"],
                note_type=data["note_type"],
                template=data["template"],
                note_date=data["note_date"],
                actor=Actor.of(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Note started.")
            return redirect("clinical:edit", pk=note.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "clinical/note_new.html", {"form": form}, status=status)


# -- the note --------------------------------------------------------------------------------------


@require_GET
@member_required
def note_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    checks = services.verify(note, actor=Actor.of(request))
    versions = _versions(request, note)
    context = {
        "note": note,
        **note_record(note, checks),
        "versions": versions,
        "latest": versions[-1]["note"] if versions[-1]["note"].pk != note.pk else None,
        "events": note.events.select_related("actor"),
        "meanings": services.allowed_meanings(note, request.user),
        # Amended once at a time: a version already amended (its correction being written) is not again.
        "can_amend": note.status in (NoteStatus.SIGNED, NoteStatus.LOCKED)
        and not any(version["note"].amends_id == note.pk for version in versions),
    }
    return render(request, "clinical/note_detail.html", context)


def _versions(request: AuthedRequest, note: ClinicalNote) -> list[dict]:
    """Every version of the note's series, oldest first, each with its changes from the one before."""
    series = scoped(request, ClinicalNote).filter(Q(pk=note.series_id) | Q(first_version_id=note.series_id))
    versions: list[dict] = []
    previous = None
    for version in series.order_by("version", "pk"):
        changes = []
        if previous is not None:
            for (label, old), (_, new) in zip(_compared(previous), _compared(version), strict=True):
                if old != new:
                    changes.append((label, word_diff(old, new)))
        versions.append({"note": version, "changes": changes})
        previous = version
    return versions


def _compared(note: ClinicalNote) -> list[tuple[str, str]]:
    """Each part of a note a version history compares, as (label, text): sections, then codes."""
    return [
        *((label, getattr(note, name)) for name, label in SECTIONS),
        ("Diagnosis codes", " ".join(note.diagnosis_codes)),
        ("Procedures", "; ".join(format_procedure_line(line) for line in note.procedures)),
        ("Medications", "; ".join(note.medications)),
        ("Orders", "; ".join(note.orders)),
        ("Date of service", f"{note.note_date:%m/%d/%Y}"),
    ]


def word_diff(old: str, new: str) -> SafeString:
    """``new`` against ``old`` word by word, removed words in ``<del>`` and added ones in ``<ins>``."""
    a, b = old.split(), new.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return mark_safe(" ".join(parts))  # every word is escaped above


# -- editing ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def note_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """The editor. Saving a note signed meanwhile is refused by the service (and recorded); a save
    from an older revision is shown on the form as a conflict."""
    note = _get_note(request, pk)
    form = NoteEditForm.for_note(note, request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        if not note.is_editable:
            return _refused(request, note, _not_editable(note))
        return render(request, EDIT, {"note": note, "form": form}, status=200 if request.method == "GET" else 400)
    try:
        services.save_draft(note, form.values(), actor=Actor.of(request), revision=form.cleaned_data["revision"])
    except ValidationError as error:
        _add_errors(form, error)
        status = 400
    except services.EditConflict as error:
        form.add_error(None, error.message)
        status = error.status
    except NoteActionError as error:
        return _refused(request, note, error)
    else:
        messages.success(request, "Draft saved.")
        return redirect("clinical:edit", pk=note.pk)
    return render(request, EDIT, {"note": note, "form": form}, status=status)


@require_POST
@member_required
def note_autosave(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save the editor's content in the background; the answer is the editor's status line and,
    out of band, the revision the next save starts from."""
    note = _get_note(request, pk)
    form = NoteEditForm.for_note(note, request.POST)
    context: dict = {"note": note, "form": form}
    status = 400
    if form.is_valid():
        try:
            note = services.save_draft(
                note, form.values(), actor=Actor.of(request), revision=form.cleaned_data["revision"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        except NoteActionError as error:
            context["refusal"], status = error.message, error.status
        else:
            context |= {"note": note, "saved_at": timezone.now()}
            status = 200
    html = render_to_string(f"{EDIT}#autosave-status", context, request=request)
    if status == 200:
        html += render_to_string(f"{EDIT}#revision", context | {"oob": True}, request=request)
    return HttpResponse(html, status=status)


@require_POST
@member_required
def note_status(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark the note completed (ready to sign) or reopen it."""
    note = _get_note(request, pk)
    target = request.POST.get("status", "")
    if target not in (NoteStatus.COMPLETED, NoteStatus.IN_PROGRESS):
        return _refused(request, note, NoteActionError("Choose completed or in progress."))
    try:
        services.set_status(note, target, actor=Actor.of(request))
    except NoteActionError as error:
        return _refused(request, note, error)
    messages.success(request, f"Note marked {note.get_status_display().lower()}.")
    return redirect("clinical:edit", pk=note.pk)


def _not_editable(note: ClinicalNote) -> NoteActionError:
    return services.EditConflict(
        f"This note is {note.get_status_display().lower()}, so it can no longer be edited. "
        "A signed note is corrected by amending it, or added to with an addendum."
    )


def _add_errors(form: NoteEditForm, error: ValidationError) -> None:
    """The service's field messages on the editor's fields (others above the form)."""
    by_field = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
    for field, problems in by_field.items():
        form.add_error(field if field in form.fields else None, [str(m) for p in problems for m in p.messages])


# -- signing and after ------------------------------------------------------------------------------


def _attempt(request: AuthedRequest, form: forms.Form, act: Callable[[dict], T]) -> tuple[int, T | None]:
    """For a posted form, ``act`` on its cleaned data: the status to answer with and what ``act``
    gave. 302 when it was done; the refusal's status (its message put on the form); 400 for a
    form not valid; 200 for a GET."""
    if request.method != "POST":
        return 200, None
    if not form.is_valid():
        return 400, None
    try:
        done = act(form.cleaned_data)
    except NoteActionError as error:
        form.add_error(None, error.message)
        return error.status, None
    return 302, done


@require_http_methods(["GET", "POST"])
@member_required
def note_sign(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    allowed = services.allowed_meanings(note, request.user)
    form = SignForm(request.POST or None, allowed=allowed)
    if request.method == "GET" and request.htmx and not request.htmx.history_restore_request:
        meaning = request.GET.get("meaning", "")
        return render(request, f"{SIGN}#attestation", {"attestation": services.ATTESTATIONS.get(meaning, "")})
    status, _ = _attempt(
        request,
        form,
        lambda data: services.sign(note, actor=Actor.of(request), password=data["password"], meaning=data["meaning"]),
    )
    if status == 302:
        messages.success(request, "Note signed.")
        return redirect("clinical:detail", pk=note.pk)
    if request.method == "GET" and not allowed:
        status = 403
    chosen = form["meaning"].value() or (allowed[0] if allowed else "")
    context = {
        "note": note,
        "form": form,
        "allowed": allowed,
        "attestation": services.ATTESTATIONS.get(chosen, ""),
    }
    return render(request, SIGN, context, status=status)


@require_POST
@member_required
def note_lock(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    try:
        services.lock(note, actor=Actor.of(request))
    except NoteActionError as error:
        return _refused(request, note, error)
    messages.success(request, "Note locked.")
    return redirect("clinical:detail", pk=note.pk)


@require_POST
@member_required
def note_claim(request: AuthedRequest, pk: int) -> HttpResponse:
    """Charge capture: the signed note becomes a draft claim (or opens the one it already became)."""
    note = _get_note(request, pk)
    try:
        claim = services.create_claim(note, actor=Actor.of(request))
    except NoteActionError as error:
        return _refused(request, note, error)
    messages.success(request, f"Draft claim {claim.claim_number} created. Check its charges, then submit it.")
    return redirect("claims:detail", pk=claim.pk)


@require_http_methods(["GET", "POST"])
@member_required
def note_amend(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    form = AmendForm(request.POST or None)
    status, draft = _attempt(request, form, lambda data: services.amend(note, actor=Actor.of(request), **data))
    if draft is not None:
        messages.success(request, f"Version {draft.version} started. Sign it to replace version {note.version}.")
        return redirect("clinical:edit", pk=draft.pk)
    return render(request, "clinical/note_amend.html", {"note": note, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def note_addendum(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    form = AddendumForm(request.POST or None)
    status, _ = _attempt(request, form, lambda data: services.add_addendum(note, actor=Actor.of(request), **data))
    if status == 302:
        messages.success(request, "Addendum added and signed.")
        return redirect("clinical:detail", pk=note.pk)
    return render(request, "clinical/note_addendum.html", {"note": note, "form": form}, status=status)
