"""Document pages: the list with search, filters and the upload area; the review queue; a
document with its actions, versions, preview, text and history; downloads and previews of
exactly one version; the patient chart's documents tab.

Views stay thin: a document is fetched through the practice and the documents this user may
see (another practice's, or a confidential one they are not named on, is a 404); forms
validate; ``documents.services`` does every act and records it. A refusal comes back as the
service's message on the page, with its status; nothing is changed or stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from billingpulse import paging
from billingpulse.actor import Actor, ip_address
from billingpulse.lib import ratelimit
from billingpulse.models import Patient
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required
from documents import services
from documents.detect import UploadRefused
from documents.downloads import INLINE_TYPES, file_response
from documents.forms import (
    AssignForm,
    AttachForm,
    CommentForm,
    DocumentFilterForm,
    EmailForm,
    MoveForm,
    ShareForm,
    UploadForm,
    VersionForm,
)
from documents.models import Document, DocumentEvent, DocumentShare, DocumentVersion
from documents.status import ADMIN_ONLY, TRANSITIONS, DocumentStatus

PER_PAGE = 25
LIST = "documents/document_list.html"
DETAIL = "documents/document_detail.html"
CHART = "documents/patient_documents.html"
S = DocumentStatus


def _visible(request: AuthedRequest) -> QuerySet[Document]:
    return services.visible(request.practice, request.user)


def _get_document(request: AuthedRequest, pk: int) -> Document:
    """The document if it is the practice's and this user may see it, else 404."""
    related = ("patient", "claim", "current_version", "assignee", "created_by", "reviewed_by", "approved_by")
    return get_for_practice(request, _visible(request).select_related(*related), pk)


def _get_version(request: AuthedRequest, pk: int, number: int) -> DocumentVersion:
    document = _get_document(request, pk)
    version = document.versions.select_related("document").filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def _wants_json(request: AuthedRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# -- list and upload -------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def document_list(request: AuthedRequest) -> HttpResponse:
    filters = DocumentFilterForm(request.GET, practice=request.practice)
    initial = {"patient": request.GET.get("patient", "")}
    upload_form = UploadForm(practice=request.practice, initial=initial)
    return _render_list(request, filters, upload_form)


def _render_list(request: AuthedRequest, filters: DocumentFilterForm, upload_form: UploadForm, status: int = 200):
    documents = filters.filter(_visible(request)).select_related("patient", "current_version")
    documents = services.search(documents, filters.query, practice_id=request.practice.pk)
    listing = paging.paginate(request, documents, PER_PAGE)
    context = {
        "filters": filters,
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "is_filtered": filters.is_filtered,
        "upload_form": upload_form,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{LIST}#document-table", context, status=status)
    return render(request, LIST, context, status=status)


@require_POST
@member_required
def upload(request: AuthedRequest) -> HttpResponse:
    """Each file of the form becomes its own document. Scripted uploads (one file per request)
    get JSON; a plain form post goes to the new document, or back with the reasons."""
    form = UploadForm(request.POST, request.FILES, practice=request.practice)
    created: list[Document] = []
    if form.is_valid():
        data = form.cleaned_data
        links = form.links()
        files = data["file"]
        for file in files:
            try:
                created.append(
                    services.upload(
                        request.practice,
                        actor=Actor.of(request),
                        file=services.Upload.of(file),
                        patient=data["patient"],
                        document_type=data["document_type"],
                        title=data["title"] if len(files) == 1 else "",
                        links=links,
                    )
                )
            except (UploadRefused, services.DocumentError) as error:
                form.add_error("file", error.message)
    if _wants_json(request):
        return _upload_json(form, created)
    if created and not form.errors:
        messages.success(request, "Document uploaded." if len(created) == 1 else f"{len(created)} documents uploaded.")
        next_url = request.POST.get("next", "")
        # Only a path on this site (a page the form was on); never a view name or another host.
        if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(next_url)
        return redirect("documents:detail", pk=created[0].pk) if len(created) == 1 else redirect("documents:index")
    for document in created:
        messages.success(request, f"“{document.title}” uploaded.")
    filters = DocumentFilterForm(QueryDict(), practice=request.practice)
    return _render_list(request, filters, form, status=400)


def _upload_json(form: UploadForm, created: list[Document]) -> JsonResponse:
    if created and not form.errors:
        document = created[0]
        url = reverse("documents:detail", args=[document.pk])
        return JsonResponse({"ok": True, "title": document.title, "url": url}, status=201)
    errors = {name: [str(m) for m in problems] for name, problems in form.errors.items()}
    message = " ".join(message for problems in errors.values() for message in problems)
    return JsonResponse({"ok": False, "message": message, "errors": errors}, status=400)


# -- review queue ----------------------------------------------------------------------------------


@require_GET
@member_required
def review_queue(request: AuthedRequest) -> HttpResponse:
    waiting = (
        _visible(request)
        .filter(status__in=[S.PENDING_REVIEW, S.REVIEWED])
        .select_related("patient", "assignee", "created_by", "current_version")
        .order_by("created_at", "id")
    )
    return render(request, "documents/review_queue.html", {"documents": waiting})


# -- the document ----------------------------------------------------------------------------------

MOVE_LABELS = {
    S.PENDING_REVIEW: "Send for review",
    S.REVIEWED: "Mark reviewed",
    S.APPROVED: "Approve",
    S.DRAFT: "Send back to draft",
    S.ARCHIVED: "Archive",
}


def _moves(document: Document, user: Any) -> list[tuple[str, str]]:
    """The status moves this user may make on the document, as (status, button label)."""
    moves = []
    for status in (S.PENDING_REVIEW, S.REVIEWED, S.APPROVED, S.DRAFT, S.ARCHIVED):
        if status not in TRANSITIONS[document.status] or (status in ADMIN_ONLY and not user.is_practice_admin):
            continue
        label = MOVE_LABELS[status]
        if status == S.PENDING_REVIEW and document.status in (S.REVIEWED, S.APPROVED):
            label = "Send back to review"
        elif status == S.DRAFT and document.status == S.ARCHIVED:
            label = "Restore"
        moves.append((status, label))
    return moves


def _detail_context(request: AuthedRequest, document: Document, **forms: Any) -> dict:
    current = document.current_version
    return {
        "document": document,
        "current": current,
        "versions": document.versions.select_related("uploaded_by").order_by("-number"),
        "events": document.events.select_related("actor", "version"),
        "text": services.version_text(current) if current else "",
        "moves": _moves(document, request.user),
        "inline_types": INLINE_TYPES,
        "move_form": forms.get("move_form") or MoveForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(practice=request.practice, initial={"assignee": document.assignee_id}),
        "attach_form": forms.get("attach_form")
        or AttachForm(patient=document.patient, initial={"claim": document.claim_id}),
        "version_form": forms.get("version_form") or VersionForm(),
        "share_form": forms.get("share_form") or ShareForm(document=document),
        "email_form": forms.get("email_form") or EmailForm(document=document),
        "shares": document.shares.live().select_related("version", "created_by"),
        "new_link": forms.get("new_link"),
        "refusal": forms.get("refusal", ""),
    }


@require_GET
@vary_on_headers("HX-Request")
@member_required
def document_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)
    context = _detail_context(request, document)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{DETAIL}#document-text", context)
    return render(request, DETAIL, context)


def _act(request: AuthedRequest, document: Document, form_name: str, form: Any, act) -> HttpResponse:
    """Validate ``form`` and run ``act(cleaned_data)``; back to the document, or the page again with
    the form's errors (400) or the service's refusal (its status)."""
    status = 400
    if form.is_valid():
        try:
            done = act(form.cleaned_data)
        except (UploadRefused, services.DocumentError) as error:
            form.add_error(None, error.message)
            status = getattr(error, "status", 400)
        else:
            messages.success(request, done)
            return redirect("documents:detail", pk=document.pk)
    document.refresh_from_db()
    context = _detail_context(request, document, **{form_name: form})
    return render(request, DETAIL, context, status=status)


@require_POST
@member_required
def document_move(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)

    def act(data: dict) -> str:
        services.move(document, data["status"], actor=Actor.of(request), comment=data["comment"])
        return f"Document marked {document.get_status_display().lower()}."

    return _act(request, document, "move_form", MoveForm(request.POST), act)


@require_POST
@member_required
def document_comment(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)

    def act(data: dict) -> str:
        services.comment(document, data["text"], actor=Actor.of(request))
        return "Comment added."

    return _act(request, document, "comment_form", CommentForm(request.POST), act)


@require_POST
@member_required
def document_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)

    def act(data: dict) -> str:
        services.assign(document, data["assignee"], actor=Actor.of(request))
        return f"Review assigned to {data['assignee'].display_name}." if data["assignee"] else "Review unassigned."

    return _act(request, document, "assign_form", AssignForm(request.POST, practice=request.practice), act)


@require_POST
@member_required
def document_attach(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)

    def act(data: dict) -> str:
        services.attach(document, actor=Actor.of(request), claim=data["claim"])
        return f"Attached to claim {data['claim']}." if data["claim"] else "Detached from the claim."

    return _act(request, document, "attach_form", AttachForm(request.POST, patient=document.patient), act)


@require_POST
@member_required
def version_new(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)

    def act(data: dict) -> str:
        file = services.Upload.of(data["file"])
        version = services.add_version(document, actor=Actor.of(request), file=file, comment=data["comment"])
        return f"Version {version.number} uploaded."

    return _act(request, document, "version_form", VersionForm(request.POST, request.FILES), act)


@require_POST
@member_required
def document_email(request: AuthedRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk)
    form = EmailForm(request.POST, document=document)

    def act(data: dict) -> str:
        version = form.chosen_version
        services.email_version(version, actor=Actor.of(request), to=data["to"], message=data["message"])
        return f"Version {version.number} emailed to {', '.join(data['to'])}."

    return _act(request, document, "email_form", form, act)


@require_POST
@member_required
def document_share(request: AuthedRequest, pk: int) -> HttpResponse:
    """A new share link, shown on the page this once (only its hash is kept, so it can't be shown
    again: a lost link is withdrawn and a new one made)."""
    document = _get_document(request, pk)
    form = ShareForm(request.POST, document=document)
    status, new_link = 400, None
    if form.is_valid():
        data = form.cleaned_data
        try:
            link, token = services.share(
                form.chosen_version, actor=Actor.of(request), days=data["days"], recipient=data["recipient"]
            )
        except services.DocumentError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            status, form = 201, ShareForm(document=document)
            new_link = {"share": link, "url": request.build_absolute_uri(reverse("documents:shared", args=[token]))}
    document.refresh_from_db()
    context = _detail_context(request, document, share_form=form, new_link=new_link)
    return render(request, DETAIL, context, status=status)


@require_POST
@member_required
def share_withdraw(request: AuthedRequest, pk: int, share_pk: int) -> HttpResponse:
    document = _get_document(request, pk)
    link = document.shares.select_related("version", "document").filter(pk=share_pk).first()
    if link is None:
        raise Http404("No such link.")
    try:
        services.withdraw_share(link, actor=Actor.of(request))
    except services.DocumentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The link was withdrawn: it no longer works.")
    return redirect("documents:detail", pk=document.pk)


# -- the file itself -------------------------------------------------------------------------------


def _stream(request: AuthedRequest, version: DocumentVersion, kind: str, *, inline: bool) -> HttpResponse:
    try:
        chunks = services.open_version(version, actor=Actor.of(request), kind=kind)
    except (Document.DoesNotExist, services.NotAllowed):
        raise Http404("No such document.") from None
    except services.Unreadable as error:
        messages.error(request, error.message)
        return redirect("documents:detail", pk=version.document_id)
    return file_response(version, chunks, inline=inline)


@require_GET
@member_required
def version_download(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(request, pk, number)
    return _stream(request, version, DocumentEvent.Kind.DOWNLOADED, inline=False)


@require_GET
@member_required
def version_preview(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    """Inline, framed by our own pages only, for the types a browser shows without running any
    of the file; anything else is a download."""
    version = _get_version(request, pk, number)
    if version.mime_type not in INLINE_TYPES:
        return redirect("documents:download", pk=pk, number=number)
    response = _stream(request, version, DocumentEvent.Kind.PREVIEWED, inline=True)
    response["X-Frame-Options"] = "SAMEORIGIN"  # this one answer only; the site's default is DENY
    return response


# -- the patient chart's tab -----------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def patient_documents(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = get_for_practice(request, Patient, pk)
    documents = _visible(request).filter(patient=patient).select_related("current_version", "claim")
    context = {
        "patient": patient,
        "tab": "documents",
        "nav_current": "billing:index",
        "documents": documents,
        "upload_form": UploadForm(practice=request.practice, initial={"patient": patient.pk}),
    }
    if request.htmx and not request.htmx.history_restore_request:
        html = render_to_string(f"{CHART}#patient-chart", context, request=request)
        html += render_to_string("base.html#messages", {"oob": True}, request=request)
        return HttpResponse(html)
    return render(request, CHART, context)


# -- share links (no sign-in: whoever holds the link) --------------------------------------------


def _shared_headers(response: HttpResponse) -> HttpResponse:
    # The token is in the address: never sent on as a referrer, never indexed, never cached.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


# Addresses that keep trying links that don't work are turned away for a while.
SHARE_MISSES_PER_IP = ratelimit.Rate("document-share:ip", limit=20, window=15 * 60)


def _shared_page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    return _shared_headers(render(request, "documents/shared.html", context, status=status))


def _live_share(request: HttpRequest, token: str) -> DocumentShare | HttpResponse:
    """The live link, or the page that says it doesn't work (unknown, expired and withdrawn alike)."""
    ip = ratelimit.client_ip(request)
    verdict = ratelimit.check(SHARE_MISSES_PER_IP, ip)
    if not verdict.allowed:
        return _shared_page(request, 429, retry_minutes=verdict.retry_after_minutes)
    link = DocumentShare.objects.for_token(token)
    if link is None:
        ratelimit.hit(SHARE_MISSES_PER_IP, ip)
        return _shared_page(request, 404)
    return link


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """What the link is for and a download button: a link preview or a mail scanner that opens
    the address fetches this page, not the file, so only a person's click counts as a download."""
    link = _live_share(request, token)
    if isinstance(link, HttpResponse):
        return link
    return _shared_page(request, 200, link=link, practice=link.document.practice, token=token)


@require_GET
def shared_download(request: HttpRequest, token: str) -> HttpResponse:
    link = _live_share(request, token)
    if isinstance(link, HttpResponse):
        return link
    try:
        chunks = services.open_share(link, ip_address=ip_address(request))
    except services.Unreadable as error:
        return _shared_page(
            request, 503, link=link, practice=link.document.practice, token=token, unreadable=error.message
        )
    return _shared_headers(file_response(link.version, chunks, inline=False))
