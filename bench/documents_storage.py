"""Benchmark: encrypted document storage against plain copies, on every storage backend.

    .venv/bin/python bench/documents_storage.py [--sizes 5,50,200] [--repeat 3] [--no-results]

Starts moto_server (S3) and Azurite (Azure Blob) on loopback itself, through
``documents/tests/standins.py`` (Azurite from ``bin/ensure-azurite``), and for 5, 50 and
200 MB files on the local folder, S3 and Azure measures:

(a) storing: ``documents.storage.store`` (encrypting while it uploads) against saving the
    same bytes through the same Django storage (``storages["documents"].save``) unencrypted;
(b) reading back: ``documents.storage.open_chunks`` (decrypting) against reading the plain
    copy through the same streaming reader (``documents.storage._open_raw``), no decryption,
    in the same reads ``decrypt_chunks`` makes (``readinto`` a reused ``read_size()`` buffer).
    Goal for both: the encrypted path within 2x the plain one's time.
(c) memory: each measurement runs in a fresh child process that first stores and reads a
    tiny file (imports, clients, connections); its peak RSS (VmHWM) above that idle size is
    reported. Goal: flat as files grow, and under 64 MB.
(d) CPU time (user + system, all threads) of each side, which a busy machine's wall times
    blur.

Files come from a generator (one 64 KiB block repeated), so nothing holds a whole file, here
or in the children. No database is used. Figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, machine_lines, median, say, table, write_section  # noqa: E402

MB = 1000 * 1000
MiB = 1024 * 1024
GOAL_RATIO = 2.0
GOAL_MEMORY_MB = 64
BACKENDS = ["local", "s3", "azure"]
BUCKET = CONTAINER = "bench-documents"


# ---------------------------------------------------------------------------- child side


class Generated(io.RawIOBase):
    """``size`` bytes made on demand: a random 64 KiB block, repeated."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._left = size
        self._block = os.urandom(64 * 1024)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Azure's upload rewinds before reading, as it does with EncryptingReader.
        # Only that: the Azure SDK measures a stream by seeking to its end, which must fail.
        if self._position == 0 and offset == 0 and whence in (io.SEEK_SET, io.SEEK_CUR):
            return 0
        raise io.UnsupportedOperation("not seekable")

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left)
        view = memoryview(buffer)
        done = 0
        while done < n:
            take = min(n - done, len(self._block))
            view[done : done + take] = self._block[:take]
            done += take
        self._left -= n
        self._position += n
        return n


class Checksummed(io.RawIOBase):
    """Reads ``source`` and keeps its SHA-256, as any upload does: a document's checksum is
    recorded whether or not it is encrypted. The baseline a stored document is measured against."""

    def __init__(self, source: io.RawIOBase) -> None:
        super().__init__()
        self._source = source
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._source.seek(offset, whence)

    def readinto(self, buffer) -> int:
        n = self._source.readinto(buffer)
        self.sha256.update(memoryview(buffer)[:n])
        return n


def _vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    # CLOCK_PROCESS_CPUTIME_ID: user + system time of every thread, finer than os.times() ticks.
    return time.process_time()


def child(mode: str, size: int, key: str) -> None:
    """One measurement in this fresh process; prints a JSON line."""
    import django

    django.setup()
    from django.core.files import File
    from django.core.files.storage import storages

    from documents import crypto, storage

    # Idle: everything but the file itself (imports, clients, a connection) is in use.
    warm = storage.store(io.BytesIO(b"warm-up"))
    b"".join(storage.open_chunks(warm.key))
    with storage._open_raw(warm.key) as raw:
        raw.read()
    storage.delete(warm.key)
    idle_kb = _vm_hwm_kb()

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    result: dict[str, object] = {}
    if mode == "store":
        result["key"] = storage.store(Generated(size)).key
    elif mode == "save-plain":
        result["key"] = storages["documents"].save(key, File(Generated(size), name=key))
    elif mode == "save-checksummed":
        result["key"] = storages["documents"].save(key, File(Checksummed(Generated(size)), name=key))
    elif mode == "read":
        result["bytes"] = sum(len(piece) for piece in storage.open_chunks(key))
    elif mode == "read-plain":
        # The same reads as decrypt_chunks makes: readinto a reused buffer of read_size() bytes.
        got = 0
        buffer = bytearray(crypto.read_size())
        with storage._open_raw(key) as raw:
            while n := raw.readinto(buffer):
                got += n
        result["bytes"] = got
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = _cpu_seconds() - cpu_started
    result["peak_above_idle_mb"] = max(0, _vm_hwm_kb() - idle_kb) * 1024 / MB
    sys.stdout.write(json.dumps(result) + "\n")


# ---------------------------------------------------------------------------- parent side


def backend_environment(backend: str, var_dir: Path, moto, azurite) -> dict[str, str]:
    from documents.tests import standins

    env = dict(os.environ)
    for name in [name for name in env if name.startswith(("DOCUMENTS_", "DOCUMENT_"))]:
        del env[name]
    env.update(
        DJANGO_SETTINGS_MODULE="billingpulse.settings",
        PYTHONPATH=str(ROOT),
        VAR_DIR=str(var_dir),
        APP_ENV="development",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        STORAGE_BACKEND=backend,
        DOCUMENTS_ROOT=str(var_dir / "documents"),
    )
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if backend == "s3":
        env.update(
            DOCUMENTS_S3_BUCKET=BUCKET,
            DOCUMENTS_S3_REGION="us-east-1",
            DOCUMENTS_S3_ENDPOINT_URL=moto.url,
            DOCUMENTS_S3_ACCESS_KEY_ID="test",
            DOCUMENTS_S3_SECRET_ACCESS_KEY="test",
        )
    elif backend == "azure":
        env.update(
            DOCUMENTS_AZURE_CONTAINER=CONTAINER,
            DOCUMENTS_AZURE_CONNECTION_STRING=standins.azurite_connection_string(azurite),
        )
    return env


def run_child(env: dict[str, str], mode: str, size: int, key: str = "") -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(size), key or "-"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} of {size} bytes failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def delete_key(env: dict[str, str], key: str) -> None:
    code = f"import django; django.setup(); from documents import storage; storage.delete({key!r})"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def measure(env: dict[str, str], size: int, repeat: int) -> dict[str, dict[str, float]]:
    """Medians per mode: seconds and peak memory above idle."""
    runs: dict[str, list[dict]] = {
        mode: [] for mode in ("store", "save-plain", "save-checksummed", "read", "read-plain")
    }
    for _ in range(repeat):
        # Store and plain save alternate, then both reads, so both sides see the same machine.
        stored = run_child(env, "store", size)
        runs["store"].append(stored)
        plain = run_child(env, "save-plain", size, f"plain/{os.urandom(8).hex()}")
        runs["save-plain"].append(plain)
        checksummed = run_child(env, "save-checksummed", size, f"plain/{os.urandom(8).hex()}")
        runs["save-checksummed"].append(checksummed)
        delete_key(env, checksummed["key"])
        read = run_child(env, "read", size, stored["key"])
        read_plain = run_child(env, "read-plain", size, plain["key"])
        if read["bytes"] != size:
            raise SystemExit(f"read back {read['bytes']} bytes of {size}")
        runs["read"].append(read)
        runs["read-plain"].append(read_plain)
        delete_key(env, stored["key"])
        delete_key(env, plain["key"])
    return {
        mode: {
            "seconds": median([r["seconds"] for r in results]),
            "cpu_seconds": median([r["cpu_seconds"] for r in results]),
            "memory": max(r["peak_above_idle_mb"] for r in results),
        }
        for mode, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,50,200", help="file sizes in MB, comma-separated")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="local,s3,azure")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; medians reported")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "SIZE", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, size, key = args.child
        child(mode, int(size), key)
        return

    from documents.tests import standins

    load_at_start = os.getloadavg()
    sizes = [int(value) for value in args.sizes.split(",")]
    backends = [value for value in args.backends.split(",") if value]
    rows, memory_rows, cpu_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="billingpulse-bench-documents-") as folder:
        folder_path = Path(folder)
        moto = azurite = None
        try:
            if "s3" in backends:
                moto = standins.start_moto(folder_path / "moto")
                standins.s3_client(moto).create_bucket(Bucket=BUCKET)
            if "azure" in backends:
                azurite = standins.start_azurite(folder_path / "azurite")
                from azure.storage.blob import BlobServiceClient

                connection_string = standins.azurite_connection_string(azurite)
                BlobServiceClient.from_connection_string(connection_string).create_container(CONTAINER)
            for backend in backends:
                env = backend_environment(backend, folder_path / f"var-{backend}", moto, azurite)
                for size_mb in sizes:
                    say(f"{backend}: {size_mb} MB …")
                    result = measure(env, size_mb * MB, args.repeat)
                    rate = {mode: size_mb / values["seconds"] for mode, values in result.items()}
                    store_ratio = result["store"]["seconds"] / result["save-plain"]["seconds"]
                    checksummed_ratio = result["store"]["seconds"] / result["save-checksummed"]["seconds"]
                    read_ratio = result["read"]["seconds"] / result["read-plain"]["seconds"]
                    rows.append(
                        [
                            backend,
                            f"{size_mb} MB",
                            f"{rate['store']:.0f}",
                            f"{rate['save-plain']:.0f}",
                            f"{store_ratio:.2f}x",
                            f"{rate['save-checksummed']:.0f}",
                            f"{checksummed_ratio:.2f}x",
                            f"{rate['read']:.0f}",
                            f"{rate['read-plain']:.0f}",
                            f"{read_ratio:.2f}x",
                        ]
                    )
                    memory_rows.append(
                        [backend, f"{size_mb} MB"] + [f"{result[mode]['memory']:.1f}" for mode in result]
                    )
                    cpu = {mode: values["cpu_seconds"] for mode, values in result.items()}
                    cpu_rows.append(
                        [
                            backend,
                            f"{size_mb} MB",
                            f"{cpu['store'] * 1000:.0f}",
                            f"{cpu['save-plain'] * 1000:.0f}",
                            f"{cpu['store'] / cpu['save-plain']:.2f}x",
                            f"{cpu['read'] * 1000:.0f}",
                            f"{cpu['read-plain'] * 1000:.0f}",
                            f"{cpu['read'] / cpu['read-plain']:.2f}x",
                        ]
                    )
                    say("  ", rows[-1], memory_rows[-1], cpu_rows[-1])
        finally:
            for stand_in in (moto, azurite):
                if stand_in is not None:
                    stand_in.stop()

    lines = [
        *machine_lines(None, software=f"Python {sys.version.split()[0]}; moto_server; Azurite 3.37.0"),
        f"- Load average when started (1, 5, 15 min): {', '.join(f'{load:.2f}' for load in load_at_start)}",
        "",
        "(a, b) Throughput in MB/s (1 MB = 10^6 bytes) of the file's plaintext; *time ratio* is the",
        "encrypted path's time over the plain copy's on the same backend, measured in the same run",
        f"(goal: at most {GOAL_RATIO:g}x). A stored document's SHA-256 is recorded whether it is encrypted or",
        "not, so the store is also compared with a plain copy that computes the checksum as it reads",
        "(*checksummed*): the difference between the two is encryption's own cost. Both saves go",
        "through Django's `File` (the local folder is written 64 KiB at a time on both sides); the",
        "plain read `readinto`s a reused buffer of `crypto.read_size()` bytes, the reads",
        "`decrypt_chunks` makes.",
        "",
        *table(
            [
                "Backend",
                "File",
                "Store MB/s",
                "Plain save MB/s",
                "Store time ratio",
                "Checksummed save MB/s",
                "Store / checksummed",
                "Read MB/s",
                "Plain read MB/s",
                "Read time ratio",
            ],
            rows,
        ),
        "",
        "(c) Peak memory above the child process's idle size (VmHWM), MB, each in a fresh process",
        f"(goal: flat as files grow, under {GOAL_MEMORY_MB} MB).",
        "",
        *table(["Backend", "File", "Store", "Plain save", "Checksummed save", "Read", "Plain read"], memory_rows),
        "",
        "(d) CPU time, ms (user + system, every thread of the child; medians): what each side costs,",
        "whatever else the machine was doing.",
        "",
        *table(
            [
                "Backend",
                "File",
                "Store CPU",
                "Plain save CPU",
                "Store CPU ratio",
                "Read CPU",
                "Plain read CPU",
                "Read CPU ratio",
            ],
            cpu_rows,
        ),
    ]
    say("\n".join(lines))
    if not args.no_results:
        write_section("documents_storage", "Document storage: encryption against plain copies", lines)


if __name__ == "__main__":
    main()
