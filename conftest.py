"""Shared fixtures: the personas every view test uses.

* ``owner``    — admin of practice A
* ``teammate`` — staff member of practice A
* ``outsider`` — admin of practice B, who must never see practice A's data
"""

from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests check behaviour, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # The database cache is rolled back with each test; Redis is not, so empty it.
    from django.conf import settings
    from django.core.cache import cache

    if settings.REDIS_URL:
        cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _chroma_path(tmp_path_factory):
    # The knowledge base's embedded Chroma lives in the session's own folder, never var/chroma.
    from django.conf import settings

    from ai import knowledge

    settings.CHROMA_PATH, settings.CHROMA_URL = tmp_path_factory.mktemp("chroma"), ""
    knowledge.reset_clients()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Celery tasks run in-process when queued, as a worker would run them: tests never leave
    messages in a broker (tests of real workers send theirs with ``send_task``)."""
    from billingpulse.celery import app

    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = False, False


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files from tests go to the test's own folder, never var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _document_storage(settings, tmp_path):
    # Document files from tests go to the test's own folder, never var/documents
    # (documents/tests/conftest.py runs the documents suite on S3 and Azure stand-ins too).
    local = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "documents"}}
    settings.STORAGES = {**settings.STORAGES, "documents": local}


@pytest.fixture
def practice(db):
    return PracticeFactory(name="Alpha Family Clinic")


@pytest.fixture
def owner(practice):
    return UserFactory(email="alice@alpha.example", full_name="Alice Admin", practice=practice, role=User.Role.ADMIN)


@pytest.fixture
def teammate(practice):
    return UserFactory(email="bob@alpha.example", full_name="Bob Biller", practice=practice, role=User.Role.STAFF)


@pytest.fixture
def other_practice(db):
    return PracticeFactory(name="Bravo Orthopedics")


@pytest.fixture
def outsider(other_practice):
    return UserFactory(
        email="charlie@bravo.example", full_name="Charlie Outsider", practice=other_practice, role=User.Role.ADMIN
    )


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:
    return _client_for(owner)


@pytest.fixture
def teammate_client(teammate) -> Client:
    return _client_for(teammate)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _client_for(outsider)


def _api_client_for(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(owner):
    """An API client with the owner's token."""
    return _api_client_for(owner)


@pytest.fixture
def teammate_api(teammate):
    return _api_client_for(teammate)


@pytest.fixture
def api_for(db):
    """Makes an API client with a token for any user: ``api_for(user)``."""
    return _api_client_for
