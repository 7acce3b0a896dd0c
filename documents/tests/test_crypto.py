from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from documents import crypto
from documents.crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
    IO_BLOCK,
    TAG_SIZE,
    DocumentCorrupt,
    DocumentKeyError,
    EncryptingReader,
    TooLarge,
    decrypt_bytes,
    decrypt_chunks,
    encrypt_bytes,
)

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 3 * 1024 * 1024 + 17]
# Around the blocks the streams are read in (IO_BLOCK of plaintext, read_size() of ciphertext).
BLOCK_SIZES = [IO_BLOCK - 1, IO_BLOCK, IO_BLOCK + 1, 2 * IO_BLOCK, 2 * IO_BLOCK + CHUNK_SIZE + 3]
SEALED = CHUNK_SIZE + TAG_SIZE


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def key(settings) -> str:
    value = new_key()
    settings.DOCUMENT_ENCRYPTION_KEYS = [value]
    return value


def encrypt(data: bytes, read_size: int = -1, **kwargs) -> bytes:
    reader = EncryptingReader(io.BytesIO(data), **kwargs)
    if read_size < 0:
        return reader.read()
    return b"".join(iter(lambda: reader.read(read_size), b""))


def decrypt(data: bytes) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(data)))


def reference_encrypt(data: bytes, key: bytes) -> bytes:
    """BPE1 written straight from the module docstring, one chunk at a time (no streaming code)."""
    header = b"BPE1" + hashlib.sha256(key).digest()[:8] + os.urandom(8)
    pieces = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
    out = [header]
    for index, piece in enumerate(pieces):
        final = b"\x01" if index == len(pieces) - 1 else b"\x00"
        position = index.to_bytes(4, "big")
        out.append(AESGCM(key).encrypt(header[12:] + position, piece, header + position + final))
    return b"".join(out)


def reference_decrypt(sealed: bytes, key: bytes) -> bytes:
    header, body = sealed[:HEADER_SIZE], sealed[HEADER_SIZE:]
    assert header[:4] == b"BPE1"
    pieces = [body[i : i + SEALED] for i in range(0, len(body), SEALED)]
    out = []
    for index, piece in enumerate(pieces):
        final = b"\x01" if index == len(pieces) - 1 else b"\x00"
        position = index.to_bytes(4, "big")
        out.append(AESGCM(key).decrypt(header[12:] + position, piece, header + position + final))
    return b"".join(out)


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per call, as sockets and raw files may."""

    def __init__(self, data: bytes, step: int = 1000) -> None:
        self._data, self._step = io.BytesIO(data), step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self._data.read(min(len(buffer), self._step))
        buffer[: len(piece)] = piece
        return len(piece)


class ReadOnly:
    """A file-like with ``read`` only (no ``readinto``)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


@pytest.mark.parametrize("size", SIZES)
def test_it_round_trips(key, size):
    data = os.urandom(size)
    sealed = encrypt(data)
    assert decrypt(sealed) == data
    chunks = max(1, -(-size // CHUNK_SIZE))
    assert len(sealed) == HEADER_SIZE + size + chunks * TAG_SIZE


@pytest.mark.parametrize("read_size", [1, 7, 1000, CHUNK_SIZE + TAG_SIZE, 5 * 1024 * 1024])
def test_it_gives_the_same_stream_whatever_the_read_size(key, read_size):
    data = os.urandom(2 * CHUNK_SIZE + 5)
    assert decrypt(encrypt(data, read_size)) == data


def test_it_reports_the_plaintext_size_and_sha256(key):
    data = os.urandom(CHUNK_SIZE * 2 + 3)
    reader = EncryptingReader(io.BytesIO(data))
    reader.read()
    assert reader.finished
    assert (reader.size, reader.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert reader.key_id == crypto.current_key_id()


def test_it_writes_the_header_and_no_plaintext(key):
    data = b"PATIENT: Jane Q. Marker-7731 " * 5000
    sealed = encrypt(data)
    assert sealed[:4] == b"BPE1"
    assert crypto.key_id_of(sealed) == hashlib.sha256(base64.urlsafe_b64decode(key)).digest()[:8].hex()
    assert b"Marker-7731" not in sealed
    # A fresh nonce prefix each time: the same plaintext never gives the same ciphertext.
    assert encrypt(data) != sealed


def test_it_reads_from_sources_that_return_short_reads(key):
    data = os.urandom(CHUNK_SIZE * 2 + 9)
    assert decrypt(EncryptingReader(Trickle(data)).read()) == data


@pytest.mark.parametrize("size", BLOCK_SIZES)
def test_it_writes_and_reads_the_documented_format_across_blocks(key, size):
    # The streaming code (blocks, read-ahead, hashing on a thread) gives exactly the format
    # the docstring describes: a one-chunk-at-a-time implementation of it reads what we
    # write, and we read what it writes (so objects stored before this code stay readable).
    raw_key = base64.urlsafe_b64decode(key)
    data = os.urandom(size)
    reader = EncryptingReader(io.BytesIO(data))
    sealed = b"".join(iter(lambda: reader.read(IO_BLOCK + 7), b""))
    assert reference_decrypt(sealed, raw_key) == data
    assert (reader.size, reader.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert len(sealed) == HEADER_SIZE + size + max(1, -(-size // CHUNK_SIZE)) * TAG_SIZE
    assert decrypt(reference_encrypt(data, raw_key)) == data
    assert b"".join(decrypt_chunks(Trickle(reference_encrypt(data, raw_key), step=70_001))) == data
    assert b"".join(decrypt_chunks(ReadOnly(reference_encrypt(data, raw_key)))) == data


def test_it_reports_the_sha256_of_a_multi_block_stream(key):
    data = os.urandom(5 * IO_BLOCK + 12345)
    reader = EncryptingReader(Trickle(data, step=300_000))
    out = bytearray(3 * IO_BLOCK)
    sealed = bytearray()
    while n := reader.readinto(out):
        sealed += out[:n]
    assert reader.finished
    assert (reader.size, reader.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert decrypt(bytes(sealed)) == data
    assert EncryptingReader(ReadOnly(data)).read() != bytes(sealed)  # a fresh nonce prefix


def test_it_is_finished_once_the_last_byte_is_read(key):
    # A client that reads exactly the object's length and stops must still count as done.
    data = os.urandom(IO_BLOCK)
    reader = EncryptingReader(io.BytesIO(data))
    length = HEADER_SIZE + IO_BLOCK + (IO_BLOCK // CHUNK_SIZE) * TAG_SIZE
    assert len(reader.read(length - 1)) == length - 1
    assert not reader.finished
    assert len(reader.read(1)) == 1
    assert reader.finished


def test_it_refuses_more_than_max_bytes(key):
    with pytest.raises(TooLarge):
        encrypt(b"x" * (CHUNK_SIZE + 1), max_bytes=CHUNK_SIZE)
    assert decrypt(encrypt(b"x" * CHUNK_SIZE, max_bytes=CHUNK_SIZE)) == b"x" * CHUNK_SIZE
    # Past a block, in the read-ahead: refused before anything past the limit is handed out.
    with pytest.raises(TooLarge):
        encrypt(b"x" * (3 * IO_BLOCK), max_bytes=IO_BLOCK + 1)
    limit = 2 * IO_BLOCK
    assert decrypt(encrypt(b"y" * limit, max_bytes=limit)) == b"y" * limit


def test_it_round_trips_small_values(key):
    for value in [b"", b"a", "Ünïcode text of a scanned EOB".encode()]:
        assert decrypt_bytes(encrypt_bytes(value)) == value


def test_it_raises_a_key_error_naming_the_key_id_for_an_unknown_key(settings, key):
    sealed = encrypt(b"secret")
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(DocumentKeyError) as raised:
        decrypt(sealed)
    assert crypto.key_id_of(sealed) in str(raised.value)
    assert "secret" not in str(raised.value)


def test_it_reads_old_keys_and_writes_with_the_newest(settings, key):
    old = encrypt(b"written under K1")
    newest = new_key()
    settings.DOCUMENT_ENCRYPTION_KEYS = [newest, key]
    assert decrypt(old) == b"written under K1"
    assert crypto.key_id_of(encrypt(b"new")) == crypto.current_key_id() != crypto.key_id_of(old)


@pytest.mark.parametrize("position", [0, 5, HEADER_SIZE - 1])
def test_it_rejects_a_damaged_header(key, position):
    sealed = bytearray(encrypt(b"a" * 100))
    sealed[position] ^= 0x01
    with pytest.raises((DocumentCorrupt, DocumentKeyError)):
        decrypt(bytes(sealed))


@pytest.mark.parametrize("position", [HEADER_SIZE, HEADER_SIZE + CHUNK_SIZE + TAG_SIZE + 3, -1])
def test_it_rejects_a_flipped_byte(key, position):
    sealed = bytearray(encrypt(os.urandom(2 * CHUNK_SIZE + 10)))
    sealed[position] ^= 0x80
    with pytest.raises(DocumentCorrupt):
        decrypt(bytes(sealed))


@pytest.mark.parametrize(
    "keep",
    [0, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1, HEADER_SIZE + CHUNK_SIZE + TAG_SIZE, -1],
    ids=["empty", "in-header", "header-only", "short-tag", "at-chunk-boundary", "last-byte"],
)
def test_it_rejects_a_truncated_stream(key, keep):
    sealed = encrypt(os.urandom(2 * CHUNK_SIZE + 10))
    with pytest.raises(DocumentCorrupt):
        decrypt(sealed[:keep])


@pytest.mark.parametrize("size", [0, CHUNK_SIZE, CHUNK_SIZE + 5])
@pytest.mark.parametrize("extra", [b"\x00", b"x" * (CHUNK_SIZE + TAG_SIZE)])
def test_it_rejects_appended_bytes(key, size, extra):
    with pytest.raises(DocumentCorrupt):
        decrypt(encrypt(os.urandom(size)) + extra)


@pytest.mark.parametrize(
    "damage",
    [
        "flip-in-second-block",
        "truncate-at-block-boundary",
        "truncate-a-chunk-at-block-end",
        "append-a-chunk",
        "swap-blocks",
    ],
)
def test_it_rejects_damage_across_read_blocks(key, damage):
    # decrypt_chunks reads read_size() bytes at a time: damage at and past those boundaries.
    sealed = bytearray(encrypt(os.urandom(3 * IO_BLOCK)))
    block = crypto.read_size()
    if damage == "flip-in-second-block":
        sealed[HEADER_SIZE + block + 5] ^= 0x01
    elif damage == "truncate-at-block-boundary":
        del sealed[HEADER_SIZE + 2 * block :]
    elif damage == "truncate-a-chunk-at-block-end":
        del sealed[HEADER_SIZE + 3 * block - SEALED :]
    elif damage == "append-a-chunk":
        sealed += sealed[HEADER_SIZE : HEADER_SIZE + SEALED]
    else:
        first, second = sealed[HEADER_SIZE : HEADER_SIZE + block], sealed[HEADER_SIZE + block : HEADER_SIZE + 2 * block]
        sealed[HEADER_SIZE : HEADER_SIZE + 2 * block] = second + first
    with pytest.raises(DocumentCorrupt):
        decrypt(bytes(sealed))
    with pytest.raises(DocumentCorrupt):
        b"".join(decrypt_chunks(Trickle(bytes(sealed), step=100_003)))


def test_it_never_returns_ciphertext_for_a_wrong_key_on_a_large_object(settings, key):
    sealed = encrypt(os.urandom(2 * IO_BLOCK))
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key()]
    chunks = decrypt_chunks(io.BytesIO(sealed))
    with pytest.raises(DocumentKeyError):
        next(chunks)


def test_it_rejects_reordered_chunks(key):
    sealed = encrypt(os.urandom(3 * CHUNK_SIZE))
    header, body = sealed[:HEADER_SIZE], sealed[HEADER_SIZE:]
    first, second, third = (body[i : i + SEALED] for i in range(0, len(body), SEALED))
    with pytest.raises(DocumentCorrupt):
        decrypt(header + second + first + third)


def test_it_rejects_a_chunk_moved_from_another_document(key):
    one, two = encrypt(os.urandom(CHUNK_SIZE)), encrypt(os.urandom(CHUNK_SIZE))
    with pytest.raises(DocumentCorrupt):
        decrypt(one[:HEADER_SIZE] + two[HEADER_SIZE:])


def test_it_derives_a_development_key_from_the_secret_key(settings):
    settings.DOCUMENT_ENCRYPTION_KEYS, settings.APP_ENV = [], "development"
    assert decrypt_bytes(encrypt_bytes(b"dev")) == b"dev"
    first = crypto.current_key_id()
    settings.SECRET_KEY = "another-development-secret-key"
    assert crypto.current_key_id() != first


@pytest.mark.parametrize("app_env", ["staging", "production"])
def test_it_refuses_to_run_without_keys_outside_development(settings, app_env):
    settings.DOCUMENT_ENCRYPTION_KEYS, settings.DOCUMENT_INDEX_KEY, settings.APP_ENV = [], "", app_env
    with pytest.raises(ImproperlyConfigured, match="DOCUMENT_ENCRYPTION_KEYS"):
        encrypt_bytes(b"x")
    with pytest.raises(ImproperlyConfigured, match="DOCUMENT_INDEX_KEY"):
        crypto.index_key()


@pytest.mark.parametrize("bad", ["not base64!", base64.urlsafe_b64encode(b"short").decode(), "é"])
def test_it_rejects_a_malformed_key_without_echoing_it(settings, bad):
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key(), bad]
    with pytest.raises(ImproperlyConfigured, match="entry 2") as raised:
        crypto.encryption_keys()
    assert bad not in str(raised.value)


def test_it_gives_an_index_key_apart_from_the_file_keys(settings):
    settings.DOCUMENT_INDEX_KEY, settings.APP_ENV = "", "development"
    derived = crypto.index_key()
    assert len(derived) == 32
    assert derived not in crypto.encryption_keys()
    settings.DOCUMENT_INDEX_KEY = "configured-index-secret"
    assert crypto.index_key() == b"configured-index-secret"
