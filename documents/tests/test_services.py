"""Uploading, versions, review, access and search, through ``documents.services``."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from billingpulse.actor import Actor
from billingpulse.tests.factories import PatientFactory, UserFactory
from claims.tests.factories import ClaimFactory
from documents import services, storage
from documents.detect import UploadRefused
from documents.models import Document, DocumentEvent, DocumentVersion, DocumentWord, Extraction
from documents.services import DocumentError, NotAllowed, Upload
from documents.status import DocumentStatus
from documents.tests import samples

pytestmark = pytest.mark.django_db

SECRET_WORD = "Zyxwvutsrq"


def upload_of(data: bytes, name: str = "letter.pdf") -> Upload:
    return Upload(name=name, stream=io.BytesIO(data), size=len(data))


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice)


@pytest.fixture
def letter_pdf() -> bytes:
    return samples.text_pdf((f"Claim denied. Reason {SECRET_WORD} CO-45.", "Appeal within 90 days."))


def upload(practice, user, data: bytes, *, name="letter.pdf", **fields) -> Document:
    fields.setdefault("document_type", "denial_letter")
    return services.upload(practice, actor=Actor(user), file=upload_of(data, name), **fields)


def test_an_upload_is_stored_encrypted_and_read_then_found_by_a_word_of_its_text(
    practice, teammate, patient, letter_pdf, django_capture_on_commit_callbacks, document_storage
):
    with django_capture_on_commit_callbacks(execute=True):
        document = upload(practice, teammate, letter_pdf, patient=patient, title="Denial from Aetna")

    version = document.current_version
    version.refresh_from_db()
    assert (version.number, version.size, version.mime_type) == (1, len(letter_pdf), "application/pdf")
    assert version.extraction_status == Extraction.DONE
    assert SECRET_WORD in services.version_text(version)
    assert b"".join(services.open_version(version, actor=Actor(teammate))) == letter_pdf
    assert list(services.search(Document.objects.all(), SECRET_WORD.lower(), practice_id=practice.pk)) == [document]
    assert list(services.search(Document.objects.all(), "co-45 appeal", practice_id=practice.pk)) == [document]
    assert list(services.search(Document.objects.all(), "aetna", practice_id=practice.pk)) == [document]  # title
    assert not services.search(Document.objects.all(), "cardiology", practice_id=practice.pk).exists()


def test_neither_the_stored_file_nor_the_database_holds_its_text_in_clear(
    practice, teammate, patient, letter_pdf, django_capture_on_commit_callbacks, document_storage
):
    with django_capture_on_commit_callbacks(execute=True):
        document = upload(practice, teammate, letter_pdf, patient=patient, title="Letter")
    version = DocumentVersion.objects.get(document=document)
    assert version.extraction_status == Extraction.DONE

    stored = storage.raw_bytes(version.storage_key)
    assert SECRET_WORD.encode() not in stored and b"%PDF" not in stored
    needles = [SECRET_WORD.lower(), "appeal", "denied"]
    with connection.cursor() as cursor:
        for table in (DocumentVersion._meta.db_table, DocumentWord._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names from the models
            dumped = repr(cursor.fetchall()).lower()
            assert not [needle for needle in needles if needle in dumped], table
    assert DocumentWord.objects.filter(version=version).count() > 5


def test_a_new_version_keeps_the_old_one_and_each_download_gets_its_own_bytes(
    practice, teammate, owner, patient, letter_pdf, document_storage
):
    document = upload(practice, teammate, letter_pdf, patient=patient)
    services.move(document, DocumentStatus.REVIEWED, actor=Actor(teammate))
    services.move(document, DocumentStatus.APPROVED, actor=Actor(owner))
    second = samples.text_pdf(("Corrected letter.",))

    version = services.add_version(document, actor=Actor(teammate), file=upload_of(second), comment="Corrected")

    document.refresh_from_db()
    assert version.number == 2 and version.parent.number == 1
    assert document.current_version == version
    assert document.status == DocumentStatus.PENDING_REVIEW  # what was approved was the first file
    first = document.versions.get(number=1)
    assert b"".join(services.open_version(first, actor=Actor(teammate))) == letter_pdf
    assert b"".join(services.open_version(version, actor=Actor(teammate))) == second
    downloads = document.events.filter(kind=DocumentEvent.Kind.DOWNLOADED).order_by("id")
    assert [event.version.number for event in downloads] == [1, 2]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.pdf", "empty"),
        (samples.windows_program(), "letter.pdf", "not a PDF"),
        (samples.html_page(), "letter.pdf", "not a PDF"),
    ],
)
def test_a_refused_file_stores_nothing(practice, teammate, patient, data, name, message, document_storage):
    with pytest.raises(UploadRefused, match=message):
        upload(practice, teammate, data, name=name, patient=patient)

    assert not Document.objects.exists()
    assert list(storage.all_keys()) == []


def test_an_oversized_file_is_refused_and_nothing_stored(practice, teammate, patient, letter_pdf, settings):
    settings.DOCUMENT_MAX_UPLOAD_MB = 0
    with pytest.raises(UploadRefused, match="the limit is"):
        upload(practice, teammate, letter_pdf, patient=patient)
    assert not Document.objects.exists() and list(storage.all_keys()) == []


def test_a_failure_writing_the_row_removes_the_stored_file(practice, teammate, patient, letter_pdf):
    with pytest.raises(ValidationError):  # the row's date is refused after the file was stored
        upload(practice, teammate, letter_pdf, patient=patient, document_date="next Tuesday")
    assert not Document.objects.exists()
    assert list(storage.all_keys()) == []


def test_another_practices_patient_or_claim_is_refused(practice, teammate, patient, letter_pdf, other_practice):
    with pytest.raises(DocumentError, match="not one of your practice's patients"):
        upload(practice, teammate, letter_pdf, patient=PatientFactory(practice=other_practice))
    with pytest.raises(DocumentError, match="claim is not one of your practice's"):
        upload(practice, teammate, letter_pdf, patient=patient, links={"claim": ClaimFactory(practice=other_practice)})
    assert list(storage.all_keys()) == []


def test_review_moves_follow_the_status_machine_and_only_admins_approve(practice, teammate, owner, patient, letter_pdf):
    document = upload(practice, teammate, letter_pdf, patient=patient)

    with pytest.raises(NotAllowed, match="Only a practice admin"):
        services.move(document, DocumentStatus.APPROVED, actor=Actor(teammate))
    with pytest.raises(DocumentError, match="pending review can't be marked approved"):
        services.move(document, DocumentStatus.APPROVED, actor=Actor(owner))
    services.move(document, DocumentStatus.REVIEWED, actor=Actor(teammate), comment="Checked the amounts")
    services.move(document, DocumentStatus.APPROVED, actor=Actor(owner))

    document.refresh_from_db()
    assert document.is_reviewed and document.is_approved
    assert (document.reviewed_by, document.approved_by) == (teammate, owner)
    kinds = list(document.events.order_by("id").values_list("kind", flat=True))
    assert kinds.count(DocumentEvent.Kind.REFUSED) == 2
    assert document.events.get(message__contains="Checked the amounts").message.startswith("Pending review → Reviewed")


def test_confidential_documents_are_for_admins_and_the_users_named(practice, teammate, owner, patient, letter_pdf):
    named = UserFactory(practice=practice)
    document = upload(
        practice, owner, letter_pdf, patient=patient, confidential=True, allowed_users=[named], title="HIV test"
    )

    assert list(services.visible(practice, owner)) == [document]
    assert list(services.visible(practice, named)) == [document]
    assert not services.visible(practice, teammate).exists()
    with pytest.raises(NotAllowed):
        services.open_version(document.current_version, actor=Actor(teammate))
    assert document.events.filter(kind=DocumentEvent.Kind.REFUSED, actor=teammate).exists()


def test_attaching_to_a_claim_of_the_same_practice_only(practice, teammate, patient, letter_pdf, other_practice):
    document = upload(practice, teammate, letter_pdf, patient=patient)
    claim = ClaimFactory(practice=practice, patient=patient)

    services.attach(document, actor=Actor(teammate), claim=claim)
    assert Document.objects.get(pk=document.pk).claim == claim
    with pytest.raises(DocumentError):
        services.attach(document, actor=Actor(teammate), claim=ClaimFactory(practice=other_practice))
    assert Document.objects.get(pk=document.pk).claim == claim


def test_the_history_is_never_rewritten(practice, teammate, patient, letter_pdf):
    document = upload(practice, teammate, letter_pdf, patient=patient)
    event = document.events.get()

    with pytest.raises(Exception, match="never changed"):
        event.save()
    with pytest.raises(Exception, match="never changed"):
        DocumentEvent.objects.update(message="")
    with pytest.raises(Exception, match="never deleted"):
        DocumentEvent.objects.all().delete()


def test_the_sweep_removes_stored_files_no_version_points_at(practice, teammate, patient, letter_pdf):
    document = upload(practice, teammate, letter_pdf, patient=patient)
    orphan = storage.store(io.BytesIO(b"left behind by a crash"))

    assert services.sweep_orphans(now=timezone.now())["removed"] == 0  # too recent: maybe an upload in progress
    result = services.sweep_orphans(now=timezone.now() + services.ORPHAN_GRACE * 2)

    assert result == {"removed": 1, "missing": 0}
    assert not storage.exists(orphan.key)
    assert storage.exists(document.current_version.storage_key)


def test_the_same_words_give_unrelated_tokens_in_two_practices(
    practice, teammate, patient, letter_pdf, other_practice, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ours = upload(practice, teammate, letter_pdf, patient=patient)
        theirs = upload(other_practice, outsider, letter_pdf, patient=PatientFactory(practice=other_practice))

    def tokens(document):
        return set(DocumentWord.objects.filter(version__document=document).values_list("token", flat=True))

    assert tokens(ours) and tokens(theirs) and tokens(ours).isdisjoint(tokens(theirs))
    assert not services.search(Document.objects.all(), SECRET_WORD, practice_id=other_practice.pk).filter(pk=ours.pk)


def test_a_stored_file_that_cannot_be_read_is_a_failed_reading_not_a_stuck_one(practice, teammate, patient, letter_pdf):
    document = upload(practice, teammate, letter_pdf, patient=patient)
    version = document.current_version
    storage.delete(version.storage_key)

    services.read_text(version)

    version.refresh_from_db()
    assert version.extraction_status == Extraction.FAILED
    assert version.extraction_reason.startswith("The stored file could not be read")
