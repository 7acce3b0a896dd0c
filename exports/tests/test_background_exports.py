"""Exports larger than EXPORT_BACKGROUND_ROWS: queued, written by the task with progress,
downloaded from their page by the practice's admins, and deleted once expired."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.storage import storages
from django.utils import timezone

from audit.models import Action, AuditEntry
from claims.tests.factories import ClaimFactory
from exports import formats, services, tasks
from exports.models import Export
from exports.tests.conftest import content_of, xlsx_sheets

pytestmark = pytest.mark.django_db
URL = "/exports/claims/"


@pytest.fixture(autouse=True)
def _small_threshold(settings):
    settings.EXPORT_BACKGROUND_ROWS = 2


@pytest.fixture
def claims(practice):
    return ClaimFactory.create_batch(3, practice=practice)


@pytest.fixture
def done(owner_client, claims, django_capture_on_commit_callbacks) -> Export:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.get(URL, {"format": "xlsx", "status": "all"})
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{export.pk}/"
    return export


def test_it_queues_a_large_export_and_sends_the_admin_to_its_page(
    owner_client, owner, claims, django_capture_on_commit_callbacks
):
    with mock.patch("exports.tasks.write_export.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = owner_client.get(URL, {"format": "csv", "status": "all", "page": "3"})

    export = Export.objects.get()
    delay.assert_called_once_with(export.pk)
    assert response.status_code == 302 and response["Location"] == f"/exports/{export.pk}/"
    assert (export.kind, export.format, export.status, export.rows_total) == ("claims", "csv", "queued", 3)
    assert export.filters == {"status": "all"} and export.requested_by == owner
    page = owner_client.get(response["Location"]).content.decode()
    assert 'role="progressbar"' in page and "0 of about 3 rows written" in page and 'hx-trigger="every 1s"' in page


def test_it_gives_a_second_click_the_export_already_under_way(owner_client, claims):
    with mock.patch("exports.tasks.write_export.delay"):
        first = owner_client.get(URL, {"format": "csv", "status": "all"})
        second = owner_client.get(URL, {"format": "csv", "status": "all"})

    assert first["Location"] == second["Location"]
    assert Export.objects.count() == 1


def test_it_writes_the_file_and_offers_the_download(owner_client, done):
    done.refresh_from_db()
    assert (done.status, done.rows_done) == ("done", 3)
    assert storages["exports"].exists(done.file_name)
    assert done.download_name.startswith("claims-") and done.download_name.endswith(".xlsx")

    partial = owner_client.get(f"/exports/{done.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="export-progress"' in partial and "<html" not in partial and "every 1s" not in partial
    assert f"/exports/{done.pk}/download/" in partial


def test_it_downloads_the_file_and_records_the_export(owner_client, owner, done):
    response = owner_client.get(f"/exports/{done.pk}/download/")

    assert response.status_code == 200
    assert f'filename="{done.download_name}"' in response["Content-Disposition"]
    rows = xlsx_sheets(content_of(response))["Claims"]
    assert len(rows) == 4
    entry = AuditEntry.objects.get(action=Action.EXPORTED)
    assert (entry.actor, entry.resource_type, entry.practice_id) == (owner, "claim", owner.practice_id)


def test_it_hides_the_export_from_another_practice(outsider_client, done):
    assert outsider_client.get(f"/exports/{done.pk}/").status_code == 404
    assert outsider_client.get(f"/exports/{done.pk}/download/").status_code == 404
    assert not AuditEntry.objects.filter(action=Action.EXPORTED).exists()


def test_it_refuses_staff_the_page_and_the_file(teammate_client, done):
    assert teammate_client.get(f"/exports/{done.pk}/").status_code == 403
    assert teammate_client.get(f"/exports/{done.pk}/download/").status_code == 403


def test_it_answers_404_for_an_unknown_export(owner_client):
    assert owner_client.get("/exports/987654/").status_code == 404


def test_it_lists_the_practices_exports(owner_client, outsider, done):
    Export.objects.create(practice=outsider.practice, kind="calls", format="csv", expires_at=timezone.now())

    page = owner_client.get("/exports/").content.decode()

    assert f"/exports/{done.pk}/" in page
    assert page.count('href="/exports/') - page.count('href="/exports/"') == 1


def test_it_sends_a_download_of_an_unfinished_export_to_its_page(owner_client, claims):
    with mock.patch("exports.tasks.write_export.delay"):
        export_url = owner_client.get(URL, {"format": "csv", "status": "all"})["Location"]

    response = owner_client.get(export_url + "download/")

    assert response.status_code == 302 and response["Location"] == export_url


def test_it_deletes_expired_files_and_keeps_the_row(owner_client, done):
    Export.objects.filter(pk=done.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    name = Export.objects.get(pk=done.pk).file_name

    assert tasks.delete_expired_exports() == 1

    done.refresh_from_db()
    assert (done.status, done.file_name) == ("expired", "")
    assert not storages["exports"].exists(name)
    assert owner_client.get(f"/exports/{done.pk}/download/").status_code == 404
    assert "has been deleted" in owner_client.get(f"/exports/{done.pk}/").content.decode()


def test_it_marks_an_export_failed_when_its_file_cannot_be_written(owner_client, claims, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("disk full")

    monkeypatch.setitem(services.WRITERS, "xlsx", broken)
    with mock.patch("exports.tasks.write_export.delay"):
        owner_client.get(URL, {"format": "xlsx", "status": "all"})
    export = Export.objects.get()

    tasks.write_export(export.pk)

    export.refresh_from_db()
    assert export.status == "failed" and "could not be written" in export.failure_message
    assert "could not be written" in owner_client.get(f"/exports/{export.pk}/").content.decode()


def test_it_writes_an_export_once_when_delivered_twice(done, monkeypatch):
    writer = mock.Mock(wraps=formats.write_xlsx)
    monkeypatch.setitem(services.WRITERS, "xlsx", writer)

    tasks.write_export(done.pk)

    writer.assert_not_called()


def test_it_tolerates_a_deleted_export():
    tasks.write_export(987654)


def test_it_runs_through_a_worker_with_retries(owner_client, claims, django_capture_on_commit_callbacks):
    """The task as a worker runs it (``apply``): the file is written and the export is done."""
    with mock.patch("exports.tasks.write_export.delay"):
        owner_client.get(URL, {"format": "csv", "status": "all"})
    export = Export.objects.get()

    result = tasks.write_export.apply(args=[export.pk])

    assert result.successful()
    export.refresh_from_db()
    content = storages["exports"].open(export.file_name).read().decode("utf-8")
    assert content.startswith("\ufeffClaim number") and content.count("\n") == 4
