"""Streaming authenticated encryption for stored documents.

Documents are encrypted before they reach any storage backend, so a leaked bucket,
container or disk holds only ciphertext. Fernet (used for short database fields) is not
streaming and needs several times a file's size in memory, so files use AES-256-GCM over
64 KiB chunks instead, and memory stays flat whatever the file size.

Format (version ``BPE1``)::

    header = b"BPE1" + key_id (8 bytes) + nonce_prefix (8 random bytes)
    chunk  = AESGCM(key).encrypt(nonce_prefix + index (4 bytes, big-endian),
                                 plaintext (<= 64 KiB),
                                 header + index (4 bytes) + final flag (1 byte))

Every chunk is written as ciphertext + 16-byte tag. The last chunk has the final flag set,
and an empty file is one empty final chunk. Binding the header, the chunk's position and
the final flag into each tag means reordered chunks, a truncated object (even at a chunk
boundary) and appended bytes all fail authentication.

Keys come from ``settings.DOCUMENT_ENCRYPTION_KEYS`` (newest first). New data is always
written under the first; the others stay readable so keys can be rotated
(``documents.storage.reencrypt``). ``key_id`` is the first 8 bytes of SHA-256 of the key,
which names the key in the header without revealing it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"BPE1"
KEY_ID_SIZE = 8
NONCE_PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + KEY_ID_SIZE + NONCE_PREFIX_SIZE
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
# A chunk index is 4 bytes of the nonce: 2**32 chunks of 64 KiB is 256 TiB per file.
MAX_CHUNKS = 2**32

_DOCUMENTS_INFO = b"billingpulse documents v1"
_INDEX_INFO = b"billingpulse document index v1"


class DocumentKeyError(Exception):
    """No configured key can read this object (it names the key id, never the data)."""


class DocumentCorrupt(Exception):
    """The ciphertext failed authentication: tampered, truncated, reordered or with trailing bytes."""


class TooLarge(Exception):
    """The plaintext passed the size limit given to ``EncryptingReader``."""


# ---------------------------------------------------------------------------- keys


def _derive(info: bytes) -> bytes:
    """A development-only key from SECRET_KEY, so ``make run`` works with no set-up."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(settings.SECRET_KEY.encode())


def _decode_key(text: str, position: int) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        key = b""
    if len(key) != 32:
        # The message names the position only: a key must never reach a log.
        raise ImproperlyConfigured(
            f"DOCUMENT_ENCRYPTION_KEYS entry {position} is not a urlsafe-base64 32-byte key "
            '(make one with: python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())").'
        )
    return key


def encryption_keys() -> list[bytes]:
    """The configured document keys, newest first; a derived key in development when none are set.

    Read on every call (it is cheap) so a settings change, such as a test's key rotation,
    takes effect at once.
    """
    configured = list(getattr(settings, "DOCUMENT_ENCRYPTION_KEYS", None) or [])
    if configured:
        return [_decode_key(text, position) for position, text in enumerate(configured, start=1)]
    if settings.APP_ENV == "development":
        return [_derive(_DOCUMENTS_INFO)]
    raise ImproperlyConfigured(
        f"DOCUMENT_ENCRYPTION_KEYS is empty: set at least one document encryption key with APP_ENV={settings.APP_ENV}."
    )


def index_key() -> bytes:
    """The secret for the document search index's keyed hashes (kept apart from the file keys)."""
    configured = getattr(settings, "DOCUMENT_INDEX_KEY", "") or ""
    if configured:
        return configured.encode()
    if settings.APP_ENV == "development":
        return _derive(_INDEX_INFO)
    raise ImproperlyConfigured(f"DOCUMENT_INDEX_KEY is empty: set it with APP_ENV={settings.APP_ENV}.")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_SIZE]


def current_key_id() -> str:
    """Hex id of the key new documents are written under."""
    return _key_id(encryption_keys()[0]).hex()


def key_id_of(header: bytes) -> str:
    """Hex key id named by a stored object's header (its first ``HEADER_SIZE`` bytes or more)."""
    if len(header) < HEADER_SIZE or header[: len(MAGIC)] != MAGIC:
        raise DocumentCorrupt("Not an encrypted document (bad or missing header).")
    return header[len(MAGIC) : len(MAGIC) + KEY_ID_SIZE].hex()


def _key_for(header: bytes) -> bytes:
    wanted = key_id_of(header)
    for key in encryption_keys():
        if _key_id(key).hex() == wanted:
            return key
    raise DocumentKeyError(f"No configured document key has key id {wanted}.")


def _associated_data(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _read_full(stream: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (raw streams may return less)."""
    first = stream.read(size)
    if not first or len(first) == size:
        return first or b""
    pieces = [first]
    got = len(first)
    while got < size:
        piece = stream.read(size - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


# ---------------------------------------------------------------------------- encryption


class EncryptingReader(io.RawIOBase):
    """A read-only stream of the ciphertext of ``source``, produced as it is read.

    Storage clients (FileSystemStorage, boto3, the Azure SDK) read it like a file, so a
    document is encrypted while it is uploaded with no full copy in memory or on disk.
    ``sha256`` and ``size`` describe the plaintext read so far (complete once the reader
    is exhausted). It is not seekable, except the no-op ``seek(0)`` before the first
    read that some clients make.
    """

    def __init__(self, source: BinaryIO, *, max_bytes: int | None = None) -> None:
        super().__init__()
        key = encryption_keys()[0]
        self._source = source
        self._max_bytes = max_bytes
        self._aead = AESGCM(key)
        self._nonce_prefix = os.urandom(NONCE_PREFIX_SIZE)
        self._header = MAGIC + _key_id(key) + self._nonce_prefix
        self._hash = hashlib.sha256()
        self._index = 0
        self._lookahead: bytes | None = None
        self._pending = self._header  # ciphertext produced but not yet returned
        self._finished = False  # the final chunk has been produced
        self._position = 0
        self.size = 0
        self.key_id = self._header[len(MAGIC) : len(MAGIC) + KEY_ID_SIZE].hex()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def finished(self) -> bool:
        """Whether the whole source has been read and the last chunk handed out."""
        return self._finished and not self._pending

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Azure's upload and Django's File.chunks() rewind before reading; allow exactly that.
        if self._position == 0 and offset == 0 and whence in (io.SEEK_SET, io.SEEK_CUR):
            return 0
        raise io.UnsupportedOperation("EncryptingReader is not seekable.")

    def _read_plain(self) -> bytes:
        data = _read_full(self._source, CHUNK_SIZE)
        self.size += len(data)
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise TooLarge(f"The document is larger than {self._max_bytes} bytes.")
        self._hash.update(data)
        return data

    def _next_chunk(self) -> bytes:
        """Encrypt the next chunk; a one-chunk look-ahead tells whether it is the final one."""
        plain = self._read_plain() if self._lookahead is None else self._lookahead
        following = self._read_plain() if len(plain) == CHUNK_SIZE else b""
        final = not following
        self._lookahead = None if final else following
        if self._index >= MAX_CHUNKS:
            raise TooLarge("The document has more chunks than the format allows.")
        nonce = self._nonce_prefix + self._index.to_bytes(4, "big")
        chunk = self._aead.encrypt(nonce, plain, _associated_data(self._header, self._index, final))
        self._index += 1
        self._finished = final
        return chunk

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read from a closed EncryptingReader")
        want = -1 if size is None or size < 0 else size
        # Chunks are written into a BytesIO whose getvalue() hands over its buffer without a
        # copy, so a large read (boto3 and Azure ask for MiBs) costs its size once, not twice.
        out = io.BytesIO()
        while want < 0 or out.tell() < want:
            if not self._pending:
                if self._finished:
                    break
                self._pending = self._next_chunk()
            room = len(self._pending) if want < 0 else want - out.tell()
            if len(self._pending) <= room:
                out.write(self._pending)
                self._pending = b""
            else:
                out.write(memoryview(self._pending)[:room])
                self._pending = self._pending[room:]
        data = out.getvalue()
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# ---------------------------------------------------------------------------- decryption


def decrypt_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted stream, one chunk (<= 64 KiB) at a time.

    Raises ``DocumentKeyError`` before yielding anything when no configured key matches,
    and ``DocumentCorrupt`` as soon as a chunk fails. A consumer that has already sent
    earlier chunks on (a streaming download) is cut short rather than given wrong bytes.
    """
    header = _read_full(stream, HEADER_SIZE)
    aead = AESGCM(_key_for(header))
    nonce_prefix = header[len(MAGIC) + KEY_ID_SIZE :]
    sealed_size = CHUNK_SIZE + TAG_SIZE
    current = _read_full(stream, sealed_size)
    index = 0
    while True:
        following = _read_full(stream, sealed_size) if len(current) == sealed_size else b""
        if len(current) < sealed_size and stream.read(1):
            raise DocumentCorrupt("A short chunk is followed by more data.")
        final = not following
        if len(current) < TAG_SIZE or index >= MAX_CHUNKS:
            raise DocumentCorrupt("The encrypted document is truncated.")
        nonce = nonce_prefix + index.to_bytes(4, "big")
        try:
            plain = aead.decrypt(nonce, current, _associated_data(header, index, final))
        except InvalidTag:
            raise DocumentCorrupt(f"Chunk {index} of the encrypted document failed authentication.") from None
        yield plain
        if final:
            return
        current, index = following, index + 1


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a small value (e.g. a document's extracted text) in the same format as files."""
    return EncryptingReader(io.BytesIO(data)).read()


def decrypt_bytes(data: bytes) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(data)))
