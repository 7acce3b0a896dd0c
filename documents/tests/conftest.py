"""Fixtures for the document storage tests: real backends, one suite.

``document_storage`` runs a test three times: on a local folder, on S3 (moto_server) and on
Azure Blob Storage (Azurite), each with a fresh folder, bucket or container. The stand-ins
start once per session, only when a test asks for them. Without Azurite the Azure cases are
skipped, except in CI (``CI=true``), where a missing Azurite is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from documents.tests import standins


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> Iterator[standins.StandIn]:
    server = standins.start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Iterator[standins.StandIn]:
    if standins.azurite_binary() is None:
        if _in_ci():
            pytest.fail(f"CI must run the Azure storage tests. {standins.AZURITE_INSTALL_HINT}", pytrace=False)
        pytest.skip(standins.AZURITE_INSTALL_HINT)
    server = standins.start_azurite(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


def _s3_backend(moto: standins.StandIn) -> dict:
    from boto3.s3.transfer import TransferConfig

    bucket = f"documents-{uuid4().hex[:12]}"
    standins.s3_client(moto).create_bucket(Bucket=bucket)
    # The same transfer settings as billingpulse/settings.py, which the memory test relies on.
    transfer = TransferConfig(
        multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, use_threads=False
    )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "region_name": "us-east-1",
            "endpoint_url": moto.url,
            "access_key": "test",
            "secret_key": "test",
            "addressing_style": "path",
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "file_overwrite": False,
            "default_acl": None,
            "transfer_config": transfer,
        },
    }


def _azure_backend(azurite: standins.StandIn) -> dict:
    from azure.storage.blob import BlobServiceClient

    container = f"documents-{uuid4().hex[:12]}"
    connection_string = standins.azurite_connection_string(azurite)
    BlobServiceClient.from_connection_string(connection_string).create_container(container)
    return {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "azure_container": container,
            "connection_string": connection_string,
            "overwrite_files": False,
            "upload_max_conn": 1,
        },
    }


@pytest.fixture(params=["local", "s3", "azure"])
def document_storage(request, settings, tmp_path) -> str:
    """Point ``storages["documents"]`` at a fresh place on the parametrized backend; returns its name.

    Assigning ``settings.STORAGES`` sends ``setting_changed``, on which Django drops its cached
    storage instances, so ``storages["documents"]`` is rebuilt from the new definition (and
    again when the test's overrides are undone).
    """
    backend = request.param
    if backend == "s3":
        definition = _s3_backend(request.getfixturevalue("moto_server"))
    elif backend == "azure":
        definition = _azure_backend(request.getfixturevalue("azurite"))
    else:
        definition = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "documents"},
        }
    settings.STORAGES = {**settings.STORAGES, "documents": definition}
    return backend
