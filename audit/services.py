"""Writing entries: ``record`` is the one way in, for this app and every other."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from audit import chain, registry
from audit.context import current_request
from audit.models import Action, AuditEntry
from billingpulse.actor import ip_address
from billingpulse.lib.request_id import current_request_id
from billingpulse.models import Practice, User

_FROM_REQUEST: Any = object()  # "the signed-in user of the current request", as opposed to None (nobody)


def record(
    action: Action | str,
    *,
    target: models.Model | None = None,
    practice: Practice | int | None = None,
    actor: User | None = _FROM_REQUEST,
    patient: models.Model | int | None = None,
    resource_type: str = "",
    resource_id: object = "",
    changes: dict | None = None,
    detail: str = "",
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Add an entry to the audit trail, chained to its practice's chain after the current
    transaction commits (rolled back with it otherwise).

    ``target`` is the record concerned: its type, id, practice and patient are taken from it unless
    given. ``actor`` defaults to the signed-in user of the current request (``None``: the system
    or nobody). The practice is, in order: ``practice``, the record's, the actor's, the request's;
    with none of them the entry joins the global chain (operators only). The address, request id
    and user agent come from ``request``, else from the request being served, if any.

    For example, after a user adds an authenticator app::

        audit.record("two_factor_changed", target=user, detail="Authenticator app added")
    """
    request = request if request is not None else current_request.get()
    if actor is _FROM_REQUEST:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    practice_id = practice.pk if isinstance(practice, models.Model) else practice
    patient_id = patient.pk if isinstance(patient, models.Model) else patient
    label = ""
    if target is not None:
        target_practice, target_patient = registry.owners_of(target)
        practice_id = practice_id or target_practice
        patient_id = patient_id or target_patient
        resource_type = resource_type or registry.resource_type_of(target.__class__)
        resource_id = resource_id or target.pk
        label = str(target)
    if practice_id is None:
        practice_id = getattr(actor, "practice_id", None) or getattr(getattr(request, "practice", None), "pk", None)
    entry = AuditEntry.objects.create(
        practice_id=practice_id,
        actor=actor,
        actor_label=getattr(actor, "email", "") if actor else "",
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id or "")[:64],
        resource_label=label[:200],
        patient_id=patient_id,
        changes=changes or {},
        message=detail[:500],
        remote_addr=ip_address(request) if request is not None else None,
        request_id=_request_id(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else "",
        created_at=timezone.now(),
    )
    chain.seal_after_commit(practice_id)
    return entry


def _request_id(request: HttpRequest | None) -> str:
    value = getattr(request, "request_id", None) or current_request_id.get()
    return "" if value == "-" else value
