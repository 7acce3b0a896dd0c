from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from billingpulse.lib.devserver import is_loopback, runserver_host
from billingpulse.lib.env import env_bool, env_choice, env_int, env_list, env_secret
from billingpulse.lib.production import production_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG") is expected


def test_it_names_the_variable_of_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG")


def test_it_reads_integers_and_rejects_words(monkeypatch):
    monkeypatch.setenv("N", " 42 ")
    assert env_int("N", 1) == 42
    monkeypatch.setenv("N", "forty")
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 1)


def test_it_uses_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("UNSET_VAR", raising=False)
    assert env_int("UNSET_VAR", 7) == 7
    assert env_bool("UNSET_VAR", default=True) is True
    assert env_list("UNSET_VAR", ["a"]) == ["a"]


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_it_checks_choices(monkeypatch):
    monkeypatch.setenv("MODE", "Staging")
    assert env_choice("MODE", ("development", "staging"), "development") == "staging"
    monkeypatch.setenv("MODE", "prod")
    with pytest.raises(ImproperlyConfigured, match="MODE must be one of development, staging"):
        env_choice("MODE", ("development", "staging"), "development")


def test_it_reads_secrets_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("API_KEY_FILE", str(secret))
    assert env_secret("API_KEY") == "s3cret-from-file"
    monkeypatch.setenv("API_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="API_KEY_FILE points to"):
        env_secret("API_KEY")


def test_it_finds_every_production_problem():
    problems = production_problems(debug=True, secret_key="dev", default_secret_key="dev", allowed_hosts=[])
    assert len(problems) == 3
    assert (
        production_problems(debug=False, secret_key="x" * 50, default_secret_key="dev", allowed_hosts=["app.example"])
        == []
    )


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process, so settings are read from this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_in_production_with_insecure_settings():
    result = _manage("check", APP_ENV="production", DEBUG="true")

    assert result.returncode == 1
    assert "refuses to start with APP_ENV=production" in result.stderr
    assert "DEBUG is on" in result.stderr
    assert "SECRET_KEY is missing or is the development key" in result.stderr
    assert "ALLOWED_HOSTS is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_starts_in_production_with_safe_settings():
    result = _manage("check", APP_ENV="production", SECRET_KEY="k" * 64, ALLOWED_HOSTS="app.example")

    assert result.returncode == 0, result.stderr


def test_it_turns_on_secure_cookies_and_hsts_outside_development():
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_PRELOAD"]
    code = f"from django.conf import settings; print(*[getattr(settings, n) for n in {names!r}])"

    result = _manage("shell", "-v", "0", "-c", code, APP_ENV="production", SECRET_KEY="k" * 64, ALLOWED_HOSTS="a.b")

    assert result.stdout.split() == ["True"] * 4, result.stderr


@pytest.mark.parametrize(
    ("argv", "host"),
    [
        (["manage.py", "runserver"], "127.0.0.1"),
        (["manage.py", "runserver", "8001"], "127.0.0.1"),
        (["manage.py", "runserver", "-6", "8001"], "::1"),
        (["manage.py", "runserver", "127.0.0.1:8000"], "127.0.0.1"),
        (["manage.py", "runserver", "0.0.0.0:8000"], "0.0.0.0"),
        (["manage.py", "runserver", "--noreload", "-v", "2", "0:8000"], "0"),
        (["manage.py", "runserver", "[::]:8000"], "::"),
        (["django/__main__.py", "runserver", "--settings", "billingpulse.settings", "10.0.0.5:80"], "10.0.0.5"),
        (["manage.py", "shell"], None),
        (["celery", "-A", "billingpulse", "worker"], None),
    ],
)
def test_it_reads_where_runserver_listens(argv, host):
    assert runserver_host(argv) == host


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("devbox.example", False),
    ],
)
def test_it_knows_which_addresses_only_this_machine_reaches(host, loopback):
    assert is_loopback(host) is loopback


def _not_found_page(tmp_path: Path, host: str) -> str:
    """The page `manage.py runserver HOST:PORT` shows for an unknown address, in development."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "APP_ENV", "DATABASE_URL"}}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        cwd=ROOT,
        env={**env, "VAR_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert server.poll() is None, "runserver exited"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/no-such-page/", timeout=5).text
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("runserver did not answer")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_it_shows_debug_pages_to_the_developer_on_this_machine(tmp_path):
    assert "Using the URLconf defined in" in _not_found_page(tmp_path, "127.0.0.1")


def test_it_shows_no_debug_pages_when_runserver_listens_for_other_machines(tmp_path):
    assert "Using the URLconf defined in" not in _not_found_page(tmp_path, "0.0.0.0")


def test_it_refuses_debug_pages_on_an_address_other_machines_reach(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "runserver", f"0.0.0.0:{_free_port()}", "--noreload"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "refuses to show debug pages on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
