"""Security on every answer: headers, the idle timeout and the two-factor step.

Order in ``settings.MIDDLEWARE``: ``SecurityHeadersMiddleware`` sits below WhiteNoise (static
files keep their own caching) and inside django-csp's middleware (so it can relax
frame-ancestors before the policy is written); the other two come after the session,
authentication and messages middleware they use.
"""

from __future__ import annotations

from urllib.parse import urlencode

from csp.constants import SELF
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect

from billingpulse.security import sessions, two_factor

EXPIRES_HEADER = "X-Session-Expires-In"

# Routes a pending or not-yet-set-up session may still use.
TWO_FACTOR_OPEN = {
    "logout",
    "two_factor_verify",
    "two_factor_setup",
    "two_factor_qr",
    "session_status",
    "health",
    "favicon",
}
# Requests the page makes by itself, which must not count as its person being active.
NOT_ACTIVITY = {"session_status", "favicon"}


class SecurityHeadersMiddleware:
    """Headers every answer of the app carries.

    * ``Cache-Control: no-store``: every page and API answer may hold patient data, so none is
      kept by the browser or a proxy (static files never reach this middleware).
    * ``Permissions-Policy``: browser features no page uses are off (``settings.PERMISSIONS_POLICY``).
    * CSP ``frame-ancestors`` follows X-Frame-Options: an answer a view lets its own site frame
      (a document preview, ``X-Frame-Options: SAMEORIGIN``) gets ``'self'`` instead of ``'none'``.

    The other headers come from Django (``SECURE_*`` settings) and django-csp.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.permissions_policy = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
            response._csp_replace = {"frame-ancestors": [SELF]}  # type: ignore[attr-defined]
        return response


class IdleTimeoutMiddleware:
    """Sign a session out after ``SESSION_IDLE_TIMEOUT_MINUTES`` without activity (see ``sessions``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        left = getattr(request, "session_expires_in", None)
        if left is not None and request.user.is_authenticated:
            response[EXPIRES_HEADER] = str(left)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        session = request.session
        if sessions.is_expired(session):
            return _timed_out(request)
        if _is_activity(request):
            sessions.record_activity(session)
        # For the page's warning (templates/security/session_timeout.html).
        request.session_expires_in = sessions.seconds_left(session)  # type: ignore[attr-defined]
        request.session_warn_before = settings.SESSION_IDLE_WARNING_SECONDS  # type: ignore[attr-defined]
        request.session_timeout = sessions.timeout_seconds()  # type: ignore[attr-defined]
        return None


def _is_activity(request: HttpRequest) -> bool:
    """Opening a page or changing something; never a request the page made on its own."""
    if request.resolver_match and request.resolver_match.url_name in NOT_ACTIVITY:
        return False
    if request.method not in ("GET", "HEAD"):
        return True
    return not getattr(request, "htmx", False)


def _timed_out(request: HttpRequest) -> HttpResponse | None:
    minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
    logout(request)
    messages.info(request, f"You were signed out after {minutes} minutes without activity. Sign in again to continue.")
    if getattr(request, "htmx", False):
        # The whole page goes to the sign-in page, not a fragment of it into a corner.
        current = request.htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': current})}")
    # The view runs as for anyone signed out: a page redirects to sign-in, the API answers 401/403.
    return None


class TwoFactorMiddleware:
    """Between password and code, and for members of a practice that requires two-factor sign-in
    who have not set it up, the session can do nothing but finish that step or sign out."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or two_factor.is_verified(request.session):
            return None
        if request.resolver_match and request.resolver_match.url_name in TWO_FACTOR_OPEN:
            return None
        if two_factor.needs_code(request.session):
            return _send_to(request, "two_factor_verify", "Enter the code from your authenticator app to continue.")
        practice = getattr(user, "practice", None)
        if practice is not None and practice.require_two_factor:
            return _send_to(
                request, "two_factor_setup", f"{practice} requires two-factor sign-in. Set it up to continue."
            )
        return None


def _send_to(request: HttpRequest, url_name: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    target = resolve_url(url_name)
    if getattr(request, "htmx", False):
        current = request.htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(f"{target}?{urlencode({'next': current})}")
    if request.method in ("GET", "HEAD"):
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
    return redirect(target)
