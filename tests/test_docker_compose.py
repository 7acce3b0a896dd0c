"""docker-compose.yml and .env.example describe the app the way settings.py reads it.

No Docker engine is needed: these tests read the files. They fail when a service, a
health check or a variable goes missing, or when settings.py starts reading a variable
that .env.example does not document.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILE = ROOT / "billingpulse" / "settings.py"

APP_SERVICES = ("web", "worker", "beat")
NEEDED_SERVICES = ("postgres", "redis", *APP_SERVICES)
ENV_READERS = {"env_str", "env_bool", "env_int", "env_list", "env_choice", "env_secret"}
# "NAME=value" or "# NAME=value": documented, set or shown commented out with its default.
ENV_LINE = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=")
# ${NAME}, ${NAME:-default}, ${NAME:?message} and the like inside compose values.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def load_compose(path: Path = COMPOSE_FILE) -> dict:
    return yaml.safe_load(path.read_text())


def services(compose: dict) -> dict:
    return compose.get("services") or {}


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a list."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {str(name): "" if value is None else str(value) for name, value in environment.items()}


def documented_variables(path: Path = ENV_EXAMPLE) -> set[str]:
    return {match.group(1) for line in path.read_text().splitlines() if (match := ENV_LINE.match(line))}


def variables_read_by_settings(source: str) -> set[str]:
    """Names passed as the first argument to env_str(...), env_bool(...) and the other readers."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        first = node.args[0]
        if function in ENV_READERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def depends_on_conditions(service: dict) -> dict[str, str | None]:
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on)
    return {name: (options or {}).get("condition") for name, options in depends_on.items()}


def command_of(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else command


def host_of(url: str) -> str | None:
    # Compose interpolation (${...}) may sit in the password; the host is what matters.
    return urlsplit(INTERPOLATION.sub("x", url)).hostname


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_it_defines_every_service_the_app_needs(compose):
    missing = [name for name in NEEDED_SERVICES if name not in services(compose)]
    assert not missing, f"docker-compose.yml lacks services: {missing}"


def test_it_runs_web_worker_and_beat_from_the_same_image(compose):
    app = [services(compose)[name] for name in APP_SERVICES]
    assert all(service.get("build") for service in app), "web, worker and beat must build the project's image"
    assert len({repr(service.get("build")) for service in app}) == 1
    assert len({service.get("image") for service in app}) == 1


def test_it_gives_web_worker_and_beat_the_same_environment(compose):
    environments = [environment_of(services(compose)[name]) for name in APP_SERVICES]
    assert environments[0], "the app services set no environment"
    assert environments[0] == environments[1] == environments[2]


def test_it_points_the_app_at_the_postgres_and_redis_services(compose):
    for name in APP_SERVICES:
        environment = environment_of(services(compose)[name])
        assert host_of(environment["DATABASE_URL"]) == "postgres", f"{name}: DATABASE_URL is not the postgres service"
        assert environment["DATABASE_URL"].startswith("postgres")
        assert host_of(environment["REDIS_URL"]) == "redis", f"{name}: REDIS_URL is not the redis service"
        assert environment["REDIS_URL"].startswith("redis://")


def test_it_documents_every_variable_the_app_services_set(compose):
    documented = documented_variables()
    for name in APP_SERVICES:
        undocumented = sorted(set(environment_of(services(compose)[name])) - documented)
        assert not undocumented, f"{name} sets variables missing from .env.example: {undocumented}"


def test_it_documents_every_variable_compose_reads_from_dot_env():
    undocumented = sorted(set(INTERPOLATION.findall(COMPOSE_FILE.read_text())) - documented_variables())
    assert not undocumented, f"docker-compose.yml reads variables missing from .env.example: {undocumented}"


def test_it_documents_every_variable_settings_reads():
    read = variables_read_by_settings(SETTINGS_FILE.read_text())
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "APP_ENV"} <= read, "settings.py could not be parsed"
    undocumented = sorted(read - documented_variables())
    assert not undocumented, f"settings.py reads variables missing from .env.example: {undocumented}"


@pytest.mark.parametrize("name", ["postgres", "redis", "web"])
def test_it_health_checks_the_services_others_wait_for(compose, name):
    healthcheck = services(compose)[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck"
    assert not healthcheck.get("disable")


def test_it_checks_web_health_on_the_health_endpoint(compose):
    test = services(compose)["web"]["healthcheck"]["test"]
    assert "/health" in (test if isinstance(test, str) else " ".join(test))


def test_it_starts_the_app_only_once_postgres_and_redis_are_healthy(compose):
    for name in APP_SERVICES:
        conditions = depends_on_conditions(services(compose)[name])
        for needed in ("postgres", "redis"):
            assert conditions.get(needed) == "service_healthy", f"{name} must wait for {needed} to be healthy"


def test_it_migrates_the_database_before_the_app_starts(compose):
    migrators = [name for name, service in services(compose).items() if "manage.py migrate" in command_of(service)]
    assert migrators, "no service runs manage.py migrate"
    for name in APP_SERVICES:
        conditions = depends_on_conditions(services(compose)[name])
        assert any(conditions.get(migrator) == "service_completed_successfully" for migrator in migrators), (
            f"{name} must wait for {migrators} to finish"
        )


def test_it_runs_gunicorn_a_celery_worker_and_beat_with_the_database_scheduler(compose):
    web, worker, beat = (command_of(services(compose)[name]) for name in APP_SERVICES)
    assert "gunicorn" in web and "billingpulse.wsgi" in web
    assert "celery" in worker and " worker" in worker
    assert "celery" in beat and " beat" in beat and re.search(r"(-S|--scheduler)[ =]django", beat)


def test_it_fails_when_a_variable_is_missing_from_env_example(tmp_path):
    trimmed = tmp_path / ".env.example"
    trimmed.write_text("\n".join(line for line in ENV_EXAMPLE.read_text().splitlines() if "SECRET_KEY=" not in line))
    assert "SECRET_KEY" in variables_read_by_settings(SETTINGS_FILE.read_text())
    assert "SECRET_KEY" not in documented_variables(trimmed)


def test_it_reads_variables_from_multi_line_calls_and_ignores_other_calls():
    source = 'A = env_str(\n    "SPLIT_OVER_LINES",\n    "x",\n)\nB = env_secret("SECRET_ONE")\nC = other("NOT_ME")\n'
    assert variables_read_by_settings(source) == {"SPLIT_OVER_LINES", "SECRET_ONE"}
