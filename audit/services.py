"""Writing entries: ``record`` is the one way in, for this app and every other."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.models import F, IntegerField, Value
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
    batched: bool = False,
) -> AuditEntry:
    """Add an entry to the audit trail, chained to its practice's chain after the current
    transaction commits (rolled back with it otherwise).

    ``target`` is the record concerned: its type, id, practice and patient are taken from it unless
    given. ``actor`` defaults to the signed-in user of the current request (``None``: the system
    or nobody). The practice is, in order: ``practice``, the record's, the actor's, the request's;
    with none of them the entry joins the global chain (operators only). The address, request id
    and user agent come from ``request``, else from the request being served, if any.

    ``batched`` (page views: ``audit.middleware``) leaves the entry to be chained with the
    practice's next batch instead of after its own commit (``audit.chain.seal_in_batches``).

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
        **_columns(action, practice_id, actor, resource_type, resource_id, label, patient_id, changes, detail, request)
    )
    if batched:
        chain.seal_in_batches(practice_id, entry.pk)
    else:
        chain.seal_after_commit(practice_id)
    return entry


def record_view(
    action: Action | str, *, user: User, resource_type: str, resource_id: object = "", detail: str = "", request
) -> int | None:
    """A page view's entry (access logging by ``audit.middleware``): the entry's id, or None if
    the record named is not the user's practice's (gone, or another practice's id).

    One statement and no reads of its own: for a record of ``registry.RESOURCES`` the INSERT
    takes the record's patient from the record in the same statement (``INSERT … SELECT``) and
    inserts nothing when the record is not the practice's. The entry is chained with the
    practice's next batch (``chain.seal_in_batches``), not after its own commit.
    """
    practice_id = user.practice_id
    resource = registry.RESOURCES.get(resource_type) if resource_id else None
    if resource is None or not connection.features.can_return_columns_from_insert:
        patient_id = None
        if resource is not None:
            owners = registry.owners_by_id(resource_type, resource_id)
            if owners is None or owners[0] != practice_id:
                return None
            patient_id = owners[1]
        entry = record(
            action,
            practice=practice_id,
            actor=user,
            resource_type=resource_type,
            resource_id=resource_id,
            patient=patient_id,
            detail=detail,
            request=request,
            batched=True,
        )
        return entry.pk

    patient = F(resource.patient) if resource.patient else Value(None, output_field=IntegerField())
    owner = (
        resource.model_class._default_manager.filter(pk=resource_id, **{resource.practice: practice_id})
        .order_by()
        .annotate(audit_patient=patient)
        .values("audit_patient")[:1]
    )
    owner_sql, owner_params = owner.query.sql_with_params()
    values = _columns(action, practice_id, user, resource_type, resource_id, "", None, None, detail, request)
    meta, quote = AuditEntry._meta, connection.ops.quote_name
    columns, selected, params = [], [], []
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        # PostgreSQL types a SELECT list's parameters (and a bare NULL) as text unless told (an
        # INSERT … VALUES would take the columns' types); SQLite needs no casts.
        cast = field.cast_db_type(connection) if connection.vendor == "postgresql" else None
        value_sql = "owner.audit_patient" if field.attname == "patient_id" else "%s"
        selected.append(f"CAST({value_sql} AS {cast})" if cast else value_sql)
        if field.attname == "patient_id":
            continue
        value = values[field.attname] if field.attname in values else field.get_default()
        params.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(selected)} "
        f"FROM ({owner_sql}) AS owner RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *owner_params])
        row = cursor.fetchone()
    if row is None:
        return None
    chain.seal_in_batches(practice_id, row[0])
    return row[0]


def _columns(
    action, practice_id, actor, resource_type, resource_id, label, patient_id, changes, detail, request
) -> dict[str, Any]:
    """An entry's column values (by attname), as ``record`` writes them."""
    return {
        "practice_id": practice_id,
        "actor_id": actor.pk if actor else None,
        "actor_label": getattr(actor, "email", "") if actor else "",
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id or "")[:64],
        "resource_label": label[:200],
        "patient_id": patient_id,
        "changes": changes or {},
        "message": detail[:500],
        "remote_addr": ip_address(request) if request is not None else None,
        "request_id": _request_id(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else "",
        "created_at": timezone.now(),
    }


def _request_id(request: HttpRequest | None) -> str:
    value = getattr(request, "request_id", None) or current_request_id.get()
    return "" if value == "-" else value
