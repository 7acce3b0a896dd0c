from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import factory
from django.utils import timezone

from billingpulse.tests.factories import PatientFactory
from documents import storage
from documents.models import (
    Document,
    DocumentEvent,
    DocumentShare,
    DocumentType,
    DocumentVersion,
    DocumentWord,
    hash_share_token,
)

CONTENT = b"Plain text of a scanned letter from the payer about claim BP000123.\n"


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document
        skip_postgeneration_save = True

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    document_type = DocumentType.DENIAL_LETTER
    title = factory.Sequence(lambda n: f"Denial letter number {n}")
    description = "Received by mail from the payer."

    @factory.post_generation
    def version(self, create: bool, extracted, **kwargs) -> None:
        """Every document has a current version unless ``version=False``."""
        if create and extracted is not False:
            DocumentVersionFactory(document=self)


class DocumentVersionFactory(factory.django.DjangoModelFactory):
    """A version with its (encrypted) file really stored; it becomes the document's current one."""

    class Meta:
        model = DocumentVersion

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
        content = CONTENT

    document = factory.SubFactory(DocumentFactory, practice=factory.SelfAttribute("..practice"), version=False)
    number = factory.LazyAttribute(lambda o: o.document.versions.count() + 1)
    original_name = "letter-from-payer.txt"
    mime_type = "text/plain"
    size = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    storage_backend = "local"
    storage_key = factory.LazyAttribute(lambda o: o.stored.key)
    key_id = factory.LazyAttribute(lambda o: o.stored.key_id)
    stored = factory.LazyAttribute(lambda o: storage.store(io.BytesIO(o.content)))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("stored", None)
        version = super()._create(model_class, *args, **kwargs)
        version.document.current_version = version
        version.document.save(update_fields=["current_version"])
        return version


class DocumentWordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentWord

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    version = factory.SubFactory(DocumentVersionFactory, practice=factory.SelfAttribute("..practice"))
    token = factory.Sequence(lambda n: f"{n:032x}")


class DocumentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentEvent

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    document = factory.SubFactory(DocumentFactory, practice=factory.SelfAttribute("..practice"))
    kind = DocumentEvent.Kind.COMMENT
    message = "Called the payer about this letter."


class DocumentShareFactory(factory.django.DjangoModelFactory):
    """A live share link to the document's current version (its token is not kept)."""

    class Meta:
        model = DocumentShare

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    document = factory.SubFactory(DocumentFactory, practice=factory.SelfAttribute("..practice"))
    version = factory.LazyAttribute(lambda o: o.document.current_version)
    token_hash = factory.Sequence(lambda n: hash_share_token(f"token-{n}"))
    recipient = "Aetna appeals"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
