from __future__ import annotations

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling
from rest_framework.authtoken.models import Token

from billingpulse import codes, services
from billingpulse.forms import (
    AcceptInvitationForm,
    CodeSearchForm,
    InviteMemberForm,
    PracticeForm,
    ProviderForm,
    RoleForm,
    SignUpForm,
)
from billingpulse.lib import ratelimit
from billingpulse.lib.unique import add_to_form, save_form
from billingpulse.models import EMAIL_TAKEN, INVITATION_EXPIRY, DiagnosisCodeSet, Invitation, Provider, User
from billingpulse.sections import SECTIONS
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from reports import dashboard as home

# Sign-up says whether an address has an account (the usual trade-off); these limits keep
# anyone from asking about many addresses, or about one address many times.
SIGN_UP_PER_IP = ratelimit.Rate("sign-up:ip", limit=10, window=60 * 60)
SIGN_UP_PER_EMAIL = ratelimit.Rate("sign-up:email", limit=5, window=60 * 60)
DASHBOARD = "billingpulse/dashboard.html"


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and (refused := _sign_up_refused(request)):
        # Not validated at all: a refused attempt learns nothing about the address.
        form = SignUpForm(initial={k: v for k, v in request.POST.items() if k != "password"})
        minutes = refused.retry_after_minutes
        context = {
            "form": form,
            "refused": f"Too many sign-up attempts; try again in {minutes} minute{pluralize(minutes)}.",
        }
        response = render(request, "registration/sign_up.html", context, status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(**form.cleaned_data)
        except ValidationError as error:
            add_to_form(form, error)
        else:
            login(request, user, backend="billingpulse.auth.EmailBackend")
            messages.success(request, f"Welcome to BillingPulse. {user.practice} is ready.")
            return redirect("dashboard")
    return render(request, "registration/sign_up.html", {"form": form})


def _sign_up_refused(request: HttpRequest) -> ratelimit.Verdict | None:
    """Count a sign-up attempt per client address and per email; the refusal, if over a limit."""
    verdict = ratelimit.hit(SIGN_UP_PER_IP, ratelimit.client_ip(request))
    email = request.POST.get("email", "").strip().lower()
    if verdict.allowed and email:
        verdict = ratelimit.hit(SIGN_UP_PER_EMAIL, email)
    return None if verdict.allowed else verdict


@require_GET
@vary_on_headers("HX-Request")
@member_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """The home page; for htmx, the calls card alone (286 once no call is queued or on the line)."""
    if request.htmx and not request.htmx.history_restore_request:
        live = home.live_calls(request.practice)
        html = render_to_string(f"{DASHBOARD}#dashboard-calls", {"live": live}, request=request)
        return HttpResponse(html) if live.active else HttpResponseStopPolling(html)
    figures = home.dashboard(request.practice)
    context = {
        "practice": request.practice,
        "dashboard": figures,
        "setup": figures.setup,
        "live": figures.live,
        "charts": figures.charts() if figures.setup.has_claims else {},
        "worker_heartbeat": services.last_worker_heartbeat(),
    }
    return render(request, DASHBOARD, context)


@require_GET
@member_required
def coming_soon(request: AuthedRequest, section: str) -> HttpResponse:
    return render(request, "billingpulse/coming_soon.html", {"section": SECTIONS[section]})


@require_http_methods(["GET", "POST"])
@admin_required
def practice_settings(request: AuthedRequest) -> HttpResponse:
    form = PracticeForm(request.POST or None, instance=request.practice)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Practice details saved.")
        return redirect("practice_settings")
    providers = scoped(request, Provider)
    return render(request, "billingpulse/practice_settings.html", {"form": form, "providers": providers})


@require_http_methods(["GET", "POST"])
@admin_required
def provider_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    provider = get_for_practice(request, Provider, pk) if pk else Provider(practice=request.practice)
    form = ProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid() and save_form(form):
        messages.success(request, f"Provider {provider.full_name} saved.")
        return redirect("practice_settings")
    return render(request, "billingpulse/provider_form.html", {"form": form, "provider": provider})


@require_GET
@member_required
def team(request: AuthedRequest) -> HttpResponse:
    form = InviteMemberForm(practice=request.practice)
    return render(request, "billingpulse/team.html", _team_context(request, form))


def _team_context(request: AuthedRequest, form: InviteMemberForm) -> dict:
    return {
        "members": scoped(request, User).order_by("-is_active", "full_name", "email"),
        "invitations": scoped(request, Invitation.objects.open()),
        "invitation_expiry_days": INVITATION_EXPIRY.days,
        "form": form,
    }


@require_POST
@admin_required
def team_invite(request: AuthedRequest) -> HttpResponse:
    form = InviteMemberForm(request.POST, practice=request.practice)
    if form.is_valid():
        try:
            services.invite_member(practice=request.practice, invited_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_to_form(form, error)
        else:
            # The same words whether or not the address has an account in another practice.
            email = form.cleaned_data["email"]
            messages.success(request, f"Invitation sent to {email}. They choose a password from the link in it.")
            return redirect("team")
    return render(request, "billingpulse/team.html", _team_context(request, form), status=400)


@require_POST
@admin_required
def team_invitation_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    invitation = get_for_practice(request, Invitation, pk)
    if services.withdraw_invitation(invitation):
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    if not request.htmx:
        return redirect("team")
    # The row goes (an empty swap); the messages region is swapped out of band.
    return HttpResponse(render_to_string("base.html#messages", {"oob": True}, request=request))


@require_POST
@admin_required
def team_role(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_for_practice(request, User, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or staff.")
    else:
        _apply(request, services.change_role, user=member, role=form.cleaned_data["role"])
    return _member_row_response(request, member)


@require_POST
@admin_required
def team_active(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_for_practice(request, User, pk)
    active = request.POST.get("active") == "1"
    if member == request.user and not active:
        messages.error(request, "You cannot deactivate your own account.")
    else:
        _apply(request, services.set_active, user=member, active=active)
    return _member_row_response(request, member)


def _apply(request: AuthedRequest, operation, *, user: User, **kwargs) -> None:
    try:
        operation(user=user, **kwargs)
    except ValidationError as error:
        user.refresh_from_db()
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{user.display_name} updated.")


def _member_row_response(request: AuthedRequest, member: User) -> HttpResponse:
    if not request.htmx:
        return redirect("team")
    # The changed row, plus the messages region swapped out of band.
    context = {"member": member, "oob": True}
    html = render_to_string("billingpulse/team.html#member-row", context, request=request)
    html += render_to_string("base.html#messages", context, request=request)
    return HttpResponse(html)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's page: the practice and address, their name and a password; accepting signs them in."""
    invitation = Invitation.objects.usable().for_token(token)
    if invitation is None:
        return _invitation_unusable(request)
    if services.account_exists(invitation.email):
        return _invitation_taken(request, invitation, [EMAIL_TAKEN])
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationUnusable:
            return _invitation_unusable(request)
        except ValidationError as error:
            return _invitation_taken(request, invitation, error.messages)
        login(request, user, backend="billingpulse.auth.EmailBackend")
        messages.success(request, f"Welcome to BillingPulse. You are now a member of {invitation.practice}.")
        return redirect("dashboard")
    return render(request, "billingpulse/invitation_accept.html", {"invitation": invitation, "form": form})


def _invitation_unusable(request: HttpRequest) -> HttpResponse:
    # Unknown, tampered, expired, withdrawn or used: one page, one answer.
    return render(request, "billingpulse/invitation_accept.html", {"unusable": True}, status=404)


def _invitation_taken(request: HttpRequest, invitation: Invitation, errors: list[str]) -> HttpResponse:
    context = {"invitation": invitation, "taken": errors}
    return render(request, "billingpulse/invitation_accept.html", context, status=409)


@require_http_methods(["GET", "POST"])
@member_required
def api_token(request: AuthedRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        new_key = services.regenerate_api_token(request.user).key
    token = Token.objects.filter(user=request.user).first()
    return render(request, "billingpulse/api_token.html", {"token": token, "new_key": new_key})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page's ``<link rel=icon>`` says: send them to the logo.
    Not a permanent redirect: the logo's static URL carries a hash of the file, which changes with it."""
    return redirect(static("img/logo.svg"))


@require_safe
def api_index(request: HttpRequest) -> HttpResponse:
    """/api/ has nothing of its own: the API's documentation is where a person typing it wants to be."""
    return redirect("api_docs")


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database (and Redis, when configured) answer."""
    checks = {"database": _check(_ping_database)}
    if settings.REDIS_URL:
        checks["redis"] = _check(_ping_redis)
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _check(probe) -> str:
    try:
        probe()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(error).__name__}"
    return "ok"


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()


@require_GET
@vary_on_headers("HX-Request")
@login_required
def icd10_search(request: HttpRequest) -> HttpResponse:
    """The ICD-10-CM code picker: a listbox of codes for ``?q=``, the partial alone for HTMX.

    Reference data, the same for every practice: signing in is all it needs.
    """
    form = CodeSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = codes.search(query)
    context = {
        "form": form,
        "query": query,
        "results": results,
        "attribution": results[0].attribution if results else "",
        # Only asked when nothing matched, to tell "no such code" from "no code set loaded".
        "loaded": bool(results) or DiagnosisCodeSet.objects.exists(),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "billingpulse/code_search.html#code-results" if partial else "billingpulse/code_search.html"
    return render(request, template, context, status=400 if form.errors else 200)
