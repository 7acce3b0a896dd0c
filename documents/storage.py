"""Where document files live: the one module that touches the storage backend.

Everything goes through ``storages["documents"]`` (local folder, S3 or Azure Blob, chosen
by ``STORAGE_BACKEND`` in settings) and is encrypted on the way in by ``documents.crypto``,
so every backend holds ciphertext only.

Keys are opaque (``"3f/3f9c…"``, two UUIDs) and never derived from a file name, a patient
or any other metadata: renaming or re-filing a document never moves its file, and the
database row is the only map from a document to its key (``all_keys`` lets a periodic
sweep compare the two).

Downloads are always served by the app through ``open_chunks`` (e.g. in a
StreamingHttpResponse), never by a backend URL: what is at rest is ciphertext, so a
backend's signed URL would hand out ciphertext, and it would also bypass our permission
checks and audit log. Nothing here calls ``storage.url()``.
"""

from __future__ import annotations

import io
import logging
import posixpath
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from uuid import uuid4

from django.core.files import File
from django.core.files.storage import Storage, storages

from documents.crypto import HEADER_SIZE, EncryptingReader, decrypt_chunks, key_id_of

logger = logging.getLogger(__name__)

# Bytes fetched per request when reading an Azure blob: small enough to keep memory flat,
# large enough that the request overhead stays small.
AZURE_READ_RANGE = 2 * 1024 * 1024


@dataclass(frozen=True)
class Stored:
    """What the database records about a stored file: plaintext size and SHA-256, and the key id."""

    key: str
    size: int
    sha256: str
    key_id: str


def _storage() -> Storage:
    return storages["documents"]


def new_key() -> str:
    return f"{uuid4().hex[:2]}/{uuid4().hex}"


def store(plain: BinaryIO, *, max_bytes: int | None = None) -> Stored:
    """Encrypt ``plain`` into a new object, streaming; return its key and the plaintext's facts.

    On any failure (``TooLarge``, a backend error, a source that raises halfway) whatever
    was written is deleted before the error is re-raised, so no orphan object remains.
    """
    storage = _storage()
    key = new_key()
    reader = EncryptingReader(plain, max_bytes=max_bytes)
    try:
        saved = storage.save(key, File(reader, name=key))
        if not reader.finished:
            # A backend that stopped reading early would have stored a truncated object.
            raise OSError(f"The storage backend did not read the whole document for {saved}.")
    except BaseException:
        _discard(storage, key)
        raise
    return Stored(key=saved, size=reader.size, sha256=reader.sha256, key_id=reader.key_id)


def _discard(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:
        # The original error matters more; the orphan sweep (all_keys) catches what is left.
        logger.exception("Could not delete the partly written document object %s", key)


def open_chunks(key: str) -> Iterator[bytes]:
    """The decrypted content of ``key`` as an iterator of pieces (<= 64 KiB), streamed.

    The object is opened and its first chunk decrypted before this returns, so a missing
    object (``FileNotFoundError``), an unknown key (``DocumentKeyError``) or a corrupt
    start (``DocumentCorrupt``) is raised here, before a response has begun. Corruption
    further in raises from the iterator, which ends the download early.
    """
    raw = _open_raw(key)
    try:
        chunks = decrypt_chunks(raw)
        first = next(chunks)
    except BaseException:
        raw.close()
        raise
    return _continue(first, chunks, raw)


def _continue(first: bytes, chunks: Iterator[bytes], raw: BinaryIO) -> Iterator[bytes]:
    try:
        yield first
        yield from chunks
    finally:
        raw.close()


@contextmanager
def plain_copy(key: str, *, suffix: str = "") -> Iterator[Path]:
    """A temporary decrypted copy of ``key`` (for tools that need a path, such as OCR).

    It lives in a private (0700) temporary folder that is removed on exit, error or not.
    ``suffix`` (e.g. ``".pdf"``) is for tools that look at the extension.
    """
    folder = Path(tempfile.mkdtemp(prefix="billingpulse-doc-"))
    try:
        path = folder / f"document{suffix}"
        with path.open("wb") as out:
            for piece in open_chunks(key):
                out.write(piece)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def delete(key: str) -> None:
    """Delete the object; deleting one that does not exist is not an error."""
    _storage().delete(key)


def exists(key: str) -> bool:
    return _storage().exists(key)


def modified_at(key: str) -> datetime:
    """When the object was written (aware with USE_TZ): a sweep spares objects younger than an
    upload can take, whose database row may not be committed yet."""
    return _storage().get_modified_time(key)


def all_keys() -> Iterator[str]:
    """Every stored key, recursively (for the sweep that finds objects no row points to)."""
    yield from _walk(_storage(), "")


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        # FileSystemStorage before the first document: the root folder does not exist yet.
        return
    # Azure's listdir returns every blob under the folder with its full name and no folders.
    for name in files:
        yield name if not folder or name.startswith(f"{folder}/") else posixpath.join(folder, name)
    for sub in folders:
        yield from _walk(storage, posixpath.join(folder, sub) if folder else sub)


def raw_bytes(key: str) -> bytes:
    """The stored ciphertext, whole (for tests and checks that prove nothing is in clear)."""
    with _open_raw(key) as raw:
        return raw.read()


def stored_key_id(key: str) -> str:
    """Hex id of the encryption key ``key`` was written under, read from its header only."""
    with _open_raw(key) as raw:
        return key_id_of(raw.read(HEADER_SIZE))


def reencrypt(key: str) -> Stored:
    """Copy ``key`` to a NEW key under the newest encryption key, streaming.

    The old object is left alone: the caller points its row at the new key and then
    deletes the old one, so a rotation interrupted at any moment can simply be run again.
    """
    with _open_raw(key) as raw:
        return store(_IteratorReader(decrypt_chunks(raw)))


# ---------------------------------------------------------------------------- reading


def _open_raw(key: str) -> BinaryIO:
    """A streaming file-like of the stored bytes; ``FileNotFoundError`` if there is none.

    django-storages' own file objects download the whole object before the first read
    (S3: into memory unless AWS_S3_MAX_MEMORY_SIZE is set; Azure: the first 32 MiB in one
    request), so S3 and Azure are read here through their clients, piece by piece.
    """
    storage = _storage()
    # Look the classes up only if loaded: a storage of that class has loaded its module, and
    # importing the other SDK (megabytes) for an isinstance check would be waste.
    s3 = sys.modules.get("storages.backends.s3")
    azure = sys.modules.get("storages.backends.azure_storage")
    if s3 is not None and isinstance(storage, s3.S3Storage):
        from botocore.exceptions import ClientError

        try:
            return storage.bucket.Object(key).get()["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"No stored document {key}.") from None
            raise
    if azure is not None and isinstance(storage, azure.AzureStorage):
        return _AzureBlobReader(storage, key)
    return storage.open(key, "rb")


class _AzureBlobReader(io.RawIOBase):
    """Reads a blob in ``AZURE_READ_RANGE`` ranged requests, so memory stays flat."""

    def __init__(self, storage, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        super().__init__()
        self._blob = storage.client.get_blob_client(key)
        self._timeout = storage.timeout
        try:
            self._size = self._blob.get_blob_properties(timeout=self._timeout).size
        except ResourceNotFoundError:
            raise FileNotFoundError(f"No stored document {key}.") from None
        self._offset = 0  # next byte to fetch from the blob
        self._buffer = b""  # last range fetched
        self._used = 0  # bytes of the buffer already returned

    def readable(self) -> bool:
        return True

    def _left(self) -> int:
        return self._size - self._offset + len(self._buffer) - self._used

    def _fetch(self) -> None:
        length = min(AZURE_READ_RANGE, self._size - self._offset)
        downloader = self._blob.download_blob(
            offset=self._offset, length=length, max_concurrency=1, timeout=self._timeout
        )
        self._buffer, self._used = downloader.readall(), 0
        self._offset += length

    def read(self, size: int | None = -1) -> bytes:
        want = self._left() if size is None or size < 0 else min(size, self._left())
        pieces, got = [], 0
        while got < want:
            if self._used == len(self._buffer):
                self._fetch()
            take = min(want - got, len(self._buffer) - self._used)
            pieces.append(self._buffer[self._used : self._used + take])
            self._used += take
            got += take
        return b"".join(pieces)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # Copied straight from the fetched range into the caller's buffer (no joined bytes).
        target = memoryview(buffer).cast("B")
        want = min(len(target), self._left())
        got = 0
        while got < want:
            if self._used == len(self._buffer):
                self._fetch()
            take = min(want - got, len(self._buffer) - self._used)
            target[got : got + take] = memoryview(self._buffer)[self._used : self._used + take]
            self._used += take
            got += take
        return got


class _IteratorReader(io.RawIOBase):
    """A file-like over an iterator of bytes (decrypted chunks fed back into ``store``)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        super().__init__()
        self._pieces = pieces
        self._piece = memoryview(b"")  # the current piece's bytes not yet returned

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # Pieces are copied once, into the caller's buffer (no growing bytes concatenation).
        target = memoryview(buffer).cast("B")
        got = 0
        while got < len(target):
            if not self._piece:
                piece = next(self._pieces, None)
                if piece is None:
                    break
                self._piece = memoryview(piece)
            take = min(len(target) - got, len(self._piece))
            target[got : got + take] = self._piece[:take]
            self._piece = self._piece[take:]
            got += take
        return got
