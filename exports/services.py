"""Background exports: queue one, write its file with progress, hand it out, delete it later.

Files live in the ``exports`` storage (``settings.STORAGES``), which is private: the only way
to a file is ``open_export``, behind the download view's role and practice checks.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

import audit
from audit.models import Action
from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from billingpulse.models import Practice, User
from exports import datasets, formats
from exports.models import Export

log = logging.getLogger(__name__)

# A biller who clicks "Export" twice gets the export already under way, not a second one.
REUSE_WITHIN = timedelta(minutes=10)
WRITERS = {"csv": formats.write_csv, "xlsx": formats.write_xlsx}


def storage():
    return storages["exports"]


def dataset_for(kind: str, practice: Practice, filters: Mapping[str, str], **options) -> datasets.Dataset:
    if kind == Export.Kind.CLAIMS:
        return datasets.claims(practice, filters, **options)
    if kind == Export.Kind.CALLS:
        return datasets.calls(practice, filters, **options)
    return datasets.report(kind, practice, filters, **options)


def queue_export(
    *, practice: Practice, user: User, kind: str, file_format: str, filters: Mapping[str, str], rows: int
) -> Export:
    """An export of ``kind`` for ``filters``, written in the background; the same request made
    again while the first is queued or running gets the first."""
    now = timezone.now()
    same = Export.objects.filter(
        practice=practice,
        requested_by=user,
        kind=kind,
        format=file_format,
        filters=dict(filters),
        status__in=(Export.Status.QUEUED, Export.Status.RUNNING),
        created_at__gte=now - REUSE_WITHIN,
    ).first()
    if same is not None:
        return same
    export = Export.objects.create(
        practice=practice,
        requested_by=user,
        kind=kind,
        format=file_format,
        filters=dict(filters),
        rows_total=rows,
        expires_at=now + settings.EXPORT_KEEP,
    )
    from exports import tasks

    transaction.on_commit(lambda: tasks.write_export.delay(export.pk))
    return export


def write_export(export_id: int, *, can_retry: bool = False) -> None:
    """Write a queued export's file, counting rows as it goes. Claimed with a conditional update,
    so a task delivered twice writes once; a task redelivered after its worker died (the export
    left running) writes the file again from the start."""
    claimed = Export.objects.filter(pk=export_id, status__in=(Export.Status.QUEUED, Export.Status.RUNNING)).update(
        status=Export.Status.RUNNING, rows_done=0
    )
    if not claimed:
        return
    export = Export.objects.select_related("practice").get(pk=export_id)
    today = export.practice.today()
    dataset = dataset_for(export.kind, export.practice, export.filters)

    def progress(done: int) -> None:
        Export.objects.filter(pk=export_id).update(rows_done=done)

    name = f"{export.practice_id}/{uuid.uuid4().hex}.{export.format}"
    try:
        with tempfile.TemporaryFile() as file:
            WRITERS[export.format](dataset.sheets, file, progress)
            file.seek(0)
            saved = storage().save(name, File(file, name=name))
    except TRANSIENT_DB_ERRORS:
        # The task tries again (from the start) after a pause; once out of tries, it failed.
        if not can_retry:
            _fail(export_id)
        raise
    except Exception:
        log.exception("Export %s could not be written", export_id)
        _fail(export_id)
        return
    Export.objects.filter(pk=export_id).update(
        status=Export.Status.DONE,
        file_name=saved,
        download_name=dataset.filename(export.format, today),
        finished_at=timezone.now(),
        expires_at=timezone.now() + settings.EXPORT_KEEP,
    )


def _fail(export_id: int) -> None:
    Export.objects.filter(pk=export_id).update(
        status=Export.Status.FAILED,
        failure_message="The file could not be written. Try again, or narrow the filters.",
        finished_at=timezone.now(),
    )


def open_export(export: Export) -> File:
    """The finished export's file, opened for reading, recorded in the audit trail as exported."""
    file = storage().open(export.file_name, "rb")
    resource_type = dataset_resource_type(export.kind)
    audit.record(
        Action.EXPORTED,
        practice=export.practice_id,
        resource_type=resource_type,
        detail=f"{export.get_kind_display()} export {export.pk} ({export.format}), filters: {export.filters}"[:500],
    )
    return file


def dataset_resource_type(kind: str) -> str:
    if kind == Export.Kind.CALLS:
        return "call"
    if kind in datasets.REPORTS:
        return datasets.REPORTS[kind][1]
    return "claim"


def delete_expired_exports() -> int:
    """Delete the files of exports past their time (keeping the row, marked expired)."""
    now = timezone.now()
    expired = 0
    for export in Export.objects.filter(expires_at__lte=now).exclude(status=Export.Status.EXPIRED).iterator():
        if export.file_name:
            try:
                storage().delete(export.file_name)
            except OSError:
                log.exception("Could not delete the file of export %s", export.pk)
                continue
        Export.objects.filter(pk=export.pk).update(status=Export.Status.EXPIRED, file_name="")
        expired += 1
    return expired
