from __future__ import annotations

import pytest


def test_it_answers_liveness_without_touching_the_database(client):
    # No django_db mark: any database access in the view would raise here.
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_is_ready_when_the_database_answers(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_it_reports_which_part_failed(client, settings):
    # Nothing listens on port 1, so the Redis check fails while the database is fine.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error:")


@pytest.mark.django_db
def test_it_checks_redis_when_configured(client, settings):
    import os

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL not set; the Redis readiness check runs in the PostgreSQL + Redis pass")
    settings.REDIS_URL = redis_url

    assert client.get("/health/ready").json()["checks"]["redis"] == "ok"


def test_it_rejects_other_methods(client):
    assert client.post("/health").status_code == 405
