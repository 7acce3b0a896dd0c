"""Sign-in security pages: the lockout answer, two-factor set-up and sign-in, the admin's
practice controls, and the idle-timeout ping."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billingpulse.auth import sign_in_username
from billingpulse.lib.http import safe_next_url
from billingpulse.models import User
from billingpulse.security import lockout, sessions, two_factor
from billingpulse.security.forms import CodeForm, PasswordConfirmForm, RequirementForm, SetupForm
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped

SETTINGS = "security_settings"


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer to a sign-in of a locked account (settings.AXES_LOCKOUT_CALLABLE)."""
    username = sign_in_username(request, credentials)
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "locked_out_minutes": lockout.minutes_left(username), "next": safe_next_url(request)}
    return render(request, "registration/login.html", context, status=429)


# -- two-factor sign-in -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for a person with an authenticator app."""
    next_url = safe_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    if not two_factor.needs_code(request.session):
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.verify(session=request.session, user=request.user, code=form.cleaned_data["code"])
        except two_factor.TwoFactorError as error:
            form.add_error("code", error.message)
        else:
            return redirect(next_url)
    status = 400 if form.errors else 200
    return render(request, "security/verify.html", {"form": form, "next": next_url}, status=status)


# -- the person's own settings ------------------------------------------------------------------


@require_GET
@member_required
def security_settings(request: AuthedRequest) -> HttpResponse:
    return render(request, "security/settings.html", _settings_context(request))


def _settings_context(request: AuthedRequest, **extra) -> dict:
    context = {
        "status": two_factor.status(request.user),
        "practice": request.practice,
        "disable_form": PasswordConfirmForm(),
        "timeout_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        **extra,
    }
    if request.user.is_practice_admin:
        members = scoped(request, User).filter(is_active=True).order_by("full_name", "email")
        without = {member.pk for member in two_factor.members_without(request.practice)}
        locked = lockout.locked_emails(request.practice)
        context["members"] = [
            {"user": member, "two_factor": member.pk not in without, "locked": member.email in locked}
            for member in members
        ]
        context["requirement_form"] = RequirementForm(initial={"required": request.practice.require_two_factor})
    return context


@require_http_methods(["GET", "POST"])
@member_required
def two_factor_setup(request: AuthedRequest) -> HttpResponse:
    if two_factor.needs_code(request.session):
        return redirect("two_factor_verify")
    if two_factor.has_device(request.user):
        messages.info(request, "Two-factor sign-in is already on for your account.")
        return redirect(SETTINGS)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm(session=request.session, user=request.user, token=form.cleaned_data["code"])
        except two_factor.TwoFactorError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, "Two-factor sign-in is on. From now on you sign in with a code from your app.")
            return render(request, "security/backup_codes.html", {"codes": codes, "next": safe_next_url(request)})
    device = two_factor.pending_device(request.user)
    context = {
        "form": form,
        "secret": two_factor.secret_for_typing(device),
        "required": request.practice.require_two_factor,
        "next": safe_next_url(request),
    }
    return render(request, "security/setup.html", context, status=400 if form.errors else 200)


@require_GET
@member_required
def two_factor_qr(request: AuthedRequest) -> HttpResponse:
    """The QR code of the app being set up; a confirmed app's key is never shown again."""
    if two_factor.has_device(request.user):
        raise Http404("No set-up in progress.")
    return HttpResponse(two_factor.qr_svg(two_factor.pending_device(request.user)), content_type="image/svg+xml")


@require_POST
@member_required
def two_factor_disable(request: AuthedRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            two_factor.disable(user=request.user, password=form.cleaned_data["password"])
        except two_factor.TwoFactorError as error:
            form.add_error("password", error.message)
        else:
            messages.success(request, "Two-factor sign-in is off for your account.")
            return redirect(SETTINGS)
    return render(request, "security/settings.html", _settings_context(request, disable_form=form), status=400)


@require_POST
@member_required
def two_factor_backup_codes(request: AuthedRequest) -> HttpResponse:
    try:
        codes = two_factor.regenerate_backup_codes(request.user)
    except two_factor.TwoFactorError as error:
        messages.error(request, error.message)
        return redirect(SETTINGS)
    return render(request, "security/backup_codes.html", {"codes": codes, "next": ""})


# -- the practice admin's controls --------------------------------------------------------------


@require_POST
@admin_required
def practice_two_factor(request: AuthedRequest) -> HttpResponse:
    form = RequirementForm(request.POST)
    required = form.is_valid() and form.cleaned_data["required"]
    two_factor.set_practice_requirement(practice=request.practice, required=required, actor=request.user)
    if required:
        messages.success(
            request, "Two-factor sign-in is now required. Members without it set it up when they next act."
        )
    else:
        messages.success(request, "Two-factor sign-in is now up to each member.")
    return redirect(SETTINGS)


@require_POST
@admin_required
def member_unlock(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_for_practice(request, User, pk)
    if lockout.unlock(member):
        messages.success(request, f"{member.display_name} can sign in again.")
    else:
        messages.info(request, f"{member.display_name} was not locked out.")
    return redirect(SETTINGS)


@require_POST
@admin_required
def member_two_factor_reset(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_for_practice(request, User, pk)
    two_factor.reset_for(member=member, actor=request.user)
    messages.success(request, f"Two-factor sign-in reset for {member.display_name}.")
    return redirect(SETTINGS)


# -- the idle timeout ---------------------------------------------------------------------------


@require_GET
def session_status(request: HttpRequest) -> JsonResponse:
    """Seconds the session has left; asking does not count as activity (static/js/session.js)."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "expires_in": 0})
    return JsonResponse({"signed_in": True, "expires_in": sessions.seconds_left(request.session)})


@require_POST
def session_extend(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in": a request of the person's own, so the middleware counted it as activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "expires_in": 0}, status=401)
    return JsonResponse({"signed_in": True, "expires_in": sessions.seconds_left(request.session)})
