"""Redirects that only ever go where a form of ours meant to send the user."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest) -> str:
    """The ``next`` the form sent when it is a path on this site, else "".

    A full URL, a scheme-relative ``//host`` or anything that is not a path is ignored: the
    value is never resolved as a URL name, and never sends the user to another site.
    """
    url = request.POST.get("next") or request.GET.get("next") or ""
    if len(url) > 2000 or not url.startswith("/") or url.startswith(("//", "/\\")):
        return ""
    return url if url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()) else ""


def redirect_back(request: HttpRequest, default: str, *args, **kwargs) -> HttpResponseRedirect:
    """Back to the form's ``next`` page, or to ``default`` (a URL name with its arguments)."""
    return HttpResponseRedirect(safe_next_url(request) or resolve_url(default, *args, **kwargs))
