"""The storage layer on each real backend: a local folder, S3 (moto_server) and Azure (Azurite)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tracemalloc

import pytest

from documents import crypto, storage
from documents.crypto import CHUNK_SIZE, HEADER_SIZE, IO_BLOCK, DocumentCorrupt, DocumentKeyError, TooLarge

pytestmark = pytest.mark.usefixtures("document_storage")

MARKER = b"SSN 078-05-1120 PATIENT-MARKER"
MiB = 1024 * 1024


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def read_back(key: str) -> bytes:
    return b"".join(storage.open_chunks(key))


def overwrite(key: str, data: bytes) -> None:
    """Replace a stored object's bytes (to simulate tampering at rest)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    backend = storages["documents"]
    backend.delete(key)
    assert backend.save(key, ContentFile(data)) == key


class Source(io.RawIOBase):
    """``size`` bytes from a generator (so tests never hold a large file), optionally failing."""

    def __init__(self, size: int, *, fail_after: int | None = None) -> None:
        self._left, self._fail_after, self._given = size, fail_after, 0
        self._block = (MARKER + os.urandom(CHUNK_SIZE))[:CHUNK_SIZE]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._fail_after is not None and self._given >= self._fail_after:
            raise OSError("the upload's connection dropped")
        n = min(len(buffer), self._left, len(self._block))
        buffer[:n] = self._block[:n]
        self._left -= n
        self._given += n
        return n


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, IO_BLOCK, 2 * IO_BLOCK + 1, 3 * MiB + 5],
    ids=["empty", "1B", "64KiB", "64KiB+1", "block", "2blocks+1", "3MiB"],
)
def test_it_round_trips(size):
    data = (MARKER * (size // len(MARKER) + 1))[:size]
    stored = storage.store(io.BytesIO(data))
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert stored.key_id == crypto.current_key_id()
    assert storage.exists(stored.key)
    assert read_back(stored.key) == data


def test_it_stores_ciphertext_only():
    data = MARKER + b" Jane Doe, DOB 1970-01-01 " * 200
    stored = storage.store(io.BytesIO(data))
    raw = storage.raw_bytes(stored.key)
    assert raw.startswith(b"BPE1")
    assert data not in raw
    assert MARKER not in raw
    assert b"Jane Doe" not in raw


def test_it_uses_opaque_keys_and_lists_them():
    first = storage.store(io.BytesIO(b"one"))
    second = storage.store(io.BytesIO(b"two"))
    assert first.key != second.key
    folder, name = first.key.split("/")
    assert len(folder) == 2 and len(name) == 32
    assert sorted(storage.all_keys()) == sorted([first.key, second.key])


def test_it_lists_nothing_when_empty():
    assert list(storage.all_keys()) == []


def test_it_deletes():
    stored = storage.store(io.BytesIO(b"bye"))
    storage.delete(stored.key)
    assert not storage.exists(stored.key)
    assert list(storage.all_keys()) == []
    storage.delete(stored.key)  # again: not an error
    with pytest.raises(FileNotFoundError):
        storage.open_chunks(stored.key)


def test_it_makes_a_temporary_plain_copy():
    data = MARKER * 10_000
    stored = storage.store(io.BytesIO(data))
    with storage.plain_copy(stored.key, suffix=".pdf") as path:
        assert path.suffix == ".pdf"
        assert path.read_bytes() == data
    assert not path.exists()
    assert not path.parent.exists()


def test_it_raises_a_key_error_for_an_unknown_key(settings):
    stored = storage.store(io.BytesIO(b"private"))
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(DocumentKeyError, match=storage.stored_key_id(stored.key)):
        storage.open_chunks(stored.key)


@pytest.mark.parametrize("damage", ["flip", "truncate", "append"])
def test_it_detects_tampering(damage):
    stored = storage.store(Source(3 * CHUNK_SIZE + 100))
    raw = bytearray(storage.raw_bytes(stored.key))
    if damage == "flip":
        raw[HEADER_SIZE + 2 * CHUNK_SIZE + 7] ^= 0x01
    elif damage == "truncate":
        del raw[-50:]
    else:
        raw += b"\x00" * 10
    overwrite(stored.key, bytes(raw))
    with pytest.raises(DocumentCorrupt):
        read_back(stored.key)


def test_it_rotates_keys(settings):
    k1, k2 = new_key(), new_key()
    settings.DOCUMENT_ENCRYPTION_KEYS = [k1]
    data = MARKER * 5000
    old = storage.store(io.BytesIO(data))

    settings.DOCUMENT_ENCRYPTION_KEYS = [k2, k1]
    assert read_back(old.key) == data
    new = storage.reencrypt(old.key)
    assert new.key != old.key
    assert (new.size, new.sha256) == (old.size, old.sha256)
    assert new.key_id == crypto.current_key_id() == storage.stored_key_id(new.key) != old.key_id
    storage.delete(old.key)

    settings.DOCUMENT_ENCRYPTION_KEYS = [k2]
    assert read_back(new.key) == data
    assert list(storage.all_keys()) == [new.key]


def test_it_rotates_a_multi_block_file(settings):
    # reencrypt feeds decrypted chunks back through _IteratorReader, in IO_BLOCK reads.
    k1, k2 = new_key(), new_key()
    settings.DOCUMENT_ENCRYPTION_KEYS = [k1]
    old = storage.store(Source(5 * MiB + 3))
    settings.DOCUMENT_ENCRYPTION_KEYS = [k2, k1]
    new = storage.reencrypt(old.key)
    assert (new.size, new.sha256, new.key_id) == (old.size, old.sha256, crypto.current_key_id())
    digest = hashlib.sha256()
    for piece in storage.open_chunks(new.key):
        digest.update(piece)
    assert digest.hexdigest() == old.sha256


def test_it_leaves_nothing_when_the_file_is_too_large():
    with pytest.raises(TooLarge):
        storage.store(Source(10 * MiB), max_bytes=9 * MiB)
    assert list(storage.all_keys()) == []


def test_it_leaves_nothing_when_the_source_fails_halfway():
    with pytest.raises(OSError, match="connection dropped"):
        storage.store(Source(20 * MiB, fail_after=12 * MiB))
    assert list(storage.all_keys()) == []


def test_it_leaves_nothing_when_reencrypting_a_corrupt_object():
    stored = storage.store(Source(3 * MiB))
    raw = bytearray(storage.raw_bytes(stored.key))
    raw[-1] ^= 0x01
    overwrite(stored.key, bytes(raw))
    with pytest.raises(DocumentCorrupt):
        storage.reencrypt(stored.key)
    assert list(storage.all_keys()) == [stored.key]


# Peak Python memory of storing, then of reading back, a 64 MiB stream. What bounds each
# backend is its client's buffer, never the file: the local folder needs a few IO_BLOCK
# (512 KiB) buffers; boto3 holds one 8 MiB multipart part (settings: one at a time); the
# Azure SDK holds a 4 MiB block on upload and buffers each 2 MiB ranged read several times
# over on download.
MEMORY_LIMITS = {"local": 4 * MiB, "s3": 16 * MiB, "azure": 24 * MiB}


def test_it_keeps_memory_flat(document_storage):
    size = 64 * MiB
    read_back(storage.store(io.BytesIO(b"warm-up")).key)  # imports and connections are not the file
    tracemalloc.start()
    try:
        stored = storage.store(Source(size))
        _, store_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for piece in storage.open_chunks(stored.key):
            digest.update(piece)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (stored.size, digest.hexdigest()) == (size, stored.sha256)
    limit = MEMORY_LIMITS[document_storage]
    assert store_peak < limit, f"storing peaked at {store_peak / MiB:.1f} MiB"
    assert read_peak < limit, f"reading peaked at {read_peak / MiB:.1f} MiB"


def test_it_tells_when_an_object_was_written():
    from django.utils import timezone

    before = timezone.now()
    stored = storage.store(io.BytesIO(b"dated"))
    written = storage.modified_at(stored.key)
    assert written.tzinfo is not None
    assert abs((written - before).total_seconds()) < 60
