from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from claims import tasks
from claims.importing import engine
from claims.models import Claim, ClaimEvent, ClaimImport
from claims.tests.db_faults import fail_database
from claims.tests.factories import PayerFactory

HEADER = "Claim No,Patient,DOB,DOS,Amount,Payer ID\n"
ROWS = (
    "A-1,Maria Lopez,03/14/1980,09/01/2026,100,60054\n"
    "A-2,Bo Chan,01/01/1990,09/01/2026,,60054\n"
    "A-3,Ann Lee,02/02/1970,09/01/2026,100,60054\n"
    "A-4,Joe Ray,03/03/1960,09/01/2026,100,60054\n"
    "A-5,Eve Ng,04/04/1950,09/01/2026,100,60054\n"
)
# Row 5's event (claim A-4), found by its claim rather than its message (which may be stored encrypted).
ROW_5_EVENT = "NEW.claim_id = (SELECT id FROM claims_claim WHERE claim_number = 'A-4')"


@pytest.fixture
def worker():
    """Run the task as a worker would, retries and all, back to back (without the waits)."""
    from billingpulse.celery import app

    # In-process tasks raise their first error (see conftest, which restores this); a worker retries.
    app.conf.task_eager_propagates = False
    return lambda import_id: tasks.run_claim_import.apply(args=[import_id])


@pytest.fixture
def queued(practice, owner, monkeypatch) -> ClaimImport:
    PayerFactory(practice=practice, payer_id="60054")
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    upload = SimpleUploadedFile("claims.csv", (HEADER + ROWS).encode())
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)
    return claim_import


@pytest.mark.django_db
def test_it_runs_the_import(queued):
    tasks.run_claim_import(queued.pk)

    queued.refresh_from_db()
    assert (queued.status, queued.imported_count, queued.rejected_count) == ("done", 4, 1)


@pytest.mark.django_db
def test_it_tolerates_a_deleted_import():
    tasks.run_claim_import(987654)


@pytest.mark.django_db
def test_it_retries_a_transient_database_error_and_counts_every_row_once(queued, worker):
    # The second batch's first attempt meets a locked or restarting database, once.
    fail_database("claims_claimevent", ROW_5_EVENT, times=1)

    result = worker(queued.pk)

    assert result.successful()
    queued.refresh_from_db()
    assert queued.status == ClaimImport.Status.DONE
    assert (queued.processed_rows, queued.imported_count, queued.updated_count, queued.rejected_count) == (5, 4, 0, 1)
    assert Claim.objects.count() == 4
    assert ClaimEvent.objects.count() == 4
    assert list(queued.row_errors.values_list("row_number", flat=True)) == [3]


@pytest.mark.django_db
def test_it_fails_the_import_naming_the_imported_rows_once_the_retries_are_spent(queued, worker):
    fail_database("claims_claimevent", ROW_5_EVENT)

    result = worker(queued.pk)

    assert isinstance(result.result, OperationalError)
    queued.refresh_from_db()
    assert queued.status == ClaimImport.Status.FAILED
    assert queued.failure_message.startswith("Rows 2–3 were imported; the import stopped at row 4 ")
    assert (queued.processed_rows, queued.imported_count, queued.rejected_count) == (2, 1, 1)
    assert list(Claim.objects.values_list("claim_number", flat=True)) == ["A-1"]


def test_it_declares_retries_on_transient_database_errors():
    from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS

    task = tasks.run_claim_import
    assert task.autoretry_for == TRANSIENT_DB_ERRORS
    assert (task.retry_backoff, task.retry_jitter, task.max_retries) == (True, True, tasks.IMPORT_MAX_RETRIES)
