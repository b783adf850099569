"""/healthz says the process is up; /readyz says whether the database and the broker answer."""

import socket

import pytest


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query here would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_redis_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.BROKER_CHECK_TIMEOUT_SECONDS = 1

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_reaches_the_real_redis_broker(client, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    assert client.get("/readyz").json()["broker"] == "ok"


@pytest.mark.postgres
@pytest.mark.django_db
def test_readyz_checks_the_real_postgres(client):
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert client.get("/readyz").json()["database"] == "ok"
