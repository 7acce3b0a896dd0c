"""Local stand-ins for S3 (moto_server) and Azure Blob Storage (Azurite) on loopback.

The storage tests and ``bench/documents_storage.py`` run the real boto3 and Azure SDK
clients against these servers, so request shapes and errors are real. Each stand-in runs
as a child process on a free 127.0.0.1 port, with its data in a folder of its own, and is
stopped by its pid when the caller is done.

Azurite comes from npm: ``bin/ensure-azurite`` installs it into ``.cache/azurite`` (``make
test`` and ``.ci/run`` call it); ``AZURITE_BLOB`` may name another ``azurite-blob``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AZURITE_INSTALLED = ROOT / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
AZURITE_INSTALL_HINT = (
    "Azurite (the Azure Blob Storage emulator) is not installed: run `bin/ensure-azurite` "
    "(needs npm; `make test` runs it) or set AZURITE_BLOB to an azurite-blob executable."
)
# Azurite's documented development account; public, and accepted by nothing but Azurite.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STARTUP_SECONDS = 60


class StandInError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StandIn:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    _log: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the process this object started (by its pid), then close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def _wait_until_answering(self, path: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StandInError(f"{self.name} exited with code {self.process.returncode}.\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}{path}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer, even an error status, means it is serving
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise StandInError(f"{self.name} did not answer on {self.url} within {STARTUP_SECONDS} s.\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def _start(name: str, command: list[str], port: int, folder: Path, probe: str) -> StandIn:
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder, env=dict(os.environ)
    )
    stand_in = StandIn(name=name, port=port, process=process, log_path=log_path, _log=log)
    stand_in._wait_until_answering(probe)
    return stand_in


# ---------------------------------------------------------------------------- S3


def start_moto(folder: Path) -> StandIn:
    """moto_server from this interpreter's environment (moto[server] is a dev requirement)."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        raise StandInError(f"{binary} is missing: install requirements-dev.txt (moto[server]).")
    port = free_port()
    return _start("moto_server", [str(binary), "-H", "127.0.0.1", "-p", str(port)], port, folder, "/moto-api/")


def s3_client(moto: StandIn):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )


# ---------------------------------------------------------------------------- Azure


def azurite_binary() -> Path | None:
    """``AZURITE_BLOB`` if set, else the project's own install; None when neither exists."""
    configured = os.environ.get("AZURITE_BLOB")
    candidate = Path(configured) if configured else AZURITE_INSTALLED
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def start_azurite(folder: Path) -> StandIn:
    binary = azurite_binary()
    if binary is None:
        raise StandInError(AZURITE_INSTALL_HINT)
    port = free_port()
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    command = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(data),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
    ]
    return _start("azurite-blob", command, port, folder, f"/{AZURITE_ACCOUNT}?comp=list")


def azurite_connection_string(azurite: StandIn) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={azurite.url}/{AZURITE_ACCOUNT};"
    )
