from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from documents import crypto
from documents.crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
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
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            piece = self._data.read(min(len(buffer), 1000))
            buffer[: len(piece)] = piece
            return len(piece)

    data = os.urandom(CHUNK_SIZE * 2 + 9)
    assert decrypt(EncryptingReader(Trickle(data)).read()) == data


def test_it_refuses_more_than_max_bytes(key):
    with pytest.raises(TooLarge):
        encrypt(b"x" * (CHUNK_SIZE + 1), max_bytes=CHUNK_SIZE)
    assert decrypt(encrypt(b"x" * CHUNK_SIZE, max_bytes=CHUNK_SIZE)) == b"x" * CHUNK_SIZE


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


def test_it_rejects_reordered_chunks(key):
    sealed = encrypt(os.urandom(3 * CHUNK_SIZE))
    sealed_size = CHUNK_SIZE + TAG_SIZE
    header, body = sealed[:HEADER_SIZE], sealed[HEADER_SIZE:]
    first, second, third = (body[i : i + sealed_size] for i in range(0, len(body), sealed_size))
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
