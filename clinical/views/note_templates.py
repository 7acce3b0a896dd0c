"""Note templates: the practice's starting points for notes, with text per section.

Every member sees the list (it says what "Start a note" will offer); only practice admins add
and change templates. A template is never deleted: notes keep a link to the template they were
started from, so one no longer wanted is taken out of use instead.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from billingpulse.lib.unique import save_form
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from clinical.forms import NoteTemplateForm
from clinical.models import SECTIONS, NoteTemplate

# The sidebar marks "Note templates" (under Practice) rather than the Notes section.
NAV = {"nav_current": "clinical:templates"}


@require_GET
@member_required
def template_list(request: AuthedRequest) -> HttpResponse:
    templates = scoped(request, NoteTemplate).order_by("-is_active", "name")
    rows = [
        {"template": template, "sections": [label for name, label in SECTIONS if template.sections.get(name)]}
        for template in templates
    ]
    return render(request, "clinical/template_list.html", {"rows": rows, **NAV})


@require_http_methods(["GET", "POST"])
@admin_required
def template_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    template = get_for_practice(request, NoteTemplate, pk) if pk else NoteTemplate(practice=request.practice)
    form = NoteTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid() and save_form(form):
        state = "" if template.is_active else " It is no longer offered when starting a note."
        messages.success(request, f"Template “{template.name}” saved.{state}")
        return redirect("clinical:templates")
    status = 400 if request.method == "POST" else 200
    return render(request, "clinical/template_form.html", {"form": form, "template": template, **NAV}, status=status)
