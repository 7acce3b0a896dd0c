"""What the audit trail covers, in one place.

* ``RESOURCES``: every kind of record an entry can name, how to reach its practice and its
  patient (so "who saw or changed this patient's data" is one filter).
* ``TRACKED``: the models whose changes django-auditlog records (every model holding patient or
  financial data), with the fields left out or redacted.
* ``ACCESS``: the pages and API routes whose successful reads are recorded, by URL name.

Left out of change tracking, on purpose: rows that are append-only logs themselves (ledger
transactions and entries, signatures, claim/call/note/document events, document index words),
which are never changed and are each already attributable, so tracking them would only copy them;
and set-up without patient or financial data (payers, providers, note templates, the knowledge
base). Changes made with ``QuerySet.update()`` bypass model signals and so django-auditlog; the
services that do so record their own history rows (claim, call, note and document events).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

from audit.models import Action
from billingpulse.encryption import ENCRYPTED_FIELDS


@dataclass(frozen=True)
class Resource:
    model: str  # app_label.ModelName
    # ORM path from the model to its patient ("pk" for a patient itself, "" when none).
    patient: str = ""

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def practice(self) -> str:
        """ORM path to the practice: the tenancy convention (``practice`` or ``practice_path``)."""
        if self.model == "billingpulse.User":
            return "practice"
        return getattr(self.model_class, "practice_path", "practice")


RESOURCES: dict[str, Resource] = {
    "patient": Resource("billingpulse.Patient", "pk"),
    "user": Resource("billingpulse.User"),
    "insurance_policy": Resource("claims.InsurancePolicy", "patient"),
    "claim": Resource("claims.Claim", "patient"),
    "claim_line": Resource("claims.ClaimLine", "claim__patient"),
    "claim_import": Resource("claims.ClaimImport"),
    "fee_schedule_entry": Resource("claims.FeeScheduleEntry"),
    "patient_account": Resource("billing.PatientAccount", "patient"),
    "payment": Resource("billing.Payment", "patient"),
    "transaction": Resource("billing.JournalTransaction", "patient"),
    "remittance": Resource("billing.Remittance"),
    "remittance_claim": Resource("billing.RemittanceClaim", "claim__patient"),
    "expected_payment": Resource("billing.ExpectedPayment", "claim__patient"),
    "appointment": Resource("clinical.Appointment", "patient"),
    "note": Resource("clinical.ClinicalNote", "patient"),
    "addendum": Resource("clinical.Addendum", "note__patient"),
    "document": Resource("documents.Document", "patient"),
    "document_version": Resource("documents.DocumentVersion", "document__patient"),
    "document_share": Resource("documents.DocumentShare", "document__patient"),
    "call": Resource("telephony.Call", "claim__patient"),
    "scheduled_call": Resource("telephony.ScheduledCall", "claim__patient"),
    "action_item": Resource("inbox.ActionItem", "claim__patient"),
}


def resource_type_of(model: type[models.Model]) -> str:
    label = model._meta.label
    return next((name for name, resource in RESOURCES.items() if resource.model == label), model._meta.model_name)


def _walk_id(instance: models.Model, path: str) -> int | None:
    """The id at the end of an ORM path, read from ``instance`` (``claim__patient`` → claim.patient_id)."""
    if path == "pk":
        return instance.pk
    *hops, last = path.split("__")
    target: models.Model | None = instance
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def owners_of(instance: models.Model) -> tuple[int | None, int | None]:
    """(practice id, patient id) of a record, read from the instance (changes)."""
    # __class__, not type(): a signed-in user may still be a lazy object wrapping the User.
    resource = RESOURCES.get(resource_type_of(instance.__class__))
    if resource is None:
        return _walk_id(instance, "practice") if hasattr(instance, "practice_id") else None, None
    practice_id = _walk_id(instance, resource.practice)
    patient_id = _walk_id(instance, resource.patient) if resource.patient else None
    return practice_id, patient_id


def owners_by_id(resource_type: str, pk: object) -> tuple[int | None, int | None] | None:
    """(practice id, patient id) of a record by id in one query (access logging); None if gone."""
    resource = RESOURCES[resource_type]
    practice_path = f"{resource.practice}_id" if "__" not in resource.practice else resource.practice
    columns = [practice_path, resource.patient or practice_path]
    row = resource.model_class._default_manager.filter(pk=pk).values_list(*columns).first()
    if row is None:
        return None
    return row[0], row[1] if resource.patient else None


# ----------------------------------------------------------------------------- change tracking


@dataclass(frozen=True)
class Tracked:
    model: str
    exclude: tuple[str, ...] = ()
    # Free text that may hold clinical or call content, besides the encrypted fields: the entry
    # says the field changed and copies neither value, so the audit trail never becomes a second,
    # unencrypted copy of it.
    redact: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


ALWAYS_EXCLUDED = ("created_at", "updated_at")

TRACKED: list[Tracked] = [
    Tracked("billingpulse.Patient"),
    # Only what matters about an account; a password's hash is never copied (see ``redact``).
    Tracked(
        "billingpulse.User",
        include=("email", "full_name", "role", "is_active", "practice", "password"),
        redact=("password",),
    ),
    Tracked("claims.InsurancePolicy"),
    # search_text is the claim number and patient name again, rewritten by the database.
    Tracked("claims.Claim", exclude=("search_text",)),
    Tracked("claims.ClaimLine"),
    Tracked(
        "claims.ClaimImport",
        include=("status", "original_name", "imported_count", "updated_count", "rejected_count", "failure_message"),
    ),
    Tracked("claims.FeeScheduleEntry"),
    Tracked("billing.PatientAccount"),
    Tracked("billing.Payment"),
    Tracked("billing.Remittance", exclude=("content", "summary")),
    Tracked("billing.RemittanceClaim", exclude=("detail",)),
    Tracked("billing.ExpectedPayment"),
    Tracked("clinical.Appointment"),
    Tracked("clinical.ClinicalNote", redact=("diagnosis_codes", "procedures", "medications", "orders")),
    Tracked("clinical.Addendum"),
    Tracked("documents.Document", redact=("description",)),
    Tracked("documents.DocumentVersion", exclude=("extracted_text", "storage_key")),
    Tracked("documents.DocumentShare", exclude=("token_hash",)),
    Tracked("telephony.Call", exclude=("messages",), redact=("outcome",)),
    Tracked("telephony.ScheduledCall"),
]


def redacted_fields(tracked: Tracked) -> list[str]:
    """The fields whose values an entry never copies: the encrypted ones (one list, in
    ``billingpulse.encryption``) and the model's own extras."""
    return sorted({*ENCRYPTED_FIELDS.get(tracked.model, ()), *tracked.redact})


def redacted(value: str) -> str:
    """django-auditlog's mask for ``Tracked.redact`` fields: the value is never copied."""
    return "(redacted)" if value not in ("", "None") else value


def register_change_tracking() -> None:
    from auditlog.registry import auditlog

    for tracked in TRACKED:
        model = apps.get_model(tracked.model)
        if auditlog.contains(model):
            continue
        options = {"mask_fields": redacted_fields(tracked), "mask_callable": "audit.registry.redacted"}
        if tracked.include:
            options["include_fields"] = list(tracked.include)
        else:
            options["exclude_fields"] = [*ALWAYS_EXCLUDED, *tracked.exclude, *_reverse_relations(model)]
        auditlog.register(model, **options)


def _reverse_relations(model) -> list[str]:
    """Relations other models hold to this one. django-auditlog would read each when a row is
    created, which leaves "none" cached on the instance for a one-to-one made later (a patient's
    account), so code holding that instance would wrongly find none."""
    return [field.name for field in model._meta.get_fields() if field.auto_created and not field.concrete]


# ----------------------------------------------------------------------------- access logging


@dataclass(frozen=True)
class Access:
    action: str
    resource_type: str
    id_kwarg: str = "pk"  # the URL keyword holding the record's id ("" for lists)


def _api(resource_type: str, *names: str) -> dict[str, Access]:
    routes = {}
    for name in names:
        lists = name.endswith("-list")
        routes[f"api:{name}"] = Access(Action.API_READ, resource_type, "" if lists else "pk")
    return routes


ACCESS: dict[str, Access] = {
    # Pages (full page loads and HTMX navigation to them; a page refreshing itself is not a new view).
    "claims:detail": Access(Action.VIEWED, "claim"),
    "telephony:detail": Access(Action.VIEWED, "call"),
    "clinical:detail": Access(Action.VIEWED, "note"),
    "clinical:chart_encounters": Access(Action.VIEWED, "patient"),
    "clinical:chart_notes": Access(Action.VIEWED, "patient"),
    "clinical:chart_claims": Access(Action.VIEWED, "patient"),
    "billing:patient_detail": Access(Action.VIEWED, "patient"),
    "billing:payment_detail": Access(Action.VIEWED, "payment"),
    "billing:era-detail": Access(Action.VIEWED, "remittance"),
    "documents:detail": Access(Action.VIEWED, "document"),
    "documents:patient": Access(Action.VIEWED, "patient"),
    "documents:preview": Access(Action.VIEWED, "document"),
    # Downloads and exports. (A download through a share link has no signed-in user and no id
    # in its URL: documents.services.open_share records it.)
    "documents:download": Access(Action.DOWNLOADED, "document"),
    "clinical:pdf": Access(Action.DOWNLOADED, "note"),
    "billing:statement": Access(Action.DOWNLOADED, "patient"),
    "claims:import_errors_csv": Access(Action.EXPORTED, "claim_import"),
    "audit:export": Access(Action.EXPORTED, "audit_log", ""),
    # Exports streamed straight back (exports/); a background export's download records itself.
    "exports:claims": Access(Action.EXPORTED, "claim", ""),
    "exports:calls": Access(Action.EXPORTED, "call", ""),
    "exports:denial_trends": Access(Action.EXPORTED, "claim", ""),
    "exports:payer_performance": Access(Action.EXPORTED, "claim", ""),
    "exports:ar_aging": Access(Action.EXPORTED, "claim", ""),
    "exports:calling_operations": Access(Action.EXPORTED, "call", ""),
    "api:export-claims": Access(Action.EXPORTED, "claim", ""),
    "api:audit-list": Access(Action.API_READ, "audit_log", ""),
    # API reads.
    **_api("patient", "patient-list", "patient-detail"),
    **_api("insurance_policy", "insurancepolicy-list", "insurancepolicy-detail"),
    **_api("claim", "claim-list", "claim-detail", "claim-events"),
    **_api("call", "call-list", "call-detail"),
    **_api("scheduled_call", "scheduledcall-list", "scheduledcall-detail"),
    **_api("appointment", "appointment-list", "appointment-detail"),
    **_api("note", "clinicalnote-list", "clinicalnote-detail"),
    **_api("document", "document-list", "document-detail", "document-versions"),
    **_api("payment", "payment-list", "payment-detail"),
    **_api("transaction", "transaction-list", "transaction-detail"),
    **_api("patient_account", "patient-account-list", "patient-account-detail"),
    **_api("expected_payment", "expected-payment-list", "expected-payment-detail"),
    **_api("remittance", "remittance-list", "remittance-detail"),
    "api:document-download": Access(Action.DOWNLOADED, "document"),
    "api:document-version-download": Access(Action.DOWNLOADED, "document"),
}
