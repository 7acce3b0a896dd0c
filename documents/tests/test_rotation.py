"""``manage.py rotate_document_keys``: every file and its text re-encrypted under the newest key."""

from __future__ import annotations

import base64
import io
import os
from io import StringIO

import pytest
from django.core.management import call_command

from billingpulse.actor import Actor
from billingpulse.tests.factories import PatientFactory
from documents import crypto, services, storage
from documents.crypto import DocumentKeyError
from documents.models import DocumentVersion
from documents.services import Upload
from documents.tests import samples

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def upload(practice, user, data: bytes, capture):
    with capture(execute=True):
        return services.upload(
            practice,
            actor=Actor(user),
            file=Upload(name="eob.pdf", stream=io.BytesIO(data), size=len(data)),
            patient=PatientFactory(practice=practice),
            document_type="eob",
        )


def test_rotation_re_encrypts_files_and_text_so_the_old_key_can_go(
    practice, teammate, settings, django_capture_on_commit_callbacks, document_storage
):
    old, new = new_key(), new_key()
    settings.DOCUMENT_ENCRYPTION_KEYS = [old]
    pdfs = [samples.text_pdf((f"Remittance number {n} paid in full.",)) for n in (1, 2)]
    documents = [upload(practice, teammate, pdf, django_capture_on_commit_callbacks) for pdf in pdfs]
    old_keys = set(storage.all_keys())

    settings.DOCUMENT_ENCRYPTION_KEYS = [new, old]
    # Interrupted after the first file: running again carries on with the rest.
    with django_capture_on_commit_callbacks(execute=True):  # each old file goes once its swap commits
        services.rotate_version(services.versions_to_rotate().first())
        out = StringIO()
        call_command("rotate_document_keys", stdout=out)
    assert "Re-encrypted 1 file(s)" in out.getvalue()

    settings.DOCUMENT_ENCRYPTION_KEYS = [new]
    assert not services.versions_to_rotate().exists()
    assert set(storage.all_keys()).isdisjoint(old_keys)
    for document, pdf in zip(documents, pdfs, strict=True):
        version = DocumentVersion.objects.get(document=document)
        assert version.key_id == crypto.current_key_id()
        assert b"".join(services.open_version(version, actor=Actor(teammate))) == pdf
        assert "paid in full" in services.version_text(version)
    out = StringIO()
    call_command("rotate_document_keys", stdout=out)
    assert "already under key" in out.getvalue()


def test_a_file_under_a_key_no_longer_configured_fails_loudly(
    practice, teammate, settings, django_capture_on_commit_callbacks
):
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key()]
    document = upload(practice, teammate, samples.text_pdf(("Lost key.",)), django_capture_on_commit_callbacks)

    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(services.Unreadable) as refused:
        b"".join(services.open_version(document.current_version, actor=Actor(teammate)))
    assert isinstance(refused.value.__cause__, DocumentKeyError)
