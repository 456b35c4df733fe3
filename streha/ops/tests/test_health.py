import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from streha.ops import health
from streha.ops.tests import sources
from streha.protection import keys

SOURCES = "streha.ops.tests.sources"


@pytest.fixture(autouse=True)
def _no_cached_migration_answer(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


def test_healthz_answers_without_the_database(client, monkeypatch):
    def refuse(self):
        raise OperationalError("down")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_everything_is_in_place_and_absent_sources_are_skipped(client, settings):
    settings.STREHA_READINESS_SOURCES = {
        "job_worker": "streha.not_installed.heartbeat",
        "audit_checkpoint": "",
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "master_keys": "ok",
        "job_worker": "skipped",
        "audit_checkpoint": "skipped",
    }


@pytest.mark.django_db
def test_recent_sources_are_ready_and_silent_ones_are_not(client, settings, monkeypatch):
    settings.STREHA_READINESS_SOURCES = {
        "job_worker": f"{SOURCES}.last_reported",
        "audit_checkpoint": f"{SOURCES}.never",
    }
    settings.STREHA_WORKER_HEARTBEAT_MAX_SECONDS = 120
    settings.STREHA_AUDIT_CHECKPOINT_MAX_SECONDS = 7200
    response = client.get("/readyz")
    # Reported, but the instance stays in rotation (every instance would fail it at once).
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    checks = response.json()["checks"]
    assert checks["job_worker"]["status"] == "ok"
    assert checks["audit_checkpoint"] == {"status": "failed", "detail": "never reported"}
    assert client.get("/readyz?strict=1").status_code == 503

    settings.STREHA_READINESS_SOURCES["audit_checkpoint"] = f"{SOURCES}.last_reported"
    monkeypatch.setitem(sources.AGE, "seconds", 3600)
    response = client.get("/readyz?strict=1")
    assert response.status_code == 503
    assert response.json()["checks"]["job_worker"]["status"] == "failed"
    assert response.json()["checks"]["audit_checkpoint"]["status"] == "ok"


@pytest.mark.django_db
def test_not_ready_without_master_keys(client, monkeypatch):
    def no_keys():
        raise keys.KeyringError("no key file")

    monkeypatch.setattr(keys, "keyring", no_keys)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["master_keys"]["status"] == "failed"
    assert response.json()["status"] == "not ready"


@pytest.mark.django_db
def test_not_ready_with_migrations_pending(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "status": "failed",
        "detail": "1 migration(s) not applied",
    }


@pytest.mark.django_db
def test_not_ready_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(self, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {
        "status": "failed",
        "detail": "database unreachable (OperationalError)",
    }
    assert checks["migrations"]["status"] == "skipped"
    assert checks["master_keys"]["status"] == "ok"


@pytest.mark.django_db
def test_a_source_whose_app_is_not_installed_is_skipped(client, settings):
    settings.STREHA_READINESS_SOURCES = {"job_worker": f"{SOURCES}.not_installed"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["job_worker"] == {
        "status": "skipped",
        "detail": "no source installed",
    }
