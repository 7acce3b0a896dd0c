"""Events that reach the audit trail through signals: django-auditlog's change entries, and
sign-in, sign-out, failed sign-ins and (with django-axes installed) lockouts.

Signals here are the seam to code we do not own (Django's auth, django-auditlog, django-axes);
our own services call ``audit.record`` explicitly.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from auditlog.signals import post_log
from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_save

from audit.context import current_request
from audit.models import Action
from audit.services import record
from billingpulse.actor import ip_address
from billingpulse.models import User

MAX_ADDRESS = 254


def connect() -> None:
    pre_save.connect(_fill_log_entry, sender=LogEntry, dispatch_uid="audit-fill-log-entry")
    post_log.connect(_copy_change, dispatch_uid="audit-copy-change")
    user_logged_in.connect(_signed_in, dispatch_uid="audit-signed-in")
    user_logged_out.connect(_signed_out, dispatch_uid="audit-signed-out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        user_locked_out.connect(_locked_out, dispatch_uid="audit-locked-out")


def _fill_log_entry(sender, instance: LogEntry, **kwargs: Any) -> None:
    """django-auditlog's own row gets the actor and address of the request being served.

    (Its middleware does this by connecting a receiver per request, trusts X-Forwarded-For as
    sent, and sees no user for API token requests; the request itself, read when the entry is
    written, has the user DRF authenticated.)
    """
    request = current_request.get()
    if request is None:
        return
    user = getattr(request, "user", None)
    if instance.actor_id is None and user is not None and user.is_authenticated:
        instance.actor, instance.actor_email = user, user.email
    if instance.remote_addr is None:
        instance.remote_addr = ip_address(request)


CHANGE_ACTIONS = {
    LogEntry.Action.CREATE: Action.CREATED,
    LogEntry.Action.UPDATE: Action.CHANGED,
    LogEntry.Action.DELETE: Action.DELETED,
}


def _copy_change(sender, instance, action, changes, log_entry, log_created, **kwargs: Any) -> None:
    """Each django-auditlog entry also lands in the chained trail, in the same transaction."""
    kind = CHANGE_ACTIONS.get(action)
    if not log_created or kind is None:
        return
    changes = {name: list(values) for name, values in (changes or {}).items()}
    if kind == Action.CREATED:
        # django-auditlog lists every field of a new row, empty ones too: keep the values it was given.
        changes = {name: values for name, values in changes.items() if values[1] not in ("None", "")}
    message = ""
    if sender is User and kind == Action.CHANGED:
        if "role" in changes:
            kind = Action.ROLE_CHANGED
        elif "password" in changes:
            # set_password leaves the new password on the instance until it is saved; a hash
            # upgraded on sign-in (same password, stronger hasher) does not.
            if getattr(instance, "_password", None) is not None:
                kind = Action.PASSWORD_CHANGED
            else:
                message = "Password hash upgraded at sign-in (same password)."
    actor = log_entry.actor if log_entry is not None and log_entry.actor_id else None
    extra = {"actor": actor} if actor is not None else {}
    record(kind, target=instance, changes=changes, detail=message, **extra)


def _signed_in(sender, request, user, **kwargs: Any) -> None:
    record(Action.SIGNED_IN, target=user, actor=user, request=request)


def _signed_out(sender, request, user, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        record(Action.SIGNED_OUT, target=user, actor=user, request=request)


def _sign_in_failed(sender, credentials, request=None, **kwargs: Any) -> None:
    """A failed sign-in joins the account's practice's chain; for an unknown address, the global one."""
    address = str(credentials.get("username") or credentials.get("email") or "").strip()[:MAX_ADDRESS]
    account = User.objects.filter(email__iexact=address).first() if address else None
    if account is not None:
        record(Action.SIGN_IN_FAILED, target=account, actor=None, request=request, detail="Wrong password.")
    else:
        record(
            Action.SIGN_IN_FAILED,
            actor=None,
            request=request,
            resource_type="user",
            detail=f"No account has the address {address!r}." if address else "No address given.",
        )


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs: Any) -> None:
    address = str(username or "")[:MAX_ADDRESS]
    account = User.objects.filter(email__iexact=address).first() if address else None
    record(
        Action.LOCKED_OUT,
        target=account,
        actor=None,
        request=request,
        resource_type="user",
        detail=f"Locked out after repeated failed sign-ins as {address!r}.",
    )
