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

Streams are handled ``IO_BLOCK`` (512 KiB) at a time in reused buffers, whatever the
chunk size: the writer reads one block ahead to know which chunk is the final one, and the
reader learns it from the end of the stream (every chunk but the last is full-size). Neither
changes the format above.

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

MAGIC = b"BPE1"  # the format new objects are written in
KEY_ID_SIZE = 8
NONCE_PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + KEY_ID_SIZE + NONCE_PREFIX_SIZE
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
# A chunk index is 4 bytes of the nonce: 2**32 chunks of 64 KiB is 256 TiB per file.
MAX_CHUNKS = 2**32
# Bytes moved per step: plaintext read from a source (a whole number of chunks) and
# ciphertext read from storage (``read_size``). Large enough that per-call costs vanish,
# small enough that memory stays flat: a stream holds three or four buffers this size.
IO_BLOCK = 512 * 1024

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


def _fill(source: BinaryIO, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``source`` unless it ends first; returns the bytes read."""
    readinto = getattr(source, "readinto", None)
    size, got = len(buffer), 0
    while got < size:
        if readinto is not None:
            n = readinto(buffer[got:])
        else:
            piece = source.read(size - got)
            n = len(piece) if piece else 0
            buffer[got : got + n] = piece or b""
        if not n:
            break
        got += n
    return got


# ---------------------------------------------------------------------------- encryption


class EncryptingReader(io.RawIOBase):
    """A read-only stream of the ciphertext of ``source``, produced as it is read.

    Storage clients (FileSystemStorage, boto3, the Azure SDK) read it like a file, so a
    document is encrypted while it is uploaded with no full copy in memory or on disk.
    ``sha256`` and ``size`` describe the plaintext read so far (complete once the reader
    is exhausted). It is not seekable, except the no-op ``seek(0)`` before the first
    read that some clients make.

    The source is read ``IO_BLOCK`` bytes at a time into two reused buffers: one is
    encrypted while the other, read ahead, tells whether the current block holds the final
    chunk. ``read(n)`` returns exactly ``n``
    bytes until the end, as multipart uploads expect.
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
        self._blocks = self._sealed_blocks()
        self._out = memoryview(b"")  # ciphertext produced but not yet returned
        self._used = 0  # bytes of _out already returned
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
        return self._finished and self._used == len(self._out)

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

    def _read_block(self, buffer: memoryview) -> int:
        n = _fill(self._source, buffer)
        self.size += n
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise TooLarge(f"The document is larger than {self._max_bytes} bytes.")
        return n

    def _sealed_blocks(self) -> Iterator[memoryview]:
        """The header, then the ciphertext of each block of the source (views of one buffer)."""
        yield memoryview(self._header)
        chunk_size = CHUNK_SIZE
        block_size = max(1, IO_BLOCK // chunk_size) * chunk_size
        plain = [memoryview(bytearray(block_size)), None]
        sealed = memoryview(bytearray(block_size + (block_size // chunk_size) * TAG_SIZE))
        current = 0
        n = self._read_block(plain[0])
        while True:
            view = plain[current]
            self._hash.update(view[:n])
            following = 0
            if n == block_size:
                # Read ahead: this block's last chunk is the final one only if nothing follows.
                if plain[1 - current] is None:
                    plain[1 - current] = memoryview(bytearray(block_size))
                following = self._read_block(plain[1 - current])
            final = following == 0
            length = self._seal(view, n, final, sealed)
            self._finished = final  # "finished" once this last block has been handed out
            yield sealed[:length]
            if final:
                return
            current, n = 1 - current, following

    def _seal(self, view: memoryview, n: int, final_block: bool, out: memoryview) -> int:
        """Encrypt ``view[:n]`` chunk by chunk into ``out``; returns the ciphertext length."""
        header, aead, prefix = self._header, self._aead, self._nonce_prefix
        start = written = 0
        while True:
            end = min(start + CHUNK_SIZE, n)
            final = final_block and end == n
            if self._index >= MAX_CHUNKS:
                raise TooLarge("The document has more chunks than the format allows.")
            index = self._index.to_bytes(4, "big")
            size = end - start + TAG_SIZE
            aead.encrypt_into(
                prefix + index,
                view[start:end],
                header + index + (b"\x01" if final else b"\x00"),
                out[written : written + size],
            )
            self._index += 1
            written += size
            start = end
            if start >= n:
                return written

    def _refill(self) -> bool:
        """Make ``_out`` hold unreturned ciphertext; False once everything has been returned."""
        while self._used == len(self._out):
            block = next(self._blocks, None)
            if block is None:
                return False
            self._out, self._used = block, 0
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read from a closed EncryptingReader")
        target = memoryview(buffer).cast("B")
        got = 0
        while got < len(target) and self._refill():
            take = min(len(target) - got, len(self._out) - self._used)
            target[got : got + take] = self._out[self._used : self._used + take]
            self._used += take
            got += take
        self._position += got
        return got

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read from a closed EncryptingReader")
        if size is None or size < 0:
            return self.readall()
        if size and self._refill() and len(self._out) - self._used >= size:
            # The common case: one copy out of the current block.
            data = bytes(self._out[self._used : self._used + size])
            self._used += size
            self._position += size
            return data
        # Across blocks: BytesIO.getvalue() hands over its buffer without a copy, so a large
        # read (boto3 and Azure ask for MiBs) costs its size once, not twice.
        out = io.BytesIO()
        while out.tell() < size and self._refill():
            take = min(size - out.tell(), len(self._out) - self._used)
            out.write(self._out[self._used : self._used + take])
            self._used += take
        self._position += out.tell()
        return out.getvalue()

    def readall(self) -> bytes:
        if self.closed:
            raise ValueError("read from a closed EncryptingReader")
        # BytesIO.getvalue() hands over its buffer without a copy.
        out = io.BytesIO()
        while self._refill():
            out.write(self._out[self._used :])
            self._position += len(self._out) - self._used
            self._used = len(self._out)
        return out.getvalue()

    def close(self) -> None:
        blocks = getattr(self, "_blocks", None)  # absent if __init__ failed (no key configured)
        if blocks is not None:
            blocks.close()
        super().close()


# ---------------------------------------------------------------------------- decryption


def read_size() -> int:
    """Bytes ``decrypt_chunks`` asks its stream for at a time: whole sealed chunks, about ``IO_BLOCK``."""
    return max(1, IO_BLOCK // CHUNK_SIZE) * (CHUNK_SIZE + TAG_SIZE)


def decrypt_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted stream, one chunk (<= 64 KiB) at a time.

    Raises ``DocumentKeyError`` before yielding anything when no configured key matches,
    and ``DocumentCorrupt`` as soon as a chunk fails. A consumer that has already sent
    earlier chunks on (a streaming download) is cut short rather than given wrong bytes.

    The ciphertext is read ``IO_BLOCK`` bytes at a time into one reused buffer. A chunk
    is the final one when the stream ends after it: every chunk but the last is full-size,
    so trailing bytes, a truncation (even at a chunk boundary) or reordered chunks all
    fail that chunk's tag.
    """
    header = _read_full(stream, HEADER_SIZE)
    aead = AESGCM(_key_for(header))
    nonce_prefix = header[len(MAGIC) + KEY_ID_SIZE :]
    sealed_size = CHUNK_SIZE + TAG_SIZE
    # Room for whole chunks and one byte more: that byte tells a full chunk is not the last.
    buffer = memoryview(bytearray(read_size() + 1))
    start = end = 0
    at_end = False
    index = 0
    while True:
        if end - start <= sealed_size and not at_end:
            # Keep the unread tail (at most one chunk and a byte) and read on after it.
            if start:
                buffer[: end - start] = buffer[start:end]
                start, end = 0, end - start
            got = _fill(stream, buffer[end:])
            at_end = end + got < len(buffer)
            end += got
        final = end - start <= sealed_size
        size = min(end - start, sealed_size)
        if size < TAG_SIZE or index >= MAX_CHUNKS:
            raise DocumentCorrupt("The encrypted document is truncated.")
        nonce = nonce_prefix + index.to_bytes(4, "big")
        try:
            plain = aead.decrypt(nonce, buffer[start : start + size], _associated_data(header, index, final))
        except InvalidTag:
            raise DocumentCorrupt(f"Chunk {index} of the encrypted document failed authentication.") from None
        yield plain
        if final:
            return
        start += size
        index += 1


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a small value (e.g. a document's extracted text) in the same format as files."""
    return EncryptingReader(io.BytesIO(data)).read()


def decrypt_bytes(data: bytes) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(data)))
